package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/ctl/internal/client"
	"github.com/berth-project/berth/supervisor/api"
)

func newTopCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "top CONTAINER [ps OPTIONS]",
		Short: "Display the running processes of a container",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runTop(cmd.Context(), args[0], args[1:])
		},
	}
	cmd.Flags().SetInterspersed(false)
	return cmd
}

func runTop(ctx context.Context, name string, psArgs []string) error {
	c, err := dial(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	resp, err := c.Containers.Top(ctx, &api.TopRequest{Id: name, PsArgs: psArgs})
	if err != nil {
		return client.Wrap(err)
	}
	tw := tabwriter.NewWriter(os.Stdout, 20, 1, 3, ' ', 0)
	fmt.Fprintln(tw, strings.Join(resp.Titles, "\t"))
	for _, p := range resp.Processes {
		fmt.Fprintln(tw, strings.Join(p.Fields, "\t"))
	}
	return tw.Flush()
}
