package main

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/ctl/internal/client"
	"github.com/berth-project/berth/supervisor/api"
)

func newRmiCommand() *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:     "rmi [OPTIONS] IMAGE [IMAGE...]",
		Aliases: []string{"rm", "remove"},
		Short:   "Remove one or more images",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRmi(cmd.Context(), args, force)
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "force removal of the image")
	cmd.Flags().Bool("no-prune", false, "accepted for compatibility")
	return cmd
}

// runRmi removes each image; like Docker it goes on after a failure,
// prints each error, and fails at the end.
func runRmi(ctx context.Context, names []string, force bool) error {
	c, err := dial(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	failed := false
	for _, n := range names {
		resp, err := c.Images.Remove(ctx, &api.RemoveImageRequest{Name: n, Force: force})
		if err != nil {
			fmt.Fprintln(os.Stderr, client.Wrap(err))
			failed = true
			continue
		}
		for _, u := range resp.Untagged {
			fmt.Println("Untagged: " + u)
		}
		for _, d := range resp.Deleted {
			fmt.Println("Deleted: " + d)
		}
	}
	if failed {
		return exitError{1}
	}
	return nil
}
