package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/ctl/internal/client"
	"github.com/berth-project/berth/internal/format"
	"github.com/berth-project/berth/supervisor/api"
)

func newSystemCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "system", Short: "Manage berth"}
	cmd.AddCommand(newSystemPruneCommand(), newSystemDfCommand(), newInfoCommand(), newEventsCommand())
	return cmd
}

type systemPruneOptions struct {
	all, volumes, force bool
}

func newSystemPruneCommand() *cobra.Command {
	var o systemPruneOptions
	cmd := &cobra.Command{
		Use:   "prune [OPTIONS]",
		Short: "Remove unused data",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSystemPrune(cmd, o)
		},
	}
	cmd.Flags().BoolVarP(&o.all, "all", "a", false, "remove all unused images, not just dangling ones")
	cmd.Flags().BoolVar(&o.volumes, "volumes", false, "prune anonymous volumes")
	cmd.Flags().BoolVarP(&o.force, "force", "f", false, "do not prompt for confirmation")
	return cmd
}

// runSystemPrune prunes, in Docker's order, stopped containers, unused
// networks, anonymous volumes (--volumes) and dangling (or, with -a,
// unused) images, and prints what each removed.
func runSystemPrune(cmd *cobra.Command, o systemPruneOptions) error {
	if !o.force {
		what := []string{"all stopped containers", "all networks not used by at least one container"}
		if o.volumes {
			what = append(what, "all anonymous volumes not used by at least one container")
		}
		if o.all {
			what = append(what, "all images without at least one container associated to them")
		} else {
			what = append(what, "all dangling images")
		}
		if !confirm("This will remove:\n  - " + strings.Join(what, "\n  - ") + "\n") {
			return nil
		}
	}
	ctx := cmd.Context()
	c, err := dial(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	var reclaimed int64
	cr, err := c.Containers.Prune(ctx, &api.PruneContainersRequest{})
	if err != nil {
		return client.Wrap(err)
	}
	printDeleted(os.Stdout, "Containers", cr.GetDeleted())
	reclaimed += cr.GetSpaceReclaimed()
	nets, err := pruneNetworks(ctx, c)
	if err != nil {
		return err
	}
	printDeleted(os.Stdout, "Networks", nets)
	if o.volumes {
		vr, err := c.Volumes().Prune(ctx, &api.PruneVolumesRequest{})
		if err != nil {
			return client.Wrap(err)
		}
		printDeleted(os.Stdout, "Volumes", vr.GetDeleted())
		reclaimed += int64(vr.GetSpaceReclaimed())
	}
	ir, err := c.Images.Prune(ctx, &api.PruneImagesRequest{All: o.all})
	if err != nil {
		return client.Wrap(err)
	}
	printDeleted(os.Stdout, "Images", ir.GetDeleted())
	reclaimed += ir.GetSpaceReclaimed()
	fmt.Printf("Total reclaimed space: %s\n", format.Size(reclaimed))
	return nil
}
