package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/ctl/internal/client"
	"github.com/berth-project/berth/supervisor/api"
)

type volumeCreateOptions struct {
	name, driver string
	labels, opts []string
}

func newVolumeCreateCommand() *cobra.Command {
	var o volumeCreateOptions
	cmd := &cobra.Command{
		Use:   "create [OPTIONS] [VOLUME]",
		Short: "Create a volume",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				if o.name != "" && o.name != args[0] {
					return fmt.Errorf("conflicting options: either specify --name or provide positional arg, not both")
				}
				o.name = args[0]
			}
			return runVolumeCreate(cmd.Context(), o)
		},
	}
	cmd.Flags().StringVar(&o.name, "name", "", "volume name")
	cmd.Flags().StringVarP(&o.driver, "driver", "d", "local", "volume driver")
	cmd.Flags().StringArrayVar(&o.labels, "label", nil, "set metadata on the volume (KEY=VALUE)")
	cmd.Flags().StringArrayVarP(&o.opts, "opt", "o", nil, "set driver options (KEY=VALUE)")
	return cmd
}

func runVolumeCreate(ctx context.Context, o volumeCreateOptions) error {
	c, err := dial(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	resp, err := c.Volumes().Create(ctx, &api.CreateVolumeRequest{
		Name: o.name, Driver: o.driver, Labels: parseKeyValues(o.labels), Options: parseKeyValues(o.opts),
	})
	if err != nil {
		return client.Wrap(err)
	}
	fmt.Println(resp.Volume.Name)
	return nil
}
