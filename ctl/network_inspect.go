package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/ctl/internal/client"
	"github.com/berth-project/berth/supervisor/api"
)

func newNetworkInspectCommand() *cobra.Command {
	var tmpl string
	cmd := &cobra.Command{
		Use:   "inspect [OPTIONS] NETWORK [NETWORK...]",
		Short: "Display detailed information on one or more networks",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runNetworkInspect(cmd.Context(), args, tmpl)
		},
	}
	cmd.Flags().StringVarP(&tmpl, "format", "f", "", "format the output using a Go template")
	return cmd
}

func runNetworkInspect(ctx context.Context, names []string, tmpl string) error {
	return inspectEach(ctx, names, tmpl, func(ctx context.Context, c *client.Client, n string) ([][]byte, error) {
		resp, err := c.Networks().Inspect(ctx, &api.InspectNetworksRequest{Names: []string{n}})
		if err != nil {
			return nil, err
		}
		return resp.Json, nil
	})
}
