package cgroups

import (
	"errors"
	"maps"
	"testing"
)

func TestPathsFor(t *testing.T) {
	mounts := map[string]string{
		"cpu": "/sys/fs/cgroup/cpu,cpuacct", "cpuacct": "/sys/fs/cgroup/cpu,cpuacct",
		"memory": "/sys/fs/cgroup/memory", "name=systemd": "/sys/fs/cgroup/systemd",
	}
	tests := []struct {
		name string
		mode Mode
		want map[string]string
	}{
		{"unified", Unified, map[string]string{"": "/sys/fs/cgroup/a/b"}},
		{"legacy", Legacy, map[string]string{
			"cpu": "/sys/fs/cgroup/cpu,cpuacct/a/b", "cpuacct": "/sys/fs/cgroup/cpu,cpuacct/a/b",
			"memory": "/sys/fs/cgroup/memory/a/b", "name=systemd": "/sys/fs/cgroup/systemd/a/b",
		}},
		{"hybrid", Hybrid, map[string]string{
			"cpu": "/sys/fs/cgroup/cpu,cpuacct/a/b", "cpuacct": "/sys/fs/cgroup/cpu,cpuacct/a/b",
			"memory": "/sys/fs/cgroup/memory/a/b", "name=systemd": "/sys/fs/cgroup/systemd/a/b",
			"": "/sys/fs/cgroup/unified/a/b",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := pathsFor(tt.mode, mounts, "/a/b")
			if err != nil || !maps.Equal(got, tt.want) {
				t.Fatalf("pathsFor(%v) = %v, %v, want %v", tt.mode, got, err, tt.want)
			}
			m, err := Load(got)
			if err != nil {
				t.Fatalf("Load(%v): %v", got, err)
			}
			if back := m.Paths(); !maps.Equal(back, got) {
				t.Errorf("Load(%v).Paths() = %v", got, back)
			}
		})
	}
	if _, err := pathsFor(Unavailable, nil, "/a"); !errors.Is(err, ErrNotSupported) {
		t.Errorf("pathsFor(Unavailable) error = %v, want ErrNotSupported", err)
	}
}

func TestLoadInvalid(t *testing.T) {
	for _, tt := range []struct {
		name  string
		paths map[string]string
	}{
		{"empty", nil},
		{"relative", map[string]string{"": "sys/fs/cgroup/a"}},
		{"slash", map[string]string{"memory": "/"}},
		{"not clean", map[string]string{"memory": "/sys/fs/cgroup/memory/../../../etc"}},
		{"the root itself", map[string]string{"": "/sys/fs/cgroup"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Load(tt.paths); !errors.Is(err, ErrInvalidPath) {
				t.Errorf("Load(%v) error = %v, want ErrInvalidPath", tt.paths, err)
			}
		})
	}
}
