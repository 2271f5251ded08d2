package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// requireCgroupV1 skips on hosts without the v1 hierarchies these tests read.
func requireCgroupV1(t *testing.T) {
	t.Helper()
	if _, err := os.Stat("/sys/fs/cgroup/memory/memory.limit_in_bytes"); err != nil {
		t.Skip("these checks read cgroup v1 files; this host has no v1 memory hierarchy")
	}
}

// hostCgroupFile returns the host path of a v1 cgroup file of the bundle's
// container.
func hostCgroupFile(b *bundle, subsystem, file string) string {
	return filepath.Join("/sys/fs/cgroup", subsystem, b.cgroupsPath(), file)
}

func readTrim(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(data))
}

// runChecked creates the container, calls check while its init exists (the
// cgroup is set up by create), starts it and returns its output once it has
// stopped.
func runChecked(t *testing.T, b *bundle, check func(c *created)) string {
	t.Helper()
	c := create(t, t.TempDir(), b)
	check(c)
	c.start(t)
	c.waitStatus(t, "stopped")
	return c.output(t)
}

func TestCgroups(t *testing.T) {
	requireRoot(t)
	requireCgroupV1(t)
	t.Parallel()

	// Each limit is checked twice: in the host's cgroup dir under the
	// cgroupsPath, and inside the container through its cgroup namespace
	// and /sys/fs/cgroup mount.
	tests := []struct {
		name      string
		resources func(*specs.LinuxResources)
		files     map[string]string // subsystem/file -> value
	}{
		{
			name: "memory",
			resources: func(r *specs.LinuxResources) {
				limit, reservation := int64(64<<20), int64(32<<20)
				r.Memory = &specs.LinuxMemory{Limit: &limit, Reservation: &reservation}
			},
			files: map[string]string{
				"memory/memory.limit_in_bytes":      strconv.Itoa(64 << 20),
				"memory/memory.soft_limit_in_bytes": strconv.Itoa(32 << 20),
			},
		},
		{
			name: "cpu",
			resources: func(r *specs.LinuxResources) {
				shares, quota, period := uint64(512), int64(50000), uint64(100000)
				r.CPU = &specs.LinuxCPU{Shares: &shares, Quota: &quota, Period: &period}
			},
			files: map[string]string{
				"cpu/cpu.shares":        "512",
				"cpu/cpu.cfs_quota_us":  "50000",
				"cpu/cpu.cfs_period_us": "100000",
			},
		},
		{
			name:      "cpuset",
			resources: func(r *specs.LinuxResources) { r.CPU = &specs.LinuxCPU{Cpus: "0", Mems: "0"} },
			files: map[string]string{
				"cpuset/cpuset.cpus": "0",
				"cpuset/cpuset.mems": "0",
			},
		},
		{
			name:      "pids",
			resources: func(r *specs.LinuxResources) { r.Pids = &specs.LinuxPids{Limit: ptr(int64(10))} },
			files:     map[string]string{"pids/pids.max": "10"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var script strings.Builder
			var keys []string
			for k := range tt.files {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			for _, k := range keys {
				fmt.Fprintf(&script, "echo %s=$(cat /sys/fs/cgroup/%s); ", k, k)
			}
			b := newBundle(t, "sh", "-c", script.String())
			b.edit(t, withNamespace(specs.CgroupNamespace, ""), withResources(tt.resources))
			out := runChecked(t, b, func(c *created) {
				for _, k := range keys {
					subsystem, file, _ := strings.Cut(k, "/")
					if got := readTrim(t, hostCgroupFile(b, subsystem, file)); got != tt.files[k] {
						t.Errorf("host %s = %q, want %q", hostCgroupFile(b, subsystem, file), got, tt.files[k])
					}
				}
			})
			for _, k := range keys {
				if line := k + "=" + tt.files[k] + "\n"; !strings.Contains(out, line) {
					t.Errorf("inside the container: %q, want a line %q", out, line)
				}
			}
		})
	}

	t.Run("cpuset affinity", func(t *testing.T) {
		t.Parallel()
		b := newBundle(t, "grep", "Cpus_allowed_list", "/proc/self/status")
		b.edit(t, withResources(func(r *specs.LinuxResources) { r.CPU = &specs.LinuxCPU{Cpus: "0"} }))
		if got, want := runOK(t, b), "Cpus_allowed_list:\t0\n"; got != want {
			t.Errorf("affinity = %q, want %q", got, want)
		}
	})

	for _, tt := range []struct {
		limit    int64
		wantFork bool
	}{{4, false}, {20, true}} {
		t.Run(fmt.Sprintf("pids limit %d enforced", tt.limit), func(t *testing.T) {
			t.Parallel()
			b := newBundle(t, "sh", "-c", "for i in 1 2 3 4 5 6 7 8; do sleep 1 & done; wait")
			b.edit(t, withResources(func(r *specs.LinuxResources) { r.Pids = &specs.LinuxPids{Limit: ptr(tt.limit)} }))
			_, stderr, code := runContainer(t, b)
			if forked := code == 0; forked != tt.wantFork {
				t.Errorf("8 background processes with pids.max %d: exit code %d (stderr %q), want success %v", tt.limit, code, stderr, tt.wantFork)
			}
		})
	}

	t.Run("devices", func(t *testing.T) {
		t.Parallel()
		// The node exists in every case; the devices cgroup alone decides
		// whether it can be opened, as with runc and crun: Docker's --device
		// adds both a linux.devices entry and an allow rule. The runtime's
		// default allow list covers /dev/null.
		fuseNode := func(s *specs.Spec) {
			mode := os.FileMode(0o666)
			s.Linux.Devices = append(s.Linux.Devices, specs.LinuxDevice{Path: "/dev/fuse", Type: "c", Major: 10, Minor: 229, FileMode: &mode})
		}
		fuseBind := withMounts(specs.Mount{Destination: "/dev/fuse", Type: "bind", Source: "/dev/fuse", Options: []string{"bind"}})
		denyAll := []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}}
		allowFuse := []specs.LinuxDeviceCgroup{
			{Allow: false, Access: "rwm"},
			{Allow: true, Type: "c", Major: ptr(int64(10)), Minor: ptr(int64(229)), Access: "rw"},
		}
		const denied = "null-ok\nsh: can't open /dev/fuse: Operation not permitted\ndone\n"
		const allowed = "null-ok\nfuse-ok\ndone\n"
		script := "echo x > /dev/null && echo null-ok; (true < /dev/fuse) 2>&1 && echo fuse-ok; echo done"
		for _, tt := range []struct {
			name  string
			node  func(*specs.Spec)
			rules []specs.LinuxDeviceCgroup
			want  string
		}{
			{"linux.devices node denied", fuseNode, denyAll, denied},
			{"linux.devices node allowed", fuseNode, allowFuse, allowed},
			{"bind-mounted node denied", fuseBind, denyAll, denied},
			{"bind-mounted node allowed", fuseBind, allowFuse, allowed},
		} {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				b := newBundle(t, "sh", "-c", script)
				b.edit(t, tt.node, withResources(func(r *specs.LinuxResources) { r.Devices = tt.rules }))
				if got := runOK(t, b); got != tt.want {
					t.Errorf("device access: %q, want %q", got, tt.want)
				}
			})
		}
	})

	t.Run("cgroupsPath", func(t *testing.T) {
		t.Parallel()
		b := newBundle(t, "sleep", "100")
		root := t.TempDir()
		c := create(t, root, b)
		pid := c.state(t).Pid
		for _, subsystem := range []string{"cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "pids"} {
			procs, err := os.ReadFile(hostCgroupFile(b, subsystem, "cgroup.procs"))
			if err != nil {
				t.Errorf("cgroup %s: %v", subsystem, err)
				continue
			}
			if !slices.Contains(strings.Fields(string(procs)), strconv.Itoa(pid)) {
				t.Errorf("%s cgroup.procs = %q, want the init pid %d", hostCgroupFile(b, subsystem, ""), procs, pid)
			}
		}
		c.start(t)
		rtOK(t, root, "delete", "--force", c.id)
		waitGone(t, pid)
		assertNoLeftovers(t, root, b)
	})

	t.Run("oom kill", func(t *testing.T) {
		t.Parallel()
		// busybox tail keeps the last lines; /dev/zero has no newline, so it
		// buffers without end.
		b := newBundle(t, "tail", "/dev/zero")
		b.edit(t, withResources(func(r *specs.LinuxResources) {
			r.Memory = &specs.LinuxMemory{Limit: ptr(int64(16 << 20))}
		}))
		root := t.TempDir()
		_, stderr, code := runContainerIn(t, root, b)
		if code != 128+9 {
			t.Errorf("run of a container over its memory limit: exit code %d, want %d (stderr %q)", code, 128+9, stderr)
		}
		assertNoLeftovers(t, root, b)
	})

	t.Run("blkio throttle", func(t *testing.T) {
		t.Parallel()
		major, minor := wholeDisk(t)
		b := newBundle(t, "cat", "/sys/fs/cgroup/blkio/blkio.throttle.read_bps_device")
		b.edit(t, withNamespace(specs.CgroupNamespace, ""), withResources(func(r *specs.LinuxResources) {
			r.BlockIO = &specs.LinuxBlockIO{ThrottleReadBpsDevice: []specs.LinuxThrottleDevice{{Rate: 1 << 20}}}
			r.BlockIO.ThrottleReadBpsDevice[0].Major, r.BlockIO.ThrottleReadBpsDevice[0].Minor = major, minor
		}))
		want := fmt.Sprintf("%d:%d %d\n", major, minor, 1<<20)
		out := runChecked(t, b, func(c *created) {
			if got := readTrim(t, hostCgroupFile(b, "blkio", "blkio.throttle.read_bps_device")); got+"\n" != want {
				t.Errorf("host blkio.throttle.read_bps_device = %q, want %q", got, want)
			}
		})
		if out != want {
			t.Errorf("blkio.throttle.read_bps_device inside = %q, want %q", out, want)
		}
	})

	t.Run("blkio weight", func(t *testing.T) {
		t.Parallel()
		if _, err := os.Stat("/sys/fs/cgroup/blkio/blkio.weight"); err != nil {
			t.Skip("this kernel's blkio controller has no blkio.weight (no CFQ/BFQ weights)")
		}
		b := newBundle(t, "cat", "/sys/fs/cgroup/blkio/blkio.weight")
		b.edit(t, withResources(func(r *specs.LinuxResources) {
			r.BlockIO = &specs.LinuxBlockIO{Weight: ptr(uint16(300))}
		}))
		if got := runOK(t, b); got != "300\n" {
			t.Errorf("blkio.weight = %q, want %q", got, "300\n")
		}
	})
}

