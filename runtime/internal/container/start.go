package container

import (
	"fmt"

	"github.com/berth-project/berth/internal/runstate"
)

// Start lets a created container's init run the user process: opening
// exec.fifo for reading releases the init, which is blocked opening it for
// writing.
func (c *Container) Start() error {
	if err := check("start", c.Status()); err != nil {
		return fmt.Errorf("start %s: %w", c.ID, err)
	}
	if err := runstate.Release(c.dir, c.InitAlive); err != nil {
		return fmt.Errorf("start %s: %w", c.ID, err)
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
