package containers

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	v1 "github.com/containerd/cgroups/v3/cgroup1/stats"
	v2 "github.com/containerd/cgroups/v3/cgroup2/stats"
	taskapi "github.com/containerd/containerd/api/runtime/task/v2"
	"google.golang.org/protobuf/proto"

	"github.com/berth-project/berth/supervisor/api"
	"github.com/berth-project/berth/supervisor/internal/shimclient"
)

// sample is one reading of a container's counters.
type sample struct {
	cpu, system uint64 // container and whole-machine CPU time, ns
	stats       *api.ContainerStats
}

// Stats samples the containers' cgroups once a second (twice, a second
// apart, without streaming) and sends CPU %, memory, network, block I/O
// and pids, as `docker stats` shows them.
func (s *Service) Stats(ctx context.Context, req *api.StatsRequest, send func(*api.StatsResponse) error) error {
	var list []*container
	if len(req.GetIds()) == 0 {
		for _, c := range s.all() {
			if req.GetAll() || c.running() {
				list = append(list, c)
			}
		}
	} else {
		for _, id := range req.GetIds() {
			c, err := s.get(id)
			if err != nil {
				return err
			}
			list = append(list, c)
		}
	}
	prev := make([]*sample, len(list))
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for round := 0; ; round++ {
		cur := make([]*sample, len(list))
		var wg sync.WaitGroup
		for i, c := range list {
			wg.Add(1)
			go func() {
				defer wg.Done()
				cur[i] = s.sample(ctx, c)
			}()
		}
		wg.Wait()
		if round > 0 {
			resp := &api.StatsResponse{}
			for i, c := range cur {
				st := proto.Clone(c.stats).(*api.ContainerStats)
				if p := prev[i]; p != nil && st.Running && c.system > p.system && c.cpu >= p.cpu {
					st.CpuPercent = float64(c.cpu-p.cpu) / float64(c.system-p.system) * float64(runtime.NumCPU()) * 100
				}
				resp.Stats = append(resp.Stats, st)
			}
			if err := send(resp); err != nil {
				return err
			}
			if !req.GetStream() {
				return nil
			}
		}
		prev = cur
		select {
		case <-tick.C:
		case <-ctx.Done():
			return nil
		}
	}
}

func (s *Service) sample(ctx context.Context, c *container) *sample {
	r := c.record()
	out := &sample{stats: &api.ContainerStats{Id: r.ID, Name: r.Name}, system: systemCPU()}
	c.mu.Lock()
	t := c.task
	c.mu.Unlock()
	if t == nil {
		return out
	}
	resp, err := t.shim.Task.Stats(shimclient.Context(ctx), &taskapi.StatsRequest{ID: c.id})
	if err != nil {
		return out
	}
	st := out.stats
	st.Running = true
	any := resp.GetStats()
	switch {
	case strings.HasSuffix(any.GetTypeUrl(), "cgroups.v1.Metrics"):
		var m v1.Metrics
		if proto.Unmarshal(any.GetValue(), &m) != nil {
			return out
		}
		if m.CPU != nil && m.CPU.Usage != nil {
			out.cpu = m.CPU.Usage.Total
		}
		if m.Memory != nil && m.Memory.Usage != nil {
			st.MemoryUsage = m.Memory.Usage.Usage - min(m.Memory.Usage.Usage, m.Memory.TotalInactiveFile)
			st.MemoryLimit = m.Memory.Usage.Limit
		}
		if m.Pids != nil {
			st.Pids = m.Pids.Current
		}
		if m.Blkio != nil {
			for _, e := range m.Blkio.IoServiceBytesRecursive {
				switch strings.ToLower(e.Op) {
				case "read":
					st.BlockRead += e.Value
				case "write":
					st.BlockWrite += e.Value
				}
			}
		}
	case strings.HasSuffix(any.GetTypeUrl(), "cgroups.v2.Metrics"):
		var m v2.Metrics
		if proto.Unmarshal(any.GetValue(), &m) != nil {
			return out
		}
		if m.CPU != nil {
			out.cpu = m.CPU.UsageUsec * 1000
		}
		if m.Memory != nil {
			st.MemoryUsage = m.Memory.Usage - min(m.Memory.Usage, m.Memory.InactiveFile)
			st.MemoryLimit = m.Memory.UsageLimit
		}
		if m.Pids != nil {
			st.Pids = m.Pids.Current
		}
		if m.Io != nil {
			for _, e := range m.Io.Usage {
				st.BlockRead += e.Rbytes
				st.BlockWrite += e.Wbytes
			}
		}
	}
	if total := hostMemory(); st.MemoryLimit == 0 || st.MemoryLimit > total {
		st.MemoryLimit = total
	}
	st.NetRx, st.NetTx = netDev(t.pid)
	return out
}

// systemCPU is the machine's total CPU time in ns, from /proc/stat.
func systemCPU() uint64 {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 1 && fields[0] == "cpu" {
			var ticks uint64
			for _, x := range fields[1:8] {
				n, _ := strconv.ParseUint(x, 10, 64)
				ticks += n
			}
			return ticks * 1e7 // USER_HZ is 100
		}
	}
	return 0
}

var hostMemory = sync.OnceValue(func() uint64 {
	b, _ := os.ReadFile("/proc/meminfo")
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "MemTotal:" {
			n, _ := strconv.ParseUint(f[1], 10, 64)
			return n * 1024
		}
	}
	return 0
})

// netDev sums the bytes of pid's network namespace's interfaces but lo.
func netDev(pid int) (rx, tx uint64) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/dev", pid))
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		name, rest, ok := strings.Cut(line, ":")
		if !ok || strings.TrimSpace(name) == "lo" {
			continue
		}
		f := strings.Fields(rest)
		if len(f) < 9 {
			continue
		}
		r, _ := strconv.ParseUint(f[0], 10, 64)
		t, _ := strconv.ParseUint(f[8], 10, 64)
		rx, tx = rx+r, tx+t
	}
	return rx, tx
}
