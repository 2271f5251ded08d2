package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/supervisor/api"
)

func newRmCommand() *cobra.Command {
	var force, volumes bool
	cmd := &cobra.Command{
		Use:     "rm [OPTIONS] CONTAINER [CONTAINER...]",
		Aliases: []string{"remove"},
		Short:   "Remove one or more containers",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRm(cmd.Context(), args, force, volumes)
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "force the removal of a running container (uses SIGKILL)")
	cmd.Flags().BoolVarP(&volumes, "volumes", "v", false, "remove anonymous volumes associated with the container")
	return cmd
}

func runRm(ctx context.Context, names []string, force, volumes bool) error {
	c, err := dial(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	return eachContainerN(names, maxParallel, func(n string) error {
		_, err := c.Containers.Remove(ctx, &api.RemoveContainerRequest{Id: n, Force: force, Volumes: volumes})
		return err
	})
}
