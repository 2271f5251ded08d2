// Package stdio connects a container process's stdio to what the client
// asked for: FIFOs (ctr, berthd), `file://` and `binary://` log URIs, a
// terminal (pty master received from the runtime), or nothing (null IO), and
// optionally a JSON-lines log file that keeps stdout and stderr apart with
// timestamps (berthd's `logs`).
//
// Pipe mode: the runtime gets one pipe end per requested stream as the
// process's fds 0-2; the shim copies pipe -> destination and stdin FIFO ->
// pipe. Terminal mode: the shim copies stdin FIFO -> master -> stdout. All
// files are non-blocking and go through Go's poller, so an idle container
// costs parked goroutines, not threads.
package stdio

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/berth-project/berth/shim/internal/oci"
)

// Config is a process's stdio as the task API describes it.
type Config struct {
	Stdin, Stdout, Stderr string // FIFO paths, file:// or binary:// URIs; "" = not attached
	Terminal              bool
	UID, GID              int      // owner of the pipes (user namespaces); 0 = root
	Log                   *JSONLog // also write stdout/stderr here; nil = no log
	ContainerID           string   // for binary:// loggers
	Namespace             string
}

// IO is one process's stdio on the shim's side.
type IO struct {
	cfg Config

	console *consoleSocket
	master  *os.File

	child          oci.Stdio // the runtime's ends, closed once it has run
	stdinW         *os.File
	stdin          *inputFIFO
	outR, errR     *os.File
	outDst, errDst *dest
	logger         *os.Process

	started   bool // copiers own (and release) the destinations
	wg        sync.WaitGroup
	stdinOnce sync.Once
	closeOnce sync.Once
}

// ErrBadURI is returned for a stdio URI the shim cannot serve.
var ErrBadURI = errors.New("unsupported stdio uri")

// New opens the destinations and makes the pipes or console socket; the
// runtime is then started with Stdio and ConsoleSocket, and Start is called
// once it succeeded (Close otherwise).
func New(cfg Config) (_ *IO, err error) {
	x := &IO{cfg: cfg}
	defer func() {
		if err != nil {
			x.Close()
		}
	}()
	if err := x.openDestinations(); err != nil {
		return nil, err
	}
	if cfg.Stdin != "" {
		in, err := openInput(cfg.Stdin)
		if err != nil {
			return nil, err
		}
		x.stdin = in
	}
	if cfg.Terminal {
		c, err := newConsoleSocket()
		if err != nil {
			return nil, err
		}
		x.console = c
		return x, nil
	}
	if x.stdin != nil {
		r, w, err := x.pipe()
		if err != nil {
			return nil, err
		}
		x.child.In, x.stdinW = r, w
	}
	if x.outDst != nil || cfg.Log != nil {
		r, w, err := x.pipe()
		if err != nil {
			return nil, err
		}
		x.outR, x.child.Out = r, w
	}
	if x.errDst != nil || cfg.Log != nil {
		r, w, err := x.pipe()
		if err != nil {
			return nil, err
		}
		x.errR, x.child.Err = r, w
	}
	return x, nil
}

// Stdio returns the files to hand the runtime as the process's fds 0-2.
func (x *IO) Stdio() oci.Stdio { return x.child }

// ConsoleSocket returns the --console-socket path, "" without a terminal.
func (x *IO) ConsoleSocket() string {
	if x.console == nil {
		return ""
	}
	return x.console.path
}

// Start begins copying once the runtime created the process.
func (x *IO) Start() error {
	closeFiles(&x.child.In, &x.child.Out, &x.child.Err)
	if x.console != nil {
		m, err := x.console.receive()
		x.console.close()
		x.console = nil
		if err != nil {
			return err
		}
		x.master = m
		x.started = true
		x.copyOut(m, x.outDst, "stdout")
		if x.stdin != nil {
			go x.copyIn(m)
		}
		return nil
	}
	x.started = true
	if x.outR != nil {
		x.copyOut(x.outR, x.outDst, "stdout")
	}
	if x.errR != nil {
		x.copyOut(x.errR, x.errDst, "stderr")
	}
	if x.stdin != nil {
		go x.copyIn(x.stdinW)
	}
	return nil
}

// Resize sets the terminal size; it fails without a terminal.
func (x *IO) Resize(width, height uint32) error {
	if x.master == nil {
		return fmt.Errorf("resize: process has no terminal")
	}
	return resize(x.master, width, height)
}

// CloseStdin stops forwarding stdin; in pipe mode the process reads EOF.
func (x *IO) CloseStdin() {
	x.stdinOnce.Do(func() {
		if x.stdin != nil {
			x.stdin.Close()
		}
		if x.stdinW != nil {
			x.stdinW.Close()
		}
	})
}

// Wait waits until the output has been copied (the process and everything
// that inherited its stdout/stderr have exited) or the timeout passed.
func (x *IO) Wait(timeout time.Duration) bool {
	done := make(chan struct{})
	go func() {
		x.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return true
	case <-time.After(timeout):
		return false
	}
}

// Close releases everything; output copiers stop at once, also when they
// wait on a full FIFO nobody reads (closing a file wakes its poller waits).
func (x *IO) Close() {
	x.closeOnce.Do(func() {
		x.CloseStdin()
		closeFiles(&x.child.In, &x.child.Out, &x.child.Err)
		if x.console != nil {
			x.console.close()
		}
		closeFiles(&x.master, &x.outR, &x.errR)
		for _, d := range []*dest{x.outDst, x.errDst} {
			if d == nil {
				continue
			}
			if x.started {
				d.f.Close()
			} else {
				d.release()
			}
		}
		x.wg.Wait()
		if x.logger != nil {
			x.logger.Release()
		}
	})
}

