package main

import (
	"github.com/spf13/cobra"

	"github.com/berth-project/berth/runtime/internal/container"
)

func newPauseCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "pause CONTAINER_ID",
		Short: "freeze every process of a container",
		Args:  exactID,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := container.Load(g.root, args[0])
			if err != nil {
				return err
			}
			return c.Pause()
		},
	}
}
