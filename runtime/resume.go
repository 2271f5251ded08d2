package main

import (
	"github.com/spf13/cobra"

	"github.com/berth-project/berth/runtime/internal/container"
)

func newResumeCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "resume CONTAINER_ID",
		Short: "thaw a paused container",
		Args:  exactID,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := container.Load(g.root, args[0])
			if err != nil {
				return err
			}
			return c.Resume()
		},
	}
}
