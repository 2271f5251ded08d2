package cgroups

// Stats is a snapshot of a cgroup's resource use. It carries what
// `berth-runtime events --stats` (runc's JSON shape) and the shim's Stats
// need; fields a controller does not provide stay zero.
type Stats struct {
	CPU    CPUStats
	Memory MemoryStats
	Pids   PidsStats
}

// CPUStats is cumulative CPU time, in nanoseconds.
type CPUStats struct {
	Total  uint64
	User   uint64
	System uint64
}

// MemoryStats is in bytes. Limit is the kernel's "no limit" value when none
// is set (on v2 "max" is reported as the largest uint64, like runc).
type MemoryStats struct {
	Usage    uint64
	MaxUsage uint64 // v1 memory.max_usage_in_bytes, v2 memory.peak (kernel >= 5.19)
	Limit    uint64
}

// PidsStats counts tasks; Limit is 0 when there is none.
type PidsStats struct {
	Current uint64
	Limit   uint64
}
