package main

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/ctl/internal/client"
	"github.com/berth-project/berth/internal/format"
	"github.com/berth-project/berth/supervisor/api"
)

type volumePruneOptions struct {
	all, force bool
	filters    []string
}

func newVolumePruneCommand() *cobra.Command {
	var o volumePruneOptions
	cmd := &cobra.Command{
		Use:   "prune [OPTIONS]",
		Short: "Remove unused anonymous volumes (-a: all unused volumes)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runVolumePrune(cmd.Context(), o)
		},
	}
	cmd.Flags().BoolVarP(&o.all, "all", "a", false, "remove all unused volumes, not just anonymous ones")
	cmd.Flags().BoolVarP(&o.force, "force", "f", false, "do not prompt for confirmation")
	cmd.Flags().StringArrayVar(&o.filters, "filter", nil, "provide filter values (label=KEY[=VALUE])")
	return cmd
}

func runVolumePrune(ctx context.Context, o volumePruneOptions) error {
	what := "all anonymous local volumes not used by at least one container"
	if o.all {
		what = "all local volumes not used by at least one container"
	}
	if !o.force && !confirm("This will remove "+what+".") {
		return nil
	}
	c, err := dial(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	resp, err := c.Volumes().Prune(ctx, &api.PruneVolumesRequest{All: o.all, Filters: o.filters})
	if err != nil {
		return client.Wrap(err)
	}
	printDeleted(os.Stdout, "Volumes", resp.Deleted)
	fmt.Printf("Total reclaimed space: %s\n", format.Size(int64(resp.SpaceReclaimed)))
	return nil
}
