package containers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	taskapi "github.com/containerd/containerd/api/runtime/task/v2"

	"github.com/berth-project/berth/supervisor/api"
	"github.com/berth-project/berth/supervisor/internal/shimclient"
)

// AttachStream is the server side of an Attach or Exec call.
type AttachStream interface {
	Send(*api.AttachOutput) error
}

// lockedSender serialises sends: output pumps and the final message come
// from different goroutines.
type lockedSender struct {
	mu sync.Mutex
	s  AttachStream
}

func (l *lockedSender) send(m *api.AttachOutput) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.s.Send(m)
}

func (l *lockedSender) client(stdout, stderr bool) *ioClient {
	return &ioClient{stdout: stdout, stderr: stderr, send: func(stream int, p []byte) error {
		return l.send(&api.AttachOutput{Stream: int32(stream), Data: p})
	}}
}

// Attach connects a client to a container's stdio (starting it first if
// asked) and returns once the container stopped, or the client went
// away. recv returns the client's later messages.
func (s *Service) Attach(ctx context.Context, first *api.AttachInput, recv func() (*api.AttachInput, error), out AttachStream) error {
	c, err := s.get(first.GetId())
	if err != nil {
		return err
	}
	snd := &lockedSender{s: out}
	client := snd.client(first.GetStdout(), first.GetStderr())
	var t *task
	if first.GetStart() {
		if _, err := s.start(ctx, c, startOptions{attach: client, width: first.GetWidth(), height: first.GetHeight()}); err != nil {
			if errors.Is(err, ErrNotFound) || errors.Is(err, ErrInvalidArgument) || errors.Is(err, ErrFailedPrecondition) && c.state().Status == "" {
				return err
			}
			return snd.send(&api.AttachOutput{Exited: true, ExitCode: int32(exitCodeOf(err)), Error: err.Error()})
		}
	}
	c.mu.Lock()
	t = c.task
	c.mu.Unlock()
	if t == nil {
		if first.GetStart() {
			// It ran and ended already: report its exit.
			return s.sendExit(c, snd)
		}
		return fmt.Errorf("you cannot attach to a stopped container, start it first: %w", ErrConflict)
	}
	if !first.GetStart() {
		if c.state().Status == "paused" {
			return fmt.Errorf("you cannot attach to a paused container, unpause it first: %w", ErrConflict)
		}
		t.io.attach(client)
	}
	defer t.io.detach(client)
	if err := snd.send(&api.AttachOutput{Started: true}); err != nil {
		return err
	}
	go s.attachInput(c, t, "", first.GetStdin() && c.cfg.OpenStdin, c.cfg.StdinOnce, recv)
	select {
	case <-t.done:
	case <-ctx.Done():
		return nil
	}
	t.io.detach(client)
	return s.sendExit(c, snd)
}

// sendExit sends the final message, after --rm has removed the container.
func (s *Service) sendExit(c *container, snd *lockedSender) error {
	if c.cfg.Host.AutoRemove {
		select {
		case <-c.removed:
		case <-time.After(30 * time.Second):
		}
	}
	st := c.state()
	return snd.send(&api.AttachOutput{Exited: true, ExitCode: int32(st.ExitCode)})
}

// attachInput forwards a client's input to a process: stdin data, end of
// input (closing stdin when stdinOnce), resizes and signals.
func (s *Service) attachInput(c *container, t *task, execID string, stdin, stdinOnce bool, recv func() (*api.AttachInput, error)) {
	x := t.io
	if execID != "" {
		if e := t.exec(execID); e != nil {
			x = e.io
		}
	}
	for {
		m, err := recv()
		if err != nil {
			if errors.Is(err, io.EOF) && stdin && stdinOnce {
				x.closeStdin()
			}
			return
		}
		if len(m.GetData()) > 0 && stdin {
			if err := x.write(m.GetData()); err != nil {
				stdin = false
			}
		}
		if m.GetCloseStdin() && stdin && stdinOnce {
			x.closeStdin()
		}
		ctx, cancel := context.WithTimeout(shimclient.Context(context.Background()), 5*time.Second)
		if m.GetResize() && m.GetWidth() > 0 && m.GetHeight() > 0 {
			t.shim.Task.ResizePty(ctx, &taskapi.ResizePtyRequest{ID: c.id, ExecID: execID, Width: m.GetWidth(), Height: m.GetHeight()})
		}
		if m.GetSignal() > 0 {
			t.shim.Task.Kill(ctx, &taskapi.KillRequest{ID: c.id, ExecID: execID, Signal: uint32(m.GetSignal())})
		}
		cancel()
	}
}
