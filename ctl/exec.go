package main

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/berth-project/berth/ctl/internal/client"
	"github.com/berth-project/berth/supervisor/api"
)

type execOptions struct {
	interactive, tty, detach, privileged bool
	env, envFile                         []string
	workdir, user                        string
}

func newExecCommand() *cobra.Command {
	var o execOptions
	cmd := &cobra.Command{
		Use:   "exec [OPTIONS] CONTAINER COMMAND [ARG...]",
		Short: "Execute a command in a running container",
		Args:  cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runExec(cmd.Context(), args[0], args[1:], o)
		},
	}
	fs := cmd.Flags()
	fs.SetInterspersed(false)
	fs.BoolVarP(&o.interactive, "interactive", "i", false, "keep STDIN open even if not attached")
	fs.BoolVarP(&o.tty, "tty", "t", false, "allocate a pseudo-TTY")
	fs.BoolVarP(&o.detach, "detach", "d", false, "detached mode: run command in the background")
	fs.BoolVar(&o.privileged, "privileged", false, "give extended privileges to the command")
	fs.StringArrayVarP(&o.env, "env", "e", nil, "set environment variables")
	fs.StringArrayVar(&o.envFile, "env-file", nil, "read in a file of environment variables")
	fs.StringVarP(&o.workdir, "workdir", "w", "", "working directory inside the container")
	fs.StringVarP(&o.user, "user", "u", "", "username or UID (format: <name|uid>[:<group|gid>])")
	return cmd
}

func runExec(ctx context.Context, name string, cmd []string, o execOptions) error {
	if o.tty && o.interactive && !term.IsTerminal(int(os.Stdin.Fd())) {
		return fmt.Errorf("the input device is not a TTY")
	}
	env := expandEnv(o.env)
	for _, f := range o.envFile {
		e, err := readEnvFile(f)
		if err != nil {
			return err
		}
		env = append(e, env...)
	}
	ctx = context.WithoutCancel(ctx)
	c, err := dial(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	first := &api.ExecInput{
		Id: name, Cmd: cmd, Env: env, WorkingDir: o.workdir, User: o.user, Tty: o.tty,
		Stdin: o.interactive && !o.detach, Detach: o.detach, Privileged: o.privileged,
	}
	if o.tty {
		first.Width, first.Height = terminalSize()
	}
	st, err := c.Containers.Exec(ctx)
	if err != nil {
		return client.Wrap(err)
	}
	if err := st.Send(first); err != nil {
		return client.Wrap(err)
	}
	if o.detach {
		m, err := st.Recv()
		if err != nil {
			return client.Wrap(err)
		}
		if m.Exited && m.Error != "" {
			return statusError{int(m.ExitCode), fmt.Errorf("%s", m.Error)}
		}
		return nil
	}
	code, err := streamIO(ctx, execStream{st}, ioOptions{stdin: first.Stdin, tty: o.tty, sigProxy: true})
	if err != nil {
		if code == 0 {
			code = 1 // berthd refused the exec (no such container, not running)
		}
		return statusError{code, err}
	}
	if code != 0 {
		return exitError{code}
	}
	return nil
}
