package container

import (
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/runstate"
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
	if c.InitAlive() {
		unix.Kill(c.InitPid, unix.SIGKILL)
	}
	waitGone(c.InitPid)
}

// destroy removes the cgroup and the state dir.
func (c *Container) destroy() error {
	if err := runstate.Destroy(c.dir, &c.Record); err != nil {
		return err
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
