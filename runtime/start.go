package main

import (
	"github.com/spf13/cobra"

	"github.com/berth-project/berth/runtime/internal/container"
)

func newStartCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "start CONTAINER_ID",
		Short: "run the user process of a created container",
		Args:  exactID,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := container.Load(g.root, args[0])
			if err != nil {
				return err
			}
			return c.Start()
		},
	}
}
