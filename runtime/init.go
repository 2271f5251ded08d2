package main

import (
	"runtime"

	"github.com/berth-project/berth/runtime/internal/container"
)

// The container's init must stay on the main thread: the nsenter
// constructor put that thread into the namespaces, and capabilities, set on
// one thread, survive execve only from that thread.
func init() {
	runtime.LockOSThread()
}

// runInit is the hidden `init` command, the child side of create and exec.
func runInit() {
	container.Init()
}
