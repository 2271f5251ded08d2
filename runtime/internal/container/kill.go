package container

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// Kill sends sig to the init, or with all to every process of the container.
func (c *Container) Kill(sig unix.Signal, all bool) error {
	if err := check("kill", c.Status()); err != nil {
		return err
	}
	if all {
		return c.signalAll(sig)
	}
	if err := unix.Kill(c.InitPid, sig); err != nil {
		if errors.Is(err, unix.ESRCH) {
			return ErrNotRunning
		}
		return fmt.Errorf("kill %d: %w", c.InitPid, err)
	}
	return nil
}

// signalAll signals every process in the container's cgroup. A frozen
// cgroup is thawed after a SIGKILL so the processes can die.
func (c *Container) signalAll(sig unix.Signal) error {
	m, err := c.cgroup()
	if err != nil {
		return err
	}
	pids, err := m.Pids()
	if err != nil {
		return fmt.Errorf("list processes: %w", err)
	}
	for _, pid := range pids {
		if err := unix.Kill(pid, sig); err != nil && !errors.Is(err, unix.ESRCH) {
			return fmt.Errorf("kill %d: %w", pid, err)
		}
	}
	if sig == unix.SIGKILL {
		if frozen, _ := m.Frozen(); frozen {
			m.Thaw()
		}
	}
	return nil
}
