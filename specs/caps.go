package specs

import (
	"reflect"
	"slices"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// capNames lists every capability Linux defines, indexed by its number
// (capability(7)); CAP_CHECKPOINT_RESTORE (40, Linux 5.9) is the last one.
// The order matters: "ALL" expands in this order, as Docker's does.
var capNames = [...]string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
	"CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID",
	"CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
	"CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
	"CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
	"CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
	"CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD",
	"CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP",
	"CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
	"CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
	"CAP_CHECKPOINT_RESTORE",
}

// DockerCapabilities returns the capabilities Docker gives a container that
// is not privileged: enough for a root process to manage files it owns,
// switch users, bind low ports and use raw sockets, but not to administer
// the host (no CAP_SYS_ADMIN, CAP_NET_ADMIN, CAP_SYS_PTRACE, CAP_SYS_MODULE...).
// The order is Docker's, so `inspect` output compares equal.
func DockerCapabilities() []string {
	return []string{
		"CAP_CHOWN",
		"CAP_DAC_OVERRIDE",
		"CAP_FSETID",
		"CAP_FOWNER",
		"CAP_MKNOD",
		"CAP_NET_RAW",
		"CAP_SETGID",
		"CAP_SETUID",
		"CAP_SETFCAP",
		"CAP_SETPCAP",
		"CAP_NET_BIND_SERVICE",
		"CAP_SYS_CHROOT",
		"CAP_KILL",
		"CAP_AUDIT_WRITE",
	}
}

// allCaps is what "ALL" (and --privileged) means on this host: every known
// capability that the host's bounding set still holds. A runtime cannot
// raise a capability its own bounding set lacks, so asking for one would
// only make the container fail to start (this machine, for one, has no
// CAP_SYS_RESOURCE).
func allCaps() []string {
	have := hostBoundingCaps()
	var out []string
	for _, c := range capNames {
		if slices.Contains(have, c) {
			out = append(out, c)
		}
	}
	return out
}

// normalizeCaps turns --cap-add/--cap-drop names into CAP_ names the way
// Docker does: case-insensitive, the CAP_ prefix optional, "ALL" kept as
// is. An unknown name is an error, and so is adding one this host cannot
// grant (Docker refuses to drop one too; dropping what cannot be had is
// harmless, so berth allows it).
func normalizeCaps(names []string, adding bool) ([]string, error) {
	var out []string
	for _, n := range names {
		c := strings.ToUpper(strings.TrimSpace(n))
		if c == "ALL" {
			out = append(out, c)
			continue
		}
		if !strings.HasPrefix(c, "CAP_") {
			c = "CAP_" + c
		}
		if !slices.Contains(capNames[:], c) {
			return nil, invalidf("capability %q: no such capability", n)
		}
		if adding && !slices.Contains(hostBoundingCaps(), c) {
			return nil, invalidf("capability %q: not in this host's bounding set", n)
		}
		out = append(out, c)
	}
	return out, nil
}

// WithCapabilities adds and drops capabilities with the rules of Docker's
// --cap-add and --cap-drop, which are applied together, not in order:
// add "ALL" gives every capability except those dropped; drop "ALL" keeps
// only those added; otherwise the drops are removed from the current set
// and then the adds appended. Names are case-insensitive and may omit the
// CAP_ prefix.
//
// The result goes into the bounding, effective and permitted sets; the
// inheritable and ambient sets are cleared, as Docker does since
// CVE-2022-24769 (an inheritable set let execve of a file with inheritable
// file capabilities regain them). If the spec carries the default seccomp
// profile, it is rebuilt for the new set, so that adding CAP_SYS_ADMIN also
// allows mount(2) and friends (see DefaultSeccompProfile).
func WithCapabilities(add, drop []string) Opt {
	return func(s *specs.Spec) error {
		if len(add) == 0 && len(drop) == 0 {
			return nil
		}
		adds, err := normalizeCaps(add, true)
		if err != nil {
			return err
		}
		drops, err := normalizeCaps(drop, false)
		if err != nil {
			return err
		}
		var caps []string
		switch {
		case slices.Contains(adds, "ALL"):
			for _, c := range allCaps() {
				if !slices.Contains(drops, c) {
					caps = append(caps, c)
				}
			}
		case slices.Contains(drops, "ALL"):
			caps = adds
		default:
			for _, c := range currentCaps(s) {
				if !slices.Contains(drops, c) {
					caps = append(caps, c)
				}
			}
			caps = append(caps, adds...)
		}
		setCaps(s, dedup(caps))
		return nil
	}
}

// WithCapAdd adds capabilities, as `--cap-add` does ("ALL" adds every one
// the host has). To combine it with drops the way Docker does whatever the
// order, use WithCapabilities.
func WithCapAdd(names ...string) Opt {
	return WithCapabilities(names, nil)
}

// WithCapDrop drops capabilities, as `--cap-drop` does ("ALL" drops them
// all).
func WithCapDrop(names ...string) Opt {
	return WithCapabilities(nil, names)
}

// currentCaps is the spec's bounding set, which for a spec built here is
// also its effective and permitted set.
func currentCaps(s *specs.Spec) []string {
	if s.Process == nil || s.Process.Capabilities == nil {
		return nil
	}
	return s.Process.Capabilities.Bounding
}

// setCaps makes caps the bounding, effective and permitted set (each its
// own copy). A default seccomp profile follows the change: its rules depend
// on the capabilities, and a stale one would deny what a capability grants.
func setCaps(s *specs.Spec, caps []string) {
	followDefault := s.Linux != nil && s.Linux.Seccomp != nil &&
		reflect.DeepEqual(s.Linux.Seccomp, defaultSeccomp(currentCaps(s)))
	process(s).Capabilities = &specs.LinuxCapabilities{
		Bounding:  slices.Clone(caps),
		Effective: slices.Clone(caps),
		Permitted: slices.Clone(caps),
	}
	if followDefault {
		s.Linux.Seccomp = defaultSeccomp(caps)
	}
}

// dedup returns list without repeated entries, keeping the first of each.
func dedup(list []string) []string {
	var out []string
	for _, v := range list {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}
