package main

import (
	"context"
	"fmt"
	"os"
	"text/tabwriter"
	"text/template"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/ctl/internal/client"
	"github.com/berth-project/berth/internal/format"
	"github.com/berth-project/berth/supervisor/api"
)

type networkLsOptions struct {
	quiet, noTrunc bool
	filters        []string
	format         string
}

func newNetworkLsCommand() *cobra.Command {
	var o networkLsOptions
	cmd := &cobra.Command{
		Use:     "ls [OPTIONS]",
		Aliases: []string{"list"},
		Short:   "List networks",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runNetworkLs(cmd.Context(), o)
		},
	}
	cmd.Flags().BoolVarP(&o.quiet, "quiet", "q", false, "only display network IDs")
	cmd.Flags().BoolVar(&o.noTrunc, "no-trunc", false, "do not truncate the output")
	cmd.Flags().StringArrayVarP(&o.filters, "filter", "f", nil, "filter output (name=, id=, driver=, label=)")
	cmd.Flags().StringVar(&o.format, "format", "", "format the output using a Go template")
	return cmd
}

// networkRow is what --format templates see: Docker's field names.
type networkRow struct {
	ID, Name, Driver, Scope, CreatedAt string
	Internal                           bool
}

func runNetworkLs(ctx context.Context, o networkLsOptions) error {
	c, err := dial(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	resp, err := c.Networks().List(ctx, &api.ListNetworksRequest{Filters: o.filters})
	if err != nil {
		return client.Wrap(err)
	}
	id := func(n *api.NetworkSummary) string {
		if o.noTrunc {
			return n.Id
		}
		return format.ShortID(n.Id)
	}
	switch {
	case o.quiet:
		for _, n := range resp.Networks {
			fmt.Println(id(n))
		}
	case o.format != "":
		t, err := template.New("").Parse(o.format)
		if err != nil {
			return fmt.Errorf("template parsing error: %w", err)
		}
		for _, n := range resp.Networks {
			row := networkRow{ID: id(n), Name: n.Name, Driver: n.Driver, Scope: n.Scope, CreatedAt: n.Created, Internal: n.Internal}
			if err := t.Execute(os.Stdout, row); err != nil {
				return err
			}
			fmt.Println()
		}
	default:
		tw := tabwriter.NewWriter(os.Stdout, 0, 8, 3, ' ', 0)
		fmt.Fprintln(tw, "NETWORK ID\tNAME\tDRIVER\tSCOPE")
		for _, n := range resp.Networks {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", id(n), n.Name, n.Driver, n.Scope)
		}
		tw.Flush()
	}
	return nil
}
