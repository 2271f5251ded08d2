package cgroup

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/berth-project/berth/shim/internal/api"
	v1 "github.com/berth-project/berth/shim/internal/api/cgroupv1"
	v2 "github.com/berth-project/berth/shim/internal/api/cgroupv2"
)

// Metrics returns the container's metrics: a *v1.Metrics when it is in v1
// controllers, a *v2.Metrics otherwise.
func (c *Cgroup) Metrics() (api.Typed, error) {
	if c.V1() {
		return c.metricsV1()
	}
	if _, err := os.Stat(c.v2); err != nil {
		return nil, err
	}
	return c.metricsV2(), nil
}

func (c *Cgroup) metricsV1() (*v1.Metrics, error) {
	m := &v1.Metrics{}
	if d := c.v1["memory"]; d != "" {
		if _, err := os.Stat(d); err != nil {
			return nil, err // the cgroup is gone: the container was deleted
		}
		m.Memory = memoryV1(d)
		oc := readKV(d, "memory.oom_control")
		m.MemoryOomControl = &v1.MemoryOomControl{OomKillDisable: oc["oom_kill_disable"], UnderOom: oc["under_oom"], OomKill: oc["oom_kill"]}
	}
	if d := c.v1["pids"]; d != "" {
		m.Pids = &v1.PidsStat{Current: readUint(d, "pids.current"), Limit: readUint(d, "pids.max")}
	}
	if d := c.v1["cpuacct"]; d != "" {
		u := &v1.CPUUsage{Total: readUint(d, "cpuacct.usage")}
		if b, err := os.ReadFile(filepath.Join(d, "cpuacct.usage_percpu")); err == nil {
			for _, f := range strings.Fields(string(b)) {
				n, _ := strconv.ParseUint(f, 10, 64)
				u.PerCPU = append(u.PerCPU, n)
			}
		}
		// cpuacct.stat is in USER_HZ ticks (100 per second on Linux).
		st := readKV(d, "cpuacct.stat")
		u.User, u.Kernel = st["user"]*10_000_000, st["system"]*10_000_000
		m.CPU = &v1.CPUStat{Usage: u}
	}
	if d := c.v1["cpu"]; d != "" {
		st := readKV(d, "cpu.stat")
		if m.CPU == nil {
			m.CPU = &v1.CPUStat{}
		}
		m.CPU.Throttling = &v1.Throttle{Periods: st["nr_periods"], ThrottledPeriods: st["nr_throttled"], ThrottledTime: st["throttled_time"]}
	}
	if d := c.v1["blkio"]; d != "" {
		m.Blkio = &v1.BlkIOStat{
			IoServiceBytesRecursive: blkio(d, "blkio.throttle.io_service_bytes_recursive", "blkio.io_service_bytes_recursive"),
			IoServicedRecursive:     blkio(d, "blkio.throttle.io_serviced_recursive", "blkio.io_serviced_recursive"),
		}
	}
	return m, nil
}

func memoryV1(d string) *v1.MemoryStat {
	s := readKV(d, "memory.stat")
	entry := func(prefix string) *v1.MemoryEntry {
		return &v1.MemoryEntry{
			Usage:   readUint(d, prefix+"usage_in_bytes"),
			Max:     readUint(d, prefix+"max_usage_in_bytes"),
			Limit:   readUint(d, prefix+"limit_in_bytes"),
			Failcnt: readUint(d, prefix+"failcnt"),
		}
	}
	return &v1.MemoryStat{
		Cache: s["cache"], RSS: s["rss"], RSSHuge: s["rss_huge"], MappedFile: s["mapped_file"],
		Dirty: s["dirty"], Writeback: s["writeback"], PgPgIn: s["pgpgin"], PgPgOut: s["pgpgout"],
		PgFault: s["pgfault"], PgMajFault: s["pgmajfault"], InactiveAnon: s["inactive_anon"],
		ActiveAnon: s["active_anon"], InactiveFile: s["inactive_file"], ActiveFile: s["active_file"],
		Unevictable: s["unevictable"], HierarchicalMemoryLimit: s["hierarchical_memory_limit"],
		HierarchicalSwapLimit: s["hierarchical_memsw_limit"], TotalCache: s["total_cache"],
		TotalRSS: s["total_rss"], TotalRSSHuge: s["total_rss_huge"], TotalMappedFile: s["total_mapped_file"],
		TotalDirty: s["total_dirty"], TotalWriteback: s["total_writeback"], TotalPgPgIn: s["total_pgpgin"],
		TotalPgPgOut: s["total_pgpgout"], TotalPgFault: s["total_pgfault"], TotalPgMajFault: s["total_pgmajfault"],
		TotalInactiveAnon: s["total_inactive_anon"], TotalActiveAnon: s["total_active_anon"],
		TotalInactiveFile: s["total_inactive_file"], TotalActiveFile: s["total_active_file"],
		TotalUnevictable: s["total_unevictable"],
		Usage:            entry("memory."),
		Swap:             entry("memory.memsw."),
		Kernel:           entry("memory.kmem."),
		KernelTCP:        entry("memory.kmem.tcp."),
	}
}

