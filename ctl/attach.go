package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/supervisor/api"
)

func newAttachCommand() *cobra.Command {
	var noStdin, sigProxy bool
	cmd := &cobra.Command{
		Use:   "attach [OPTIONS] CONTAINER",
		Short: "Attach local standard input, output, and error streams to a running container",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAttach(cmd.Context(), args[0], !noStdin, sigProxy)
		},
	}
	cmd.Flags().BoolVar(&noStdin, "no-stdin", false, "do not attach STDIN")
	cmd.Flags().BoolVar(&sigProxy, "sig-proxy", true, "proxy all received signals to the process")
	return cmd
}

func runAttach(ctx context.Context, name string, stdin, sigProxy bool) error {
	ctx = context.WithoutCancel(ctx)
	c, err := dial(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	tty, err := containerTTY(ctx, c, name)
	if err != nil {
		return err
	}
	code, err := attachAndStream(ctx, c, &api.AttachInput{Id: name, Stdin: stdin, Stdout: true, Stderr: true},
		ioOptions{stdin: stdin, tty: tty, sigProxy: sigProxy})
	if err != nil {
		return err
	}
	if code != 0 {
		return exitError{code}
	}
	return nil
}
