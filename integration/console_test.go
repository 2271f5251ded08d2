package integration

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// consoleSocket plays containerd's part for `terminal: true`: it listens on
// a unix socket given to the runtime as --console-socket and receives the
// pty master over SCM_RIGHTS.
type consoleSocket struct {
	path   string
	master chan *os.File
	errc   chan error
}

// newConsoleSocket listens on a fresh socket. The socket lives in a short
// temp dir: sun_path holds only 108 bytes and t.TempDir paths are long.
func newConsoleSocket(t *testing.T) *consoleSocket {
	t.Helper()
	dir, err := os.MkdirTemp("", "berth-cs-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	cs := &consoleSocket{
		path:   filepath.Join(dir, "sock"),
		master: make(chan *os.File, 1),
		errc:   make(chan error, 1),
	}
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: cs.path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		f, err := receiveMaster(l)
		if err != nil {
			cs.errc <- err
			return
		}
		cs.master <- f
	}()
	return cs
}

func receiveMaster(l *net.UnixListener) (*os.File, error) {
	conn, err := l.AcceptUnix()
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	buf := make([]byte, 4096)
	oob := make([]byte, syscall.CmsgSpace(4))
	_, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
	if err != nil {
		return nil, err
	}
	msgs, err := syscall.ParseSocketControlMessage(oob[:oobn])
	if err != nil {
		return nil, err
	}
	if len(msgs) != 1 {
		return nil, errors.New("console socket: want one control message")
	}
	fds, err := syscall.ParseUnixRights(&msgs[0])
	if err != nil {
		return nil, err
	}
	if len(fds) != 1 {
		return nil, errors.New("console socket: want one fd")
	}
	// Non-blocking puts the fd in Go's poller, so reads honour deadlines.
	if err := syscall.SetNonblock(fds[0], true); err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fds[0]), "pty-master"), nil
}

// recv waits for the runtime to send the pty master.
func (cs *consoleSocket) recv(t *testing.T) *os.File {
	t.Helper()
	select {
	case f := <-cs.master:
		t.Cleanup(func() { f.Close() })
		return f
	case err := <-cs.errc:
		t.Fatalf("console socket: %v", err)
	case <-time.After(15 * time.Second):
		t.Fatal("console socket: no pty master received")
	}
	return nil
}

// readUntil reads from the pty master until the output contains want; it
// returns everything read.
func readUntil(t *testing.T, f *os.File, want string) string {
	t.Helper()
	var got strings.Builder
	buf := make([]byte, 4096)
	f.SetReadDeadline(time.Now().Add(15 * time.Second))
	for !strings.Contains(got.String(), want) {
		n, err := f.Read(buf)
		got.Write(buf[:n])
		if err != nil {
			t.Fatalf("read pty master: %v; got %q, want it to contain %q", err, got.String(), want)
		}
	}
	return got.String()
}
