package container

import (
	"reflect"
	"slices"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestDecodeInitSpec(t *testing.T) {
	raw := []byte(`{
		"ociVersion": "1.2.0",
		"process": {"args": ["sh"], "cwd": "/", "env": ["A=1"]},
		"root": {"path": "rootfs", "readonly": true},
		"hostname": "h",
		"mounts": [{"destination": "/proc", "type": "proc", "source": "proc"}],
		"linux": {
			"namespaces": [{"type": "pid"}, {"type": "mount"}],
			"maskedPaths": ["/proc/kcore"],
			"readonlyPaths": ["/proc/sys"],
			"rootfsPropagation": "rslave",
			"devices": [{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229}],
			"sysctl": {"net.ipv4.ip_forward": "0"},
			"resources": {"memory": {"limit": 1048576}},
			"seccomp": {"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"}]}
		}
	}`)
	s, err := decodeInitSpec(raw)
	if err != nil {
		t.Fatal(err)
	}
	if s.Process == nil || s.Process.Args[0] != "sh" || s.Root == nil || !s.Root.Readonly || s.Hostname != "h" || len(s.Mounts) != 1 {
		t.Errorf("top-level fields lost: %+v", s)
	}
	l := s.Linux
	if len(l.Namespaces) != 2 || l.Namespaces[1].Type != specs.MountNamespace || len(l.MaskedPaths) != 1 || l.Sysctl["net.ipv4.ip_forward"] != "0" ||
		len(l.ReadonlyPaths) != 1 || l.RootfsPropagation != "rslave" || len(l.Devices) != 1 || l.Devices[0].Major != 10 {
		t.Errorf("linux fields lost: %+v", l)
	}
	if l.Seccomp != nil || l.Resources != nil {
		t.Errorf("seccomp %v / resources %v decoded; the init leaves them to the parent", l.Seccomp, l.Resources)
	}
	if s, err := decodeInitSpec([]byte(`{"process": {"args": ["true"]}}`)); err != nil || s.Linux == nil {
		t.Errorf("spec without linux: Linux = %v, %v; want non-nil", s.Linux, err)
	}
	if _, err := decodeInitSpec([]byte(`{"linux": []}`)); err == nil {
		t.Error("a malformed spec decoded")
	}
}

// TestInitSpecCoversSpec: every field of specs.Spec and specs.Linux is
// decoded by the init or deliberately left to the parent, so a field added
// to the runtime spec is not dropped unnoticed.
func TestInitSpecCoversSpec(t *testing.T) {
	for _, tc := range []struct {
		full, lean any
		parentOnly []string
	}{
		{specs.Spec{}, initSpec{}, []string{"Solaris", "Windows", "VM", "ZOS", "FreeBSD"}},
		{specs.Linux{}, initLinux{}, []string{"Resources", "Seccomp", "IntelRdt", "MemoryPolicy", "NetDevices"}},
	} {
		full, lean := reflect.TypeOf(tc.full), reflect.TypeOf(tc.lean)
		for i := 0; i < full.NumField(); i++ {
			f := full.Field(i)
			lf, ok := lean.FieldByName(f.Name)
			switch {
			case slices.Contains(tc.parentOnly, f.Name):
				if ok {
					t.Errorf("%s.%s is decoded by the init but listed as the parent's", full.Name(), f.Name)
				}
			case !ok:
				t.Errorf("%s.%s is neither decoded by the init nor listed as the parent's", full.Name(), f.Name)
			case lf.Tag.Get("json") != f.Tag.Get("json"):
				t.Errorf("%s.%s: json tag %q, the spec's is %q", full.Name(), f.Name, lf.Tag.Get("json"), f.Tag.Get("json"))
			}
		}
	}
}
