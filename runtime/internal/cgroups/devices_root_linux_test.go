package cgroups

import (
	"strconv"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-project/berth/internal/cgroupfs"
)

// TestDevicesEnforced checks deny-all then allow /dev/null from inside the
// cgroup: v1's devices controller on Legacy and Hybrid, the eBPF filter on v2.
func TestDevicesEnforced(t *testing.T) {
	requireRoot(t)
	tests := []struct {
		dev  string
		want int
	}{
		{"/dev/null", helperOK},
		{"/dev/zero", helperEPERM},
	}
	for _, tt := range tests {
		t.Run(tt.dev, func(t *testing.T) {
			m := newTestManager(t)
			run := startHelper(t, "open:"+tt.dev, m.Apply)
			if err := m.Set(&specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{denyAllDevices, allowNull}}); err != nil {
				t.Fatalf("Set: %v", err)
			}
			if code := run().ExitCode(); code != tt.want {
				t.Errorf("open %s in the cgroup: helper exit %d, want %d", tt.dev, code, tt.want)
			}
		})
	}
}

// TestDeviceFilterCgroup2 attaches the eBPF device filter to a cgroup2
// cgroup (the unified hierarchy, also present on Hybrid) and replaces it,
// as an update would.
func TestDeviceFilterCgroup2(t *testing.T) {
	requireRoot(t)
	root := cgroupRoot
	switch CurrentMode() {
	case Hybrid:
		root = unifiedRoot
	case Legacy:
		t.Skip("no cgroup2 hierarchy")
	}
	dir := root + testCgroupPath()
	if err := mkdirAll(dir); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := cgroupfs.Remove(dir); err != nil {
			t.Error(err)
		}
	})
	place := func(pid int) error { return writeFile(dir, "cgroup.procs", strconv.Itoa(pid)) }
	filter := func(devs ...specs.LinuxDeviceCgroup) {
		t.Helper()
		rules, err := deviceRules(devs)
		if err != nil {
			t.Fatal(err)
		}
		if err := attachDeviceFilter(dir, emulateDevices(rules).program()); err != nil {
			t.Fatalf("attachDeviceFilter: %v", err)
		}
	}
	attached := func() int {
		t.Helper()
		fd, err := syscall.Open(dir, syscall.O_RDONLY|syscall.O_DIRECTORY, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer syscall.Close(fd)
		ids, err := attachedFilters(fd)
		if err != nil {
			t.Fatal(err)
		}
		return len(ids)
	}

	filter(denyAllDevices, allowNull)
	for _, tt := range []struct {
		dev  string
		want int
	}{{"/dev/null", helperOK}, {"/dev/zero", helperEPERM}} {
		if code := startHelper(t, "open:"+tt.dev, place)().ExitCode(); code != tt.want {
			t.Errorf("open %s under the filter: helper exit %d, want %d", tt.dev, code, tt.want)
		}
	}
	filter(denyAllDevices, allowNull, specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: ptr[int64](1), Minor: ptr[int64](5), Access: "r"})
	if n := attached(); n != 1 {
		t.Errorf("%d device filters attached after an update, want 1", n)
	}
	if code := startHelper(t, "open:/dev/zero", place)().ExitCode(); code != helperOK {
		t.Errorf("open /dev/zero after allowing it: helper exit %d, want %d", code, helperOK)
	}
}
