// Package cgroupv2 holds io.containerd.cgroups.v2.Metrics (containerd's
// cgroups/v3 cgroup2/stats/metrics.proto), the Stats reply for a container
// on the unified hierarchy: the messages and fields the shim fills.
package cgroupv2

import "github.com/berth-project/berth/shim/internal/wire"

// Metrics is io.containerd.cgroups.v2.Metrics.
type Metrics struct {
	Pids         *PidsStat
	CPU          *CPUStat
	Memory       *MemoryStat
	Io           *IOStat
	MemoryEvents *MemoryEvents
}

func (*Metrics) TypeURL() string { return "io.containerd.cgroups.v2.Metrics" }

func (m *Metrics) Fields() []wire.Field {
	return []wire.Field{
		wire.Msg(1, &m.Pids), wire.Msg(2, &m.CPU), wire.Msg(4, &m.Memory), wire.Msg(6, &m.Io), wire.Msg(8, &m.MemoryEvents),
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
	UsageUsec     uint64
	UserUsec      uint64
	SystemUsec    uint64
	NrPeriods     uint64
	NrThrottled   uint64
	ThrottledUsec uint64
	NrBursts      uint64
	BurstUsec     uint64
}

func (m *CPUStat) Fields() []wire.Field {
	return []wire.Field{
		wire.Uint64(1, &m.UsageUsec), wire.Uint64(2, &m.UserUsec), wire.Uint64(3, &m.SystemUsec),
		wire.Uint64(4, &m.NrPeriods), wire.Uint64(5, &m.NrThrottled), wire.Uint64(6, &m.ThrottledUsec),
		wire.Uint64(8, &m.NrBursts), wire.Uint64(9, &m.BurstUsec),
	}
}

type MemoryStat struct {
	Anon                  uint64
	File                  uint64
	KernelStack           uint64
	Slab                  uint64
	Sock                  uint64
	Shmem                 uint64
	FileMapped            uint64
	FileDirty             uint64
	FileWriteback         uint64
	AnonThp               uint64
	InactiveAnon          uint64
	ActiveAnon            uint64
	InactiveFile          uint64
	ActiveFile            uint64
	Unevictable           uint64
	SlabReclaimable       uint64
	SlabUnreclaimable     uint64
	Pgfault               uint64
	Pgmajfault            uint64
	WorkingsetRefault     uint64
	WorkingsetActivate    uint64
	WorkingsetNodereclaim uint64
	Pgrefill              uint64
	Pgscan                uint64
	Pgsteal               uint64
	Pgactivate            uint64
	Pgdeactivate          uint64
	Pglazyfree            uint64
	Pglazyfreed           uint64
	ThpFaultAlloc         uint64
	ThpCollapseAlloc      uint64
	Usage                 uint64
	UsageLimit            uint64
	SwapUsage             uint64
	SwapLimit             uint64
	MaxUsage              uint64
	SwapMaxUsage          uint64
}

func (m *MemoryStat) Fields() []wire.Field {
	return []wire.Field{
		wire.Uint64(1, &m.Anon), wire.Uint64(2, &m.File), wire.Uint64(3, &m.KernelStack), wire.Uint64(4, &m.Slab),
		wire.Uint64(5, &m.Sock), wire.Uint64(6, &m.Shmem), wire.Uint64(7, &m.FileMapped), wire.Uint64(8, &m.FileDirty),
		wire.Uint64(9, &m.FileWriteback), wire.Uint64(10, &m.AnonThp), wire.Uint64(11, &m.InactiveAnon),
		wire.Uint64(12, &m.ActiveAnon), wire.Uint64(13, &m.InactiveFile), wire.Uint64(14, &m.ActiveFile),
		wire.Uint64(15, &m.Unevictable), wire.Uint64(16, &m.SlabReclaimable), wire.Uint64(17, &m.SlabUnreclaimable),
		wire.Uint64(18, &m.Pgfault), wire.Uint64(19, &m.Pgmajfault), wire.Uint64(20, &m.WorkingsetRefault),
		wire.Uint64(21, &m.WorkingsetActivate), wire.Uint64(22, &m.WorkingsetNodereclaim), wire.Uint64(23, &m.Pgrefill),
		wire.Uint64(24, &m.Pgscan), wire.Uint64(25, &m.Pgsteal), wire.Uint64(26, &m.Pgactivate),
		wire.Uint64(27, &m.Pgdeactivate), wire.Uint64(28, &m.Pglazyfree), wire.Uint64(29, &m.Pglazyfreed),
		wire.Uint64(30, &m.ThpFaultAlloc), wire.Uint64(31, &m.ThpCollapseAlloc), wire.Uint64(32, &m.Usage),
		wire.Uint64(33, &m.UsageLimit), wire.Uint64(34, &m.SwapUsage), wire.Uint64(35, &m.SwapLimit),
		wire.Uint64(36, &m.MaxUsage), wire.Uint64(37, &m.SwapMaxUsage),
	}
}

type MemoryEvents struct {
	Low          uint64
	High         uint64
	Max          uint64
	Oom          uint64
	OomKill      uint64
	OomGroupKill uint64
}

func (m *MemoryEvents) Fields() []wire.Field {
	return []wire.Field{
		wire.Uint64(1, &m.Low), wire.Uint64(2, &m.High), wire.Uint64(3, &m.Max), wire.Uint64(4, &m.Oom),
		wire.Uint64(5, &m.OomKill), wire.Uint64(6, &m.OomGroupKill),
	}
}

type IOStat struct {
	Usage []*IOEntry
}

func (m *IOStat) Fields() []wire.Field { return []wire.Field{wire.Msgs(1, &m.Usage)} }

type IOEntry struct {
	Major  uint64
	Minor  uint64
	Rbytes uint64
	Wbytes uint64
	Rios   uint64
	Wios   uint64
}

func (m *IOEntry) Fields() []wire.Field {
	return []wire.Field{
		wire.Uint64(1, &m.Major), wire.Uint64(2, &m.Minor), wire.Uint64(3, &m.Rbytes), wire.Uint64(4, &m.Wbytes),
		wire.Uint64(5, &m.Rios), wire.Uint64(6, &m.Wios),
	}
}
