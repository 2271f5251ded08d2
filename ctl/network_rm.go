package main

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/ctl/internal/client"
	"github.com/berth-project/berth/supervisor/api"
)

func newNetworkRmCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "rm NETWORK [NETWORK...]",
		Aliases: []string{"remove"},
		Short:   "Remove one or more networks",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runNetworkRm(cmd.Context(), args)
		},
	}
	cmd.Flags().BoolP("force", "f", false, "accepted for compatibility")
	return cmd
}

// runNetworkRm removes each network, goes on after a failure and fails at
// the end, as Docker does.
func runNetworkRm(ctx context.Context, names []string) error {
	c, err := dial(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	failed := false
	for _, n := range names {
		if _, err := c.Networks().Remove(ctx, &api.RemoveNetworkRequest{Name: n}); err != nil {
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
