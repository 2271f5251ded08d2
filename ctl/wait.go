package main

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/ctl/internal/client"
	"github.com/berth-project/berth/supervisor/api"
)

func newWaitCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "wait CONTAINER [CONTAINER...]",
		Short: "Block until one or more containers stop, then print their exit codes",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runWait(cmd.Context(), args)
		},
	}
}

func runWait(ctx context.Context, names []string) error {
	c, err := dial(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	failed := false
	for _, n := range names {
		resp, err := c.Containers.Wait(ctx, &api.WaitContainerRequest{Id: n})
		if err != nil {
			fmt.Fprintln(os.Stderr, client.Wrap(err))
			failed = true
			continue
		}
		fmt.Println(resp.ExitCode)
	}
	if failed {
		return exitError{1}
	}
	return nil
}
