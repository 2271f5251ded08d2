package specs

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// The golden files in testdata were checked field by field against the
// output of `runc spec` and `runc spec --rootless` (runc 1.1.5, plus the
// changes of runc 1.2: no ambient capabilities, /sys/devices/virtual/tpm
// masked), with berth's differences applied: ociVersion 1.3.0, hostname
// "berth", a cgroup namespace on every host. They are compared byte for
// byte, which also pins the field order and the tab indentation that
// `berth-runtime spec` writes.
func TestGolden(t *testing.T) {
	tests := []struct {
		name   string
		opts   []Opt
		golden string
	}{
		{"default", nil, "default.json"},
		{"rootless", []Opt{withRootless(1000, 1001)}, "rootless.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := New(tt.opts...)
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			got, err := json.MarshalIndent(s, "", "\t")
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(filepath.Join("testdata", tt.golden))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, bytes.TrimRight(want, "\n")) {
				t.Errorf("spec differs from testdata/%s\ngot:\n%s", tt.golden, got)
			}
		})
	}
}

func TestDefaultFields(t *testing.T) {
	s := Default()
	caps := []string{"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"}
	tests := []struct {
		name      string
		got, want any
	}{
		{"ociVersion", s.Version, "1.3.0"},
		{"terminal", s.Process.Terminal, true},
		{"user", s.Process.User, specs.User{}},
		{"args", s.Process.Args, []string{"sh"}},
		{"env", s.Process.Env, []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"}},
		{"cwd", s.Process.Cwd, "/"},
		{"bounding", s.Process.Capabilities.Bounding, caps},
		{"effective", s.Process.Capabilities.Effective, caps},
		{"permitted", s.Process.Capabilities.Permitted, caps},
		{"inheritable", s.Process.Capabilities.Inheritable, []string(nil)},
		{"ambient", s.Process.Capabilities.Ambient, []string(nil)},
		{"rlimits", s.Process.Rlimits, []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Hard: 1024, Soft: 1024}}},
		{"noNewPrivileges", s.Process.NoNewPrivileges, true},
		{"root", *s.Root, specs.Root{Path: "rootfs", Readonly: true}},
		{"hostname", s.Hostname, "berth"},
		{"mount destinations", destinations(s.Mounts), []string{"/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys", "/sys/fs/cgroup"}},
		{"/dev", s.Mounts[1], specs.Mount{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}}},
		{"/sys", s.Mounts[5], specs.Mount{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}}},
		{"/sys/fs/cgroup", s.Mounts[6], specs.Mount{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: []string{"nosuid", "noexec", "nodev", "relatime", "ro"}}},
		{"devices", s.Linux.Resources.Devices, []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}}},
		{"namespaces", nsTypes(s.Linux.Namespaces), []specs.LinuxNamespaceType{"pid", "network", "ipc", "uts", "mount", "cgroup"}},
		{"uidMappings", s.Linux.UIDMappings, []specs.LinuxIDMapping(nil)},
		{"maskedPaths", len(s.Linux.MaskedPaths), 11},
		{"readonlyPaths", s.Linux.ReadonlyPaths, []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}},
		{"seccomp", s.Linux.Seccomp, (*specs.LinuxSeccomp)(nil)},
	}
	for _, tt := range tests {
		if !reflect.DeepEqual(tt.got, tt.want) {
			t.Errorf("Default() %s = %#v, want %#v", tt.name, tt.got, tt.want)
		}
	}
}

// TestDefaultIsFresh guards against package-level slices leaking between
// specs: berthd builds many specs and edits each one.
func TestDefaultIsFresh(t *testing.T) {
	a, b := Default(), Default()
	a.Process.Args[0] = "changed"
	a.Process.Env[0] = "changed"
	a.Process.Capabilities.Bounding[0] = "changed"
	a.Mounts[1].Options[0] = "changed"
	a.Linux.Namespaces[0].Type = "changed"
	a.Linux.MaskedPaths[0] = "changed"
	a.Linux.ReadonlyPaths[0] = "changed"
	if !reflect.DeepEqual(b, Default()) {
		t.Errorf("changing one Default() changed another: %+v", b)
	}
	if &a.Process.Capabilities.Bounding[0] == &a.Process.Capabilities.Effective[0] {
		t.Error("Default() capability sets share memory")
	}
}

