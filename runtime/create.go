package main

import (
	"os"
	"strconv"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/runstate"
	"github.com/berth-project/berth/runtime/internal/container"
)

// createFlags are shared by create and run.
type createFlags struct {
	bundle, pidFile, consoleSocket string
	noPivot, noNewKeyring          bool
	preserveFds                    int
}

func (f *createFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVarP(&f.bundle, "bundle", "b", ".", "path to the root of the bundle directory")
	fl.StringVar(&f.pidFile, "pid-file", "", "file to write the init's pid to")
	fl.StringVar(&f.consoleSocket, "console-socket", "", "unix socket that receives the pty master (terminal: true)")
	fl.BoolVar(&f.noPivot, "no-pivot", false, "use MS_MOVE and chroot instead of pivot_root")
	fl.BoolVar(&f.noNewKeyring, "no-new-keyring", false, "keep the caller's session keyring")
	fl.IntVar(&f.preserveFds, "preserve-fds", 0, "pass this many fds from 3 on to the container")
}

func (f *createFlags) opts(id string) container.CreateOpts {
	return container.CreateOpts{
		Root:          g.root,
		ID:            id,
		Bundle:        f.bundle,
		PidFile:       f.pidFile,
		ConsoleSocket: f.consoleSocket,
		NoPivot:       f.noPivot,
		NoNewKeyring:  f.noNewKeyring,
		PreserveFds:   f.preserveFds + listenFds(),
		ExtraEnv:      listenEnv(),
		SystemdCgroup: g.systemdCgroup,
	}
}

func newCreateCmd() *cobra.Command {
	var f createFlags
	cmd := &cobra.Command{
		Use:   "create [flags] CONTAINER_ID",
		Short: "create a container and leave its init waiting for start",
		Args:  exactID,
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.preserveFds > 0 {
				// The fds from 3 on are the container's: no signal pipe.
				dropCreatedFD()
			}
			if _, err := container.Create(f.opts(args[0])); err != nil {
				return err
			}
			signalCreated()
			return nil
		},
	}
	f.register(cmd)
	return cmd
}

// createdFD is the pipe of runstate.CreatedFDEnv: create writes one byte
// on it once the container is created. -1: none.
var createdFD = -1

// takeCreatedFD picks the pipe up from the environment, close-on-exec so
// that no child inherits it.
func takeCreatedFD() {
	v, ok := os.LookupEnv(runstate.CreatedFDEnv)
	if !ok {
		return
	}
	os.Unsetenv(runstate.CreatedFDEnv)
	fd, err := strconv.Atoi(v)
	if err != nil || fd < 3 {
		return
	}
	unix.CloseOnExec(fd)
	createdFD = fd
	if listenFds() > 0 {
		dropCreatedFD() // fds from 3 on are the container's
	}
}

func dropCreatedFD() {
	if createdFD >= 0 {
		unix.Close(createdFD)
		createdFD = -1
	}
}

// signalCreated writes the byte; nothing but exiting follows it.
func signalCreated() {
	if createdFD >= 0 {
		unix.Write(createdFD, []byte{1})
		dropCreatedFD()
	}
}
