package main

import (
	"fmt"
	"os"
	"strconv"

	"github.com/spf13/cobra"
)

// exactID checks for exactly one argument, the container id.
func exactID(cmd *cobra.Command, args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("%s: expected one container id, got %d arguments", cmd.Name(), len(args))
	}
	return nil
}

// listenEnv is what runc adds to the process's environment when it passes
// socket-activation fds on: the container's process is then their owner.
func listenEnv() []string {
	n := listenFds()
	if n == 0 {
		return nil
	}
	return []string{"LISTEN_FDS=" + strconv.Itoa(n), "LISTEN_PID=1"}
}

// listenFds is the number of socket-activation fds (systemd's LISTEN_FDS)
// to pass on when they are meant for us, as runc does.
func listenFds() int {
	if os.Getenv("LISTEN_PID") != strconv.Itoa(os.Getpid()) {
		return 0
	}
	n, _ := strconv.Atoi(os.Getenv("LISTEN_FDS"))
	return n
}
