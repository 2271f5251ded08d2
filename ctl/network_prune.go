package main

import (
	"context"
	"os"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/ctl/internal/client"
	"github.com/berth-project/berth/supervisor/api"
)

func newNetworkPruneCommand() *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "prune [OPTIONS]",
		Short: "Remove all unused networks",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if !force && !confirm("This will remove all custom networks not used by at least one container.") {
				return nil
			}
			c, err := dial(cmd.Context())
			if err != nil {
				return err
			}
			defer c.Close()
			deleted, err := pruneNetworks(cmd.Context(), c)
			if err != nil {
				return err
			}
			printDeleted(os.Stdout, "Networks", deleted)
			return nil
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "do not prompt for confirmation")
	return cmd
}

func pruneNetworks(ctx context.Context, c *client.Client) ([]string, error) {
	resp, err := c.Networks().Prune(ctx, &api.PruneNetworksRequest{})
	if err != nil {
		return nil, client.Wrap(err)
	}
	return resp.GetDeleted(), nil
}
