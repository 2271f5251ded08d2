package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/ctl/internal/client"
	"github.com/berth-project/berth/supervisor/api"
)

func newStartCommand() *cobra.Command {
	var attach, interactive bool
	cmd := &cobra.Command{
		Use:   "start [OPTIONS] CONTAINER [CONTAINER...]",
		Short: "Start one or more stopped containers",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runStart(cmd.Context(), args, attach, interactive)
		},
	}
	cmd.Flags().BoolVarP(&attach, "attach", "a", false, "attach STDOUT/STDERR and forward signals")
	cmd.Flags().BoolVarP(&interactive, "interactive", "i", false, "attach container's STDIN")
	return cmd
}

func runStart(ctx context.Context, names []string, attach, interactive bool) error {
	c, err := dial(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	if attach || interactive {
		if len(names) > 1 {
			return fmt.Errorf("you cannot start and attach multiple containers at once")
		}
		ctx = context.WithoutCancel(ctx)
		tty, err := containerTTY(ctx, c, names[0])
		if err != nil {
			return err
		}
		code, err := attachAndStream(ctx, c, &api.AttachInput{Id: names[0], Stdin: interactive, Stdout: true, Stderr: true, Start: true},
			ioOptions{stdin: interactive, tty: tty, sigProxy: true})
		if err != nil {
			return statusError{code, err}
		}
		if code != 0 {
			return exitError{code}
		}
		return nil
	}
	return eachContainer(names, func(n string) error {
		_, err := c.Containers.Start(ctx, &api.StartContainerRequest{Id: n})
		return err
	})
}

// eachContainer runs op for each name, printing the name on success and
// the error otherwise, and fails at the end if any failed (as Docker's
// multi-container commands do).
func eachContainer(names []string, op func(string) error) error {
	return eachContainerN(names, 1, op)
}

// maxParallel bounds how many containers stop, kill, rm, pause, unpause
// and restart handle at once, as Docker's CLI does (50).
const maxParallel = 50

// eachContainerN runs op for each name, up to n at a time, and reports in
// the order given: the name on success, the error on stderr otherwise;
// any failure makes the exit status 1.
func eachContainerN(names []string, n int, op func(string) error) error {
	return eachContainerTo(os.Stdout, os.Stderr, names, n, op)
}

func eachContainerTo(stdout, stderr io.Writer, names []string, n int, op func(string) error) error {
	errs := make([]chan error, len(names))
	sem := make(chan struct{}, max(n, 1))
	for i, name := range names {
		errs[i] = make(chan error, 1)
		if n <= 1 {
			errs[i] <- op(name) // one after another, in order
			continue
		}
		go func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			errs[i] <- op(name)
		}()
	}
	failed := false
	for i, name := range names {
		if err := <-errs[i]; err != nil {
			fmt.Fprintln(stderr, client.Wrap(err))
			failed = true
			continue
		}
		fmt.Fprintln(stdout, name)
	}
	if failed {
		return exitError{1}
	}
	return nil
}

// containerTTY reports whether the container has a terminal.
func containerTTY(ctx context.Context, c *client.Client, name string) (bool, error) {
	resp, err := c.Containers.Inspect(ctx, &api.InspectContainersRequest{Names: []string{name}})
	if err != nil {
		return false, client.Wrap(err)
	}
	var v struct{ Config struct{ Tty, OpenStdin bool } }
	if len(resp.Json) > 0 {
		json.Unmarshal(resp.Json[0], &v)
	}
	return v.Config.Tty, nil
}
