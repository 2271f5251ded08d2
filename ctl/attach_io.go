package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
	"golang.org/x/term"

	"github.com/berth-project/berth/ctl/internal/client"
	"github.com/berth-project/berth/supervisor/api"
)

// ioStream is the client side of Attach or Exec.
type ioStream interface {
	Send(*api.AttachInput) error
	Recv() (*api.AttachOutput, error)
}

// execStream adapts an Exec stream: its input messages are ExecInput.
type execStream struct {
	api.TTRPCContainers_ExecClient
}

func (e execStream) Send(m *api.AttachInput) error {
	return e.TTRPCContainers_ExecClient.Send(&api.ExecInput{
		Data: m.Data, CloseStdin: m.CloseStdin, Resize: m.Resize, Width: m.Width, Height: m.Height, Signal: m.Signal,
	})
}

// ioOptions say how the terminal joins a container's stdio.
type ioOptions struct {
	stdin    bool // forward our stdin
	tty      bool // the process has a terminal: raw mode, resizes
	sigProxy bool // forward signals (without a terminal)
}

// detachKeys is Docker's default escape sequence, ctrl-p ctrl-q.
var detachKeys = []byte{0x10, 0x11}

// ioResult is how a session ended.
type ioResult struct {
	code int
	err  error
}

// errDetached ends a session the user detached from.
var errDetached = errors.New("detached")

// lockedStream serialises sends from the stdin, resize and signal
// goroutines.
type lockedStream struct {
	mu sync.Mutex
	s  ioStream
}

func (l *lockedStream) send(m *api.AttachInput) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.s.Send(m)
}

// terminalSize is the size of our terminal, 0x0 if there is none.
func terminalSize() (uint32, uint32) {
	for _, f := range []*os.File{os.Stdout, os.Stdin, os.Stderr} {
		if w, h, err := term.GetSize(int(f.Fd())); err == nil {
			return uint32(w), uint32(h)
		}
	}
	return 0, 0
}

// streamIO copies between the terminal and a stream until the process
// exits, and returns its exit code.
func streamIO(ctx context.Context, st ioStream, o ioOptions) (int, error) {
	ls := &lockedStream{s: st}
	if o.tty && o.stdin && term.IsTerminal(int(os.Stdin.Fd())) {
		old, err := term.MakeRaw(int(os.Stdin.Fd()))
		if err == nil {
			defer term.Restore(int(os.Stdin.Fd()), old)
		}
	}
	done := make(chan ioResult, 2)
	go func() {
		for {
			m, err := st.Recv()
			if err != nil {
				if err == io.EOF {
					err = errors.New("berthd closed the stream")
				}
				done <- ioResult{0, client.Wrap(err)}
				return
			}
			if len(m.Data) > 0 {
				if m.Stream == 2 {
					os.Stderr.Write(m.Data)
				} else {
					os.Stdout.Write(m.Data)
				}
			}
			if m.Exited {
				if m.Error != "" {
					done <- ioResult{int(m.ExitCode), fmt.Errorf("%s", m.Error)}
					return
				}
				done <- ioResult{int(m.ExitCode), nil}
				return
			}
		}
	}()
	if o.stdin {
		go copyStdin(ls, o.tty, done)
	}
	sigs := make(chan os.Signal, 16)
	if o.tty {
		signal.Notify(sigs, syscall.SIGWINCH)
	} else if o.sigProxy {
		signal.Notify(sigs, proxiedSignals()...)
	}
	defer signal.Stop(sigs)
	for {
		select {
		case r := <-done:
			if errors.Is(r.err, errDetached) {
				return 0, nil
			}
			return r.code, r.err
		case s := <-sigs:
			if s == syscall.SIGWINCH {
				w, h := terminalSize()
				ls.send(&api.AttachInput{Resize: true, Width: w, Height: h})
				continue
			}
			ls.send(&api.AttachInput{Signal: int32(s.(syscall.Signal))})
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}

// copyStdin sends our stdin; at its end the process's stdin closes. In
// a terminal, ctrl-p ctrl-q detaches instead.
func copyStdin(ls *lockedStream, tty bool, done chan<- ioResult) {
	buf := make([]byte, 32<<10)
	var held []byte // a possible start of the detach sequence
	for {
		n, err := os.Stdin.Read(buf)
		if n > 0 {
			data := buf[:n]
			if tty {
				data = append(held, data...)
				held = nil
				if i := bytes.Index(data, detachKeys); i >= 0 {
					if i > 0 {
						ls.send(&api.AttachInput{Data: append([]byte(nil), data[:i]...)})
					}
					done <- ioResult{err: errDetached}
					return
				}
				if data[len(data)-1] == detachKeys[0] {
					held = []byte{detachKeys[0]}
					data = data[:len(data)-1]
				}
			}
			if len(data) > 0 {
				if ls.send(&api.AttachInput{Data: append([]byte(nil), data...)}) != nil {
					return
				}
			}
		}
		if err != nil {
			ls.send(&api.AttachInput{CloseStdin: true})
			return
		}
	}
}

// proxiedSignals are forwarded with --sig-proxy: all but those that only
// concern this process's terminal and children.
func proxiedSignals() []os.Signal {
	var out []os.Signal
	for s := syscall.Signal(1); s <= 31; s++ {
		switch s {
		case unix.SIGCHLD, unix.SIGPIPE, unix.SIGWINCH, unix.SIGURG, unix.SIGKILL, unix.SIGSTOP, unix.SIGTTIN, unix.SIGTTOU, unix.SIGTSTP, unix.SIGCONT:
			continue
		}
		out = append(out, s)
	}
	return out
}
