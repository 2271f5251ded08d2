package container

import (
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
	if len(l.Namespaces) != 2 || l.Namespaces[1].Type != specs.MountNamespace || len(l.MaskedPaths) != 1 || l.Sysctl["net.ipv4.ip_forward"] != "0" {
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
