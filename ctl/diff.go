package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/ctl/internal/client"
	"github.com/berth-project/berth/supervisor/api"
)

func newDiffCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "diff CONTAINER",
		Short: "Inspect changes to files or directories on a container's filesystem",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDiff(cmd.Context(), args[0])
		},
	}
}

func runDiff(ctx context.Context, name string) error {
	c, err := dial(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	resp, err := c.Containers.Diff(ctx, &api.DiffRequest{Id: name})
	if err != nil {
		return client.Wrap(err)
	}
	for _, ch := range resp.Changes {
		fmt.Printf("%c %s\n", "CAD"[ch.Kind], ch.Path)
	}
	return nil
}
