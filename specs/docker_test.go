package specs

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

var update = flag.Bool("update", false, "rewrite golden files that are generated (testdata/docker*.json)")

// TestDockerGolden pins the whole of DockerDefault on an x86_64 host with
// kernel 6.1: field order, the mount list, the seccomp filter. Regenerate
// with `go test ./specs -run DockerGolden -update` after a deliberate
// change, and review the diff.
func TestDockerGolden(t *testing.T) {
	fakeHost(t, testHost{thermal: []string{"/sys/devices/system/cpu/cpu0/thermal_throttle"}})
	got, err := json.MarshalIndent(DockerDefault(), "", "\t")
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "docker.json")
	if *update {
		if err := os.WriteFile(golden, append(got, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, bytes.TrimRight(want, "\n")) {
		t.Errorf("DockerDefault() differs from %s; run with -update and review the diff", golden)
	}
}

func TestDockerDefaultFields(t *testing.T) {
	fakeHost(t, testHost{})
	s := DockerDefault()
	tests := []struct {
		name      string
		got, want any
	}{
		{"args", s.Process.Args, []string(nil)},
		{"terminal", s.Process.Terminal, false},
		{"env", s.Process.Env, []string{"PATH=" + DefaultPath, "HOSTNAME=berth"}},
		{"cwd", s.Process.Cwd, "/"},
		{"user", s.Process.User, specs.User{}},
		{"bounding", s.Process.Capabilities.Bounding, DockerCapabilities()},
		{"effective", s.Process.Capabilities.Effective, DockerCapabilities()},
		{"permitted", s.Process.Capabilities.Permitted, DockerCapabilities()},
		{"inheritable", s.Process.Capabilities.Inheritable, []string(nil)},
		{"noNewPrivileges", s.Process.NoNewPrivileges, false},
		{"rlimits", s.Process.Rlimits, []specs.POSIXRlimit(nil)},
		{"root", *s.Root, specs.Root{Path: "rootfs"}},
		{"mounts", destinations(s.Mounts), []string{"/proc", "/dev", "/dev/pts", "/sys", "/sys/fs/cgroup", "/dev/mqueue", "/dev/shm"}},
		{"/dev/shm is 64m", s.Mounts[6].Options, []string{"nosuid", "noexec", "nodev", "mode=1777", "size=67108864"}},
		{"/sys read-only", slices.Contains(s.Mounts[3].Options, "ro"), true},
		{"cgroup read-only", slices.Contains(s.Mounts[4].Options, "ro"), true},
		{"namespaces", nsTypes(s.Linux.Namespaces), []specs.LinuxNamespaceType{"pid", "network", "ipc", "uts", "mount", "cgroup"}},
		{"masked /proc/kcore", slices.Contains(s.Linux.MaskedPaths, "/proc/kcore"), true},
		{"masked /proc/keys", slices.Contains(s.Linux.MaskedPaths, "/proc/keys"), true},
		{"masked /sys/firmware", slices.Contains(s.Linux.MaskedPaths, "/sys/firmware"), true},
		{"masked powercap", slices.Contains(s.Linux.MaskedPaths, "/sys/devices/virtual/powercap"), true},
		{"readonly paths", s.Linux.ReadonlyPaths, []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}},
		{"first device rule denies all", s.Linux.Resources.Devices[0], specs.LinuxDeviceCgroup{Allow: false, Access: "rwm"}},
		{"device rules", len(s.Linux.Resources.Devices), 8},
		{"sysctls", s.Linux.Sysctl, map[string]string{"net.ipv4.ping_group_range": "0 2147483647", "net.ipv4.ip_unprivileged_port_start": "0"}},
		{"seccomp", s.Linux.Seccomp, defaultSeccomp(DockerCapabilities())},
	}
	for _, tt := range tests {
		if !reflect.DeepEqual(tt.got, tt.want) {
			t.Errorf("DockerDefault() %s = %#v, want %#v", tt.name, tt.got, tt.want)
		}
	}
}

