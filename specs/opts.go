package specs

import (
	"os"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Opt changes a spec in place. Options are applied in order, so a later
// option sees (and may override) what an earlier one did.
type Opt func(*specs.Spec) error

// New returns Default with opts applied in order. It stops at the first
// option that fails and returns its error.
func New(opts ...Opt) (*specs.Spec, error) {
	s := Default()
	for _, o := range opts {
		if err := o(s); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// WithArgs sets the argv of the container's process; args[0] is the
// program, looked up in the container's PATH if it has no slash.
func WithArgs(args ...string) Opt {
	return func(s *specs.Spec) error {
		if len(args) == 0 {
			return ErrNoArgs
		}
		process(s).Args = append([]string(nil), args...)
		return nil
	}
}

// WithTerminal sets whether the container's process gets a pseudo-terminal
// as its stdio (the runtime passes the master to --console-socket).
func WithTerminal(on bool) Opt {
	return func(s *specs.Spec) error {
		process(s).Terminal = on
		return nil
	}
}

// WithRootless makes the spec runnable by an unprivileged user, the way
// `runc spec --rootless` does: it maps the current effective uid and gid to
// root in a new user namespace.
func WithRootless() Opt {
	return withRootless(uint32(os.Geteuid()), uint32(os.Getegid()))
}

// withRootless is WithRootless for a given host uid and gid, so tests do not
// depend on who runs them.
//
// An unprivileged user cannot create a network namespace that is usable
// (nothing could configure it) or mount a fresh sysfs without owning the
// network namespace, so the host's network namespace is kept and /sys is
// bind-mounted read-only instead. uid=/gid= mount options name ids that
// need not exist in a one-id mapping, and cgroup limits cannot be set
// without a delegated cgroup, so both are dropped.
func withRootless(uid, gid uint32) Opt {
	return func(s *specs.Spec) error {
		l := linux(s)

		var ns []specs.LinuxNamespace
		for _, n := range l.Namespaces {
			if n.Type != specs.NetworkNamespace && n.Type != specs.UserNamespace {
				ns = append(ns, n)
			}
		}
		l.Namespaces = append(ns, specs.LinuxNamespace{Type: specs.UserNamespace})
		l.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: uid, Size: 1}}
		l.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: gid, Size: 1}}
		l.Resources = nil

		for i := range s.Mounts {
			m := &s.Mounts[i]
			if filepath.Clean(m.Destination) == "/sys" {
				*m = specs.Mount{
					Destination: "/sys",
					Type:        "none",
					Source:      "/sys",
					Options:     []string{"rbind", "nosuid", "noexec", "nodev", "ro"},
				}
				continue
			}
			m.Options = withoutIDOptions(m.Options)
		}
		return nil
	}
}

// withoutIDOptions returns opts without uid=N and gid=N, in a new slice.
func withoutIDOptions(opts []string) []string {
	var out []string
	for _, o := range opts {
		if !strings.HasPrefix(o, "uid=") && !strings.HasPrefix(o, "gid=") {
			out = append(out, o)
		}
	}
	return out
}

// process returns s.Process, creating it if the spec has none, so options
// also work on specs that did not start from Default.
func process(s *specs.Spec) *specs.Process {
	if s.Process == nil {
		s.Process = &specs.Process{}
	}
	return s.Process
}

// linux returns s.Linux, creating it if the spec has none.
func linux(s *specs.Spec) *specs.Linux {
	if s.Linux == nil {
		s.Linux = &specs.Linux{}
	}
	return s.Linux
}