// blkio parses "MAJ:MIN Op value" lines of the first file that has any.
func blkio(d string, files ...string) []*v1.BlkIOEntry {
	for _, file := range files {
		b, err := os.ReadFile(filepath.Join(d, file))
		if err != nil {
			continue
		}
		var out []*v1.BlkIOEntry
		for _, line := range strings.Split(string(b), "\n") {
			f := strings.Fields(line)
			if len(f) != 3 {
				continue
			}
			maj, min, ok := strings.Cut(f[0], ":")
			if !ok {
				continue
			}
			e := &v1.BlkIOEntry{Op: f[1]}
			e.Major, _ = strconv.ParseUint(maj, 10, 64)
			e.Minor, _ = strconv.ParseUint(min, 10, 64)
			e.Value, _ = strconv.ParseUint(f[2], 10, 64)
			out = append(out, e)
		}
		if len(out) > 0 {
			return out
		}
	}
	return nil
}

func (c *Cgroup) metricsV2() *v2.Metrics {
	d := c.v2
	m := &v2.Metrics{Pids: &v2.PidsStat{Current: readUint(d, "pids.current"), Limit: readUint(d, "pids.max")}}
	cs := readKV(d, "cpu.stat")
	m.CPU = &v2.CPUStat{
		UsageUsec: cs["usage_usec"], UserUsec: cs["user_usec"], SystemUsec: cs["system_usec"],
		NrPeriods: cs["nr_periods"], NrThrottled: cs["nr_throttled"], ThrottledUsec: cs["throttled_usec"],
	}
	ms := readKV(d, "memory.stat")
	m.Memory = &v2.MemoryStat{
		Anon: ms["anon"], File: ms["file"], KernelStack: ms["kernel_stack"], Slab: ms["slab"],
		Sock: ms["sock"], Shmem: ms["shmem"], FileMapped: ms["file_mapped"], FileDirty: ms["file_dirty"],
		FileWriteback: ms["file_writeback"], AnonThp: ms["anon_thp"], InactiveAnon: ms["inactive_anon"],
		ActiveAnon: ms["active_anon"], InactiveFile: ms["inactive_file"], ActiveFile: ms["active_file"],
		Unevictable: ms["unevictable"], SlabReclaimable: ms["slab_reclaimable"],
		SlabUnreclaimable: ms["slab_unreclaimable"], Pgfault: ms["pgfault"], Pgmajfault: ms["pgmajfault"],
		Usage: readUint(d, "memory.current"), UsageLimit: readUint(d, "memory.max"),
		SwapUsage: readUint(d, "memory.swap.current"), SwapLimit: readUint(d, "memory.swap.max"),
		MaxUsage: readUint(d, "memory.peak"),
	}
	ev := readKV(d, "memory.events")
	m.MemoryEvents = &v2.MemoryEvents{Low: ev["low"], High: ev["high"], Max: ev["max"], Oom: ev["oom"], OomKill: ev["oom_kill"]}
	if b, err := os.ReadFile(filepath.Join(d, "io.stat")); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			f := strings.Fields(line)
			if len(f) < 2 {
				continue
			}
			maj, min, _ := strings.Cut(f[0], ":")
			e := &v2.IOEntry{}
			e.Major, _ = strconv.ParseUint(maj, 10, 64)
			e.Minor, _ = strconv.ParseUint(min, 10, 64)
			for _, kv := range f[1:] {
				k, v, _ := strings.Cut(kv, "=")
				n, _ := strconv.ParseUint(v, 10, 64)
				switch k {
				case "rbytes":
					e.Rbytes = n
				case "wbytes":
					e.Wbytes = n
				case "rios":
					e.Rios = n
				case "wios":
					e.Wios = n
				}
			}
			if m.Io == nil {
				m.Io = &v2.IOStat{}
			}
			m.Io.Usage = append(m.Io.Usage, e)
		}
	}
	return m
}
