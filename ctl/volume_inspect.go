package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/ctl/internal/client"
	"github.com/berth-project/berth/supervisor/api"
)

func newVolumeInspectCommand() *cobra.Command {
	var tmpl string
	cmd := &cobra.Command{
		Use:   "inspect [OPTIONS] VOLUME [VOLUME...]",
		Short: "Display detailed information on one or more volumes",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runVolumeInspect(cmd.Context(), args, tmpl)
		},
	}
	cmd.Flags().StringVarP(&tmpl, "format", "f", "", "format the output using a Go template")
	return cmd
}

// runVolumeInspect prints what it found and the errors of the others,
// then fails if any failed, as Docker does.
func runVolumeInspect(ctx context.Context, names []string, tmpl string) error {
	return inspectEach(ctx, names, tmpl, func(ctx context.Context, c *client.Client, n string) ([][]byte, error) {
		resp, err := c.Volumes().Inspect(ctx, &api.InspectVolumesRequest{Names: []string{n}})
		if err != nil {
			return nil, err
		}
		return resp.Json, nil
	})
}
