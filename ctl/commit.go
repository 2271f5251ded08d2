package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/ctl/internal/client"
	"github.com/berth-project/berth/supervisor/api"
)

func newCommitCommand() *cobra.Command {
	var author, message string
	var changes []string
	var pause bool
	cmd := &cobra.Command{
		Use:   "commit [OPTIONS] CONTAINER [REPOSITORY[:TAG]]",
		Short: "Create a new image from a container's changes",
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ref := ""
			if len(args) == 2 {
				ref = args[1]
			}
			return runCommit(cmd.Context(), &api.CommitRequest{Id: args[0], Reference: ref, Author: author, Comment: message, Changes: changes, Pause: pause})
		},
	}
	cmd.Flags().StringVarP(&author, "author", "a", "", "author (e.g., \"John Hannibal Smith <hannibal@a-team.com>\")")
	cmd.Flags().StringVarP(&message, "message", "m", "", "commit message")
	cmd.Flags().StringArrayVarP(&changes, "change", "c", nil, "apply Dockerfile instruction to the created image")
	cmd.Flags().BoolVarP(&pause, "pause", "p", true, "pause container during commit")
	return cmd
}

func runCommit(ctx context.Context, req *api.CommitRequest) error {
	c, err := dial(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	resp, err := c.Containers.Commit(ctx, req)
	if err != nil {
		return client.Wrap(err)
	}
	fmt.Println(resp.ImageId)
	return nil
}
