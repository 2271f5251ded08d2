package specs

import (
	"math"
	"path"
	"slices"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Options for the flags of `docker run`, in the order berthd applies them
// after WithImageConfig. Each validates its value and fails with an error
// wrapping ErrInvalid.

// WithHostname sets the container's hostname (--hostname) and the
// HOSTNAME variable Docker puts in every container's environment. Linux
// limits hostnames to 64 bytes.
func WithHostname(name string) Opt {
	return func(s *specs.Spec) error {
		if name == "" || len(name) > 64 || strings.ContainsAny(name, "/ \t\n\x00") {
			return invalidf("hostname %q: want 1 to 64 characters, no spaces or slashes", name)
		}
		s.Hostname = name
		p := process(s)
		p.Env = mergeEnv(p.Env, []string{"HOSTNAME=" + name})
		return nil
	}
}

// WithEnv sets environment variables (-e, --env-file) over the image's:
// "K=V" sets K, a bare "K" removes it.
func WithEnv(env ...string) Opt {
	return func(s *specs.Spec) error {
		for _, e := range env {
			if k, _, _ := strings.Cut(e, "="); k == "" || strings.ContainsRune(e, 0) {
				return invalidf("environment variable %q: want KEY=VALUE", e)
			}
		}
		p := process(s)
		p.Env = mergeEnv(p.Env, env)
		return nil
	}
}

// WithUser sets the user the process runs as (-u), resolved in the image
// at rootfs as ResolveUser does. HOME follows the user: it is set to the
// user's home when the environment has none, or when it still holds the
// home of the user it replaces (the value WithImageConfig put there). A
// HOME the image or -e set to something else is kept.
func WithUser(rootfs, user string) Opt {
	return func(s *specs.Spec) error {
		u, home, err := ResolveUser(rootfs, user)
		if err != nil {
			return err
		}
		p := process(s)
		old, ok := getEnv(p.Env, "HOME")
		if !ok || old == previousHome(rootfs, p.User.UID) {
			p.Env = mergeEnv(p.Env, []string{"HOME=" + home})
		}
		p.User.UID, p.User.GID, p.User.AdditionalGids = u.UID, u.GID, u.AdditionalGids
		return nil
	}
}

// previousHome is the home ResolveUser gives uid, "" if it fails.
func previousHome(rootfs string, uid uint32) string {
	_, home, err := ResolveUser(rootfs, strconv.FormatUint(uint64(uid), 10))
	if err != nil {
		return ""
	}
	return home
}

// WithWorkdir sets the process's working directory (-w). Like Docker it
// must be absolute; the runtime creates it if the image lacks it.
func WithWorkdir(dir string) Opt {
	return func(s *specs.Spec) error {
		if !path.IsAbs(dir) {
			return invalidf("working directory %q: not an absolute path", dir)
		}
		process(s).Cwd = path.Clean(dir)
		return nil
	}
}

// MinMemory is the smallest memory limit Docker accepts: below it a
// container cannot even start its runtime's init.
const MinMemory = 6 << 20

// WithMemoryLimit limits the container's memory (--memory), 0 meaning no
// limit. As Docker does, memory+swap is then limited to twice the memory
// (where the host accounts swap); apply WithMemorySwap after it to change
// that.
func WithMemoryLimit(bytes int64) Opt {
	return func(s *specs.Spec) error {
		switch {
		case bytes == 0:
			if r := resources(s); r.Memory != nil {
				r.Memory.Limit, r.Memory.Swap = nil, nil
			}
			return nil
		case bytes < MinMemory:
			return invalidf("memory limit %d: the minimum is 6MB", bytes)
		}
		m := memory(s)
		m.Limit = ptr(bytes)
		if bytes <= math.MaxInt64/2 {
			m.Swap = ptr(2 * bytes)
		}
		return nil
	}
}

// WithMemorySwap sets the memory+swap limit (--memory-swap), -1 meaning
// unlimited swap. It must not be below the memory limit.
func WithMemorySwap(bytes int64) Opt {
	return func(s *specs.Spec) error {
		m := memory(s)
		if bytes != -1 && (bytes <= 0 || m.Limit != nil && bytes < *m.Limit) {
			return invalidf("memory+swap limit %d: want -1 or at least the memory limit", bytes)
		}
		m.Swap = ptr(bytes)
		return nil
	}
}

func memory(s *specs.Spec) *specs.LinuxMemory {
	r := resources(s)
	if r.Memory == nil {
		r.Memory = &specs.LinuxMemory{}
	}
	return r.Memory
}

// cpuPeriod is the CFS period Docker uses for --cpus: 100 ms.
const cpuPeriod = 100000

// WithCPUs limits the container to cpus CPUs' worth of time (--cpus), as a
// CFS quota per 100 ms period; 0 removes the limit. The kernel refuses
// quotas under 1 ms, hence the minimum of 0.01.
func WithCPUs(cpus float64) Opt {
	return func(s *specs.Spec) error {
		if cpus == 0 {
			if r := resources(s); r.CPU != nil {
				r.CPU.Quota, r.CPU.Period = nil, nil
			}
			return nil
		}
		quota := math.Round(cpus * cpuPeriod)
		if math.IsNaN(cpus) || quota < 1000 || quota > math.MaxInt32*cpuPeriod {
			return invalidf("cpus %v: want a number from 0.01 up", cpus)
		}
		r := resources(s)
		if r.CPU == nil {
			r.CPU = &specs.LinuxCPU{}
		}
		r.CPU.Quota = ptr(int64(quota))
		r.CPU.Period = ptr(uint64(cpuPeriod))
		return nil
	}
}

// WithPidsLimit limits how many processes and threads the container may
// have (--pids-limit); 0 or -1 means no limit, as in Docker.
func WithPidsLimit(n int64) Opt {
	return func(s *specs.Spec) error {
		if n < -1 {
			return invalidf("pids limit %d: want a positive number, or -1 for none", n)
		}
		r := resources(s)
		if n <= 0 {
			r.Pids = nil
			return nil
		}
		r.Pids = &specs.LinuxPids{Limit: ptr(n)}
		return nil
	}
}

// WithReadonlyRootfs mounts the container's root filesystem read-only
// (--read-only); mounts and tmpfs on top of it stay writable.
func WithReadonlyRootfs() Opt {
	return func(s *specs.Spec) error {
		if s.Root == nil {
			s.Root = &specs.Root{Path: "rootfs"}
		}
		s.Root.Readonly = true
		return nil
	}
}

// ipcSysctls are the kernel.* sysctls that belong to the IPC namespace.
var ipcSysctls = []string{
	"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
	"kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced",
}

// WithSysctl sets sysctls (--sysctl). Only namespaced ones are allowed,
// as in Docker: net.* in a container with its own network namespace, and
// the IPC ones (kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*) with
// its own IPC namespace. Anything else would change the host.
func WithSysctl(sysctls map[string]string) Opt {
	return func(s *specs.Spec) error {
		for k := range sysctls {
			var ns specs.LinuxNamespaceType
			switch {
			case isNetSysctl(k):
				ns = specs.NetworkNamespace
			case slices.Contains(ipcSysctls, k) || strings.HasPrefix(k, "fs.mqueue."):
				ns = specs.IPCNamespace
			default:
				return invalidf("sysctl %q: not namespaced, it would change the host", k)
			}
			if !hasNamespace(s, ns) {
				return invalidf("sysctl %q: the container shares the host's %s namespace", k, ns)
			}
		}
		l := linux(s)
		if l.Sysctl == nil {
			l.Sysctl = map[string]string{}
		}
		for k, v := range sysctls {
			l.Sysctl[k] = v
		}
		return nil
	}
}

// WithCgroupsPath places the container in a cgroup: a path under the
// cgroup root ("/berth/ID"), or "slice:prefix:name" with the systemd
// driver.
func WithCgroupsPath(p string) Opt {
	return func(s *specs.Spec) error {
		linux(s).CgroupsPath = p
		return nil
	}
}

var namespaceTypes = []specs.LinuxNamespaceType{
	specs.PIDNamespace, specs.NetworkNamespace, specs.MountNamespace, specs.IPCNamespace,
	specs.UTSNamespace, specs.UserNamespace, specs.CgroupNamespace, specs.TimeNamespace,
}

// WithNamespacePath makes the container join an existing namespace, such
// as a network namespace berthd has set up for its networks
// (/run/berth/netns/ID) or another container's (/proc/PID/ns/net).
func WithNamespacePath(t specs.LinuxNamespaceType, nsPath string) Opt {
	return func(s *specs.Spec) error {
		if !slices.Contains(namespaceTypes, t) {
			return invalidf("namespace type %q", t)
		}
		if !path.IsAbs(nsPath) {
			return invalidf("namespace path %q: not an absolute path", nsPath)
		}
		l := linux(s)
		for i, n := range l.Namespaces {
			if n.Type == t {
				l.Namespaces[i].Path = nsPath
				return nil
			}
		}
		l.Namespaces = append(l.Namespaces, specs.LinuxNamespace{Type: t, Path: nsPath})
		return nil
	}
}

// WithHostNetwork runs the container in the host's network namespace
// (--network host). The net.* sysctls go too: in the host's namespace
// they would reconfigure the host.
func WithHostNetwork() Opt {
	return func(s *specs.Spec) error {
		l := linux(s)
		l.Namespaces = slices.DeleteFunc(l.Namespaces, func(n specs.LinuxNamespace) bool {
			return n.Type == specs.NetworkNamespace
		})
		for k := range l.Sysctl {
			if isNetSysctl(k) {
				delete(l.Sysctl, k)
			}
		}
		return nil
	}
}

// WithTTY gives the process a terminal (-t) and, as Docker does, TERM=xterm
// unless the environment sets TERM.
func WithTTY(on bool) Opt {
	return func(s *specs.Spec) error {
		p := process(s)
		p.Terminal = on
		if _, set := getEnv(p.Env, "TERM"); on && !set {
			p.Env = append(p.Env, "TERM=xterm")
		}
		return nil
	}
}

// WithAnnotations adds annotations (--annotation), replacing values of
// keys already there.
func WithAnnotations(a map[string]string) Opt {
	return func(s *specs.Spec) error {
		for k, v := range a {
			if k == "" {
				return invalidf("annotation with an empty key")
			}
			annotations(s)[k] = v
		}
		return nil
	}
}

// WithUserNamespace runs the container in a new user namespace with these
// id mappings, so its root is an unprivileged host user. As Docker does
// with userns-remap, it drops net.ipv4.ping_group_range (its range names
// groups the namespace does not map) and net.ipv4.ip_unprivileged_port_start
// (see below), and makes the cgroup mount writable
// (the kernel refuses the read-only remount of a mount locked by a user
// namespace).
func WithUserNamespace(uidMap, gidMap []specs.LinuxIDMapping) Opt {
	return func(s *specs.Spec) error {
		for _, m := range append(slices.Clone(uidMap), gidMap...) {
			if m.Size == 0 || uint64(m.ContainerID)+uint64(m.Size) > 1<<32 || uint64(m.HostID)+uint64(m.Size) > 1<<32 {
				return invalidf("id mapping %d:%d:%d", m.ContainerID, m.HostID, m.Size)
			}
		}
		if len(uidMap) == 0 || len(gidMap) == 0 {
			return invalidf("user namespace: both uid and gid mappings are needed")
		}
		l := linux(s)
		if !hasNamespace(s, specs.UserNamespace) {
			l.Namespaces = append(l.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
		}
		l.UIDMappings = slices.Clone(uidMap)
		l.GIDMappings = slices.Clone(gidMap)
		delete(l.Sysctl, "net.ipv4.ping_group_range")
		// Likewise a network namespace made by the engine belongs to the
		// host's user namespace: the engine sets this one itself.
		delete(l.Sysctl, "net.ipv4.ip_unprivileged_port_start")
		for i, m := range s.Mounts {
			if m.Type == "cgroup" {
				s.Mounts[i].Options = withoutReadonly(m.Options)
			}
		}
		return nil
	}
}

func ptr[T any](v T) *T { return &v }
