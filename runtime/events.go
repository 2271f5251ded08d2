package main

import (
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/runtime/internal/container"
)

func newEventsCmd() *cobra.Command {
	var stats bool
	var interval time.Duration
	cmd := &cobra.Command{
		Use:   "events [--stats] [--interval D] CONTAINER_ID",
		Short: "print resource usage and OOM events of a container as JSON lines",
		Args:  exactID,
		RunE: func(cmd *cobra.Command, args []string) error {
			if interval <= 0 {
				return fmt.Errorf("invalid --interval %s: must be positive", interval)
			}
			c, err := container.Load(g.root, args[0])
			if err != nil {
				return err
			}
			enc := json.NewEncoder(os.Stdout)
			if stats {
				ev, err := c.Stats()
				if err != nil {
					return err
				}
				return enc.Encode(ev)
			}
			return c.Events(interval, func(ev *container.Event) error { return enc.Encode(ev) })
		},
	}
	cmd.Flags().BoolVar(&stats, "stats", false, "print one stats event and exit")
	cmd.Flags().DurationVar(&interval, "interval", 5*time.Second, "time between stats events")
	return cmd
}
