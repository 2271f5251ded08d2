package main

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/ctl/internal/client"
	"github.com/berth-project/berth/supervisor/api"
)

func newVolumeRmCommand() *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:     "rm [OPTIONS] VOLUME [VOLUME...]",
		Aliases: []string{"remove"},
		Short:   "Remove one or more volumes",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runVolumeRm(cmd.Context(), args, force)
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "do not fail on missing volumes (volumes in use are still kept)")
	return cmd
}

// runVolumeRm removes each volume, goes on after a failure and fails at
// the end, as Docker does.
func runVolumeRm(ctx context.Context, names []string, force bool) error {
	c, err := dial(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	failed := false
	for _, n := range names {
		if _, err := c.Volumes().Remove(ctx, &api.RemoveVolumeRequest{Name: n, Force: force}); err != nil {
			fmt.Fprintln(os.Stderr, client.Wrap(err))
			failed = true
			continue
		}
		fmt.Println(n)
	}
	if failed {
		return exitError{1}
	}
	return nil
}
