package main

import (
	"encoding/json"
	"os"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/runtime/internal/container"
)

func newStateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "state CONTAINER_ID",
		Short: "print the OCI state of a container as JSON",
		Args:  exactID,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := container.Load(g.root, args[0])
			if err != nil {
				return err
			}
			st := c.State()
			st.Owner = ownerName(c)
			enc := json.NewEncoder(os.Stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(st)
		},
	}
}
