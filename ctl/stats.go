package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/ctl/internal/client"
	"github.com/berth-project/berth/internal/format"
	"github.com/berth-project/berth/supervisor/api"
)

func newStatsCommand() *cobra.Command {
	var all, noStream, noTrunc bool
	cmd := &cobra.Command{
		Use:   "stats [OPTIONS] [CONTAINER...]",
		Short: "Display a live stream of container(s) resource usage statistics",
		RunE: func(cmd *cobra.Command, args []string) error {
			return runStats(cmd.Context(), args, all, !noStream, noTrunc)
		},
	}
	cmd.Flags().BoolVarP(&all, "all", "a", false, "show all containers (default shows just running)")
	cmd.Flags().BoolVar(&noStream, "no-stream", false, "disable streaming stats and only pull the first result")
	cmd.Flags().BoolVar(&noTrunc, "no-trunc", false, "do not truncate output")
	return cmd
}

// binarySize renders bytes as Docker's stats does (KiB, MiB, GiB).
func binarySize(n uint64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	f := float64(n)
	i := 0
	for f >= 1024 && i < len(units)-1 {
		f /= 1024
		i++
	}
	return fmt.Sprintf("%.4g%s", f, units[i])
}

func runStats(ctx context.Context, names []string, all, stream, noTrunc bool) error {
	c, err := dial(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	st, err := c.Containers.Stats(ctx, &api.StatsRequest{Ids: names, Stream: stream, All: all})
	if err != nil {
		return client.Wrap(err)
	}
	for {
		resp, err := st.Recv()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return client.Wrap(err)
		}
		var b strings.Builder
		if stream {
			b.WriteString("\033[2J\033[H")
		}
		tw := tabwriter.NewWriter(&b, 0, 8, 3, ' ', 0)
		fmt.Fprintln(tw, "CONTAINER ID\tNAME\tCPU %\tMEM USAGE / LIMIT\tMEM %\tNET I/O\tBLOCK I/O\tPIDS")
		for _, s := range resp.Stats {
			id := s.Id
			if !noTrunc {
				id = format.ShortID(id)
			}
			memPct := 0.0
			if s.MemoryLimit > 0 {
				memPct = float64(s.MemoryUsage) / float64(s.MemoryLimit) * 100
			}
			if !s.Running {
				fmt.Fprintf(tw, "%s\t%s\t--\t-- / --\t--\t--\t--\t--\n", id, s.Name)
				continue
			}
			fmt.Fprintf(tw, "%s\t%s\t%.2f%%\t%s / %s\t%.2f%%\t%s / %s\t%s / %s\t%d\n", id, s.Name, s.CpuPercent,
				binarySize(s.MemoryUsage), binarySize(s.MemoryLimit), memPct,
				format.Size(int64(s.NetRx)), format.Size(int64(s.NetTx)),
				format.Size(int64(s.BlockRead)), format.Size(int64(s.BlockWrite)), s.Pids)
		}
		tw.Flush()
		os.Stdout.WriteString(b.String())
		if !stream {
			return nil
		}
	}
}
