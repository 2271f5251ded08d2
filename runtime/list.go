package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/user"
	"strconv"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/runtime/internal/container"
)

func newListCmd() *cobra.Command {
	var quiet bool
	var format string
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "list the containers under --root",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cs, err := container.List(g.root)
			if err != nil {
				return err
			}
			switch {
			case quiet:
				for _, c := range cs {
					fmt.Println(c.ID)
				}
			case format == "json":
				states := make([]container.OCIState, 0, len(cs))
				for _, c := range cs {
					st := c.State()
					st.Owner = ownerName(c)
					states = append(states, st)
				}
				return json.NewEncoder(os.Stdout).Encode(states)
			case format == "table":
				w := tabwriter.NewWriter(os.Stdout, 12, 1, 3, ' ', 0)
				fmt.Fprint(w, "ID\tPID\tSTATUS\tBUNDLE\tCREATED\tOWNER\n")
				for _, c := range cs {
					st := c.State()
					fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\t%s\n", st.ID, st.Pid, st.Status, st.Bundle,
						st.Created.Format(time.RFC3339Nano), ownerName(c))
				}
				return w.Flush()
			default:
				return fmt.Errorf("invalid format %q: use table or json", format)
			}
			return nil
		},
	}
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "print only the container ids")
	cmd.Flags().StringVarP(&format, "format", "f", "table", "table or json")
	return cmd
}

// ownerName is the user owning the container's state dir, as runc shows.
func ownerName(c *container.Container) string {
	fi, err := os.Stat(c.Dir())
	if err != nil {
		return ""
	}
	uid := fi.Sys().(*syscall.Stat_t).Uid
	if uid == 0 {
		return "root"
	}
	if u, err := user.LookupId(strconv.Itoa(int(uid))); err == nil {
		return u.Username
	}
	return "#" + strconv.Itoa(int(uid))
}
