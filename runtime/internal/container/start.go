package container

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// Start lets a created container's init run the user process: opening
// exec.fifo for reading releases the init, which is blocked opening it for
// writing.
func (c *Container) Start() error {
	if err := check("start", c.Status()); err != nil {
		return fmt.Errorf("start %s: %w", c.ID, err)
	}
	path := filepath.Join(c.dir, fifoName)
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("start %s: container was already started", c.ID)
		}
		return fmt.Errorf("open %s: %w", path, err)
	}
	defer unix.Close(fd)
	// The init writes one byte once it is released, then keeps the fifo
	// open until execve closes it; anything else it writes is an error.
	var got []byte
	buf := make([]byte, 4096)
	for {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, 100)
		if err != nil && err != unix.EINTR {
			return fmt.Errorf("wait for init: %w", err)
		}
		if n > 0 {
			r, err := unix.Read(fd, buf)
			if r > 0 {
				got = append(got, buf[:r]...)
				continue
			}
			if r == 0 && err == nil && len(got) > 0 {
				break // end of file: the init exec'd or died
			}
		}
		if len(got) == 0 && !c.initAlive() {
			os.Remove(path)
			return fmt.Errorf("start %s: init process exited before it was started", c.ID)
		}
	}
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("remove %s: %w", path, err)
	}
	if len(got) > 1 {
		return fmt.Errorf("start %s: %s", c.ID, got[1:])
	}
	if h, _ := decodeHooks(c.Hooks); h != nil && len(h.Poststart) > 0 {
		// The process may already have exited: report it as the running
		// process it was when start returned.
		st := c.State()
		st.Status = Running
		st.Pid = c.InitPid
		runHooksWarn("poststart", h.Poststart, st)
	}
	return nil
}
