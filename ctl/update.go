package main

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/proto"

	"github.com/berth-project/berth/specs"
	"github.com/berth-project/berth/supervisor/api"
)

func newUpdateCommand() *cobra.Command {
	var memory, cpus, restart string
	var pidsLimit int64
	cmd := &cobra.Command{
		Use:   "update [OPTIONS] CONTAINER [CONTAINER...]",
		Short: "Update configuration of one or more containers",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			fs := cmd.Flags()
			req := &api.UpdateContainerRequest{}
			if fs.Changed("memory") {
				m, err := specs.ParseMemory(memory)
				if err != nil {
					return fmt.Errorf("invalid argument %q for \"-m, --memory\" flag: %w", memory, err)
				}
				req.SetMemory, req.Memory = true, m
			}
			if fs.Changed("cpus") {
				c, err := specs.ParseCPUs(cpus)
				if err != nil {
					return fmt.Errorf("invalid argument %q for \"--cpus\" flag: %w", cpus, err)
				}
				req.SetNanoCpus, req.NanoCpus = true, int64(c*1e9)
			}
			if fs.Changed("pids-limit") {
				req.SetPidsLimit, req.PidsLimit = true, pidsLimit
			}
			if fs.Changed("restart") {
				p, err := parseRestart(restart)
				if err != nil {
					return err
				}
				req.RestartPolicy = p
			}
			if !req.SetMemory && !req.SetNanoCpus && !req.SetPidsLimit && req.RestartPolicy == nil {
				return fmt.Errorf("you must provide one or more flags when using this command")
			}
			return runUpdate(cmd.Context(), args, req)
		},
	}
	fs := cmd.Flags()
	fs.StringVarP(&memory, "memory", "m", "", "memory limit")
	fs.StringVar(&cpus, "cpus", "", "number of CPUs")
	fs.Int64Var(&pidsLimit, "pids-limit", 0, "tune container pids limit (set -1 for unlimited)")
	fs.StringVar(&restart, "restart", "", "restart policy to apply when a container exits")
	return cmd
}

// runUpdate updates each container and prints its name, as Docker does;
// the daemon's warnings go to stderr.
func runUpdate(ctx context.Context, names []string, tmpl *api.UpdateContainerRequest) error {
	c, err := dial(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	return eachContainerN(names, 1, func(n string) error {
		req := proto.Clone(tmpl).(*api.UpdateContainerRequest)
		req.Id = n
		resp, err := c.Containers.Update(ctx, req)
		for _, w := range resp.GetWarnings() {
			fmt.Fprintln(os.Stderr, "WARNING:", w)
		}
		return err
	})
}
