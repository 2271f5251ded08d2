// Package console implements runc's console-socket protocol: the runtime
// opens a pty inside the container and sends the master end to whoever
// listens on the console socket, as SCM_RIGHTS ancillary data.
package console

import (
	"fmt"
	"os"

	"github.com/containerd/console"
	"golang.org/x/sys/unix"
)

// NewPty opens a new pty through /dev/ptmx, which must already be the
// container's (after pivot_root, or in the container's mount namespace).
func NewPty() (master *os.File, slave string, err error) {
	c, path, err := console.NewPty()
	if err != nil {
		return nil, "", fmt.Errorf("open pty: %w", err)
	}
	f, ok := c.(console.File)
	if !ok {
		c.Close()
		return nil, "", fmt.Errorf("open pty: unexpected console type")
	}
	return os.NewFile(f.Fd(), "/dev/ptmx"), path, nil
}

// SendFd sends f over the unix socket sock, with f's name as the payload
// (runc sends the pty's path the same way).
func SendFd(sock *os.File, f *os.File) error {
	rights := unix.UnixRights(int(f.Fd()))
	name := []byte(f.Name())
	if len(name) == 0 {
		name = []byte{0}
	}
	if err := unix.Sendmsg(int(sock.Fd()), name, rights, nil, 0); err != nil {
		return fmt.Errorf("send pty master over console socket: %w", err)
	}
	return nil
}

// RecvFd receives one fd sent with SendFd.
func RecvFd(sock *os.File) (*os.File, error) {
	buf := make([]byte, 4096)
	oob := make([]byte, unix.CmsgSpace(4))
	n, oobn, _, _, err := unix.Recvmsg(int(sock.Fd()), buf, oob, unix.MSG_CMSG_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("receive pty master: %w", err)
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		return nil, fmt.Errorf("receive pty master: no fd in message")
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		return nil, fmt.Errorf("receive pty master: no fd in message")
	}
	return os.NewFile(uintptr(fds[0]), string(buf[:n])), nil
}

// MakeRaw puts the terminal fd in raw mode, output processing included (a
// proxy must pass the container's bytes through untouched), and returns a
// function restoring the previous mode.
func MakeRaw(fd int) (restore func(), err error) {
	old, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return nil, err
	}
	t := *old
	t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	t.Oflag &^= unix.OPOST
	t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	t.Cflag &^= unix.CSIZE | unix.PARENB
	t.Cflag |= unix.CS8
	t.Cc[unix.VMIN] = 1
	t.Cc[unix.VTIME] = 0
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, &t); err != nil {
		return nil, err
	}
	return func() { unix.IoctlSetTermios(fd, unix.TCSETS, old) }, nil
}

// CopySize gives the pty master the window size of the terminal fd.
func CopySize(master *os.File, fd int) error {
	ws, err := unix.IoctlGetWinsize(fd, unix.TIOCGWINSZ)
	if err != nil {
		return err
	}
	return unix.IoctlSetWinsize(int(master.Fd()), unix.TIOCSWINSZ, ws)
}
