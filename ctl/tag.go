package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/ctl/internal/client"
	"github.com/berth-project/berth/supervisor/api"
)

func newTagCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]",
		Short: "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runTag(cmd.Context(), args[0], args[1])
		},
	}
}

func runTag(ctx context.Context, src, dst string) error {
	c, err := dial(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.Images.Tag(ctx, &api.TagRequest{Source: src, Target: dst})
	return client.Wrap(err)
}
