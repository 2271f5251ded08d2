package cgroups

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func ptr[T any](v T) *T { return &v }

const mib = 1 << 20

var (
	denyAllDevices = specs.LinuxDeviceCgroup{Allow: false, Access: "rwm"}
	allowNull      = specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: ptr[int64](1), Minor: ptr[int64](3), Access: "rwm"}
)

func TestSet(t *testing.T) {
	requireRoot(t)
	m := newTestManager(t)
	startSleep(t, m)
	r := &specs.LinuxResources{
		Memory: &specs.LinuxMemory{Limit: ptr[int64](64 * mib), Swap: ptr[int64](64 * mib), Reservation: ptr[int64](32 * mib)},
		Pids:   &specs.LinuxPids{Limit: ptr[int64](10)},
		CPU: &specs.LinuxCPU{Shares: ptr[uint64](512), Quota: ptr[int64](50000), Period: ptr[uint64](100000),
			Cpus: "0", Mems: "0"},
		Devices: []specs.LinuxDeviceCgroup{denyAllDevices, allowNull},
	}
	if CurrentMode() != Legacy {
		r.HugepageLimits = []specs.LinuxHugepageLimit{{Pagesize: "2MB", Limit: 4 * mib}}
	}
	if err := m.Set(r); err != nil {
		t.Fatalf("Set: %v", err)
	}
	type check struct{ controller, file, want string }
	checks := []check{
		{"", "memory.max", "67108864"},
		{"", "memory.swap.max", "0"},
		{"", "memory.low", "33554432"},
		{"", "pids.max", "10"},
		{"", "cpu.max", "50000 100000"},
		{"", "cpu.weight", "20"},
		{"", "cpuset.cpus", "0"},
		{"", "hugetlb.2MB.max", "4194304"},
	}
	if CurrentMode() != Unified {
		checks = []check{
			{"memory", "memory.limit_in_bytes", "67108864"},
			{"memory", "memory.memsw.limit_in_bytes", "67108864"},
			{"memory", "memory.soft_limit_in_bytes", "33554432"},
			{"pids", "pids.max", "10"},
			{"cpu", "cpu.cfs_quota_us", "50000"},
			{"cpu", "cpu.cfs_period_us", "100000"},
			{"cpu", "cpu.shares", "512"},
			{"cpuset", "cpuset.cpus", "0"},
			{"cpuset", "cpuset.mems", "0"},
			{"devices", "devices.list", "c 1:3 rwm"},
		}
		if CurrentMode() == Hybrid {
			checks = append(checks, check{"", "hugetlb.2MB.max", "4194304"}, check{"", "hugetlb.2MB.rsvd.max", "4194304"})
		}
	}
	for _, c := range checks {
		t.Run(c.file, func(t *testing.T) {
			if got := cgFile(t, m, c.controller, c.file); got != c.want {
				t.Errorf("%s = %q, want %q", c.file, got, c.want)
			}
		})
	}
}

// TestSetMemoryOrder raises and lowers memory and memory+swap together: on
// v1 the kernel refuses any moment where memsw would be below the limit.
func TestSetMemoryOrder(t *testing.T) {
	requireRoot(t)
	m := newTestManager(t)
	startSleep(t, m)
	for _, size := range []int64{32 * mib, 128 * mib, 16 * mib, -1, 48 * mib} {
		mem := &specs.LinuxMemory{Limit: ptr(size), Swap: ptr(size)}
		if err := m.Set(&specs.LinuxResources{Memory: mem}); err != nil {
			t.Fatalf("Set(memory and swap %d): %v", size, err)
		}
		if CurrentMode() == Unified || size < 0 {
			continue
		}
		for _, file := range []string{"memory.limit_in_bytes", "memory.memsw.limit_in_bytes"} {
			if got := cgFile(t, m, "memory", file); got != strconv.FormatInt(size, 10) {
				t.Errorf("after Set(%d) %s = %s", size, file, got)
			}
		}
	}
}

