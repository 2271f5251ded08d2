package container

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-project/berth/internal/runstate"
)

// Update applies new resource limits to a live container and records them,
// so later commands (and `state`) see the current limits.
func (c *Container) Update(r *specs.LinuxResources) error {
	if st := c.Status(); st == Stopped {
		return fmt.Errorf("update %s: %w", c.ID, ErrNotRunning)
	}
	m, err := c.cgroup()
	if err != nil {
		return err
	}
	if err := m.Set(r); err != nil {
		return fmt.Errorf("update %s: %w", c.ID, err)
	}
	spec, err := c.Spec()
	if err != nil {
		return err
	}
	spec.Linux.Resources = mergeResources(spec.Linux.Resources, r)
	raw, err := json.Marshal(spec)
	if err != nil {
		return err
	}
	tmp := filepath.Join(c.dir, runstate.ConfigFile+".tmp")
	if err := os.WriteFile(tmp, raw, 0o600); err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(c.dir, runstate.ConfigFile)); err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	// A state.json of an older berth-runtime held the config itself.
	c.RawConfig, c.raw = nil, raw
	return c.save()
}

// mergeResources overlays the set fields of u on r.
func mergeResources(r, u *specs.LinuxResources) *specs.LinuxResources {
	if r == nil {
		r = &specs.LinuxResources{}
	}
	out := *r
	if u.Memory != nil {
		m := specs.LinuxMemory{}
		if out.Memory != nil {
			m = *out.Memory
		}
		set(&m.Limit, u.Memory.Limit)
		set(&m.Reservation, u.Memory.Reservation)
		set(&m.Swap, u.Memory.Swap)
		set(&m.Swappiness, u.Memory.Swappiness)
		out.Memory = &m
	}
	if u.CPU != nil {
		cp := specs.LinuxCPU{}
		if out.CPU != nil {
			cp = *out.CPU
		}
		set(&cp.Shares, u.CPU.Shares)
		set(&cp.Quota, u.CPU.Quota)
		set(&cp.Period, u.CPU.Period)
		set(&cp.RealtimeRuntime, u.CPU.RealtimeRuntime)
		set(&cp.RealtimePeriod, u.CPU.RealtimePeriod)
		if u.CPU.Cpus != "" {
			cp.Cpus = u.CPU.Cpus
		}
		if u.CPU.Mems != "" {
			cp.Mems = u.CPU.Mems
		}
		out.CPU = &cp
	}
	if u.Pids != nil {
		out.Pids = u.Pids
	}
	if u.BlockIO != nil {
		out.BlockIO = u.BlockIO
	}
	if len(u.Unified) > 0 {
		out.Unified = u.Unified
	}
	return &out
}

func set[T any](dst **T, v *T) {
	if v != nil {
		*dst = v
	}
}
