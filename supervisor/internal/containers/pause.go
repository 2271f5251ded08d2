package containers

import (
	"context"
	"fmt"

	taskapi "github.com/containerd/containerd/api/runtime/task/v2"

	"github.com/berth-project/berth/supervisor/internal/metadata"
	"github.com/berth-project/berth/supervisor/internal/shimclient"
)

// Pause freezes every process of a running container.
func (s *Service) Pause(ctx context.Context, ref string) error {
	return s.freeze(ctx, ref, true)
}

// Unpause thaws a paused container.
func (s *Service) Unpause(ctx context.Context, ref string) error {
	return s.freeze(ctx, ref, false)
}

func (s *Service) freeze(ctx context.Context, ref string, pause bool) error {
	c, err := s.get(ref)
	if err != nil {
		return err
	}
	c.op.Lock()
	defer c.op.Unlock()
	c.mu.Lock()
	t, status := c.task, c.rec.State.Status
	c.mu.Unlock()
	switch {
	case t == nil:
		return fmt.Errorf("container %s is not running: %w", shortID(c.id), ErrConflict)
	case pause && status == "paused":
		return fmt.Errorf("container %s is already paused: %w", shortID(c.id), ErrConflict)
	case !pause && status != "paused":
		return fmt.Errorf("container %s is not paused: %w", shortID(c.id), ErrConflict)
	}
	tctx := shimclient.Context(ctx)
	next := "paused"
	if pause {
		_, err = t.shim.Task.Pause(tctx, &taskapi.PauseRequest{ID: c.id})
	} else {
		_, err = t.shim.Task.Resume(tctx, &taskapi.ResumeRequest{ID: c.id})
		next = "running"
	}
	if err != nil {
		return fmt.Errorf("%s: %w", shimMessage(err), ErrFailedPrecondition)
	}
	err = s.update(c, func(r *metadata.Container) {
		if r.State.Status == "running" || r.State.Status == "paused" {
			r.State.Status = next
		}
	})
	if err == nil {
		s.emit(c, map[bool]string{true: "pause", false: "unpause"}[pause], nil)
	}
	return err
}

// Rename gives a container a new name.
func (s *Service) Rename(ctx context.Context, ref, newName string) error {
	c, err := s.get(ref)
	if err != nil {
		return err
	}
	name, err := checkName(newName)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old := c.record().Name
	if name == old {
		return fmt.Errorf("renaming a container with the same name as its current name: %w", ErrInvalidArgument)
	}
	if other, taken := s.names[name]; taken {
		return fmt.Errorf("Conflict. The container name \"/%s\" is already in use by container \"%s\". You have to remove (or rename) that container to be able to reuse that name: %w", name, other, ErrConflict)
	}
	if err := s.update(c, func(r *metadata.Container) { r.Name = name }); err != nil {
		return err
	}
	delete(s.names, old)
	s.names[name] = c.id
	s.emit(c, "rename", map[string]string{"oldName": "/" + old})
	return nil
}
