package containers

import (
	"context"
	"fmt"
	"time"

	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/supervisor/api"
	"github.com/berth-project/berth/supervisor/internal/metadata"
)

// Remove deletes a container: its record, container layer and logs. A
// running container needs force (it is killed first).
func (s *Service) Remove(ctx context.Context, req *api.RemoveContainerRequest) error {
	c, err := s.get(req.GetId())
	if err != nil {
		return err
	}
	return s.removeVolumes(ctx, c, req.GetForce(), req.GetVolumes())
}

func (s *Service) remove(ctx context.Context, c *container, force bool) error {
	// --rm removes the anonymous volumes too, as Docker's does.
	return s.removeVolumes(ctx, c, force, c.cfg.Host.AutoRemove)
}

func (s *Service) removeVolumes(ctx context.Context, c *container, force, volumes bool) error {
	c.mu.Lock()
	t := c.task
	paused := c.rec.State.Status == "paused"
	if t != nil && !force {
		c.mu.Unlock()
		what := "running"
		if paused {
			what = "paused"
		}
		return fmt.Errorf("cannot remove container %q: container is %s: stop the container before removing or force remove: %w", c.rec.Name, what, ErrConflict)
	}
	if c.removing {
		ch := c.removed
		c.mu.Unlock()
		<-ch
		return nil
	}
	c.removing = true
	c.mu.Unlock()
	s.cancelRestart(c)
	if t != nil {
		s.signal(c, t, unix.SIGKILL, true)
		select {
		case <-t.done:
		case <-time.After(30 * time.Second):
			c.mu.Lock()
			c.removing = false
			c.mu.Unlock()
			return fmt.Errorf("could not kill running container %s, cannot remove: %w", shortID(c.id), ErrConflict)
		}
	}
	c.op.Lock()
	defer c.op.Unlock()
	t0 := time.Now()
	if err := s.net.Release(ctx, c.id); err != nil {
		s.log.Warn("release network", "id", c.id, "err", err)
	}
	if s.opts.Volumes != nil {
		if err := s.opts.Volumes.Release(ctx, c.id, volumes); err != nil {
			s.log.Warn("release volumes", "id", c.id, "err", err)
		}
	}
	c.paths.UnmountRootfs()
	if err := c.paths.RemoveAll(); err != nil {
		return fmt.Errorf("remove container %s: %w", shortID(c.id), err)
	}
	if err := s.db.Update(func(tx *metadata.Tx) error { return tx.DeleteContainer(c.id) }); err != nil {
		return err
	}
	s.mu.Lock()
	delete(s.byID, c.id)
	if s.names[c.rec.Name] == c.id {
		delete(s.names, c.rec.Name)
	}
	s.mu.Unlock()
	s.emit(c, "destroy", nil)
	close(c.removed)
	s.log.Debug("removed", "id", c.id, "took", time.Since(t0))
	return nil
}

// Wait blocks until the container meets the condition and returns its
// exit code: "not-running" (default), "next-exit" or "removed".
func (s *Service) Wait(ctx context.Context, req *api.WaitContainerRequest) (*api.WaitContainerResponse, error) {
	c, err := s.get(req.GetId())
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	exits := c.exits
	c.mu.Unlock()
	for {
		c.mu.Lock()
		st, changed, removed := c.rec.State, c.changed, c.removed
		done := false
		switch req.GetCondition() {
		case "", "not-running":
			done = c.task == nil && st.Status != "restarting" && st.Status != "running" && st.Status != "paused"
		case "next-exit":
			done = c.exits > exits
		case "removed":
			select {
			case <-removed:
				done = true
			default:
			}
		default:
			c.mu.Unlock()
			return nil, fmt.Errorf("invalid condition %q: want not-running, next-exit or removed: %w", req.GetCondition(), ErrInvalidArgument)
		}
		c.mu.Unlock()
		if done {
			resp := &api.WaitContainerResponse{ExitCode: int32(st.ExitCode)}
			if st.Error != "" && st.Status != "exited" {
				resp.Error = st.Error
			}
			return resp, nil
		}
		select {
		case <-changed:
		case <-removed:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}
