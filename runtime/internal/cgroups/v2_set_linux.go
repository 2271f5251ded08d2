package cgroups

import (
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Set writes r's limits, translating v1-style values as runc and crun do,
// then the raw linux.resources.unified keys, which win over the rest. It
// must follow Apply. Nil fields and an empty device list are left alone.
func (m *v2Manager) Set(r *specs.LinuxResources) error {
	if r == nil {
		return nil
	}
	d := m.dir
	if r.CPU != nil {
		if err := setCPUV2(d, r.CPU); err != nil {
			return err
		}
	}
	if len(r.Devices) > 0 {
		rules, err := deviceRules(r.Devices)
		if err != nil {
			return err
		}
		if err := attachDeviceFilter(d, emulateDevices(rules).program()); err != nil {
			return err
		}
	}
	if r.Memory != nil {
		if err := setMemoryV2(d, r.Memory); err != nil {
			return err
		}
	}
	if r.Pids != nil && r.Pids.Limit != nil {
		if err := writeFile(d, "pids.max", pidsMax(*r.Pids.Limit)); err != nil {
			return err
		}
	}
	if r.BlockIO != nil {
		if err := setIOV2(d, r.BlockIO); err != nil {
			return err
		}
	}
	if err := setHugetlbV2(d, r.HugepageLimits); err != nil {
		return err
	}
	if r.Network != nil && (r.Network.ClassID != nil || len(r.Network.Priorities) > 0) {
		return fmt.Errorf("network classID/priorities %w on cgroup v2 (no net_cls/net_prio)", ErrNotSupported)
	}
	if err := setRdmaFile(d, r.Rdma); err != nil {
		return err
	}
	return setUnifiedFiles(d, r.Unified)
}

func setCPUV2(d string, c *specs.LinuxCPU) error {
	if c.RealtimeRuntime != nil || c.RealtimePeriod != nil {
		return fmt.Errorf("realtime cpu limits %w on cgroup v2", ErrNotSupported)
	}
	if c.Cpus != "" {
		if err := writeFile(d, "cpuset.cpus", c.Cpus); err != nil {
			return err
		}
	}
	if c.Mems != "" {
		if err := writeFile(d, "cpuset.mems", c.Mems); err != nil {
			return err
		}
	}
	if c.Idle != nil {
		if err := writeFile(d, "cpu.idle", strconv.FormatInt(*c.Idle, 10)); err != nil {
			return err
		}
	}
	if w := sharesToWeight(deref(c.Shares)); w != 0 {
		if err := writeFile(d, "cpu.weight", strconv.FormatUint(w, 10)); err != nil {
			return err
		}
	}
	// The burst must not exceed the quota, so it is written both before
	// cpu.max (when lowering) and after it (when raising), as in runc.
	burstErr := error(nil)
	if c.Burst != nil {
		burstErr = writeFile(d, "cpu.max.burst", strconv.FormatUint(*c.Burst, 10))
	}
	quota, period := deref(c.Quota), deref(c.Period)
	if quota != 0 || period != 0 {
		v := "max"
		if quota > 0 {
			v = strconv.FormatInt(quota, 10)
		}
		if period != 0 {
			v += " " + strconv.FormatUint(period, 10)
		}
		if err := writeFile(d, "cpu.max", v); err != nil {
			return err
		}
		if burstErr != nil {
			burstErr = writeFile(d, "cpu.max.burst", strconv.FormatUint(*c.Burst, 10))
		}
	}
	return burstErr
}

// setMemoryV2 writes memory.max, memory.swap.max (swap alone, see
// swapToV2) and memory.low. Swappiness, the OOM killer switch and kernel
// memory have no v2 files and are ignored, as in runc.
func setMemoryV2(d string, mem *specs.LinuxMemory) error {
	limit := deref(mem.Limit)
	swap, err := swapToV2(deref(mem.Swap), limit)
	if err != nil {
		return fmt.Errorf("memory limits: %w", err)
	}
	if err := checkUsage(mem, d, "memory.current"); err != nil {
		return err
	}
	if swap != 0 || (deref(mem.Swap) > 0 && deref(mem.Swap) == limit) {
		// swap == limit means no swap at all: write "0", not "leave unset".
		// Without swap accounting the file is missing; only "max" and "0"
		// are then fine to skip, since they are what the kernel does anyway.
		err := writeFile(d, "memory.swap.max", v2Value(swap))
		if err != nil && !(errors.Is(err, fs.ErrNotExist) && swap <= 0) {
			return err
		}
	}
	if limit != 0 {
		if err := writeFile(d, "memory.max", v2Value(limit)); err != nil {
			return err
		}
	}
	if mem.Reservation != nil && *mem.Reservation != 0 {
		return writeFile(d, "memory.low", v2Value(*mem.Reservation))
	}
	return nil
}

// setIOV2 writes io weights and io.max. BFQ's io.bfq.weight takes v1's
// scale as is; io.weight needs the blkioToIOWeight conversion.
func setIOV2(d string, b *specs.LinuxBlockIO) error {
	b = weightsSet(b)
	if b.Weight != nil || len(b.WeightDevice) > 0 {
		file, conv := "io.weight", blkioToIOWeight
		if exists(d + "/io.bfq.weight") {
			file, conv = "io.bfq.weight", func(w uint16) uint64 { return uint64(w) }
		}
		if b.Weight != nil {
			if err := writeFile(d, file, strconv.FormatUint(conv(*b.Weight), 10)); err != nil {
				return err
			}
		}
		for _, wd := range b.WeightDevice {
			if wd.Weight != nil {
				if err := writeFile(d, file, fmt.Sprintf("%d:%d %d", wd.Major, wd.Minor, conv(*wd.Weight))); err != nil {
					return err
				}
			}
		}
	}
	for _, t := range []struct {
		key  string
		devs []specs.LinuxThrottleDevice
	}{
		{"rbps", b.ThrottleReadBpsDevice},
		{"wbps", b.ThrottleWriteBpsDevice},
		{"riops", b.ThrottleReadIOPSDevice},
		{"wiops", b.ThrottleWriteIOPSDevice},
	} {
		for _, td := range t.devs {
			// A v1 rate of 0 removes the limit; in io.max that is "max".
			rate := "max"
			if td.Rate != 0 {
				rate = strconv.FormatUint(td.Rate, 10)
			}
			if err := writeFile(d, "io.max", fmt.Sprintf("%d:%d %s=%s", td.Major, td.Minor, t.key, rate)); err != nil {
				return err
			}
		}
	}
	return nil
}

// setHugetlbV2 writes hugetlb.<size>.max and, where the kernel has
// reservation accounting (>= 5.7), hugetlb.<size>.rsvd.max, which the spec
// prefers because it fails at mmap time instead of with SIGBUS at fault.
func setHugetlbV2(d string, limits []specs.LinuxHugepageLimit) error {
	for _, h := range limits {
		v := strconv.FormatUint(h.Limit, 10)
		if err := writeFile(d, "hugetlb."+h.Pagesize+".max", v); err != nil {
			return err
		}
		if err := writeFile(d, "hugetlb."+h.Pagesize+".rsvd.max", v); err != nil && !errors.Is(err, unix.ENOENT) {
			return err
		}
	}
	return nil
}

// setUnifiedFiles writes linux.resources.unified: each key is an interface
// file of the cgroup. Keys are checked to stay inside it.
func setUnifiedFiles(d string, kv map[string]string) error {
	for k, v := range kv {
		if k == "" || k == "." || k == ".." || strings.Contains(k, "/") {
			return fmt.Errorf("linux.resources.unified key %q: not a cgroup file name", k)
		}
		if err := writeFile(d, k, v); err != nil {
			return err
		}
	}
	return nil
}
