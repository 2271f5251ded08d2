// Package reaper makes the shim a child subreaper and reaps every process
// that ends up as its child: the OCI runtime invocations it starts itself
// and the container processes, which the runtime leaves behind and the
// kernel reparents to the shim once the runtime exits.
//
// One goroutine waits in wait4(-1), so nothing else may wait for a child
// (never call exec.Cmd.Wait). Callers that want a pid's exit register
// for it with Watch or Wait. A container process may exit before its pid is
// known (an `exec` can end before the runtime returns and the shim reads the
// pid file), so while an operation is in flight (Begin..End) exits nobody
// watches yet are kept and handed over when the pid is watched; outside such
// windows they are dropped, which keeps the table bounded.
package reaper

import (
	"os"
	"os/signal"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Exit is one reaped child.
type Exit struct {
	Pid    int
	Status int // exit code, or 128+signal for a killed process
	At     time.Time
}

// Reaper dispatches the exits of the shim's children.
type Reaper struct {
	mu        sync.Mutex
	watchers  map[int]func(Exit)
	pending   int
	unclaimed map[int]Exit
	// kick wakes the loop when it has no children to wait for (Begin and
	// Watch: a child is on its way).
	kick chan struct{}
}

var (
	once   sync.Once
	global *Reaper
	errNew error
)

// New makes the calling process a child subreaper and starts reaping. A
// process has one reaper: a second wait4(-1) loop would take exits the
// first one's callers wait for, so every call returns the same Reaper.
func New() (*Reaper, error) {
	once.Do(func() { global, errNew = newReaper() })
	return global, errNew
}

func newReaper() (*Reaper, error) {
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return nil, os.NewSyscallError("prctl subreaper", err)
	}
	r := &Reaper{watchers: map[int]func(Exit){}, unclaimed: map[int]Exit{}, kick: make(chan struct{}, 1)}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, unix.SIGCHLD)
	go r.loop(sig)
	return r, nil
}

// loop reaps children with a blocking wait4, which the kernel wakes the
// moment a child exits. Through SIGCHLD, an exit took Go's signal
// forwarding and two goroutine hand-offs, about a millisecond here, twice
// on every container's start (the runtime's create, then the process).
// With no children at all wait4 fails at once (ECHILD): the loop then
// waits for SIGCHLD or a kick. Orphans the shim adopts as subreaper are
// reparented while their parent, a child of ours, exits: by the time
// wait4 returns that child, they are children too.
func (r *Reaper) loop(sig <-chan os.Signal) {
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, 0, nil)
		switch {
		case err == unix.EINTR:
		case err != nil:
			// ECHILD, or nothing sensible to do but wait.
			select {
			case <-sig:
			case <-r.kick:
			}
		case pid > 0:
			r.dispatch(Exit{Pid: pid, Status: ExitCode(ws), At: time.Now()})
		}
	}
}

// wake tells an idle loop that a child may exist now.
func (r *Reaper) wake() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// Begin marks the start of an operation that will learn pids only later;
// exits seen until the matching End are kept for Watch.
func (r *Reaper) Begin() {
	r.mu.Lock()
	r.pending++
	r.mu.Unlock()
	r.wake()
}

// End undoes one Begin; with none left, exits nobody claimed are dropped.
func (r *Reaper) End() {
	r.mu.Lock()
	r.pending--
	if r.pending == 0 {
		clear(r.unclaimed)
	}
	r.mu.Unlock()
}

// Watch calls fn once with pid's exit. fn runs on the reaping goroutine
// and must not block; it runs at once (on the caller's goroutine) when the
// exit was already kept.
func (r *Reaper) Watch(pid int, fn func(Exit)) {
	r.mu.Lock()
	if e, ok := r.unclaimed[pid]; ok {
		delete(r.unclaimed, pid)
		r.mu.Unlock()
		fn(e)
		return
	}
	r.watchers[pid] = fn
	r.mu.Unlock()
	r.wake()
}

// Unwatch forgets a pid registered with Watch.
func (r *Reaper) Unwatch(pid int) {
	r.mu.Lock()
	delete(r.watchers, pid)
	r.mu.Unlock()
}

// Wait blocks until pid exits. The caller must hold a Begin from before the
// process was started.
func (r *Reaper) Wait(pid int) Exit {
	ch := make(chan Exit, 1)
	r.Watch(pid, func(e Exit) { ch <- e })
	return <-ch
}

func (r *Reaper) dispatch(e Exit) {
	r.mu.Lock()
	fn, ok := r.watchers[e.Pid]
	if ok {
		delete(r.watchers, e.Pid)
	} else if r.pending > 0 {
		r.unclaimed[e.Pid] = e
	}
	r.mu.Unlock()
	if fn != nil {
		fn(e)
	}
}

// ExitCode turns a wait status into the number a shell would show.
func ExitCode(ws unix.WaitStatus) int {
	switch {
	case ws.Exited():
		return ws.ExitStatus()
	case ws.Signaled():
		return 128 + int(ws.Signal())
	}
	return 255
}