func TestNew(t *testing.T) {
	euid, egid := uint32(os.Geteuid()), uint32(os.Getegid())
	tests := []struct {
		name string
		opts []Opt
		// want edits Default() into the expected spec.
		want func(s *specs.Spec)
	}{
		{
			name: "no options",
			want: func(s *specs.Spec) {},
		},
		{
			name: "args",
			opts: []Opt{WithArgs("/bin/echo", "hello", "world")},
			want: func(s *specs.Spec) { s.Process.Args = []string{"/bin/echo", "hello", "world"} },
		},
		{
			name: "terminal off",
			opts: []Opt{WithTerminal(false)},
			want: func(s *specs.Spec) { s.Process.Terminal = false },
		},
		{
			name: "later option wins",
			opts: []Opt{WithTerminal(false), WithArgs("a"), WithTerminal(true), WithArgs("b")},
			want: func(s *specs.Spec) { s.Process.Args = []string{"b"} },
		},
		{
			name: "rootless uses the effective ids",
			opts: []Opt{WithRootless()},
			want: func(s *specs.Spec) {
				s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: euid, Size: 1}}
				s.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: egid, Size: 1}}
				s.Linux.Namespaces = []specs.LinuxNamespace{
					{Type: "pid"}, {Type: "ipc"}, {Type: "uts"}, {Type: "mount"}, {Type: "cgroup"}, {Type: "user"},
				}
				s.Linux.Resources = nil
				s.Mounts[2].Options = []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}
				s.Mounts[5] = specs.Mount{Destination: "/sys", Type: "none", Source: "/sys", Options: []string{"rbind", "nosuid", "noexec", "nodev", "ro"}}
			},
		},
		{
			name: "rootless twice is rootless once",
			opts: []Opt{withRootless(7, 8), withRootless(7, 8)},
			want: func(s *specs.Spec) {
				if err := withRootless(7, 8)(s); err != nil {
					t.Fatal(err)
				}
			},
		},
		{
			name: "rootless keeps other args",
			opts: []Opt{WithArgs("/bin/true"), withRootless(1, 1), WithTerminal(false)},
			want: func(s *specs.Spec) {
				if err := withRootless(1, 1)(s); err != nil {
					t.Fatal(err)
				}
				s.Process.Args = []string{"/bin/true"}
				s.Process.Terminal = false
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := New(tt.opts...)
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			want := Default()
			tt.want(want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("New() =\n%s\nwant\n%s", mustJSON(t, got), mustJSON(t, want))
			}
		})
	}
}

func TestNewError(t *testing.T) {
	boom := errors.New("boom")
	called := false
	s, err := New(
		WithArgs("x"),
		func(*specs.Spec) error { return boom },
		func(*specs.Spec) error { called = true; return nil },
	)
	if !errors.Is(err, boom) || s != nil {
		t.Errorf("New(failing opt) = %v, %v; want nil, %v", s, err, boom)
	}
	if called {
		t.Error("New applied an option after one failed")
	}
	if _, err := New(WithArgs()); !errors.Is(err, ErrNoArgs) {
		t.Errorf("New(WithArgs()) error = %v, want %v", err, ErrNoArgs)
	}
}

// TestOptsOnEmptySpec checks that options work on a spec that did not come
// from Default (berthd may start from an image's own config one day).
func TestOptsOnEmptySpec(t *testing.T) {
	s := &specs.Spec{}
	for _, o := range []Opt{WithArgs("a"), WithTerminal(true), withRootless(5, 6)} {
		if err := o(s); err != nil {
			t.Fatal(err)
		}
	}
	want := &specs.Spec{
		Process: &specs.Process{Args: []string{"a"}, Terminal: true},
		Linux: &specs.Linux{
			Namespaces:  []specs.LinuxNamespace{{Type: "user"}},
			UIDMappings: []specs.LinuxIDMapping{{HostID: 5, Size: 1}},
			GIDMappings: []specs.LinuxIDMapping{{HostID: 6, Size: 1}},
		},
	}
	if !reflect.DeepEqual(s, want) {
		t.Errorf("options on an empty spec = %s, want %s", mustJSON(t, s), mustJSON(t, want))
	}
}

// TestWithArgsCopies makes sure a caller reusing its slice cannot change a
// spec after the fact.
func TestWithArgsCopies(t *testing.T) {
	args := []string{"a", "b"}
	s, err := New(WithArgs(args...))
	if err != nil {
		t.Fatal(err)
	}
	args[0] = "changed"
	if s.Process.Args[0] != "a" {
		t.Errorf("Process.Args[0] = %q after the caller's slice changed, want %q", s.Process.Args[0], "a")
	}
}

func destinations(ms []specs.Mount) []string {
	var d []string
	for _, m := range ms {
		d = append(d, m.Destination)
	}
	return d
}

func nsTypes(ns []specs.LinuxNamespace) []specs.LinuxNamespaceType {
	var t []specs.LinuxNamespaceType
	for _, n := range ns {
		t = append(t, n.Type)
	}
	return t
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
