package containers

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"syscall"
	"time"

	taskapi "github.com/containerd/containerd/api/runtime/task/v2"
	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/supervisor/api"
	"github.com/berth-project/berth/supervisor/internal/metadata"
	"github.com/berth-project/berth/supervisor/internal/shimclient"
)

// defaultStopTimeout is Docker's: SIGKILL 10 seconds after the stop signal.
const defaultStopTimeout = 10

// Stop stops a container: its stop signal, then SIGKILL after the timeout.
// A container that is not running is no error.
func (s *Service) Stop(ctx context.Context, req *api.StopContainerRequest) error {
	c, err := s.get(req.GetId())
	if err != nil {
		return err
	}
	return s.stop(ctx, c, int(req.GetTimeout()), req.GetSignal())
}

func (s *Service) stop(ctx context.Context, c *container, timeout int, signal string) error {
	t, stopped := s.markStopped(c)
	if stopped || t == nil {
		return nil
	}
	if timeout < 0 {
		timeout = int(c.cfg.StopTimeout)
	}
	if timeout < 0 {
		timeout = defaultStopTimeout
	}
	sig := unix.SIGTERM
	if signal == "" {
		signal = c.stopSignal()
	}
	if signal != "" {
		var err error
		if sig, err = ParseSignal(signal); err != nil {
			return err
		}
	}
	if err := s.signal(c, t, sig, false); err == nil {
		select {
		case <-t.done:
			s.emit(c, "stop", nil)
			return nil
		case <-time.After(time.Duration(timeout) * time.Second):
		}
	}
	if err := s.signal(c, t, unix.SIGKILL, true); err != nil && c.running() {
		return err
	}
	select {
	case <-t.done:
		s.emit(c, "stop", nil)
		return nil
	case <-time.After(30 * time.Second):
		return fmt.Errorf("container %s did not stop after SIGKILL", shortID(c.id))
	}
}

// markStopped records a stop or kill by the user, serialised with starts
// (a restart policy's pending start is cancelled) and returns the running
// task, if any; stopped is true when a pending restart was all there was.
func (s *Service) markStopped(c *container) (t *task, stopped bool) {
	c.op.Lock()
	defer c.op.Unlock()
	s.update(c, func(r *metadata.Container) { r.State.ManuallyStopped = true })
	if s.cancelRestart(c) {
		return nil, true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.task, false
}

// stopSignal is --stop-signal or the image's STOPSIGNAL, recorded in the
// spec's annotations.
func (c *container) stopSignal() string {
	if c.cfg.StopSignal != "" {
		return c.cfg.StopSignal
	}
	if sp, err := c.paths.ReadSpec(); err == nil {
		return sp.Annotations["org.opencontainers.image.stopSignal"]
	}
	return ""
}

// signal sends sig to the container's init (every process with all). A
// paused container is thawed after a SIGKILL so that it can die.
func (s *Service) signal(c *container, t *task, sig syscall.Signal, all bool) error {
	ctx, cancel := context.WithTimeout(shimclient.Context(context.Background()), 10*time.Second)
	defer cancel()
	_, err := t.shim.Task.Kill(ctx, &taskapi.KillRequest{ID: c.id, Signal: uint32(sig), All: all})
	if err != nil && shimclient.IsGone(err) {
		// The signal ended the container so fast that its exit handling
		// closed the shim connection before the answer came: the
		// signal was delivered if the task is done.
		select {
		case <-t.done:
			return nil
		case <-time.After(5 * time.Second):
		}
	}
	if err != nil {
		return fmt.Errorf("cannot kill container %s: %s: %w", shortID(c.id), shimMessage(err), ErrFailedPrecondition)
	}
	s.emit(c, "kill", map[string]string{"signal": strconv.Itoa(int(sig))})
	if sig == unix.SIGKILL && c.state().Status == "paused" {
		t.shim.Task.Resume(ctx, &taskapi.ResumeRequest{ID: c.id})
		s.update(c, func(r *metadata.Container) {
			if r.State.Status == "paused" {
				r.State.Status = "running"
			}
		})
	}
	return nil
}

// Kill sends a signal (SIGKILL by default) to a running container.
func (s *Service) Kill(ctx context.Context, req *api.KillContainerRequest) error {
	c, err := s.get(req.GetId())
	if err != nil {
		return err
	}
	sig := unix.SIGKILL
	if req.GetSignal() != "" {
		if sig, err = ParseSignal(req.GetSignal()); err != nil {
			return err
		}
	}
	t, _ := s.markStopped(c)
	if t == nil {
		return fmt.Errorf("cannot kill container: %s: container %s is not running: %w", req.GetId(), shortID(c.id), ErrConflict)
	}
	return s.signal(c, t, sig, sig == unix.SIGKILL)
}

// Restart stops the container (if running) and starts it again.
func (s *Service) Restart(ctx context.Context, req *api.StopContainerRequest) error {
	c, err := s.get(req.GetId())
	if err != nil {
		return err
	}
	if err := s.stop(ctx, c, int(req.GetTimeout()), req.GetSignal()); err != nil {
		return err
	}
	_, err = s.start(ctx, c, startOptions{})
	return err
}

// ParseSignal parses a signal as Docker does: a name with or without
// SIG ("KILL", "sigterm") or a number.
func ParseSignal(s string) (syscall.Signal, error) {
	if n, err := strconv.Atoi(s); err == nil {
		if n <= 0 || n > 64 {
			return 0, fmt.Errorf("invalid signal: %s: %w", s, ErrInvalidArgument)
		}
		return syscall.Signal(n), nil
	}
	name := strings.ToUpper(s)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	if sig := unix.SignalNum(name); sig != 0 {
		return sig, nil
	}
	return 0, fmt.Errorf("invalid signal: %s: %w", s, ErrInvalidArgument)
}

// shimMessage is the text of a shim error without the status prefix.
func shimMessage(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, "desc = "); i >= 0 {
		return msg[i+len("desc = "):]
	}
	return msg
}
