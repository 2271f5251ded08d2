package cgroups

import (
	"os"
	"os/exec"
	"runtime"
	"sync"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// runcDevices is the device list runc puts in every spec: deny all, then
// the usual character devices.
func runcDevices() []specs.LinuxDeviceCgroup {
	c := func(major, minor int64, access string) specs.LinuxDeviceCgroup {
		return specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: ptr(major), Minor: ptr(minor), Access: access}
	}
	return []specs.LinuxDeviceCgroup{
		denyAllDevices,
		c(-1, -1, "m"), {Allow: true, Type: "b", Major: ptr[int64](-1), Minor: ptr[int64](-1), Access: "m"},
		c(1, 3, "rwm"), c(1, 5, "rwm"), c(1, 7, "rwm"), c(1, 8, "rwm"), c(1, 9, "rwm"),
		c(5, 0, "rwm"), c(5, 1, "rwm"), c(5, 2, "rwm"), c(136, -1, "rwm"), c(10, 200, "rwm"),
	}
}

func threadCPU() time.Duration {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts)
	return time.Duration(ts.Nano())
}

// BenchmarkCycle measures what a container's life costs in cgroup work:
// New, Apply, Set (memory, pids, cpu quota, runc's device list) and
// Destroy. Between Set and Destroy the process is parked in another cgroup,
// untimed. cpu-ns/op is the calling thread's CPU time, kernel included.
func BenchmarkCycle(b *testing.B) {
	if os.Geteuid() != 0 || CurrentMode() == Unavailable {
		b.Skip("needs root and cgroups")
	}
	park, err := New(testCgroupPath(), "", false)
	if err != nil {
		b.Fatal(err)
	}
	sleep := exec.Command("sleep", "1000")
	if err := sleep.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = sleep.Process.Kill()
		_ = sleep.Wait()
		if err := park.Destroy(); err != nil {
			b.Error(err)
		}
	})
	pid := sleep.Process.Pid
	if err := park.Apply(pid); err != nil {
		b.Fatal(err)
	}
	r := &specs.LinuxResources{
		Memory:  &specs.LinuxMemory{Limit: ptr[int64](64 * mib)},
		Pids:    &specs.LinuxPids{Limit: ptr[int64](100)},
		CPU:     &specs.LinuxCPU{Quota: ptr[int64](50000), Period: ptr[uint64](100000)},
		Devices: runcDevices(),
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var cpu time.Duration
	b.ResetTimer()
	for range b.N {
		start := threadCPU()
		m, err := New(testCgroupPath(), "", false)
		if err != nil {
			b.Fatal(err)
		}
		if err := m.Apply(pid); err != nil {
			b.Fatal(err)
		}
		if err := m.Set(r); err != nil {
			b.Fatal(err)
		}
		cpu += threadCPU() - start
		b.StopTimer()
		if err := park.Apply(pid); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start = threadCPU()
		if err := m.Destroy(); err != nil {
			b.Fatal(err)
		}
		cpu += threadCPU() - start
	}
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
}

// BenchmarkDetect measures what each runtime process pays once before its
// first New: the statfs calls and, on v1, reading mountinfo.
func BenchmarkDetect(b *testing.B) {
	for range b.N {
		detected.once, v1mounts.once = sync.Once{}, sync.Once{}
		if CurrentMode() != Unified {
			if _, err := v1Mounts(); err != nil {
				b.Fatal(err)
			}
		}
	}
}
