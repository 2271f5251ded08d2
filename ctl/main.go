// Command berth is the berth CLI: Docker's command line over berthd's API.
// Each command lives in its own file; a command parses and validates its
// arguments, then makes one call. Only main prints errors and picks the
// exit code.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/ctl/internal/client"
)

// exitError carries a specific exit status.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

var address string

func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "berth",
		Short:         "A container engine",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVarP(&address, "address", "H", client.Address(), "berthd socket (env BERTH_ADDRESS)")
	root.AddCommand(
		newPullCommand(), newPushCommand(), newImagesCommand(), newTagCommand(), newRmiCommand(),
		newHistoryCommand(), newSaveCommand(), newLoadCommand(), newImportCommand(),
		newLoginCommand(), newLogoutCommand(), newImageCommand(),
	)
	return root
}

// dial connects to berthd at --address.
func dial(ctx context.Context) (*client.Client, error) {
	return client.Dial(ctx, address)
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRootCommand().ExecuteContext(ctx)
	stop()
	if err == nil {
		return
	}
	var ee exitError
	if errors.As(err, &ee) {
		os.Exit(ee.code)
	}
	var de *client.DaemonError
	if errors.As(err, &de) {
		fmt.Fprintln(os.Stderr, de.Error())
	} else {
		fmt.Fprintf(os.Stderr, "Error: %v\n", err)
	}
	os.Exit(1)
}
