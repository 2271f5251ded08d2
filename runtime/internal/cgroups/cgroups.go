// Package cgroups places a container's processes in a cgroup and applies the
// OCI resource limits to it, on cgroup v1, v2 and the hybrid layout (v1
// controllers plus a cgroup2 mount at /sys/fs/cgroup/unified), detected at
// run time.
//
// The runtime creates a Manager with New when it creates a container, stores
// Paths() in the container state, and rebuilds the Manager with Load for the
// later commands (exec, kill --all, pause, delete...).
package cgroups

import specs "github.com/opencontainers/runtime-spec/specs-go"

// Manager controls one container's cgroup in every hierarchy it uses.
type Manager interface {
	// Apply creates the cgroup directories if needed and moves pid into them.
	Apply(pid int) error
	// Prepare creates the cgroup directories for a process that joins by
	// itself, following JoinPlan.
	Prepare() error
	// JoinPlan says how a single-threaded process joins the cgroup by
	// itself without the kernel's global migration lock, whose first
	// taker after a quiet spell waits for an RCU grace period (10-25 ms):
	// by writing "0" to each v1 `tasks` file (moving only the calling
	// thread skips the lock), and by forking into the cgroup2 directory
	// with clone3's CLONE_INTO_CGROUP. unified is "" when there is no
	// cgroup2 directory to join; unifiedOptional is true when joining it
	// is best effort (hybrid hosts), as Apply treats it. The plan does not
	// depend on Prepare: it may be made before, and followed after.
	JoinPlan() (tasks []string, unified string, unifiedOptional bool)
	// Set writes the resource limits of r (nil means nothing to set).
	Set(r *specs.LinuxResources) error
	// Pids lists every process in the cgroup and its descendants.
	Pids() ([]int, error)
	// Freeze stops every process in the cgroup and returns once they are frozen.
	Freeze() error
	// Thaw resumes a frozen cgroup.
	Thaw() error
	// Frozen reports whether the cgroup is frozen.
	Frozen() (bool, error)
	// Destroy removes the cgroup directories; the processes must be gone.
	Destroy() error
	// Paths maps each controller to its directory (on v2 the single key "" is used;
	// on hybrid "" is the cgroup2 directory next to the v1 controllers),
	// to be stored in the container state and given to Load.
	Paths() map[string]string
	// OOMKillCount is how many processes the OOM killer has killed in the cgroup.
	OOMKillCount() (uint64, error)
	// Stats reports the cgroup's CPU, memory and pids use.
	Stats() (*Stats, error)
}
