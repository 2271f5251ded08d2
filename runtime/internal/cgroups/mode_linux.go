package cgroups

import (
	"fmt"
	"os"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/cgroupfs"
)

// Mode is the layout of the cgroup hierarchies on this machine.
type Mode int

const (
	// Unavailable means no cgroup filesystem is mounted at /sys/fs/cgroup.
	Unavailable Mode = iota
	// Legacy is cgroup v1: one hierarchy per controller (or group of
	// co-mounted controllers) under a tmpfs at /sys/fs/cgroup.
	Legacy
	// Hybrid is Legacy plus a cgroup2 mount at /sys/fs/cgroup/unified that
	// holds the controllers v1 does not (here hugetlb).
	Hybrid
	// Unified is cgroup v2: one hierarchy mounted at /sys/fs/cgroup.
	Unified
)

func (m Mode) String() string {
	switch m {
	case Legacy:
		return "legacy"
	case Hybrid:
		return "hybrid"
	case Unified:
		return "unified"
	}
	return "unavailable"
}

const (
	cgroupRoot  = cgroupfs.Root
	unifiedRoot = cgroupRoot + "/unified"
)

var detected struct {
	once sync.Once
	mode Mode
}

// CurrentMode reports the cgroup layout. It costs one or two statfs(2)
// calls, once per process: mounts do not change under a running runtime.
func CurrentMode() Mode {
	detected.once.Do(func() {
		var st unix.Statfs_t
		if err := unix.Statfs(cgroupRoot, &st); err != nil {
			return
		}
		if st.Type == unix.CGROUP2_SUPER_MAGIC {
			detected.mode = Unified
			return
		}
		detected.mode = Legacy
		if unix.Statfs(unifiedRoot, &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
			detected.mode = Hybrid
		}
	})
	return detected.mode
}

var v1mounts struct {
	once   sync.Once
	mounts map[string]string
	err    error
}

// v1Mounts returns the v1 hierarchies' mount points by controller, reading
// /proc/self/mountinfo once per process.
func v1Mounts() (map[string]string, error) {
	v1mounts.once.Do(func() {
		data, err := os.ReadFile("/proc/self/mountinfo")
		if err != nil {
			v1mounts.err = fmt.Errorf("find cgroup v1 mounts: %w", err)
			return
		}
		v1mounts.mounts = parseMountinfo(string(data))
	})
	return v1mounts.mounts, v1mounts.err
}
