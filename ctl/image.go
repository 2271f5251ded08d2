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

// newImageCommand is `berth image ...`, grouping the image commands as
// Docker's management command does.
func newImageCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "image", Short: "Manage images"}
	for _, c := range []*cobra.Command{
		newImagesCommand(), newPullCommand(), newPushCommand(), newTagCommand(), newRmiCommand(),
		newHistoryCommand(), newSaveCommand(), newLoadCommand(), newImportCommand(),
		newInspectCommand(), newPruneCommand(),
	} {
		if c.Name() == "images" {
			c.Use = "ls [OPTIONS] [REPOSITORY[:TAG]]"
			c.Aliases = []string{"list"}
		}
		cmd.AddCommand(c)
	}
	return cmd
}

func newInspectCommand() *cobra.Command {
	var tmpl string
	cmd := &cobra.Command{
		Use:   "inspect [OPTIONS] IMAGE [IMAGE...]",
		Short: "Display detailed information on one or more images",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runInspect(cmd.Context(), args, tmpl)
		},
	}
	cmd.Flags().StringVarP(&tmpl, "format", "f", "", "format the output using a Go template")
	return cmd
}

func runInspect(ctx context.Context, names []string, tmpl string) error {
	return inspectEach(ctx, names, tmpl, func(ctx context.Context, c *client.Client, n string) ([][]byte, error) {
		resp, err := c.Images.Inspect(ctx, &api.InspectImagesRequest{Names: []string{n}})
		if err != nil {
			return nil, err
		}
		return resp.Json, nil
	})
}

func newPruneCommand() *cobra.Command {
	var all, force bool
	cmd := &cobra.Command{
		Use:   "prune [OPTIONS]",
		Short: "Remove unused images",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPrune(cmd.Context(), all, force)
		},
	}
	cmd.Flags().BoolVarP(&all, "all", "a", false, "remove all unused images, not just dangling ones")
	cmd.Flags().BoolVarP(&force, "force", "f", false, "do not prompt for confirmation")
	return cmd
}

func runPrune(ctx context.Context, all, force bool) error {
	if !force {
		what := "all dangling images"
		if all {
			what = "all images without at least one container associated to them"
		}
		if !confirm("This will remove " + what + ".") {
			return nil
		}
	}
	c, err := dial(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	resp, err := c.Images.Prune(ctx, &api.PruneImagesRequest{All: all})
	if err != nil {
		return client.Wrap(err)
	}
	printDeleted(os.Stdout, "Images", resp.Deleted)
	fmt.Printf("Total reclaimed space: %s\n", format.Size(resp.SpaceReclaimed))
	return nil
}
