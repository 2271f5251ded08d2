// Package specs builds OCI runtime specs (config.json) for berth.
//
// There are two starting points. Default is the starter config `runc spec`
// writes, which `berth-runtime spec` prints. DockerDefault (and NewDocker,
// which also checks there is a command) is what berthd starts every
// container from: Docker's capability set, seccomp profile, masked and
// read-only paths, mounts, device rules and sysctls.
//
// Options (Opt) change a spec in order, a later one overriding an earlier
// one: WithImageConfig applies an image's config (command, environment,
// working directory, user resolved in the image's /etc/passwd), and one
// option per `docker run` flag follows it (WithEnv, WithUser, WithMounts,
// WithMemoryLimit, WithCapabilities, WithPrivileged, WithSeccompProfile...).
// ParseMemory, ParseCPUs, ParseVolume, ParseMount, ParseTmpfs and
// ParseSecurityOpt turn the flags' strings into values for them. Every
// error caused by a bad value wraps ErrInvalid.
//
// The OCI runtime-spec types (github.com/opencontainers/runtime-spec/specs-go)
// are the model: there is no berth-specific config struct.
package specs

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// DefaultHostname is the hostname of a container made from Default.
const DefaultHostname = "berth"

// DefaultPath is the PATH given to a container's process by Default.
const DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// Default returns a new spec equal to the starter config of `runc spec`
// (runc 1.2 and later), except for the hostname: a root-owned container
// running "sh" on a terminal, with rootfs "rootfs" mounted read-only, three
// capabilities, no new privileges, its own pid, network, ipc, uts, mount and
// cgroup namespaces and no device access beyond the runtime's defaults.
//
// Every call returns a fresh value that shares no memory with other calls,
// so callers may modify the result freely.
func Default() *specs.Spec {
	return &specs.Spec{
		Version: specs.Version,
		Process: &specs.Process{
			Terminal: true,
			User:     specs.User{UID: 0, GID: 0},
			Args:     []string{"sh"},
			Env: []string{
				"PATH=" + DefaultPath,
				"TERM=xterm",
			},
			Cwd: "/",
			Capabilities: &specs.LinuxCapabilities{
				Bounding:  defaultCaps(),
				Effective: defaultCaps(),
				Permitted: defaultCaps(),
			},
			Rlimits: []specs.POSIXRlimit{
				{Type: "RLIMIT_NOFILE", Hard: 1024, Soft: 1024},
			},
			NoNewPrivileges: true,
		},
		Root: &specs.Root{
			Path:     "rootfs",
			Readonly: true,
		},
		Hostname: DefaultHostname,
		Mounts:   defaultMounts(),
		Linux: &specs.Linux{
			Resources: &specs.LinuxResources{
				// Deny every device; the runtime still allows the default
				// devices the runtime spec requires (null, zero, full,
				// random, urandom, tty, ptmx) on top of this.
				Devices: []specs.LinuxDeviceCgroup{
					{Allow: false, Access: "rwm"},
				},
			},
			Namespaces: []specs.LinuxNamespace{
				{Type: specs.PIDNamespace},
				{Type: specs.NetworkNamespace},
				{Type: specs.IPCNamespace},
				{Type: specs.UTSNamespace},
				{Type: specs.MountNamespace},
				// runc adds the cgroup namespace only on a pure cgroup v2
				// host; berth always does, so a container cannot see (or
				// learn the names of) the host's cgroup tree on v1 either.
				{Type: specs.CgroupNamespace},
			},
			MaskedPaths:   defaultMaskedPaths(),
			ReadonlyPaths: defaultReadonlyPaths(),
		},
	}
}

// defaultCaps is the capability set of Default, the same in every set.
func defaultCaps() []string {
	return []string{
		"CAP_AUDIT_WRITE",
		"CAP_KILL",
		"CAP_NET_BIND_SERVICE",
	}
}

func defaultMounts() []specs.Mount {
	return []specs.Mount{
		{
			Destination: "/proc",
			Type:        "proc",
			Source:      "proc",
		},
		{
			Destination: "/dev",
			Type:        "tmpfs",
			Source:      "tmpfs",
			Options:     []string{"nosuid", "strictatime", "mode=755", "size=65536k"},
		},
		{
			Destination: "/dev/pts",
			Type:        "devpts",
			Source:      "devpts",
			// gid=5 is the "tty" group of Debian, Fedora and busybox images.
			Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"},
		},
		{
			Destination: "/dev/shm",
			Type:        "tmpfs",
			Source:      "shm",
			Options:     []string{"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"},
		},
		{
			Destination: "/dev/mqueue",
			Type:        "mqueue",
			Source:      "mqueue",
			Options:     []string{"nosuid", "noexec", "nodev"},
		},
		{
			Destination: "/sys",
			Type:        "sysfs",
			Source:      "sysfs",
			Options:     []string{"nosuid", "noexec", "nodev", "ro"},
		},
		{
			Destination: "/sys/fs/cgroup",
			Type:        "cgroup",
			Source:      "cgroup",
			Options:     []string{"nosuid", "noexec", "nodev", "relatime", "ro"},
		},
	}
}

// defaultMaskedPaths are made unreadable in the container (the runtime
// mounts /dev/null over files and an empty read-only tmpfs over
// directories): they leak host details (kcore, keys, timers) or reach
// hardware.
func defaultMaskedPaths() []string {
	return []string{
		"/proc/acpi",
		"/proc/asound",
		"/proc/kcore",
		"/proc/keys",
		"/proc/latency_stats",
		"/proc/timer_list",
		"/proc/timer_stats",
		"/proc/sched_debug",
		"/sys/firmware",
		"/proc/scsi",
		"/sys/devices/virtual/tpm",
	}
}

// defaultReadonlyPaths are remounted read-only in the container: writing
// there would change the host kernel's state, not the container's.
func defaultReadonlyPaths() []string {
	return []string{
		"/proc/bus",
		"/proc/fs",
		"/proc/irq",
		"/proc/sys",
		"/proc/sysrq-trigger",
	}
}
