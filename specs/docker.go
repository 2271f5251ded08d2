package specs

import (
	"path/filepath"
	"slices"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// DockerDefault returns the spec berthd starts every container from: what
// Docker gives a container before the image and the run flags are applied
// (WithDockerDefaults on a bare process). Unlike Default it has no command
// (the image gives one), no terminal, a writable rootfs, no rlimits (the
// process inherits berthd's, as Docker's inherit dockerd's) and
// no_new_privs off, so that setuid programs such as su and ping work.
//
// The result depends on the host: the seccomp filter is resolved for its
// architecture and kernel, and masked paths include its CPUs' thermal
// files. Every call returns a fresh value.
func DockerDefault() *specs.Spec {
	s := &specs.Spec{
		Version: specs.Version,
		Process: &specs.Process{
			Env: []string{"PATH=" + DefaultPath, "HOSTNAME=" + DefaultHostname},
			Cwd: "/",
		},
		Root:     &specs.Root{Path: "rootfs"},
		Hostname: DefaultHostname,
	}
	_ = WithDockerDefaults()(s) // cannot fail
	return s
}

// NewDocker returns DockerDefault with opts applied in order, and checks
// that the result has a command to run. This is berthd's entry point:
//
//	specs.NewDocker(
//		specs.WithImageConfig(rootfs, imageConfig), // first: flags override it
//		specs.WithEntrypoint(...), specs.WithCmd(...), // only if given, in this order
//		specs.WithUser(rootfs, u), specs.WithWorkdir(w), specs.WithEnv(env...),
//		specs.WithHostname(h), specs.WithTTY(t),
//		specs.WithHostNetwork() or specs.WithNamespacePath(specs.NetworkNamespace, p),
//		specs.WithSysctl(...), // after the network choice
//		specs.WithMounts(...), specs.WithMemoryLimit(m), specs.WithCPUs(c), ...,
//		specs.WithCapabilities(add, drop), // or WithPrivileged() last
//		securityOpts...,                   // seccomp options after capabilities
//	)
func NewDocker(opts ...Opt) (*specs.Spec, error) {
	s := DockerDefault()
	for _, o := range opts {
		if err := o(s); err != nil {
			return nil, err
		}
	}
	if len(s.Process.Args) == 0 || s.Process.Args[0] == "" {
		return nil, ErrNoCommand
	}
	return s, nil
}

// WithDockerDefaults applies Docker's security defaults to a spec, leaving
// its command, environment, user and rootfs alone: Docker's capability
// set (DockerCapabilities), the default seccomp profile, no_new_privs off,
// Docker's masked and read-only paths, its /proc, /dev, /sys, /dev/shm and
// /dev/mqueue mounts (replacing mounts at those places, keeping others),
// its device rules, its network sysctls, and private pid, network, ipc,
// uts, mount and cgroup namespaces.
func WithDockerDefaults() Opt {
	return func(s *specs.Spec) error {
		setCaps(s, DockerCapabilities())
		process(s).NoNewPrivileges = false

		keep := slices.DeleteFunc(slices.Clone(s.Mounts), func(m specs.Mount) bool {
			return slices.ContainsFunc(dockerMounts(), func(d specs.Mount) bool {
				return filepath.Clean(m.Destination) == d.Destination
			})
		})
		s.Mounts = append(dockerMounts(), keep...)

		l := linux(s)
		for _, t := range []specs.LinuxNamespaceType{
			specs.PIDNamespace, specs.NetworkNamespace, specs.IPCNamespace,
			specs.UTSNamespace, specs.MountNamespace, specs.CgroupNamespace,
		} {
			if !hasNamespace(s, t) {
				l.Namespaces = append(l.Namespaces, specs.LinuxNamespace{Type: t})
			}
		}
		l.MaskedPaths = dockerMaskedPaths()
		l.ReadonlyPaths = dockerReadonlyPaths()
		resources(s).Devices = dockerDeviceRules()
		for k, v := range dockerSysctls() {
			if _, set := l.Sysctl[k]; !set && sysctlExists(k) {
				if l.Sysctl == nil {
					l.Sysctl = map[string]string{}
				}
				l.Sysctl[k] = v
			}
		}
		l.Seccomp = defaultSeccomp(currentCaps(s))
		return nil
	}
}

// dockerMounts are the filesystems every container gets. /sys and the
// cgroup tree are read-only: writing there would configure the host.
// /dev/shm is a 64 MiB tmpfs, Docker's default --shm-size.
func dockerMounts() []specs.Mount {
	return []specs.Mount{
		{Destination: "/proc", Type: "proc", Source: "proc",
			Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/dev", Type: "tmpfs", Source: "tmpfs",
			Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
		// gid=5 is the "tty" group of Debian, Fedora and busybox images.
		{Destination: "/dev/pts", Type: "devpts", Source: "devpts",
			Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
		{Destination: "/sys", Type: "sysfs", Source: "sysfs",
			Options: []string{"nosuid", "noexec", "nodev", "ro"}},
		{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup",
			Options: []string{"ro", "nosuid", "noexec", "nodev"}},
		{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue",
			Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/dev/shm", Type: "tmpfs", Source: "shm",
			Options: []string{"nosuid", "noexec", "nodev", "mode=1777", "size=67108864"}},
	}
}

// dockerMaskedPaths are hidden in the container: each leaks host details
// or reaches hardware. /proc/interrupts and the CPUs' thermal_throttle
// counters leak what other tenants do (GHSA-6fw5-f8r9-fgfm); powercap's
// energy counters allow the Platypus power side channel (CVE-2020-8694,
// GHSA-jq35-85cj-fj4p). /sys/devices/virtual/tpm is masked by runc too,
// though not by Docker.
func dockerMaskedPaths() []string {
	paths := []string{
		"/proc/acpi",
		"/proc/asound",
		"/proc/interrupts",
		"/proc/kcore",
		"/proc/keys",
		"/proc/latency_stats",
		"/proc/sched_debug",
		"/proc/scsi",
		"/proc/timer_list",
		"/proc/timer_stats",
		"/sys/devices/virtual/powercap",
		"/sys/devices/virtual/tpm",
		"/sys/firmware",
	}
	return append(paths, hostThermalPaths()...)
}

// dockerReadonlyPaths are visible but read-only: writing there would change
// the host kernel's state (sysctls, IRQ affinity, sysrq), not the
// container's.
func dockerReadonlyPaths() []string {
	return []string{
		"/proc/bus",
		"/proc/fs",
		"/proc/irq",
		"/proc/sys",
		"/proc/sysrq-trigger",
	}
}

// dockerDeviceRules is Docker's device cgroup list: deny everything, then
// allow the character devices every program expects. The runtime adds the
// other default devices of the runtime spec (full, ptmx, pts) itself. FUSE
// (10:229) is denied explicitly so no later broad rule lets it in by
// accident.
func dockerDeviceRules() []specs.LinuxDeviceCgroup {
	rule := func(allow bool, major, minor int64) specs.LinuxDeviceCgroup {
		return specs.LinuxDeviceCgroup{Allow: allow, Type: "c", Major: &major, Minor: &minor, Access: "rwm"}
	}
	return []specs.LinuxDeviceCgroup{
		{Allow: false, Access: "rwm"},
		rule(true, 1, 5),     // /dev/zero
		rule(true, 1, 3),     // /dev/null
		rule(true, 1, 9),     // /dev/urandom
		rule(true, 1, 8),     // /dev/random
		rule(true, 5, 0),     // /dev/tty
		rule(true, 5, 1),     // /dev/console
		rule(false, 10, 229), // /dev/fuse
	}
}

// dockerSysctls are set in a container's own network namespace: ping
// without CAP_NET_RAW (ICMP echo sockets for every group), and binding
// ports below 1024 without CAP_NET_BIND_SERVICE. Both only concern the
// container's namespace; WithHostNetwork and WithUserNamespace remove
// what does not fit them.
func dockerSysctls() map[string]string {
	return map[string]string{
		"net.ipv4.ping_group_range":           "0 2147483647",
		"net.ipv4.ip_unprivileged_port_start": "0",
	}
}

// WithPrivileged gives the container what `docker run --privileged` does:
// every capability the host can grant, no seccomp filter, no masked or
// read-only paths, every host device (and the right to use any device),
// and writable /sys and cgroup mounts. Apply it after capability and
// seccomp options: it overrides them, as --privileged overrides
// --cap-drop and --security-opt seccomp in Docker.
func WithPrivileged() Opt {
	return func(s *specs.Spec) error {
		devs, err := hostDevices()
		if err != nil {
			return err
		}
		setCaps(s, allCaps())
		l := linux(s)
		l.Seccomp = nil
		l.MaskedPaths = nil
		l.ReadonlyPaths = nil
		for _, d := range devs {
			if !slices.ContainsFunc(l.Devices, func(have specs.LinuxDevice) bool { return have.Path == d.Path }) {
				l.Devices = append(l.Devices, d)
			}
		}
		resources(s).Devices = []specs.LinuxDeviceCgroup{{Allow: true, Access: "rwm"}}
		for i, m := range s.Mounts {
			if filepath.Clean(m.Destination) == "/sys" || m.Type == "cgroup" {
				s.Mounts[i].Options = withoutReadonly(m.Options)
			}
		}
		return nil
	}
}

// WithNoNewPrivileges sets no_new_privs on the container's process
// (`--security-opt no-new-privileges`): execve can then never raise its
// privileges, so setuid binaries and file capabilities stop working.
func WithNoNewPrivileges() Opt {
	return withNoNewPrivileges(true)
}

func withNoNewPrivileges(on bool) Opt {
	return func(s *specs.Spec) error {
		process(s).NoNewPrivileges = on
		return nil
	}
}

// withoutReadonly returns opts without "ro", in a new slice.
func withoutReadonly(opts []string) []string {
	return slices.DeleteFunc(slices.Clone(opts), func(o string) bool { return o == "ro" })
}

// hasNamespace reports whether the spec has a namespace of type t.
func hasNamespace(s *specs.Spec, t specs.LinuxNamespaceType) bool {
	return s.Linux != nil && slices.ContainsFunc(s.Linux.Namespaces, func(n specs.LinuxNamespace) bool {
		return n.Type == t
	})
}

// resources returns s.Linux.Resources, creating it if needed.
func resources(s *specs.Spec) *specs.LinuxResources {
	l := linux(s)
	if l.Resources == nil {
		l.Resources = &specs.LinuxResources{}
	}
	return l.Resources
}

// isNetSysctl reports whether a sysctl belongs to the network namespace.
func isNetSysctl(k string) bool { return strings.HasPrefix(k, "net.") }
