package stdio

import (
	"fmt"
	"io"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// openOutput opens the destination of a stdout/stderr path. A FIFO is
// opened read-write: open never blocks waiting for a reader, and because the
// shim itself counts as a reader, writes neither fail with EPIPE nor raise
// SIGPIPE when the client (ctr, berthd) goes away; data waits in the pipe
// until a reader comes back. Anything else is a file appended to.
func openOutput(path string) (*os.File, error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err == nil && st.Mode&unix.S_IFMT == unix.S_IFIFO {
		// O_NONBLOCK so the file goes through Go's poller: a full pipe
		// parks a goroutine instead of a thread.
		fd, err := unix.Open(path, unix.O_RDWR|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
		if err != nil {
			return nil, &os.PathError{Op: "open", Path: path, Err: err}
		}
		return os.NewFile(uintptr(fd), path), nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return nil, err
	}
	return f, nil
}

// isFIFO reports whether f is a pipe or FIFO.
func isFIFO(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeNamedPipe != 0
}

// growPipe asks for a 1 MiB pipe buffer (the default pipe-max-size); a
// failure only leaves the 64 KiB default.
func growPipe(f *os.File) {
	if rc, err := f.SyscallConn(); err == nil {
		rc.Control(func(fd uintptr) {
			unix.FcntlInt(fd, unix.F_SETPIPE_SZ, 1<<20)
		})
	}
}

// writeNoWait writes what fits into f without waiting and drops the rest:
// used for a FIFO when a log file keeps the complete output, so a client
// that stops reading cannot stall the container or the log.
func writeNoWait(f *os.File, p []byte) {
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	rc.Write(func(fd uintptr) bool {
		for len(p) > 0 {
			n, err := unix.Write(int(fd), p)
			if err == unix.EINTR {
				continue
			}
			if err != nil || n <= 0 {
				break
			}
			p = p[n:]
		}
		return true
	})
}

// inputFIFO reads a stdin FIFO opened without blocking. A FIFO read with no
// writer returns 0 both before the client has opened its end and after it
// closed it; only the second is end of input. The kernel reports POLLHUP
// only in the second case (a writer came and went since our open), so a 0
// without POLLHUP waits in Go's poller for data or that hang-up, and no
// thread sits in a blocking open(2).
type inputFIFO struct {
	f  *os.File
	rc syscall.RawConn
}

func openInput(path string) (*inputFIFO, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	f := os.NewFile(uintptr(fd), path)
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("stdin %s: %w", path, err)
	}
	return &inputFIFO{f: f, rc: rc}, nil
}

func (in *inputFIFO) Read(p []byte) (int, error) {
	var n int
	var rerr error
	err := in.rc.Read(func(fd uintptr) bool {
		n, rerr = unix.Read(int(fd), p)
		switch {
		case rerr == unix.EAGAIN || rerr == unix.EINTR:
			return false
		case rerr != nil || n > 0:
			return true
		}
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		if _, err := unix.Poll(pfd, 0); err != nil {
			return true
		}
		return pfd[0].Revents&unix.POLLHUP != 0
	})
	if err != nil {
		return 0, err
	}
	if rerr != nil {
		return 0, rerr
	}
	if n == 0 {
		return 0, io.EOF
	}
	return n, nil
}

func (in *inputFIFO) Close() error { return in.f.Close() }
