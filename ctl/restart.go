package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/supervisor/api"
)

func newRestartCommand() *cobra.Command {
	var timeout int
	var signal string
	cmd := &cobra.Command{
		Use:   "restart [OPTIONS] CONTAINER [CONTAINER...]",
		Short: "Restart one or more containers",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !cmd.Flags().Changed("time") {
				timeout = -1
			}
			return runRestart(cmd.Context(), args, timeout, signal)
		},
	}
	cmd.Flags().IntVarP(&timeout, "time", "t", 10, "seconds to wait before killing the container")
	cmd.Flags().StringVarP(&signal, "signal", "s", "", "signal to send to the container")
	return cmd
}

func runRestart(ctx context.Context, names []string, timeout int, signal string) error {
	c, err := dial(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	return eachContainerN(names, maxParallel, func(n string) error {
		_, err := c.Containers.Restart(ctx, &api.StopContainerRequest{Id: n, Timeout: int32(timeout), Signal: signal})
		return err
	})
}
