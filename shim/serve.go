package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/signal"
	"runtime/debug"
	"time"

	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/shim/internal/events"
	"github.com/berth-project/berth/shim/internal/reaper"
	"github.com/berth-project/berth/shim/internal/task"
	"github.com/berth-project/berth/shim/internal/ttrpc"
	"github.com/berth-project/berth/shim/internal/wire"
)

// runServe is the daemon: it serves the task API on the listener `start`
// passed as fd 3 until a Shutdown finds no container left.
func runServe(o *options) error {
	if err := o.need("serve", true, true, false); err != nil {
		return err
	}
	tuneMemory()
	debugLog = o.debug
	l, err := net.FileListener(os.NewFile(3, "listener"))
	if err != nil {
		return fmt.Errorf("listener on fd 3: %w", err)
	}
	path := l.Addr().String()
	sock := ownSocket(path)
	defer sock.remove()
	openShimLog()
	// SIGPIPE: a write to a log FIFO or client that went away must fail
	// with EPIPE, not end the shim (Go exits on SIGPIPE for fds 1 and 2
	// unless the signal is handled). Notify, not Ignore: an ignored signal
	// would be inherited by the runtime and the container.
	signal.Notify(make(chan os.Signal, 1), unix.SIGPIPE)

	rp, err := reaper.New()
	if err != nil {
		return err
	}
	pub := events.New(os.Getenv("TTRPC_ADDRESS"), o.namespace)
	done := make(chan struct{})
	svc := task.New(task.Config{
		Namespace: o.namespace,
		Publisher: pub,
		Reaper:    rp,
		Shutdown: func() {
			sock.remove()
			close(done)
		},
		Logf: logf,
	})
	srv := ttrpc.NewServer(ttrpc.Config{SameUser: true, Interceptor: recoverPanics, Logf: logf})
	svc.Register(srv)
	go func() {
		if err := srv.Serve(l); err != nil && err != ttrpc.ErrServerClosed {
			logf("serve: %v", err)
		}
	}()
	<-done
	// The server counts a call as in flight until its reply is written, and
	// leaves connections open a moment longer, so the Shutdown request's
	// reply reaches the caller.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	srv.Shutdown(ctx)
	cancel()
	pub.Close()
	return nil
}

// socketFile is the shim's socket as created: removing it must not remove
// the socket a newer shim for the same id made at the same path.
type socketFile struct {
	path string
	st   unix.Stat_t
	ok   bool
}

func ownSocket(path string) *socketFile {
	s := &socketFile{path: path}
	s.ok = unix.Stat(path, &s.st) == nil
	return s
}

func (s *socketFile) remove() {
	var st unix.Stat_t
	if s.ok && unix.Stat(s.path, &st) == nil && st.Ino == s.st.Ino && st.Dev == s.st.Dev {
		os.Remove(s.path)
	}
	s.ok = false
}

// recoverPanics turns a panic in a request into an error: a shim that
// crashed would leave every container it supervises without stdio, exit
// status and reaper.
func recoverPanics(ctx context.Context, fullMethod string, decode func(wire.Message) error, method ttrpc.Method) (resp wire.Message, err error) {
	defer trimAfterWork()
	if debugLog {
		start := time.Now()
		defer func() {
			logAt("debug", "%s: err=%v (%s)", fullMethod, err, time.Since(start).Round(time.Microsecond))
		}()
	}
	defer func() {
		if r := recover(); r != nil {
			logf("panic in %s: %v\n%s", fullMethod, r, debug.Stack())
			err = ttrpc.Errorf(ttrpc.Internal, "%s: shim panic: %v", fullMethod, r)
		}
	}()
	return method(ctx, decode)
}

// openShimLog points stderr at the `log` FIFO containerd reads in the
// bundle (it copies it into its own log). Non-blocking: with no reader
// (containerd down) a message is dropped instead of stalling the shim.
func openShimLog() {
	fd, err := unix.Open("log", unix.O_WRONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return
	}
	unix.Dup3(fd, 2, 0)
	unix.Close(fd)
}

// debugLog (-debug, which containerd passes when it logs at debug level)
// logs every request with its duration.
var debugLog bool

// logf reports a problem to the shim log (containerd copies it into its own).
func logf(format string, args ...any) { logAt("warning", format, args...) }

func logAt(level, format string, args ...any) {
	fmt.Fprintf(os.Stderr, "time=%q level=%s msg=%q\n", time.Now().Format(time.RFC3339Nano), level, fmt.Sprintf(format, args...))
}
