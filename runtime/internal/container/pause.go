package container

import "fmt"

// Pause freezes every process of the container.
func (c *Container) Pause() error {
	if err := check("pause", c.Status()); err != nil {
		return fmt.Errorf("pause %s: %w", c.ID, err)
	}
	m, err := c.cgroup()
	if err != nil {
		return err
	}
	if err := m.Freeze(); err != nil {
		return fmt.Errorf("pause %s: %w", c.ID, err)
	}
	return nil
}

// Resume thaws a paused container.
func (c *Container) Resume() error {
	if err := check("resume", c.Status()); err != nil {
		return fmt.Errorf("resume %s: %w", c.ID, err)
	}
	m, err := c.cgroup()
	if err != nil {
		return err
	}
	if err := m.Thaw(); err != nil {
		return fmt.Errorf("resume %s: %w", c.ID, err)
	}
	return nil
}