func (x *IO) pipe() (r, w *os.File, err error) {
	r, w, err = os.Pipe()
	if err != nil {
		return nil, nil, err
	}
	if x.cfg.UID != 0 || x.cfg.GID != 0 {
		for _, f := range []*os.File{r, w} {
			if err := f.Chown(x.cfg.UID, x.cfg.GID); err != nil {
				r.Close()
				w.Close()
				return nil, nil, fmt.Errorf("chown pipe: %w", err)
			}
		}
	}
	return r, w, nil
}

func (x *IO) copyOut(src *os.File, d *dest, stream string) {
	var log *LogStream
	if x.cfg.Log != nil {
		log = x.cfg.Log.Stream(stream)
	}
	x.wg.Add(1)
	go func() {
		defer x.wg.Done()
		buf := make([]byte, 16<<10)
		for {
			n, err := src.Read(buf)
			if n > 0 {
				if log != nil {
					log.Write(buf[:n])
				}
				if d != nil {
					d.write(buf[:n])
				}
			}
			if err != nil {
				break // EOF, EIO from a master whose terminal closed, or Close
			}
		}
		if log != nil {
			log.Flush()
		}
		if d != nil {
			d.release()
		}
	}()
}

func (x *IO) copyIn(dst *os.File) {
	buf := make([]byte, 4<<10)
	for {
		n, err := x.stdin.Read(buf)
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	if dst == x.stdinW {
		x.CloseStdin()
	}
}

// dest is a stream's destination; stdout and stderr may share one.
type dest struct {
	f      *os.File
	refs   atomic.Int32
	noWait bool
}

func (d *dest) write(p []byte) {
	if d.noWait {
		writeNoWait(d.f, p)
		return
	}
	d.f.Write(p) // a failing destination must not stop the copy (or the log)
}

func (d *dest) release() {
	if d.refs.Add(-1) == 0 {
		d.f.Close()
	}
}

func (x *IO) openDestinations() error {
	out, errPath := x.cfg.Stdout, x.cfg.Stderr
	if strings.HasPrefix(out, "binary://") || strings.HasPrefix(errPath, "binary://") {
		// One logger gets both streams, as in containerd.
		uri := out
		if uri == "" {
			uri = errPath
		}
		return x.startLogger(uri)
	}
	var err error
	if x.outDst, err = x.openDest(out); err != nil {
		return err
	}
	if errPath == out && x.outDst != nil {
		x.outDst.refs.Add(1)
		x.errDst = x.outDst
	} else if x.errDst, err = x.openDest(errPath); err != nil {
		return err
	}
	if x.cfg.Terminal && x.errDst != nil {
		x.errDst.release() // a terminal has one output stream
		x.errDst = nil
	}
	return nil
}

func (x *IO) openDest(uri string) (*dest, error) {
	if uri == "" {
		return nil, nil
	}
	path := uri
	if strings.Contains(uri, "://") {
		u, err := url.Parse(uri)
		if err != nil || (u.Scheme != "fifo" && u.Scheme != "file") || u.Path == "" {
			return nil, fmt.Errorf("%w: %q", ErrBadURI, uri)
		}
		path = u.Path
	}
	f, err := openOutput(path)
	if err != nil {
		return nil, err
	}
	d := &dest{f: f}
	d.refs.Store(1)
	if x.cfg.Log != nil && isFIFO(f) {
		// The log has everything; the FIFO is a live view that must not
		// stall the container when nobody reads it.
		d.noWait = true
		growPipe(f)
	}
	return d, nil
}

// startLogger runs a binary:// logger as containerd does: the binary with
// the query as "key value" arguments, CONTAINER_ID and CONTAINER_NAMESPACE
// in its environment, stdout on fd 3, stderr on fd 4, and fd 5 to close
// once it is ready.
func (x *IO) startLogger(uri string) error {
	u, err := url.Parse(uri)
	if err != nil || u.Path == "" {
		return fmt.Errorf("%w: %q", ErrBadURI, uri)
	}
	var args []string
	for k, vs := range u.Query() {
		args = append(args, k)
		if len(vs) > 0 && vs[0] != "" {
			args = append(args, vs[0])
		}
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		return err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		closeFiles(&outR, &outW)
		return err
	}
	readyR, readyW, err := os.Pipe()
	if err != nil {
		closeFiles(&outR, &outW, &errR, &errW)
		return err
	}
	cmd := exec.Command(u.Path, args...)
	cmd.Env = append(os.Environ(), "CONTAINER_ID="+x.cfg.ContainerID, "CONTAINER_NAMESPACE="+x.cfg.Namespace)
	cmd.ExtraFiles = []*os.File{outR, errR, readyW}
	err = cmd.Start()
	closeFiles(&outR, &errR, &readyW)
	if err != nil {
		closeFiles(&outW, &errW, &readyR)
		return fmt.Errorf("start logger %s: %w", u.Path, err)
	}
	x.logger = cmd.Process
	readyR.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err = io.Copy(io.Discard, readyR)
	readyR.Close()
	if err != nil {
		cmd.Process.Kill()
		closeFiles(&outW, &errW)
		return fmt.Errorf("logger %s not ready: %w", u.Path, err)
	}
	x.outDst = &dest{f: outW}
	x.outDst.refs.Store(1)
	x.errDst = &dest{f: errW}
	x.errDst.refs.Store(1)
	if x.cfg.Terminal {
		x.errDst.release()
		x.errDst = nil
	}
	return nil
}

func closeFiles(fs ...**os.File) {
	for _, f := range fs {
		if *f != nil {
			(*f).Close()
			*f = nil
		}
	}
}
