package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/spf13/cobra"

	"github.com/berth-project/berth/runtime/internal/container"
)

func newUpdateCmd() *cobra.Command {
	var resources string
	var f struct {
		memory, memoryReservation, memorySwap, cpuQuota, pidsLimit int64
		cpuShares, cpuPeriod, blkioWeight                          uint64
		cpusetCpus, cpusetMems                                     string
	}
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
			fl := cmd.Flags()
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
			if fl.Changed("memory") {
				mem().Limit = &f.memory
			}
			if fl.Changed("memory-reservation") {
				mem().Reservation = &f.memoryReservation
			}
			if fl.Changed("memory-swap") {
				mem().Swap = &f.memorySwap
			}
			if fl.Changed("cpu-shares") {
				cpu().Shares = &f.cpuShares
			}
			if fl.Changed("cpu-quota") {
				cpu().Quota = &f.cpuQuota
			}
			if fl.Changed("cpu-period") {
				cpu().Period = &f.cpuPeriod
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
			c, err := container.Load(g.root, args[0])
			if err != nil {
				return err
			}
			return c.Update(r)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&resources, "resources", "r", "", "LinuxResources JSON file, or - for stdin")
	fl.Int64Var(&f.memory, "memory", 0, "memory limit in bytes")
	fl.Int64Var(&f.memoryReservation, "memory-reservation", 0, "memory soft limit in bytes")
	fl.Int64Var(&f.memorySwap, "memory-swap", 0, "memory+swap limit in bytes")
	fl.Uint64Var(&f.cpuShares, "cpu-shares", 0, "relative CPU weight")
	fl.Int64Var(&f.cpuQuota, "cpu-quota", 0, "CFS quota in microseconds per period")
	fl.Uint64Var(&f.cpuPeriod, "cpu-period", 0, "CFS period in microseconds")
	fl.StringVar(&f.cpusetCpus, "cpuset-cpus", "", "CPUs to run on (0-3, 0,1)")
	fl.StringVar(&f.cpusetMems, "cpuset-mems", "", "memory nodes to use")
	fl.Int64Var(&f.pidsLimit, "pids-limit", 0, "maximum number of processes")
	fl.Uint64Var(&f.blkioWeight, "blkio-weight", 0, "block IO weight (10-1000)")
	return cmd
}
