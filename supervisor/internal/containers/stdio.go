package containers

import (
	"errors"

	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/supervisor/internal/bundle"
)

// Stream numbers, as in Docker's multiplexed attach.
const (
	streamStdout = 1
	streamStderr = 2
)

// stdio is berthd's end of one process's FIFOs: it reads stdout and
// stderr as long as the process runs, whether or not a client is
// attached (the shim's log keeps everything; the FIFOs are the live
// view), hands the bytes to the attached clients, and writes their input
// to stdin.
//
// A FIFO read returns EOF only once every writer is gone; the shim holds
// the output FIFOs open (read-write) until it has copied the process's
// last byte, so EOF here means all output was seen. The stdin FIFO's
// writer stays open while the process lives: the shim takes its closing
// as end of input.
type stdio struct {
	stdin      *os.File
	stdinOnce  sync.Once
	outR, errR *os.File

	mu      sync.Mutex
	clients map[*ioClient]struct{}

	wg   sync.WaitGroup
	done chan struct{}
}

// ioClient is one attached client.
type ioClient struct {
	stdout, stderr bool
	mu             sync.Mutex
	send           func(stream int, p []byte) error
	failed         bool
}

// fifoPaths are the FIFOs of one process; "" for a stream not connected.
type fifoPaths struct{ stdin, stdout, stderr string }

// makeFIFOs creates the FIFOs of a process in p's bundle: stdout always,
// stderr without a terminal, stdin if asked.
func makeFIFOs(p bundle.Paths, execID string, stdin, tty bool) (fifoPaths, error) {
	f := fifoPaths{stdout: p.FIFO(execID, "stdout")}
	if !tty {
		f.stderr = p.FIFO(execID, "stderr")
	}
	if stdin {
		f.stdin = p.FIFO(execID, "stdin")
	}
	for _, path := range []string{f.stdin, f.stdout, f.stderr} {
		if path == "" {
			continue
		}
		if err := bundle.MakeFIFO(path); err != nil {
			return f, err
		}
	}
	return f, nil
}

// openStdio opens berthd's ends. Output FIFOs are opened before the shim
// opens them (non-blocking opens for reading always succeed); stdin after
// the shim has its reading end (a non-blocking open for writing fails
// without a reader): call openStdin then.
func openStdio(f fifoPaths) (*stdio, error) {
	x := &stdio{clients: map[*ioClient]struct{}{}, done: make(chan struct{})}
	var err error
	if x.outR, err = openFIFO(f.stdout, unix.O_RDONLY); err != nil {
		return nil, err
	}
	if f.stderr != "" {
		if x.errR, err = openFIFO(f.stderr, unix.O_RDONLY); err != nil {
			x.outR.Close()
			return nil, err
		}
	}
	return x, nil
}

func openFIFO(path string, mode int) (*os.File, error) {
	fd, err := unix.Open(path, mode|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return os.NewFile(uintptr(fd), path), nil
}

// openStdin opens the stdin FIFO for writing.
func (x *stdio) openStdin(path string) error {
	if path == "" {
		return nil
	}
	f, err := openFIFO(path, unix.O_WRONLY)
	if err != nil {
		return err
	}
	x.stdin = f
	return nil
}

// start begins reading the outputs; it must be called once the shim has
// opened the FIFOs (after Create), else a read sees EOF at once.
func (x *stdio) start() {
	for _, r := range []struct {
		f      *os.File
		stream int
	}{{x.outR, streamStdout}, {x.errR, streamStderr}} {
		if r.f == nil {
			continue
		}
		x.wg.Add(1)
		go x.pump(r.f, r.stream)
	}
	go func() {
		x.wg.Wait()
		close(x.done)
	}()
}

func (x *stdio) pump(f *os.File, stream int) {
	defer x.wg.Done()
	buf := make([]byte, 32<<10)
	for {
		n, err := f.Read(buf)
		if n > 0 {
			x.broadcast(stream, buf[:n])
		}
		if err != nil {
			return
		}
	}
}

// broadcast sends p to every client attached to stream, one after the
// other: a slow client slows the copy (the shim's log is not affected).
func (x *stdio) broadcast(stream int, p []byte) {
	x.mu.Lock()
	clients := make([]*ioClient, 0, len(x.clients))
	for c := range x.clients {
		if stream == streamStdout && c.stdout || stream == streamStderr && c.stderr {
			clients = append(clients, c)
		}
	}
	x.mu.Unlock()
	for _, c := range clients {
		c.mu.Lock()
		if !c.failed && c.send(stream, p) != nil {
			c.failed = true
		}
		c.mu.Unlock()
	}
}

// attach adds a client; detach removes it.
func (x *stdio) attach(c *ioClient) {
	x.mu.Lock()
	x.clients[c] = struct{}{}
	x.mu.Unlock()
}

func (x *stdio) detach(c *ioClient) {
	x.mu.Lock()
	delete(x.clients, c)
	x.mu.Unlock()
}

// write sends client input to the process's stdin.
func (x *stdio) write(p []byte) error {
	if x.stdin == nil {
		return errors.New("stdin not open")
	}
	_, err := x.stdin.Write(p)
	return err
}

// closeStdin ends the process's input.
func (x *stdio) closeStdin() {
	x.stdinOnce.Do(func() {
		if x.stdin != nil {
			x.stdin.Close()
		}
	})
}

// wait waits until the outputs reached EOF or the timeout passed (a
// process that left children holding its stdout open).
func (x *stdio) wait(timeout time.Duration) bool {
	select {
	case <-x.done:
		return true
	case <-time.After(timeout):
		return false
	}
}

// close releases everything; pumps stop at once.
func (x *stdio) close() {
	x.closeStdin()
	for _, f := range []*os.File{x.outR, x.errR} {
		if f != nil {
			f.Close()
		}
	}
}
