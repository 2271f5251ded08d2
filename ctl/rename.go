package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/ctl/internal/client"
	"github.com/berth-project/berth/supervisor/api"
)

func newRenameCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "rename CONTAINER NEW_NAME",
		Short: "Rename a container",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRename(cmd.Context(), args[0], args[1])
		},
	}
}

func runRename(ctx context.Context, name, newName string) error {
	c, err := dial(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.Containers.Rename(ctx, &api.RenameContainerRequest{Id: name, NewName: newName})
	return client.Wrap(err)
}
