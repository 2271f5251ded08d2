// Package cgroupv1 holds io.containerd.cgroups.v1.Metrics (containerd's
// cgroups/v3 cgroup1/stats/metrics.proto), the Stats reply for a container
// in cgroup v1 controllers: the messages and fields the shim fills.
package cgroupv1

import "github.com/berth-project/berth/shim/internal/wire"

// Metrics is io.containerd.cgroups.v1.Metrics.
type Metrics struct {
	Pids             *PidsStat
	CPU              *CPUStat
	Memory           *MemoryStat
	Blkio            *BlkIOStat
	MemoryOomControl *MemoryOomControl
}

func (*Metrics) TypeURL() string { return "io.containerd.cgroups.v1.Metrics" }

func (m *Metrics) Fields() []wire.Field {
	return []wire.Field{
		wire.Msg(2, &m.Pids), wire.Msg(3, &m.CPU), wire.Msg(4, &m.Memory), wire.Msg(5, &m.Blkio),
		wire.Msg(9, &m.MemoryOomControl),
	}
}

type PidsStat struct {
	Current uint64
	Limit   uint64
}

func (m *PidsStat) Fields() []wire.Field {
	return []wire.Field{wire.Uint64(1, &m.Current), wire.Uint64(2, &m.Limit)}
}

type CPUStat struct {
	Usage      *CPUUsage
	Throttling *Throttle
}

func (m *CPUStat) Fields() []wire.Field {
	return []wire.Field{wire.Msg(1, &m.Usage), wire.Msg(2, &m.Throttling)}
}

// CPUUsage times are in nanoseconds.
type CPUUsage struct {
	Total  uint64
	Kernel uint64
	User   uint64
	PerCPU []uint64
}

func (m *CPUUsage) Fields() []wire.Field {
	return []wire.Field{wire.Uint64(1, &m.Total), wire.Uint64(2, &m.Kernel), wire.Uint64(3, &m.User), wire.Uint64s(4, &m.PerCPU)}
}

type Throttle struct {
	Periods          uint64
	ThrottledPeriods uint64
	ThrottledTime    uint64
}

func (m *Throttle) Fields() []wire.Field {
	return []wire.Field{wire.Uint64(1, &m.Periods), wire.Uint64(2, &m.ThrottledPeriods), wire.Uint64(3, &m.ThrottledTime)}
}

type MemoryStat struct {
	Cache                   uint64
	RSS                     uint64
	RSSHuge                 uint64
	MappedFile              uint64
	Dirty                   uint64
	Writeback               uint64
	PgPgIn                  uint64
	PgPgOut                 uint64
	PgFault                 uint64
	PgMajFault              uint64
	InactiveAnon            uint64
	ActiveAnon              uint64
	InactiveFile            uint64
	ActiveFile              uint64
	Unevictable             uint64
	HierarchicalMemoryLimit uint64
	HierarchicalSwapLimit   uint64
	TotalCache              uint64
	TotalRSS                uint64
	TotalRSSHuge            uint64
	TotalMappedFile         uint64
	TotalDirty              uint64
	TotalWriteback          uint64
	TotalPgPgIn             uint64
	TotalPgPgOut            uint64
	TotalPgFault            uint64
	TotalPgMajFault         uint64
	TotalInactiveAnon       uint64
	TotalActiveAnon         uint64
	TotalInactiveFile       uint64
	TotalActiveFile         uint64
	TotalUnevictable        uint64
	Usage                   *MemoryEntry
	Swap                    *MemoryEntry
	Kernel                  *MemoryEntry
	KernelTCP               *MemoryEntry
}

func (m *MemoryStat) Fields() []wire.Field {
	return []wire.Field{
		wire.Uint64(1, &m.Cache), wire.Uint64(2, &m.RSS), wire.Uint64(3, &m.RSSHuge), wire.Uint64(4, &m.MappedFile),
		wire.Uint64(5, &m.Dirty), wire.Uint64(6, &m.Writeback), wire.Uint64(7, &m.PgPgIn), wire.Uint64(8, &m.PgPgOut),
		wire.Uint64(9, &m.PgFault), wire.Uint64(10, &m.PgMajFault), wire.Uint64(11, &m.InactiveAnon),
		wire.Uint64(12, &m.ActiveAnon), wire.Uint64(13, &m.InactiveFile), wire.Uint64(14, &m.ActiveFile),
		wire.Uint64(15, &m.Unevictable), wire.Uint64(16, &m.HierarchicalMemoryLimit),
		wire.Uint64(17, &m.HierarchicalSwapLimit), wire.Uint64(18, &m.TotalCache), wire.Uint64(19, &m.TotalRSS),
		wire.Uint64(20, &m.TotalRSSHuge), wire.Uint64(21, &m.TotalMappedFile), wire.Uint64(22, &m.TotalDirty),
		wire.Uint64(23, &m.TotalWriteback), wire.Uint64(24, &m.TotalPgPgIn), wire.Uint64(25, &m.TotalPgPgOut),
		wire.Uint64(26, &m.TotalPgFault), wire.Uint64(27, &m.TotalPgMajFault), wire.Uint64(28, &m.TotalInactiveAnon),
		wire.Uint64(29, &m.TotalActiveAnon), wire.Uint64(30, &m.TotalInactiveFile), wire.Uint64(31, &m.TotalActiveFile),
		wire.Uint64(32, &m.TotalUnevictable), wire.Msg(33, &m.Usage), wire.Msg(34, &m.Swap), wire.Msg(35, &m.Kernel),
		wire.Msg(36, &m.KernelTCP),
	}
}

type MemoryEntry struct {
	Limit   uint64
	Usage   uint64
	Max     uint64
	Failcnt uint64
}

func (m *MemoryEntry) Fields() []wire.Field {
	return []wire.Field{wire.Uint64(1, &m.Limit), wire.Uint64(2, &m.Usage), wire.Uint64(3, &m.Max), wire.Uint64(4, &m.Failcnt)}
}

type MemoryOomControl struct {
	OomKillDisable uint64
	UnderOom       uint64
	OomKill        uint64
}

func (m *MemoryOomControl) Fields() []wire.Field {
	return []wire.Field{wire.Uint64(1, &m.OomKillDisable), wire.Uint64(2, &m.UnderOom), wire.Uint64(3, &m.OomKill)}
}

type BlkIOStat struct {
	IoServiceBytesRecursive []*BlkIOEntry
	IoServicedRecursive     []*BlkIOEntry
}

func (m *BlkIOStat) Fields() []wire.Field {
	return []wire.Field{wire.Msgs(1, &m.IoServiceBytesRecursive), wire.Msgs(2, &m.IoServicedRecursive)}
}

type BlkIOEntry struct {
	Op     string
	Device string
	Major  uint64
	Minor  uint64
	Value  uint64
}

func (m *BlkIOEntry) Fields() []wire.Field {
	return []wire.Field{
		wire.String(1, &m.Op), wire.String(2, &m.Device), wire.Uint64(3, &m.Major), wire.Uint64(4, &m.Minor),
		wire.Uint64(5, &m.Value),
	}
}
