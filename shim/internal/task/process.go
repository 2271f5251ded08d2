package task

import (
	"fmt"
	"sync"
	"time"

	taskapi "github.com/berth-project/berth/shim/internal/api"
	"github.com/berth-project/berth/shim/internal/bundle"
	"github.com/berth-project/berth/shim/internal/errdefs"
	"github.com/berth-project/berth/shim/internal/stdio"
)

// status is a process's place in its lifecycle.
type status int

const (
	created status = iota // init: created by the runtime, parked; exec: added, not started
	running
	paused // init only
	stopped
	deleted
)

var statusNames = [...]string{"created", "running", "paused", "stopped", "deleted"}

func (s status) String() string { return statusNames[s] }

// transitions is the one table of allowed status changes.
var transitions = map[status][]status{
	created: {running, stopped, deleted},
	running: {paused, stopped},
	paused:  {running, stopped},
	stopped: {deleted},
}

// proto maps a status to the task API's.
func (s status) proto() taskapi.Status {
	switch s {
	case created:
		return taskapi.StatusCreated
	case running:
		return taskapi.StatusRunning
	case paused:
		return taskapi.StatusPaused
	case stopped, deleted:
		return taskapi.StatusStopped
	}
	return taskapi.StatusUnknown
}

// process is the init process or one exec of a container.
type process struct {
	c      *container
	execID string // "" for init
	stdio  stdio.Config
	spec   []byte // exec: the OCI process JSON

	// mu orders a process's lifecycle: it is held while a start runs and
	// its event goes out, so an exit that races the start is recorded and
	// published after it (TaskStart before TaskExit).
	mu     sync.Mutex
	status status
	pid    int
	io     *stdio.IO
	exit   bundle.Exit
	exited chan struct{} // closed once the exit is recorded and published
}

func newProcess(c *container, execID string, cfg stdio.Config) *process {
	return &process{c: c, execID: execID, stdio: cfg, exited: make(chan struct{})}
}

// id is the process's name in events: the container id for init.
func (p *process) id() string {
	if p.execID == "" {
		return p.c.id
	}
	return p.execID
}

// setStatus moves p to next, or says why it cannot. Caller holds p.mu.
func (p *process) setStatus(next status) error {
	for _, s := range transitions[p.status] {
		if s == next {
			p.status = next
			return nil
		}
	}
	return fmt.Errorf("process %s is %s, cannot become %s: %w", p.id(), p.status, next, errdefs.ErrFailedPrecondition)
}

func (p *process) getStatus() status {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.status
}

func (p *process) getPid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pid
}

// exitInfo returns the recorded exit; ok is false while it runs.
func (p *process) exitInfo() (bundle.Exit, bool) {
	select {
	case <-p.exited:
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.exit, true
	default:
		return bundle.Exit{}, false
	}
}

// waitExited waits for the exit or the timeout.
func (p *process) waitExited(timeout time.Duration) bool {
	select {
	case <-p.exited:
		return true
	case <-time.After(timeout):
		return false
	}
}