func TestSetBlkio(t *testing.T) {
	requireRoot(t)
	m := newTestManager(t)
	startSleep(t, m)
	dir, weightFile := m.Paths()["blkio"], "blkio.weight"
	if CurrentMode() == Unified {
		dir, weightFile = m.Paths()[""], "io.weight"
	}
	err := m.Set(&specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{Weight: ptr[uint16](500)}})
	switch {
	case exists(dir+"/"+weightFile) || exists(dir+"/blkio.bfq.weight") || exists(dir+"/io.bfq.weight"):
		if err != nil {
			t.Errorf("Set(blkio weight): %v", err)
		}
	case !errors.Is(err, ErrNotSupported) || !strings.Contains(err.Error(), "blkio weight not supported"):
		t.Errorf("Set(blkio weight) without weight files = %v, want a \"blkio weight not supported\" error", err)
	}

	b, err := os.ReadFile("/sys/block/loop0/dev")
	if err != nil {
		t.Skip("no /sys/block/loop0 to throttle")
	}
	dev := strings.TrimSpace(string(b))
	td := specs.LinuxThrottleDevice{Rate: mib}
	if _, err := fmt.Sscanf(dev, "%d:%d", &td.Major, &td.Minor); err != nil {
		t.Fatalf("parse %q: %v", dev, err)
	}
	if err := m.Set(&specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{ThrottleReadBpsDevice: []specs.LinuxThrottleDevice{td}}}); err != nil {
		t.Fatalf("Set(blkio throttle): %v", err)
	}
	controller, file, want := "blkio", "blkio.throttle.read_bps_device", dev+" 1048576"
	if CurrentMode() == Unified {
		controller, file, want = "", "io.max", dev+" rbps=1048576"
	}
	if got := cgFile(t, m, controller, file); !strings.HasPrefix(got, want) {
		t.Errorf("%s = %q, want %q", file, got, want)
	}
}

func TestPidsFreezeThaw(t *testing.T) {
	requireRoot(t)
	m := newTestManager(t)
	sleep := startSleep(t, m)
	pid := sleep.Process.Pid

	// A process in a child cgroup must be listed too.
	controller := "pids"
	if CurrentMode() == Unified {
		controller = ""
	}
	child := m.Paths()[controller] + "/child"
	if err := os.Mkdir(child, 0o755); err != nil {
		t.Fatal(err)
	}
	nested := startSleep(t, m)
	if err := writeFile(child, "cgroup.procs", strconv.Itoa(nested.Process.Pid)); err != nil {
		t.Fatal(err)
	}
	pids, err := m.Pids()
	if err != nil || !slices.Contains(pids, pid) || !slices.Contains(pids, nested.Process.Pid) {
		t.Fatalf("Pids() = %v, %v, want %d and %d", pids, err, pid, nested.Process.Pid)
	}

	if err := m.Freeze(); err != nil {
		t.Fatalf("Freeze: %v", err)
	}
	if frozen, err := m.Frozen(); err != nil || !frozen {
		t.Errorf("Frozen() after Freeze = %v, %v", frozen, err)
	}
	if CurrentMode() != Unified {
		if got := cgFile(t, m, "freezer", "freezer.state"); got != "FROZEN" {
			t.Errorf("freezer.state = %q, want FROZEN", got)
		}
	}
	// The v1 freezer leaves tasks in TASK_FROZEN, which /proc shows as "D".
	// The v2 freezer traps them in an interruptible sleep ("S", like any
	// sleeping task), so there only cgroup.events tells.
	if st := procState(t, pid); CurrentMode() != Unified && st != "D" {
		t.Errorf("state of frozen pid %d = %s, want D", pid, st)
	}

	if err := m.Thaw(); err != nil {
		t.Fatalf("Thaw: %v", err)
	}
	if frozen, err := m.Frozen(); err != nil || frozen {
		t.Errorf("Frozen() after Thaw = %v, %v", frozen, err)
	}
	// A thawed task is woken up and may be seen running ("R") for a moment
	// on a busy machine before it goes back to sleep.
	st := procState(t, pid)
	for i := 0; i < 100 && st == "R"; i++ {
		time.Sleep(10 * time.Millisecond)
		st = procState(t, pid)
	}
	if st != "S" {
		t.Errorf("state of thawed pid %d = %s, want S", pid, st)
	}
}

func TestOOMKillCount(t *testing.T) {
	requireRoot(t)
	m := newTestManager(t)
	run := startHelper(t, "alloc", m.Apply)
	if err := m.Set(&specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr[int64](8 * mib), Swap: ptr[int64](8 * mib)}}); err != nil {
		t.Fatalf("Set: %v", err)
	}
	if n, err := m.OOMKillCount(); err != nil || n != 0 {
		t.Fatalf("OOMKillCount() before = %d, %v, want 0", n, err)
	}
	st := run()
	if ws, ok := st.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Errorf("helper allocating 256 MiB under 8 MiB ended with %v, want SIGKILL", st)
	}
	if n, err := m.OOMKillCount(); err != nil || n < 1 {
		t.Errorf("OOMKillCount() = %d, %v, want >= 1", n, err)
	}
}

