package cgroups

import (
	"errors"
	"math"
	"slices"
	"strings"

	"golang.org/x/sys/unix"
)

// userHZ is the unit of cpuacct.stat, fixed at 100 by the kernel ABI
// whatever CONFIG_HZ is.
const userHZ = 100

// Stats reads the v1 controllers that are mounted; the others leave their
// part of Stats zero.
func (m *v1Manager) Stats() (*Stats, error) {
	st := &Stats{}
	if d := m.paths["cpuacct"]; d != "" {
		if err := cpuacctStats(d, &st.CPU); err != nil {
			return nil, err
		}
	}
	if d := m.paths["memory"]; d != "" {
		var err error
		mem := &st.Memory
		if mem.Usage, err = readUint(d, "memory.usage_in_bytes", 0); err != nil {
			return nil, err
		}
		if mem.MaxUsage, err = readUint(d, "memory.max_usage_in_bytes", 0); err != nil {
			return nil, err
		}
		if mem.Limit, err = readUint(d, "memory.limit_in_bytes", 0); err != nil {
			return nil, err
		}
	}
	if d := m.paths["pids"]; d != "" {
		if err := pidsStats(d, &st.Pids); err != nil {
			return nil, err
		}
	}
	return st, nil
}

// cpuacctStats prefers the nanosecond cpuacct.usage_user/usage_sys (kernel
// >= 4.7) to the tick counts of cpuacct.stat.
func cpuacctStats(d string, cpu *CPUStats) error {
	var err error
	if cpu.Total, err = readUint(d, "cpuacct.usage", 0); err != nil {
		return err
	}
	cpu.User, err = readUint(d, "cpuacct.usage_user", 0)
	if err == nil {
		cpu.System, err = readUint(d, "cpuacct.usage_sys", 0)
		return err
	}
	if !errors.Is(err, unix.ENOENT) {
		return err
	}
	s, err := readFile(d, "cpuacct.stat")
	if err != nil {
		return err
	}
	user, _ := keyValue(s, "user")
	system, _ := keyValue(s, "system")
	cpu.User, cpu.System = user*(1e9/userHZ), system*(1e9/userHZ)
	return nil
}

func pidsStats(d string, p *PidsStats) error {
	var err error
	if p.Current, err = readUint(d, "pids.current", 0); err != nil {
		return err
	}
	p.Limit, err = readUint(d, "pids.max", 0)
	return err
}

// Stats reads cpu.stat, which v2 keeps even without the cpu controller, and
// the memory and pids files when those controllers are enabled.
func (m *v2Manager) Stats() (*Stats, error) {
	st := &Stats{}
	s, err := readFile(m.dir, "cpu.stat")
	if err != nil {
		return nil, err
	}
	usage, _ := keyValue(s, "usage_usec")
	user, _ := keyValue(s, "user_usec")
	system, _ := keyValue(s, "system_usec")
	st.CPU = CPUStats{Total: usage * 1000, User: user * 1000, System: system * 1000}

	ctrls, err := readFile(m.dir, "cgroup.controllers")
	if err != nil {
		return nil, err
	}
	enabled := strings.Fields(ctrls)
	if slices.Contains(enabled, "memory") {
		mem := &st.Memory
		if mem.Usage, err = readUint(m.dir, "memory.current", 0); err != nil {
			return nil, err
		}
		if mem.Limit, err = readUint(m.dir, "memory.max", math.MaxUint64); err != nil {
			return nil, err
		}
		if mem.MaxUsage, err = readUint(m.dir, "memory.peak", 0); err != nil && !errors.Is(err, unix.ENOENT) {
			return nil, err
		}
	}
	if slices.Contains(enabled, "pids") {
		if err := pidsStats(m.dir, &st.Pids); err != nil {
			return nil, err
		}
	}
	return st, nil
}