// wholeDisk returns the major:minor of a disk for blkio throttling.
func wholeDisk(t *testing.T) (int64, int64) {
	t.Helper()
	ents, _ := os.ReadDir("/sys/block")
	for _, e := range ents {
		name := e.Name()
		if strings.HasPrefix(name, "loop") || strings.HasPrefix(name, "ram") || strings.HasPrefix(name, "zram") || strings.HasPrefix(name, "nbd") {
			continue
		}
		data, err := os.ReadFile(filepath.Join("/sys/block", name, "dev"))
		if err != nil {
			continue
		}
		var major, minor int64
		if _, err := fmt.Sscanf(string(data), "%d:%d", &major, &minor); err == nil {
			return major, minor
		}
	}
	t.Skip("no disk in /sys/block to throttle")
	return 0, 0
}

func ptr[T any](v T) *T { return &v }

// TestCgroupMembership: the container's processes are in its cgroup in
// every hierarchy of the host, the cgroup2 one included (the init joins
// by itself: v1 tasks files and CLONE_INTO_CGROUP), with a pid namespace
// or without one (then through cgroup.procs), with a cgroup namespace or
// without, and an exec'd process too.
func TestCgroupMembership(t *testing.T) {
	tests := []struct {
		name  string
		edits []func(*specs.Spec)
	}{
		{"pid and cgroup namespaces", []func(*specs.Spec){withNamespace(specs.CgroupNamespace, "")}},
		{"pid namespace only", []func(*specs.Spec){withoutNamespace(specs.CgroupNamespace)}},
		{"host pid namespace", []func(*specs.Spec){withoutNamespace(specs.PIDNamespace), withNamespace(specs.CgroupNamespace, "")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := newBundle(t, "sleep", "4242")
			b.edit(t, tt.edits...)
			c := startContainer(t, b)
			pid := c.state(t).Pid
			checkIn := func(pid int) {
				t.Helper()
				data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
				if err != nil {
					t.Fatal(err)
				}
				lines := strings.Split(strings.TrimSpace(string(data)), "\n")
				for _, line := range lines {
					parts := strings.SplitN(line, ":", 3)
					if len(parts) != 3 || parts[2] != b.cgroupsPath() {
						t.Errorf("pid %d: /proc/PID/cgroup line %q, want path %s", pid, line, b.cgroupsPath())
					}
				}
				if len(lines) < 1 {
					t.Errorf("pid %d: no cgroups", pid)
				}
			}
			checkIn(pid)
			// A process exec'd into the container joins the same way.
			out := rtOK(t, c.root, "exec", c.id, "sh", "-c", "cat /proc/self/cgroup | wc -l")
			if n, _ := strconv.Atoi(strings.TrimSpace(out)); n < 1 {
				t.Errorf("exec: /proc/self/cgroup has %q lines", out)
			}
			found := processesInCgroup(b.cgroupsPath())
			if !slices.Contains(found, pid) {
				t.Errorf("processes in %s = %v, want the init %d among them", b.cgroupsPath(), found, pid)
			}
		})
	}
}
