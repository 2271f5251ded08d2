package cgroups

import (
	"errors"
	"testing"
)

func TestInnerPath(t *testing.T) {
	tests := []struct {
		name, cgroupsPath, id string
		systemd               bool
		want                  string
	}{
		{"default is /id", "", "abc", false, "/abc"},
		{"absolute", "/foo/bar", "abc", false, "/foo/bar"},
		{"relative is rooted", "foo/bar", "abc", false, "/foo/bar"},
		{"cleaned", "/a/./b//c/", "abc", false, "/a/b/c"},
		{"dotdot inside", "/a/../b", "abc", false, "/b"},
		{"systemd docker", "system.slice:docker:abc", "abc", true, "/system.slice/docker-abc.scope"},
		{"systemd libpod", "machine.slice:libpod:abc", "abc", true, "/machine.slice/libpod-abc.scope"},
		{"systemd empty slice", ":cri-containerd:abc", "abc", true, "/system.slice/cri-containerd-abc.scope"},
		{"systemd default", "", "abc", true, "/system.slice/runc-abc.scope"},
		{"systemd nested slice", "a-b.slice:p:n", "n", true, "/a.slice/a-b.slice/p-n.scope"},
		{"systemd kubepods", "kubepods-besteffort-pod1.slice:cri-containerd:abc", "abc", true,
			"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1.slice/cri-containerd-abc.scope"},
		{"systemd root slice", "-.slice:p:n", "n", true, "/p-n.scope"},
		{"systemd name is a slice", "system.slice:p:child.slice", "abc", true, "/system.slice/child.slice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := innerPath(tt.cgroupsPath, tt.id, tt.systemd)
			if err != nil || got != tt.want {
				t.Errorf("innerPath(%q, %q, %v) = %q, %v, want %q", tt.cgroupsPath, tt.id, tt.systemd, got, err, tt.want)
			}
		})
	}
}

func TestInnerPathInvalid(t *testing.T) {
	tests := []struct {
		name, cgroupsPath, id string
		systemd               bool
	}{
		{"dotdot at root", "../x", "abc", false},
		{"dotdot climbs out", "/a/../../x", "abc", false},
		{"id climbs out", "", "..", false},
		{"root cgroup", "/", "abc", false},
		{"dotdot to root", "/a/..", "abc", false},
		{"no path no id", "", "", false},
		{"systemd two parts", "system.slice:docker", "abc", true},
		{"systemd four parts", "a.slice:b:c:d", "abc", true},
		{"systemd not a slice", "system:docker:abc", "abc", true},
		{"systemd empty slice part", "a--b.slice:p:n", "n", true},
		{"systemd leading dash", "-a.slice:p:n", "n", true},
		{"systemd slash in slice", "a/b.slice:p:n", "n", true},
		{"systemd dotdot name", "system.slice:p:..", "n", true},
		{"systemd slash in name", "system.slice:p:../../x", "n", true},
		{"systemd empty name", "system.slice:p:", "n", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := innerPath(tt.cgroupsPath, tt.id, tt.systemd)
			if !errors.Is(err, ErrInvalidPath) {
				t.Errorf("innerPath(%q, %q, %v) = %q, %v, want ErrInvalidPath", tt.cgroupsPath, tt.id, tt.systemd, got, err)
			}
		})
	}
}
