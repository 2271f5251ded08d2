package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/berth-project/berth/runtime/internal/container"
)

// updateFlags are runc's `update` flags; memory sizes take units (96m, 1G).
type updateFlags struct {
	memory, memoryReservation, memorySwap, kernelMemory, kernelMemoryTCP string
	cpuQuota, cpuRtRuntime, pidsLimit                                    int64
	cpuShare, cpuPeriod, cpuRtPeriod, blkioWeight                        uint64
	cpusetCpus, cpusetMems, l3CacheSchema, memBwSchema                   string
}

func newUpdateCmd() *cobra.Command {
	var resources string
	var f updateFlags
	cmd := &cobra.Command{
		Use:   "update [flags] CONTAINER_ID",
		Short: "change the resource limits of a running container",
		Args:  exactID,
		RunE: func(cmd *cobra.Command, args []string) error {
			r := &specs.LinuxResources{}
			if resources != "" {
				var in io.Reader = os.Stdin
				if resources != "-" {
					file, err := os.Open(resources)
					if err != nil {
						return fmt.Errorf("read resources: %w", err)
					}
					defer file.Close()
					in = file
				}
				if err := json.NewDecoder(in).Decode(r); err != nil {
					return fmt.Errorf("parse resources: %w", err)
				}
			}
			if err := f.apply(cmd.Flags(), r); err != nil {
				return err
			}
			c, err := container.Load(g.root, args[0])
			if err != nil {
				return err
			}
			return c.Update(r)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&resources, "resources", "r", "", "LinuxResources JSON file, or - for stdin")
	fl.StringVar(&f.memory, "memory", "", "memory limit (e.g. 96m)")
	fl.StringVar(&f.memoryReservation, "memory-reservation", "", "memory soft limit")
	fl.StringVar(&f.memorySwap, "memory-swap", "", "memory+swap limit, -1 for unlimited")
	fl.StringVar(&f.kernelMemory, "kernel-memory", "", "ignored: kernel memory limits are gone from Linux")
	fl.StringVar(&f.kernelMemoryTCP, "kernel-memory-tcp", "", "kernel TCP buffer limit")
	fl.Uint64Var(&f.cpuShare, "cpu-share", 0, "relative CPU weight")
	fl.Int64Var(&f.cpuQuota, "cpu-quota", 0, "CFS quota in microseconds per period")
	fl.Uint64Var(&f.cpuPeriod, "cpu-period", 0, "CFS period in microseconds")
	fl.Uint64Var(&f.cpuRtPeriod, "cpu-rt-period", 0, "realtime period in microseconds")
	fl.Int64Var(&f.cpuRtRuntime, "cpu-rt-runtime", 0, "realtime runtime in microseconds")
	fl.StringVar(&f.cpusetCpus, "cpuset-cpus", "", "CPUs to run on (0-3, 0,1)")
	fl.StringVar(&f.cpusetMems, "cpuset-mems", "", "memory nodes to use")
	fl.Int64Var(&f.pidsLimit, "pids-limit", 0, "maximum number of processes")
	fl.Uint64Var(&f.blkioWeight, "blkio-weight", 0, "block IO weight (10-1000)")
	fl.StringVar(&f.l3CacheSchema, "l3-cache-schema", "", "not supported: Intel RDT")
	fl.StringVar(&f.memBwSchema, "mem-bw-schema", "", "not supported: Intel RDT")
	return cmd
}

// apply overlays the flags that were given on r.
func (f *updateFlags) apply(fl *pflag.FlagSet, r *specs.LinuxResources) error {
	mem := func() *specs.LinuxMemory {
		if r.Memory == nil {
			r.Memory = &specs.LinuxMemory{}
		}
		return r.Memory
	}
	cpu := func() *specs.LinuxCPU {
		if r.CPU == nil {
			r.CPU = &specs.LinuxCPU{}
		}
		return r.CPU
	}
	sizes := []struct {
		flag, val string
		dst       func() **int64
	}{
		{"memory", f.memory, func() **int64 { return &mem().Limit }},
		{"memory-reservation", f.memoryReservation, func() **int64 { return &mem().Reservation }},
		{"memory-swap", f.memorySwap, func() **int64 { return &mem().Swap }},
		{"kernel-memory-tcp", f.kernelMemoryTCP, func() **int64 { return &mem().KernelTCP }},
	}
	for _, s := range sizes {
		if !fl.Changed(s.flag) {
			continue
		}
		v, err := parseSize(s.val)
		if err != nil {
			return fmt.Errorf("invalid --%s %q: %w", s.flag, s.val, err)
		}
		*s.dst() = &v
	}
	if fl.Changed("l3-cache-schema") || fl.Changed("mem-bw-schema") {
		return fmt.Errorf("intel RDT (--l3-cache-schema, --mem-bw-schema) is not supported")
	}
	if fl.Changed("cpu-share") {
		cpu().Shares = &f.cpuShare
	}
	if fl.Changed("cpu-quota") {
		cpu().Quota = &f.cpuQuota
	}
	if fl.Changed("cpu-period") {
		cpu().Period = &f.cpuPeriod
	}
	if fl.Changed("cpu-rt-period") {
		cpu().RealtimePeriod = &f.cpuRtPeriod
	}
	if fl.Changed("cpu-rt-runtime") {
		cpu().RealtimeRuntime = &f.cpuRtRuntime
	}
	if fl.Changed("cpuset-cpus") {
		cpu().Cpus = f.cpusetCpus
	}
	if fl.Changed("cpuset-mems") {
		cpu().Mems = f.cpusetMems
	}
	if fl.Changed("pids-limit") {
		r.Pids = &specs.LinuxPids{Limit: &f.pidsLimit}
	}
	if fl.Changed("blkio-weight") {
		w := uint16(f.blkioWeight)
		r.BlockIO = &specs.LinuxBlockIO{Weight: &w}
	}
	return nil
}

// parseSize reads a byte count with an optional binary unit: 1024, 96m,
// 48M, 1g, 512kb; -1 means unlimited.
func parseSize(s string) (int64, error) {
	if s == "-1" {
		return -1, nil
	}
	t := strings.ToLower(strings.TrimSpace(s))
	t = strings.TrimSuffix(t, "b")
	mult := int64(1)
	if n := len(t); n > 0 {
		if i := strings.IndexByte("kmgtp", t[n-1]); i >= 0 {
			mult = 1 << (10 * (i + 1))
			t = t[:n-1]
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("want a size like 512m or 1g")
	}
	return int64(v * float64(mult)), nil
}
