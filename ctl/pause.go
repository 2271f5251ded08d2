package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/supervisor/api"
)

func newPauseCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "pause CONTAINER [CONTAINER...]",
		Short: "Pause all processes within one or more containers",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPause(cmd.Context(), args, true)
		},
	}
}

func newUnpauseCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "unpause CONTAINER [CONTAINER...]",
		Short: "Unpause all processes within one or more containers",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPause(cmd.Context(), args, false)
		},
	}
}

func runPause(ctx context.Context, names []string, pause bool) error {
	c, err := dial(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	return eachContainerN(names, maxParallel, func(n string) error {
		var err error
		if pause {
			_, err = c.Containers.Pause(ctx, &api.PauseContainerRequest{Id: n})
		} else {
			_, err = c.Containers.Unpause(ctx, &api.PauseContainerRequest{Id: n})
		}
		return err
	})
}
