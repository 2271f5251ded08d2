package container

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/runtime/internal/console"
)

// Run is `run`: create, start, and unless detached wait for the init,
// forwarding signals, then delete. It returns the container's exit code.
func Run(o CreateOpts, detach bool) (int, error) {
	if !detach {
		if err := setSubreaper(); err != nil {
			return -1, err
		}
	}
	var tty *ttyProxy
	if !detach && o.ConsoleSocket == "" {
		t, err := newTTYProxy()
		if err != nil {
			return -1, err
		}
		tty = t
		o.consoleConn = t.remote
		defer t.close()
	}
	c, ch, spec, err := create(o)
	if tty != nil {
		tty.remote.Close()
	}
	if err != nil {
		return -1, err
	}
	ch.sock.Close()
	if tty != nil && spec.Process.Terminal {
		if err := tty.receive(); err != nil {
			c.Delete(true)
			return -1, err
		}
	}
	sigs := forwardSignals()
	if err := c.Start(); err != nil {
		c.Delete(true)
		return -1, err
	}
	if detach {
		return 0, nil
	}
	code := waitProcess(c.InitPid, sigs, tty)
	if err := c.Delete(true); err != nil {
		return code, err
	}
	return code, nil
}

// ExecAndWait runs Exec; unless detached it waits for the process,
// forwarding signals, and returns its exit code.
func (c *Container) ExecAndWait(o ExecOpts) (int, error) {
	if o.Detach {
		_, err := c.Exec(o)
		return 0, err
	}
	if err := setSubreaper(); err != nil {
		return -1, err
	}
	var tty *ttyProxy
	if o.Process.Terminal && o.ConsoleSocket == "" {
		t, err := newTTYProxy()
		if err != nil {
			return -1, err
		}
		tty = t
		o.consoleConn = t.remote
		defer t.close()
	}
	sigs := forwardSignals()
	pid, err := c.Exec(o)
	if tty != nil {
		tty.remote.Close()
	}
	if err != nil {
		return -1, err
	}
	if tty != nil {
		if err := tty.receive(); err != nil {
			unix.Kill(pid, unix.SIGKILL)
			return -1, err
		}
	}
	return waitProcess(pid, sigs, tty), nil
}

func setSubreaper() error {
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("become subreaper: %w", err)
	}
	return nil
}

// forwarded are the signals run and exec pass on to the container process
// (registering all 64 costs a round trip to the runtime's signal thread
// each, at start and at exit).
var forwarded = []os.Signal{
	unix.SIGTERM, unix.SIGINT, unix.SIGHUP, unix.SIGQUIT, unix.SIGUSR1, unix.SIGUSR2,
	unix.SIGWINCH, unix.SIGCONT, unix.SIGALRM, unix.SIGPWR,
}

func forwardSignals() chan os.Signal {
	ch := make(chan os.Signal, 16)
	signal.Notify(ch, forwarded...)
	return ch
}

// waitProcess reaps children until pid exits, forwarding the signals we get
// to it, and returns its exit code (128+signal when killed).
func waitProcess(pid int, sigs chan os.Signal, tty *ttyProxy) int {
	done := make(chan int, 1)
	go func() {
		for {
			var ws unix.WaitStatus
			wpid, err := unix.Wait4(-1, &ws, 0, nil)
			if err == unix.EINTR {
				continue
			}
			if err != nil {
				done <- 255
				return
			}
			if wpid == pid {
				if ws.Signaled() {
					done <- 128 + int(ws.Signal())
				} else {
					done <- ws.ExitStatus()
				}
				return
			}
		}
	}()
	for {
		select {
		case code := <-done:
			if tty != nil {
				tty.drain()
			}
			return code
		case s := <-sigs:
			sig := s.(unix.Signal)
			switch sig {
			case unix.SIGWINCH:
				if tty != nil {
					tty.resize()
				}
			default:
				unix.Kill(pid, sig)
			}
		}
	}
}

// ttyProxy is the terminal of `run -t`/`exec -t` without --console-socket:
// berth-runtime receives the pty master itself and copies between it and its
// own stdio, with its own terminal in raw mode.
type ttyProxy struct {
	local   *os.File // our end of the console socket pair
	remote  *os.File // passed to the child
	master  *os.File
	restore func() // our terminal's mode before raw; nil if stdin is no terminal
	out     sync.WaitGroup
}

func newTTYProxy() (*ttyProxy, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("socketpair: %w", err)
	}
	return &ttyProxy{local: os.NewFile(uintptr(fds[0]), "console"), remote: os.NewFile(uintptr(fds[1]), "console")}, nil
}

func (t *ttyProxy) receive() error {
	m, err := console.RecvFd(t.local)
	if err != nil {
		return err
	}
	t.master = m
	if restore, err := console.MakeRaw(int(os.Stdin.Fd())); err == nil {
		t.restore = restore
		t.resize()
	}
	go io.Copy(m, os.Stdin)
	t.out.Add(1)
	go func() {
		defer t.out.Done()
		io.Copy(os.Stdout, m)
	}()
	return nil
}

func (t *ttyProxy) resize() {
	if t.restore != nil && t.master != nil {
		console.CopySize(t.master, int(os.Stdin.Fd()))
	}
}

// drain waits for the output still buffered in the pty after the process
// exited (reading the master ends with EIO once every slave fd is closed).
func (t *ttyProxy) drain() {
	if t.master != nil {
		t.out.Wait()
	}
}

func (t *ttyProxy) close() {
	if t.restore != nil {
		t.restore()
	}
	if t.master != nil {
		t.master.Close()
	}
	t.local.Close()
}
