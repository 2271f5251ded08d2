package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/berth-project/berth/ctl/internal/client"
	"github.com/berth-project/berth/supervisor/api"
)

type runOptions struct {
	containerOptions
	detach   bool
	sigProxy bool
}

func newRunCommand() *cobra.Command {
	var o runOptions
	cmd := &cobra.Command{
		Use:   "run [OPTIONS] IMAGE [COMMAND] [ARG...]",
		Short: "Create and run a new container from an image",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := o.config(cmd.Flags(), args[0], args[1:])
			if err != nil {
				return statusError{125, err}
			}
			return runRun(cmd.Context(), cfg, o)
		},
	}
	o.addFlags(cmd.Flags())
	cmd.Flags().BoolVarP(&o.detach, "detach", "d", false, "run container in background and print container ID")
	cmd.Flags().BoolVar(&o.sigProxy, "sig-proxy", true, "proxy received signals to the process (non-TTY mode only)")
	return cmd
}

// runRun creates the container (pulling its image if needed), then either
// starts it and prints its ID (-d), or attaches to it, starts it, streams
// its stdio and exits with its exit code.
func runRun(ctx context.Context, cfg *api.ContainerConfig, o runOptions) error {
	if o.tty && o.interactive && !term.IsTerminal(int(os.Stdin.Fd())) {
		return statusError{1, fmt.Errorf("the input device is not a TTY")}
	}
	cfg.AttachStdin = o.interactive && !o.detach
	cfg.AttachStdout, cfg.AttachStderr = !o.detach, !o.detach
	cfg.StdinOnce = cfg.AttachStdin
	// Signals go to the container, not to our context.
	ctx = context.WithoutCancel(ctx)
	c, err := dial(ctx)
	if err != nil {
		return statusError{125, err}
	}
	defer c.Close()
	id, err := createContainer(ctx, c, o.name, cfg)
	if err != nil {
		return statusError{125, err}
	}
	if o.detach {
		if _, err := c.Containers.Start(ctx, &api.StartContainerRequest{Id: id}); err != nil {
			return statusError{exitCodeFor(err), client.Wrap(err)}
		}
		fmt.Println(id)
		return nil
	}
	code, err := attachAndStream(ctx, c, &api.AttachInput{
		Id: id, Stdin: cfg.AttachStdin, Stdout: true, Stderr: true, Start: true,
	}, ioOptions{stdin: cfg.AttachStdin, tty: cfg.Tty, sigProxy: o.sigProxy})
	if err != nil {
		return statusError{code, err}
	}
	if code != 0 {
		return exitError{code}
	}
	return nil
}

// attachAndStream opens an Attach stream with first and runs the session.
func attachAndStream(ctx context.Context, c *client.Client, first *api.AttachInput, o ioOptions) (int, error) {
	if o.tty {
		first.Width, first.Height = terminalSize()
	}
	st, err := c.Containers.Attach(ctx)
	if err != nil {
		return 125, client.Wrap(err)
	}
	if err := st.Send(first); err != nil {
		return 125, client.Wrap(err)
	}
	code, err := streamIO(ctx, st, o)
	if err != nil && code == 0 {
		code = 125
	}
	return code, err
}

// exitCodeFor is Docker's exit code for a failed start: 126 or 127 when
// the command cannot run, 125 otherwise.
func exitCodeFor(err error) int {
	de, ok := client.Wrap(err).(*client.DaemonError)
	if !ok {
		return 125
	}
	switch {
	case strings.Contains(de.Msg, "executable file not found"), strings.Contains(de.Msg, "no such file or directory"):
		return 127
	case strings.Contains(de.Msg, "permission denied"):
		return 126
	}
	return 125
}