func TestDockerDefaultIsFresh(t *testing.T) {
	fakeHost(t, testHost{})
	a, b := DockerDefault(), DockerDefault()
	a.Process.Env[0] = "changed"
	a.Process.Capabilities.Bounding[0] = "changed"
	a.Mounts[0].Options[0] = "changed"
	a.Linux.MaskedPaths[0] = "changed"
	a.Linux.Sysctl["net.ipv4.ip_unprivileged_port_start"] = "1024"
	*a.Linux.Resources.Devices[1].Major = 99
	a.Linux.Seccomp.Syscalls[0].Names[0] = "changed"
	*a.Linux.Seccomp.DefaultErrnoRet = 99
	if !reflect.DeepEqual(b, DockerDefault()) {
		t.Error("changing one DockerDefault() changed another")
	}
}

// TestDockerDefaultSysctlsNeedKernel checks that default sysctls the
// kernel lacks are left out: the runtime would fail on them.
func TestDockerDefaultSysctlsNeedKernel(t *testing.T) {
	fakeHost(t, testHost{})
	sysctlExists = func(k string) bool { return k == "net.ipv4.ping_group_range" }
	if got := DockerDefault().Linux.Sysctl; !reflect.DeepEqual(got, map[string]string{"net.ipv4.ping_group_range": "0 2147483647"}) {
		t.Errorf("sysctls = %v, want only ping_group_range", got)
	}
}

func TestNewDocker(t *testing.T) {
	fakeHost(t, testHost{})
	if _, err := NewDocker(); !errors.Is(err, ErrNoCommand) {
		t.Errorf("NewDocker() without a command: error = %v, want %v", err, ErrNoCommand)
	}
	if _, err := NewDocker(WithEntrypoint("")); !errors.Is(err, ErrNoCommand) {
		t.Errorf("NewDocker(WithEntrypoint(\"\")) error = %v, want %v", err, ErrNoCommand)
	}
	boom := errors.New("boom")
	if _, err := NewDocker(WithArgs("x"), func(*specs.Spec) error { return boom }); !errors.Is(err, boom) {
		t.Errorf("NewDocker(failing option) error = %v, want %v", err, boom)
	}
	s, err := NewDocker(WithArgs("/bin/true"))
	if err != nil {
		t.Fatal(err)
	}
	want := DockerDefault()
	want.Process.Args = []string{"/bin/true"}
	if !reflect.DeepEqual(s, want) {
		t.Errorf("NewDocker(WithArgs) = %s\nwant %s", mustJSON(t, s), mustJSON(t, want))
	}
}

// TestWithDockerDefaultsOnDefault checks the option on runc's starter
// spec: security settings become Docker's, the process stays.
func TestWithDockerDefaultsOnDefault(t *testing.T) {
	fakeHost(t, testHost{})
	extra := specs.Mount{Destination: "/data", Type: "bind", Source: "/srv", Options: []string{"rbind"}}
	s := Default()
	s.Mounts = append(s.Mounts, extra)
	s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
	s.Linux.Sysctl = map[string]string{"net.ipv4.ip_unprivileged_port_start": "80"}
	apply(t, s, WithDockerDefaults())

	d := DockerDefault()
	if !reflect.DeepEqual(s.Process.Args, []string{"sh"}) || !s.Process.Terminal || len(s.Process.Rlimits) != 1 || !s.Root.Readonly {
		t.Errorf("WithDockerDefaults changed the process or root: %+v %+v", s.Process, s.Root)
	}
	if s.Process.NoNewPrivileges {
		t.Error("WithDockerDefaults left no_new_privs on")
	}
	if !reflect.DeepEqual(s.Process.Capabilities, d.Process.Capabilities) {
		t.Errorf("capabilities = %+v, want Docker's", s.Process.Capabilities)
	}
	if want := append(slices.Clone(d.Mounts), extra); !reflect.DeepEqual(s.Mounts, want) {
		t.Errorf("mounts = %v, want Docker's then /data", destinations(s.Mounts))
	}
	if got := nsTypes(s.Linux.Namespaces); !reflect.DeepEqual(got, []specs.LinuxNamespaceType{"pid", "network", "ipc", "uts", "mount", "cgroup", "user"}) {
		t.Errorf("namespaces = %v", got)
	}
	if got := s.Linux.Sysctl["net.ipv4.ip_unprivileged_port_start"]; got != "80" {
		t.Errorf("WithDockerDefaults replaced a sysctl already set: %q", got)
	}
	for _, f := range []string{"MaskedPaths", "ReadonlyPaths", "Seccomp"} {
		g, w := reflect.ValueOf(s.Linux).Elem().FieldByName(f).Interface(), reflect.ValueOf(d.Linux).Elem().FieldByName(f).Interface()
		if !reflect.DeepEqual(g, w) {
			t.Errorf("%s differs from DockerDefault's", f)
		}
	}
	if !reflect.DeepEqual(s.Linux.Resources.Devices, d.Linux.Resources.Devices) {
		t.Error("device rules differ from DockerDefault's")
	}
}

