package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"text/template"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/ctl/internal/client"
	"github.com/berth-project/berth/supervisor/api"
)

type volumeLsOptions struct {
	quiet   bool
	filters []string
	format  string
}

func newVolumeLsCommand() *cobra.Command {
	var o volumeLsOptions
	cmd := &cobra.Command{
		Use:     "ls [OPTIONS]",
		Aliases: []string{"list"},
		Short:   "List volumes",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runVolumeLs(cmd.Context(), o)
		},
	}
	cmd.Flags().BoolVarP(&o.quiet, "quiet", "q", false, "only display volume names")
	cmd.Flags().StringArrayVarP(&o.filters, "filter", "f", nil, "filter output (dangling=true, name=, label=, driver=)")
	cmd.Flags().StringVar(&o.format, "format", "", "format the output using a Go template")
	return cmd
}

// volumeRow is what --format templates see: Docker's field names.
type volumeRow struct {
	Name, Driver, Mountpoint, Scope, CreatedAt string
	labels                                     map[string]string
}

// Labels renders the labels as Docker's `volume ls --format` does.
func (r volumeRow) Labels() string {
	var kv []string
	for k, v := range r.labels {
		kv = append(kv, k+"="+v)
	}
	slices.Sort(kv)
	return strings.Join(kv, ",")
}

// Label returns one label's value.
func (r volumeRow) Label(name string) string { return r.labels[name] }

func runVolumeLs(ctx context.Context, o volumeLsOptions) error {
	c, err := dial(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	resp, err := c.Volumes().List(ctx, &api.ListVolumesRequest{Filters: o.filters})
	if err != nil {
		return client.Wrap(err)
	}
	switch {
	case o.quiet:
		for _, v := range resp.Volumes {
			fmt.Println(v.Name)
		}
	case o.format != "":
		t, err := template.New("").Parse(o.format)
		if err != nil {
			return fmt.Errorf("template parsing error: %w", err)
		}
		for _, v := range resp.Volumes {
			row := volumeRow{Name: v.Name, Driver: v.Driver, Mountpoint: v.Mountpoint, Scope: "local", CreatedAt: v.CreatedAt, labels: v.Labels}
			if err := t.Execute(os.Stdout, row); err != nil {
				return err
			}
			fmt.Println()
		}
	default:
		tw := tabwriter.NewWriter(os.Stdout, 0, 8, 3, ' ', 0)
		fmt.Fprintln(tw, "DRIVER\tVOLUME NAME")
		for _, v := range resp.Volumes {
			fmt.Fprintf(tw, "%s\t%s\n", v.Driver, v.Name)
		}
		tw.Flush()
	}
	return nil
}
