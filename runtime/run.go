package main

import (
	"github.com/spf13/cobra"

	"github.com/berth-project/berth/runtime/internal/container"
)

func newRunCmd() *cobra.Command {
	var f createFlags
	var detach bool
	cmd := &cobra.Command{
		Use:   "run [flags] CONTAINER_ID",
		Short: "create and start a container, and wait for it unless detached",
		Args:  exactID,
		RunE: func(cmd *cobra.Command, args []string) error {
			code, err := container.Run(f.opts(args[0]), detach)
			if err != nil {
				return err
			}
			if code != 0 {
				return exitError{code}
			}
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().BoolVarP(&detach, "detach", "d", false, "do not wait for the container")
	return cmd
}
