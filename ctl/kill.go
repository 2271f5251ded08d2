package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/supervisor/api"
)

func newKillCommand() *cobra.Command {
	var signal string
	cmd := &cobra.Command{
		Use:   "kill [OPTIONS] CONTAINER [CONTAINER...]",
		Short: "Kill one or more running containers",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runKill(cmd.Context(), args, signal)
		},
	}
	cmd.Flags().StringVarP(&signal, "signal", "s", "KILL", "signal to send to the container")
	return cmd
}

func runKill(ctx context.Context, names []string, signal string) error {
	c, err := dial(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	return eachContainerN(names, maxParallel, func(n string) error {
		_, err := c.Containers.Kill(ctx, &api.KillContainerRequest{Id: n, Signal: signal})
		return err
	})
}
