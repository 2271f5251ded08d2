// Package forkexec starts child processes with syscall.ForkExec, for the
// short-lived programs on a container's start path (berth-runtime create,
// the shim).
//
// os.StartProcess, and so os/exec, checks once per process whether pidfds
// work, and part of that check is cloning a child that exits at once. In a
// program that starts one or two processes and then exits, that check is
// about a third of a millisecond on every container's start. The callers
// here reap their children themselves (by pid, or through a reaper), so
// they have no use for a pidfd.
package forkexec

import (
	"fmt"
	"os"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"
)

// Attr is how to start the process.
type Attr struct {
	// Dir is the working directory; "" keeps ours.
	Dir string
	// Env is the environment; nil means an empty one.
	Env []string
	// Files become the child's fds 0, 1, 2, 3... in order; a nil entry is
	// /dev/null, as os/exec does for unset stdio.
	Files []*os.File
	Sys   *syscall.SysProcAttr
}

// Start starts path with argv and returns its pid. The caller must reap it
// (Wait, or a reaper).
func Start(path string, argv []string, a Attr) (int, error) {
	fds := make([]uintptr, len(a.Files))
	var devNull *os.File
	for i, f := range a.Files {
		if f == nil {
			if devNull == nil {
				var err error
				if devNull, err = os.OpenFile(os.DevNull, os.O_RDWR, 0); err != nil {
					return 0, err
				}
				defer devNull.Close()
			}
			f = devNull
		}
		fds[i] = f.Fd()
	}
	env := a.Env
	if env == nil {
		env = []string{}
	}
	pid, err := syscall.ForkExec(path, argv, &syscall.ProcAttr{Dir: a.Dir, Env: env, Files: fds, Sys: a.Sys})
	runtime.KeepAlive(a.Files)
	if err != nil {
		return 0, &os.PathError{Op: "fork/exec", Path: path, Err: err}
	}
	return pid, nil
}

// Wait waits for pid to exit and returns nil for exit status 0, otherwise
// an error worded as os/exec words it ("exit status 1", "signal: killed").
func Wait(pid int) error {
	var ws unix.WaitStatus
	for {
		_, err := unix.Wait4(pid, &ws, 0, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("wait for pid %d: %w", pid, err)
		}
		return StatusError(ws)
	}
}

// StatusError describes a wait status as os/exec does, or returns nil for
// a clean exit.
func StatusError(ws unix.WaitStatus) error {
	switch {
	case ws.Exited() && ws.ExitStatus() == 0:
		return nil
	case ws.Exited():
		return fmt.Errorf("exit status %d", ws.ExitStatus())
	case ws.Signaled():
		return fmt.Errorf("signal: %v", ws.Signal())
	}
	return fmt.Errorf("wait status %#x", uint32(ws))
}
