package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/ctl/internal/client"
	"github.com/berth-project/berth/internal/format"
	"github.com/berth-project/berth/supervisor/api"
)

func newHistoryCommand() *cobra.Command {
	var noTrunc, quiet, human bool
	cmd := &cobra.Command{
		Use:   "history [OPTIONS] IMAGE",
		Short: "Show the history of an image",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runHistory(cmd.Context(), args[0], noTrunc, quiet, human)
		},
	}
	cmd.Flags().BoolVar(&noTrunc, "no-trunc", false, "don't truncate output")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "only show image IDs")
	cmd.Flags().BoolVar(&human, "human", true, "print sizes and dates in human readable format")
	return cmd
}

func runHistory(ctx context.Context, name string, noTrunc, quiet, human bool) error {
	c, err := dial(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	resp, err := c.Images.History(ctx, &api.HistoryRequest{Name: name})
	if err != nil {
		return client.Wrap(err)
	}
	id := func(s string) string {
		if noTrunc || s == "<missing>" {
			return s
		}
		return format.ShortID(s)
	}
	if quiet {
		for _, e := range resp.Entries {
			fmt.Println(id(e.Id))
		}
		return nil
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 8, 3, ' ', 0)
	fmt.Fprintln(tw, "IMAGE\tCREATED\tCREATED BY\tSIZE\tCOMMENT")
	now := time.Now()
	for _, e := range resp.Entries {
		by := strings.ReplaceAll(e.CreatedBy, "\t", " ")
		if !noTrunc {
			by = format.Ellipsis(by, 45)
		}
		created, size := format.Ago(e.Created, now), format.Size(e.Size)
		if !human {
			created = time.Unix(e.Created, 0).Format(time.RFC3339)
			size = fmt.Sprint(e.Size)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", id(e.Id), created, by, size, e.Comment)
	}
	return tw.Flush()
}
