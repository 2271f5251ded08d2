package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/signal"
	"runtime/debug"
	"time"

	taskapi "github.com/containerd/containerd/api/runtime/task/v2"
	"github.com/containerd/ttrpc"
	"golang.org/x/sys/unix"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/berth-project/berth/shim/internal/events"
	"github.com/berth-project/berth/shim/internal/reaper"
	"github.com/berth-project/berth/shim/internal/task"
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
	srv, err := ttrpc.NewServer(
		ttrpc.WithServerHandshaker(ttrpc.UnixSocketRequireSameUser()),
		ttrpc.WithUnaryServerInterceptor(recoverPanics),
	)
	if err != nil {
		return err
	}
	taskapi.RegisterTTRPCTaskService(srv, svc)
	go func() {
		if err := srv.Serve(context.Background(), l); err != nil && err != ttrpc.ErrServerClosed {
			logf("serve: %v", err)
		}
	}()
	<-done
	// Let the Shutdown reply go out: ttrpc counts a request as active only
	// once its handler is running, so a Shutdown right away could close
	// the connection before the reply is written.
	time.Sleep(50 * time.Millisecond)
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
func recoverPanics(ctx context.Context, unmarshal ttrpc.Unmarshaler, info *ttrpc.UnaryServerInfo, method ttrpc.Method) (resp any, err error) {
	defer trimAfterWork()
	if debugLog {
		start := time.Now()
		defer func() {
			logAt("debug", "%s: err=%v (%s)", info.FullMethod, err, time.Since(start).Round(time.Microsecond))
		}()
	}
	defer func() {
		if r := recover(); r != nil {
			logf("panic in %s: %v\n%s", info.FullMethod, r, debug.Stack())
			err = status.Errorf(codes.Internal, "%s: shim panic: %v", info.FullMethod, r)
		}
	}()
	return method(ctx, unmarshal)
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
