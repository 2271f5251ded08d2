package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/ctl/internal/client"
	"github.com/berth-project/berth/supervisor/api"
)

func newNetworkDisconnectCommand() *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "disconnect [OPTIONS] NETWORK CONTAINER",
		Short: "Disconnect a container from a network",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runNetworkDisconnect(cmd.Context(), args[0], args[1], force)
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "no error if the container is not on the network")
	return cmd
}

func runNetworkDisconnect(ctx context.Context, network, container string, force bool) error {
	c, err := dial(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.Networks().Disconnect(ctx, &api.DisconnectNetworkRequest{Network: network, Container: container, Force: force})
	return client.Wrap(err)
}
