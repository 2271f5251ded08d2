package cgroups

import (
	"errors"
	"fmt"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Set writes r's limits, controller by controller in runc's order (cpuset
// before memory, so a memory node restriction is in place before memory
// is charged). It must follow Apply. Nil fields are left alone, and so is an
// empty device list, which lets an update leave device rules untouched.
func (m *v1Manager) Set(r *specs.LinuxResources) error {
	if r == nil {
		return nil
	}
	for _, set := range []func(*specs.LinuxResources) error{
		m.setCpuset, m.setDevices, m.setMemory, m.setCPU, m.setPids,
		m.setBlkio, m.setHugetlb, m.setNetwork, m.setRdma, m.setUnified,
	} {
		if err := set(r); err != nil {
			return err
		}
	}
	return nil
}

func (m *v1Manager) setCpuset(r *specs.LinuxResources) error {
	if r.CPU == nil || (r.CPU.Cpus == "" && r.CPU.Mems == "") {
		return nil
	}
	d, err := m.dir("cpuset")
	if err != nil {
		return err
	}
	if r.CPU.Cpus != "" {
		if err := writeFile(d, "cpuset.cpus", r.CPU.Cpus); err != nil {
			return err
		}
	}
	if r.CPU.Mems != "" {
		return writeFile(d, "cpuset.mems", r.CPU.Mems)
	}
	return nil
}

// setDevices writes the rules in spec order; the kernel replays them exactly
// as emulateDevices does for v2. Each write must hold one rule, so the two
// files are opened once and written many times.
func (m *v1Manager) setDevices(r *specs.LinuxResources) error {
	if len(r.Devices) == 0 {
		return nil
	}
	rules, err := deviceRules(r.Devices)
	if err != nil {
		return err
	}
	d, err := m.dir("devices")
	if err != nil {
		return err
	}
	fds := map[bool]int{}
	defer func() {
		for _, fd := range fds {
			unix.Close(fd)
		}
	}()
	for _, rule := range rules {
		file := d + "/devices.deny"
		if rule.allow {
			file = d + "/devices.allow"
		}
		fd, ok := fds[rule.allow]
		if !ok {
			if fd, err = openFile(file, unix.O_WRONLY); err != nil {
				return fmt.Errorf("open %s: %w", file, err)
			}
			fds[rule.allow] = fd
		}
		if err := writeFd(fd, rule.String()); err != nil {
			return fmt.Errorf("write %q to %s: %w", rule, file, err)
		}
	}
	return nil
}

// setCPU writes the CFS and realtime settings. The kernel checks a new
// period against the current quota (and the parent's), so a smaller period
// can be refused with EINVAL until the quota is lowered; as in runc it is
// then written again after the quota.
func (m *v1Manager) setCPU(r *specs.LinuxResources) error {
	c := r.CPU
	if c == nil || (c.Shares == nil && c.Quota == nil && c.Period == nil && c.Burst == nil &&
		c.RealtimeRuntime == nil && c.RealtimePeriod == nil && c.Idle == nil) {
		return nil
	}
	d, err := m.dir("cpu")
	if err != nil {
		return err
	}
	if c.Shares != nil && *c.Shares != 0 {
		if err := writeFile(d, "cpu.shares", strconv.FormatUint(*c.Shares, 10)); err != nil {
			return err
		}
	}
	quota := deref(c.Quota)
	tryWrite := func(file string, v *uint64) (string, error) {
		if v == nil || *v == 0 {
			return "", nil
		}
		s := strconv.FormatUint(*v, 10)
		err := writeFile(d, file, s)
		if err == nil {
			return "", nil
		}
		if errors.Is(err, unix.EINVAL) && quota != 0 {
			return s, nil
		}
		return "", err
	}
	period, err := tryWrite("cpu.cfs_period_us", c.Period)
	if err != nil {
		return err
	}
	burst, err := tryWrite("cpu.cfs_burst_us", c.Burst)
	if err != nil {
		return err
	}
	if quota != 0 {
		if err := writeFile(d, "cpu.cfs_quota_us", strconv.FormatInt(quota, 10)); err != nil {
			return err
		}
		if period != "" {
			if err := writeFile(d, "cpu.cfs_period_us", period); err != nil {
				return err
			}
		}
		if burst != "" {
			if err := writeFile(d, "cpu.cfs_burst_us", burst); err != nil {
				return err
			}
		}
	}
	if c.RealtimePeriod != nil && *c.RealtimePeriod != 0 {
		if err := writeFile(d, "cpu.rt_period_us", strconv.FormatUint(*c.RealtimePeriod, 10)); err != nil {
			return err
		}
	}
	if c.RealtimeRuntime != nil && *c.RealtimeRuntime != 0 {
		if err := writeFile(d, "cpu.rt_runtime_us", strconv.FormatInt(*c.RealtimeRuntime, 10)); err != nil {
			return err
		}
	}
	if c.Idle != nil {
		return writeFile(d, "cpu.idle", strconv.FormatInt(*c.Idle, 10))
	}
	return nil
}

func (m *v1Manager) setPids(r *specs.LinuxResources) error {
	if r.Pids == nil || r.Pids.Limit == nil {
		return nil
	}
	d, err := m.dir("pids")
	if err != nil {
		return err
	}
	return writeFile(d, "pids.max", pidsMax(*r.Pids.Limit))
}

// pidsMax formats a pids limit; zero or negative means no limit, as runc
// has always read it.
func pidsMax(limit int64) string {
	if limit <= 0 {
		return "max"
	}
	return strconv.FormatInt(limit, 10)
}