func TestWithPrivileged(t *testing.T) {
	mode := os.FileMode(0o660)
	uid, gid := uint32(0), uint32(6)
	sda := specs.LinuxDevice{Path: "/dev/sda", Type: "b", Major: 8, FileMode: &mode, UID: &uid, GID: &gid}
	fuse := specs.LinuxDevice{Path: "/dev/fuse", Type: "c", Major: 10, Minor: 229, FileMode: &mode, UID: &uid, GID: &uid}
	host := slices.DeleteFunc(slices.Clone(capNames[:]), func(c string) bool { return c == "CAP_SYS_RESOURCE" })
	fakeHost(t, testHost{caps: host, devices: []specs.LinuxDevice{sda, fuse}})

	s := DockerDefault()
	s.Linux.Devices = []specs.LinuxDevice{{Path: "/dev/fuse", Type: "c", Major: 10, Minor: 229}}
	apply(t, s, WithPrivileged())
	tests := []struct {
		name      string
		got, want any
	}{
		{"bounding", s.Process.Capabilities.Bounding, host},
		{"effective", s.Process.Capabilities.Effective, host},
		{"seccomp", s.Linux.Seccomp, (*specs.LinuxSeccomp)(nil)},
		{"masked", s.Linux.MaskedPaths, []string(nil)},
		{"readonly", s.Linux.ReadonlyPaths, []string(nil)},
		{"devices", s.Linux.Devices, []specs.LinuxDevice{{Path: "/dev/fuse", Type: "c", Major: 10, Minor: 229}, sda}},
		{"device rules", s.Linux.Resources.Devices, []specs.LinuxDeviceCgroup{{Allow: true, Access: "rwm"}}},
		{"/sys", s.Mounts[3].Options, []string{"nosuid", "noexec", "nodev"}},
		{"cgroup", s.Mounts[4].Options, []string{"nosuid", "noexec", "nodev"}},
		{"/proc untouched", s.Mounts[0], DockerDefault().Mounts[0]},
	}
	for _, tt := range tests {
		if !reflect.DeepEqual(tt.got, tt.want) {
			t.Errorf("WithPrivileged %s = %#v, want %#v", tt.name, tt.got, tt.want)
		}
	}

	boom := errors.New("boom")
	hostDevices = func() ([]specs.LinuxDevice, error) { return nil, boom }
	if err := WithPrivileged()(DockerDefault()); !errors.Is(err, boom) {
		t.Errorf("WithPrivileged with unreadable /dev: error = %v, want %v", err, boom)
	}
}

func TestWithNoNewPrivileges(t *testing.T) {
	fakeHost(t, testHost{})
	if s := apply(t, DockerDefault(), WithNoNewPrivileges()); !s.Process.NoNewPrivileges {
		t.Error("WithNoNewPrivileges did not set no_new_privs")
	}
	if s := apply(t, &specs.Spec{}, WithNoNewPrivileges()); !s.Process.NoNewPrivileges {
		t.Error("WithNoNewPrivileges on an empty spec did not set no_new_privs")
	}
}
