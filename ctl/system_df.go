package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/ctl/internal/client"
	"github.com/berth-project/berth/internal/format"
	"github.com/berth-project/berth/supervisor/api"
)

func newSystemDfCommand() *cobra.Command {
	var tmpl string
	cmd := &cobra.Command{
		Use:   "df [OPTIONS]",
		Short: "Show berth disk usage",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := dial(cmd.Context())
			if err != nil {
				return err
			}
			defer c.Close()
			resp, err := c.System().DiskUsage(cmd.Context(), &api.DiskUsageRequest{})
			if err != nil {
				return client.Wrap(err)
			}
			var rows []dfRow
			if err := json.Unmarshal(resp.GetJson(), &rows); err != nil {
				return fmt.Errorf("berthd's disk usage: %w", err)
			}
			return printDf(os.Stdout, rows, tmpl)
		},
	}
	cmd.Flags().StringVar(&tmpl, "format", "", "format the output using a Go template")
	return cmd
}

// dfRow is one row of berthd's DiskUsage (sizes in bytes).
type dfRow struct {
	Type        string
	TotalCount  int
	Active      int
	Size        int64
	Reclaimable int64
}

// printDf prints Docker's table, or each row through a template that
// sees Type, TotalCount, Active, and Size and Reclaimable as text.
func printDf(w io.Writer, rows []dfRow, tmpl string) error {
	text := func(r dfRow) map[string]any {
		return map[string]any{
			"Type": r.Type, "TotalCount": r.TotalCount, "Active": r.Active,
			"Size": format.Size(r.Size), "Reclaimable": reclaimable(r),
		}
	}
	if tmpl != "" {
		for _, r := range rows {
			if err := executeTemplate(w, tmpl, text(r)); err != nil {
				return err
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)
	fmt.Fprintln(tw, "TYPE\tTOTAL\tACTIVE\tSIZE\tRECLAIMABLE")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\n", r.Type, r.TotalCount, r.Active, format.Size(r.Size), reclaimable(r))
	}
	return tw.Flush()
}

// reclaimable is "SIZE (PCT%)", the share of the row's size it is.
func reclaimable(r dfRow) string {
	s := format.Size(r.Reclaimable)
	if r.Size > 0 {
		s += fmt.Sprintf(" (%d%%)", r.Reclaimable*100/r.Size)
	}
	return s
}
