package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/ctl/internal/client"
	"github.com/berth-project/berth/supervisor/api"
)

type networkCreateOptions struct {
	driver, subnet, gateway string
	internal                bool
	labels                  []string
}

func newNetworkCreateCommand() *cobra.Command {
	var o networkCreateOptions
	cmd := &cobra.Command{
		Use:   "create [OPTIONS] NETWORK",
		Short: "Create a network",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runNetworkCreate(cmd.Context(), args[0], o)
		},
	}
	cmd.Flags().StringVarP(&o.driver, "driver", "d", "bridge", "driver to manage the network")
	cmd.Flags().StringVar(&o.subnet, "subnet", "", "subnet in CIDR format (a free one when empty)")
	cmd.Flags().StringVar(&o.gateway, "gateway", "", "gateway address (the subnet's first address when empty)")
	cmd.Flags().BoolVar(&o.internal, "internal", false, "restrict external access to the network")
	cmd.Flags().StringArrayVar(&o.labels, "label", nil, "set metadata on the network (KEY=VALUE)")
	return cmd
}

func runNetworkCreate(ctx context.Context, name string, o networkCreateOptions) error {
	c, err := dial(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	resp, err := c.Networks().Create(ctx, &api.CreateNetworkRequest{
		Name: name, Driver: o.driver, Subnet: o.subnet, Gateway: o.gateway,
		Internal: o.internal, Labels: parseKeyValues(o.labels),
	})
	if err != nil {
		return client.Wrap(err)
	}
	fmt.Println(resp.Id)
	return nil
}
