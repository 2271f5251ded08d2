package main

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/runtime/internal/container"
)

func newDeleteCmd() *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "delete [--force] CONTAINER_ID",
		Short: "remove a container's resources; --force kills it first",
		Args:  exactID,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := container.Load(g.root, args[0])
			if err != nil {
				// runc: deleting a missing container with --force succeeds.
				if force && errors.Is(err, container.ErrNotExist) {
					return nil
				}
				return err
			}
			return c.Delete(force)
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "kill the container if it is still running")
	return cmd
}
