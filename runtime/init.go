package main

import (
	"os"
	"runtime"

	"github.com/berth-project/berth/runtime/internal/container"
)

// The container's init must stay on the main thread: the nsenter
// constructor put that thread into the namespaces, and capabilities, set on
// one thread, survive execve only from that thread.
//
// Only the init locks: for the other commands a locked main goroutine just
// makes every channel operation a thread handoff.
func init() {
	if len(os.Args) > 1 && os.Args[1] == "init" {
		runtime.LockOSThread()
	}
}

// runInit is the hidden `init` command, the child side of create and exec.
func runInit() {
	container.Init()
}
