package container

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// Delete removes a stopped container. A created container is deleted too
// (its init is killed), as runc does: containerd deletes never-started
// tasks without --force. Running or paused containers need force.
func (c *Container) Delete(force bool) error {
	switch st := c.Status(); st {
	case Stopped:
	case Created:
		c.killAndWait()
	default:
		if !force {
			return fmt.Errorf("cannot delete container %s that is not stopped: %s", c.ID, st)
		}
		c.killAndWait()
	}
	return c.destroy()
}

// killAndWait SIGKILLs every process of the container and waits for the
// init to be gone.
func (c *Container) killAndWait() {
	if err := c.signalAll(unix.SIGKILL); err != nil {
		unix.Kill(c.InitPid, unix.SIGKILL)
	}
	if c.initAlive() {
		unix.Kill(c.InitPid, unix.SIGKILL)
	}
	waitGone(c.InitPid)
}

// destroy removes the cgroup and the state dir.
func (c *Container) destroy() error {
	if m, err := c.cgroup(); err == nil {
		if err := m.Destroy(); err != nil {
			return fmt.Errorf("remove cgroup of %s: %w", c.ID, err)
		}
	}
	if err := os.RemoveAll(c.dir); err != nil {
		return fmt.Errorf("remove state of %s: %w", c.ID, err)
	}
	if h, err := decodeHooks(c.Hooks); err != nil {
		Warn(err.Error())
	} else if h != nil && len(h.Poststop) > 0 {
		st := c.State()
		st.Status = Stopped
		runHooksWarn("poststop", h.Poststop, st)
	}
	return nil
}
