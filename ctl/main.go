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
	"strings"
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

// quick has the constructors of the most used top-level commands. A
// command line naming one of them gets a root with only that command:
// making all the others and their flags is a visible part of the CLI's
// start-up, paid by every `berth run`. Everything else (help, unknown
// words, management commands) gets the whole tree.
var quick = map[string]func() *cobra.Command{
	"run": newRunCommand, "create": newCreateCommand, "start": newStartCommand,
	"stop": newStopCommand, "restart": newRestartCommand, "kill": newKillCommand,
	"rm": newRmCommand, "pause": newPauseCommand, "unpause": newUnpauseCommand,
	"wait": newWaitCommand, "ps": newPsCommand, "logs": newLogsCommand,
	"exec": newExecCommand, "attach": newAttachCommand, "top": newTopCommand,
	"stats": newStatsCommand, "inspect": newTopInspectCommand, "pull": newPullCommand,
	"push": newPushCommand, "version": newVersionCommand, "events": newEventsCommand,
}

// commandWord returns the top-level command of a command line (os.Args[1:]),
// or "" when it starts with another flag than --address.
func commandWord(args []string) string {
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == "-H" || a == "--address":
			i++
		case strings.HasPrefix(a, "--address=") || (strings.HasPrefix(a, "-H") && len(a) > 2):
		case strings.HasPrefix(a, "-"):
			return ""
		default:
			return a
		}
	}
	return ""
}

// newRootCommand makes the command tree for args: the root and, if args
// name a quick command, only that one.
func newRootCommand(args []string) *cobra.Command {
	root := &cobra.Command{
		Use:           "berth",
		Short:         "A container engine",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVarP(&address, "address", "H", client.Address(), "berthd socket (env BERTH_ADDRESS)")
	if mk := quick[commandWord(args)]; mk != nil {
		root.AddCommand(mk())
		return root
	}
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
	err := newRootCommand(os.Args[1:]).ExecuteContext(ctx)
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