func TestStats(t *testing.T) {
	requireRoot(t)
	m := newTestManager(t)
	sleep := startSleep(t, m)
	run := startHelper(t, "spin", m.Apply)
	if err := m.Set(&specs.LinuxResources{
		Memory: &specs.LinuxMemory{Limit: ptr[int64](64 * mib)},
		Pids:   &specs.LinuxPids{Limit: ptr[int64](10)},
	}); err != nil {
		t.Fatalf("Set: %v", err)
	}
	run()
	st, err := m.Stats()
	if err != nil {
		t.Fatalf("Stats: %v", err)
	}
	if st.Memory.Limit != 64*mib || st.Memory.Usage == 0 || st.Memory.MaxUsage < st.Memory.Usage {
		t.Errorf("Stats().Memory = %+v, want limit 64 MiB and some usage", st.Memory)
	}
	if st.Pids.Current != 1 || st.Pids.Limit != 10 {
		t.Errorf("Stats().Pids = %+v, want 1 (pid %d) of 10", st.Pids, sleep.Process.Pid)
	}
	if st.CPU.Total < 10e6 || st.CPU.User+st.CPU.System == 0 {
		t.Errorf("Stats().CPU = %+v, want the helper's 30 ms spin", st.CPU)
	}
}

func TestDestroy(t *testing.T) {
	requireRoot(t)
	m, err := New(testCgroupPath(), "", false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Destroy() })
	sleep := startSleep(t, m)
	// A cgroup a container made for itself must go too.
	for _, dir := range m.Paths() {
		if err := os.Mkdir(dir+"/nested", 0o755); err != nil && !os.IsExist(err) && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	_ = sleep.Process.Kill()
	_ = sleep.Wait()
	// Right after wait the cgroup may still count the dead task (EBUSY).
	if err := m.Destroy(); err != nil {
		t.Fatalf("Destroy: %v", err)
	}
	for c, dir := range m.Paths() {
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("%s cgroup %s still there after Destroy (%v)", c, dir, err)
		}
	}
	if err := m.Destroy(); err != nil {
		t.Errorf("second Destroy: %v", err)
	}
}

// TestApplyNested creates a cgroup two levels below the root: missing
// parents are created and, on v1, get their cpuset from their own parent.
func TestApplyNested(t *testing.T) {
	requireRoot(t)
	parent := testCgroupPath()
	m, err := New(parent+"/a/b", "", false)
	if err != nil {
		t.Fatal(err)
	}
	pm, _ := New(parent, "", false)
	t.Cleanup(func() {
		if err := pm.Destroy(); err != nil {
			t.Errorf("Destroy parent: %v", err)
		}
	})
	startSleep(t, m)
	if CurrentMode() != Unified {
		if got, want := cgFile(t, m, "cpuset", "cpuset.mems"), cgFile(t, pm, "cpuset", "cpuset.mems"); got != want || got == "" {
			t.Errorf("nested cpuset.mems = %q, want the parent's %q", got, want)
		}
	}
}

// TestFreezeCgroup2 runs the v2 freezer on the cgroup2 hierarchy, which
// Hybrid hosts have too, so it is covered even where Freeze uses v1.
func TestFreezeCgroup2(t *testing.T) {
	requireRoot(t)
	root := cgroupRoot
	switch CurrentMode() {
	case Hybrid:
		root = unifiedRoot
	case Legacy:
		t.Skip("no cgroup2 hierarchy")
	}
	m := &v2Manager{dir: root + testCgroupPath()}
	if err := mkdirAll(m.dir); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := m.Destroy(); err != nil {
			t.Error(err)
		}
	})
	// Placed by hand: Apply would enable controllers from /sys/fs/cgroup.
	sleep := exec.Command("sleep", "100")
	if err := sleep.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = m.Thaw()
		_ = sleep.Process.Kill()
		_ = sleep.Wait()
	})
	if err := writeFile(m.dir, "cgroup.procs", strconv.Itoa(sleep.Process.Pid)); err != nil {
		t.Fatal(err)
	}
	if err := m.Freeze(); err != nil {
		t.Fatalf("Freeze: %v", err)
	}
	if frozen, err := m.Frozen(); err != nil || !frozen {
		t.Errorf("Frozen() after Freeze = %v, %v", frozen, err)
	}
	if err := m.Thaw(); err != nil {
		t.Fatalf("Thaw: %v", err)
	}
	if frozen, err := m.Frozen(); err != nil || frozen {
		t.Errorf("Frozen() after Thaw = %v, %v", frozen, err)
	}
	if pids, err := m.Pids(); err != nil || !slices.Equal(pids, []int{sleep.Process.Pid}) {
		t.Errorf("Pids() = %v, %v, want [%d]", pids, err, sleep.Process.Pid)
	}
}
