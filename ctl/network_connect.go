package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/ctl/internal/client"
	"github.com/berth-project/berth/supervisor/api"
)

func newNetworkConnectCommand() *cobra.Command {
	var aliases []string
	cmd := &cobra.Command{
		Use:   "connect [OPTIONS] NETWORK CONTAINER",
		Short: "Connect a running container to a network",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runNetworkConnect(cmd.Context(), args[0], args[1], aliases)
		},
	}
	cmd.Flags().StringArrayVar(&aliases, "alias", nil, "add a network-scoped alias for the container")
	return cmd
}

func runNetworkConnect(ctx context.Context, network, container string, aliases []string) error {
	c, err := dial(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.Networks().Connect(ctx, &api.ConnectNetworkRequest{Network: network, Container: container, Aliases: aliases})
	return client.Wrap(err)
}
