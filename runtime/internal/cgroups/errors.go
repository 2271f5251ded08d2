package cgroups

import "errors"

var (
	// ErrInvalidPath is returned for a cgroups path that cannot name a
	// container's cgroup: one whose ".." climbs above the hierarchy root, the
	// root itself, a malformed systemd "slice:prefix:name", or a Load path
	// outside /sys/fs/cgroup.
	ErrInvalidPath = errors.New("invalid cgroup path")
	// ErrNotSupported is returned when this kernel or cgroup layout cannot
	// enforce a requested limit (a controller that is not mounted, a
	// blkio weight without CFQ/BFQ, realtime limits on v2...). A requested
	// limit is never dropped silently.
	ErrNotSupported = errors.New("not supported")

	// errFreezeTimeout is returned when a cgroup2 cgroup does not report
	// frozen in time; it is thawed again rather than left half frozen.
	errFreezeTimeout = errors.New("not frozen after 5s")
)
