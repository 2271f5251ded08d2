package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/spf13/cobra"

	"github.com/berth-project/berth/runtime/internal/container"
)

type execFlags struct {
	process, pidFile, consoleSocket, cwd, user string
	env, caps                                  []string
	addGids                                    []int
	tty, detach, noNewPrivs                    bool
	preserveFds                                int
}

func newExecCmd() *cobra.Command {
	var f execFlags
	cmd := &cobra.Command{
		Use:   "exec [flags] CONTAINER_ID [COMMAND [ARG...]]",
		Short: "run a process in a running container",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := container.Load(g.root, args[0])
			if err != nil {
				return err
			}
			spec, err := c.Spec()
			if err != nil {
				return err
			}
			p, err := f.buildProcess(spec.Process, args[1:], cmd.Flags().Changed("no-new-privs"))
			if err != nil {
				return err
			}
			code, err := c.ExecAndWait(container.ExecOpts{
				Process:       p,
				PidFile:       f.pidFile,
				ConsoleSocket: f.consoleSocket,
				Detach:        f.detach,
				PreserveFds:   f.preserveFds,
			})
			if err != nil {
				return codedError{err, 255}
			}
			if code != 0 {
				return exitError{code}
			}
			return nil
		},
	}
	cmd.Flags().SetInterspersed(false)
	fl := cmd.Flags()
	fl.StringVarP(&f.process, "process", "p", "", "path to a process.json")
	fl.StringVar(&f.pidFile, "pid-file", "", "file to write the process's pid to")
	fl.StringVar(&f.consoleSocket, "console-socket", "", "unix socket that receives the pty master")
	fl.StringVar(&f.cwd, "cwd", "", "working directory in the container")
	fl.StringVarP(&f.user, "user", "u", "", "UID[:GID] to run as")
	fl.StringArrayVarP(&f.env, "env", "e", nil, "set an environment variable (KEY=VALUE)")
	fl.StringArrayVarP(&f.caps, "cap", "c", nil, "add a capability")
	fl.IntSliceVarP(&f.addGids, "additional-gids", "g", nil, "additional gids")
	fl.BoolVarP(&f.tty, "tty", "t", false, "allocate a pseudo-TTY")
	fl.BoolVarP(&f.detach, "detach", "d", false, "do not wait for the process")
	fl.BoolVar(&f.noNewPrivs, "no-new-privs", false, "set no_new_privs for the process")
	fl.IntVar(&f.preserveFds, "preserve-fds", 0, "pass this many fds from 3 on to the process")
	fl.String("process-label", "", "ignored: no SELinux here")
	fl.String("apparmor", "", "ignored: no AppArmor here")
	fl.String("cgroup", "", "ignored: the process joins the container's cgroup")
	fl.Bool("ignore-paused", false, "ignored")
	return cmd
}

// buildProcess makes the exec'd process: --process FILE as is, or the
// container's process with the command and flags applied, as runc does.
func (f *execFlags) buildProcess(base *specs.Process, args []string, nnpSet bool) (*specs.Process, error) {
	if f.process != "" {
		data, err := os.ReadFile(f.process)
		if err != nil {
			return nil, fmt.Errorf("read process file: %w", err)
		}
		var p specs.Process
		if err := json.Unmarshal(data, &p); err != nil {
			return nil, fmt.Errorf("parse process file %s: %w", f.process, err)
		}
		if len(p.Args) == 0 {
			return nil, fmt.Errorf("process file %s: args is empty", f.process)
		}
		return &p, nil
	}
	if len(args) == 0 {
		return nil, fmt.Errorf("exec: no command given (args or --process)")
	}
	p := *base
	p.Args = args
	p.Terminal = f.tty
	p.Env = append(append([]string{}, base.Env...), f.env...)
	p.ConsoleSize = nil
	if f.cwd != "" {
		p.Cwd = f.cwd
	}
	if f.user != "" {
		uidS, gidS, hasGid := strings.Cut(f.user, ":")
		uid, err := strconv.ParseUint(uidS, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("invalid --user %q: want UID[:GID]", f.user)
		}
		p.User = specs.User{UID: uint32(uid), Umask: base.User.Umask}
		if hasGid {
			gid, err := strconv.ParseUint(gidS, 10, 32)
			if err != nil {
				return nil, fmt.Errorf("invalid --user %q: want UID[:GID]", f.user)
			}
			p.User.GID = uint32(gid)
		}
	}
	for _, g := range f.addGids {
		p.User.AdditionalGids = append(p.User.AdditionalGids, uint32(g))
	}
	if len(f.caps) > 0 && base.Capabilities != nil {
		c := *base.Capabilities
		for _, name := range f.caps {
			c.Bounding = append(c.Bounding, name)
			c.Effective = append(c.Effective, name)
			c.Permitted = append(c.Permitted, name)
			c.Ambient = append(c.Ambient, name)
			c.Inheritable = append(c.Inheritable, name)
		}
		p.Capabilities = &c
	}
	if nnpSet {
		p.NoNewPrivileges = f.noNewPrivs
	}
	return &p, nil
}
