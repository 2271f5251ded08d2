// Command berth is the berth CLI: Docker's command line over berthd's API.
// Each command lives in its own file; a command parses and validates its
// arguments, then makes one call. Only main prints errors and picks the
// exit code.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/sirupsen/logrus"
	"github.com/spf13/cobra"

	"github.com/berth-project/berth/ctl/internal/client"
)

// exitError carries a specific exit status.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// statusError is an error printed as usual that exits with code instead
// of 1 (run's 125 for errors before the container ran, as in Docker).
type statusError struct {
	code int
	err  error
}

func (e statusError) Error() string { return e.err.Error() }
func (e statusError) Unwrap() error { return e.err }

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
	// rm, ls and list are container verbs at the top level, as in
	// Docker; the image commands keep them under `image`.
	for _, c := range root.Commands() {
		if c.Name() == "rmi" || c.Name() == "images" {
			c.Aliases = nil
		}
	}
	root.AddCommand(containerCommands()...)
	root.AddCommand(newContainerCommand(), newTopInspectCommand())
	root.AddCommand(newVolumeCommand(), newNetworkCommand())
	root.AddCommand(newVersionCommand(), newInfoCommand(), newSystemCommand(), newEventsCommand())
	root.AddCommand(newBuildCommand())
	return root
}

// dial connects to berthd at --address.
func dial(ctx context.Context) (*client.Client, error) {
	return client.Dial(ctx, address)
}

func main() {
	// The ttrpc library logs through logrus; a session that ends while a
	// stream is open is normal for the CLI, not worth a line on stderr.
	logrus.SetOutput(io.Discard)
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
	code := 1
	var se statusError
	if errors.As(err, &se) {
		code = se.code
	}
	var de *client.DaemonError
	if errors.As(err, &de) {
		fmt.Fprintln(os.Stderr, de.Error())
	} else {
		fmt.Fprintf(os.Stderr, "Error: %v\n", err)
	}
	os.Exit(code)
}
