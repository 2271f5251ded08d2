package cgroups

import (
	"fmt"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// setMemory writes the memory limits. The kernel requires
// memory.memsw.limit_in_bytes >= memory.limit_in_bytes at all times, so
// when both change the order depends on the current limit: raising writes
// memsw first, lowering writes the limit first.
func (m *v1Manager) setMemory(r *specs.LinuxResources) error {
	mem := r.Memory
	if mem == nil {
		return nil
	}
	d, err := m.dir("memory")
	if err != nil {
		return err
	}
	limit, swap := deref(mem.Limit), deref(mem.Swap)
	if err := checkUsage(mem, d, "memory.usage_in_bytes"); err != nil {
		return err
	}
	// Swap is only limited where swap accounting exists (the memsw file).
	// As in runc, unlimited memory without a swap value also lifts the
	// memsw limit, which would otherwise keep capping memory.
	hasMemsw := (swap != 0 || limit == -1) && exists(d+"/memory.memsw.limit_in_bytes")
	if limit == -1 && swap == 0 && hasMemsw {
		swap = -1
	}
	writeLimit := func() error {
		if limit == 0 {
			return nil
		}
		return writeFile(d, "memory.limit_in_bytes", strconv.FormatInt(limit, 10))
	}
	writeSwap := func() error {
		if swap == 0 || !hasMemsw {
			return nil
		}
		return writeFile(d, "memory.memsw.limit_in_bytes", strconv.FormatInt(swap, 10))
	}
	first, second := writeLimit, writeSwap
	if limit != 0 && swap != 0 && hasMemsw {
		cur, err := readUint(d, "memory.limit_in_bytes", 0)
		if err != nil {
			return err
		}
		if swap == -1 || cur < uint64(swap) {
			first, second = writeSwap, writeLimit
		}
	}
	if err := first(); err != nil {
		return err
	}
	if err := second(); err != nil {
		return err
	}
	if mem.Reservation != nil {
		if err := writeFile(d, "memory.soft_limit_in_bytes", strconv.FormatInt(*mem.Reservation, 10)); err != nil {
			return err
		}
	}
	// mem.Kernel is ignored: kernel memory limits are deprecated since 5.4.
	if mem.KernelTCP != nil {
		if err := writeFile(d, "memory.kmem.tcp.limit_in_bytes", strconv.FormatInt(*mem.KernelTCP, 10)); err != nil {
			return err
		}
	}
	if mem.Swappiness != nil {
		if *mem.Swappiness > 100 {
			return fmt.Errorf("memory swappiness %d: must be 0-100", *mem.Swappiness)
		}
		if err := writeFile(d, "memory.swappiness", strconv.FormatUint(*mem.Swappiness, 10)); err != nil {
			return err
		}
	}
	if mem.DisableOOMKiller != nil && *mem.DisableOOMKiller {
		return writeFile(d, "memory.oom_control", "1")
	}
	return nil
}

// checkUsage implements checkBeforeUpdate: a new limit below the current
// usage is refused instead of making the kernel reclaim or OOM-kill.
func checkUsage(mem *specs.LinuxMemory, dir, usageFile string) error {
	if mem.CheckBeforeUpdate == nil || !*mem.CheckBeforeUpdate || deref(mem.Limit) <= 0 {
		return nil
	}
	usage, err := readUint(dir, usageFile, 0)
	if err != nil {
		return err
	}
	if usage > uint64(*mem.Limit) {
		return fmt.Errorf("memory limit %d is below the current usage %d", *mem.Limit, usage)
	}
	return nil
}
