package container

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-project/berth/internal/runstate"
	"github.com/berth-project/berth/runtime/internal/cgroups"
)

// Container is what berth-runtime keeps about a container in its state
// directory (<root>/<id>/state.json) between commands.
type Container struct {
	runstate.Record

	spec *specs.Spec
	raw  []byte // config.json (rawConfig)
	dir  string
}

// rawConfig returns the container's config.json, read once.
func (c *Container) rawConfig() ([]byte, error) {
	if c.raw == nil {
		raw, err := c.Config(c.dir)
		if err != nil {
			return nil, err
		}
		c.raw = raw
	}
	return c.raw, nil
}

// Spec decodes the container's config.json.
func (c *Container) Spec() (*specs.Spec, error) {
	if c.spec == nil {
		raw, err := c.rawConfig()
		if err != nil {
			return nil, err
		}
		var s specs.Spec
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, fmt.Errorf("parse saved config of %s: %w", c.ID, err)
		}
		if s.Linux == nil {
			s.Linux = &specs.Linux{}
		}
		c.spec = &s
	}
	return c.spec, nil
}

// OCIState is the state document of the OCI runtime spec, plus runc's
// extras (rootfs, created, owner) that podman and `list` read.
type OCIState struct {
	OCIVersion  string            `json:"ociVersion"`
	ID          string            `json:"id"`
	Pid         int               `json:"pid"`
	Status      Status            `json:"status"`
	Bundle      string            `json:"bundle"`
	Rootfs      string            `json:"rootfs"`
	Created     time.Time         `json:"created"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Owner       string            `json:"owner"`
}

// Load reads the container id from the state root.
func Load(root, id string) (*Container, error) {
	if err := ValidateID(id); err != nil {
		return nil, err
	}
	dir := filepath.Join(root, id)
	r, err := runstate.Read(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("container %s %w", id, ErrNotExist)
		}
		return nil, fmt.Errorf("read state of %s: %w", id, err)
	}
	return &Container{Record: *r, dir: dir}, nil
}

// save writes state.json atomically.
func (c *Container) save() error {
	data, err := json.Marshal(c)
	if err != nil {
		return err
	}
	tmp := filepath.Join(c.dir, runstate.StateFile+".tmp")
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(c.dir, runstate.StateFile)); err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	return nil
}

// Dir is the container's state directory.
func (c *Container) Dir() string { return c.dir }

// Status works the status out from the live system rather than storing it,
// so it is right even when the init died while nobody was looking.
func (c *Container) Status() Status {
	if !c.InitAlive() {
		return Stopped
	}
	if _, err := os.Lstat(filepath.Join(c.dir, runstate.FifoName)); err == nil {
		return Created
	}
	if m, err := c.cgroup(); err == nil {
		if frozen, err := m.Frozen(); err == nil && frozen {
			return Paused
		}
	}
	return Running
}

// State returns the OCI state document.
func (c *Container) State() OCIState {
	s := OCIState{
		OCIVersion: specs.Version,
		ID:         c.ID,
		Status:     c.Status(),
		Bundle:     c.Bundle,
		Rootfs:     c.Rootfs,
		Created:    c.Created,
		Owner:      c.Owner,
	}
	s.Annotations = c.Annotations
	if s.Status != Stopped {
		s.Pid = c.InitPid
	}
	return s
}

func (c *Container) cgroup() (cgroups.Manager, error) {
	return cgroups.Load(c.CgroupPaths)
}

// List loads every container under root, skipping entries that are not
// containers.
func List(root string) ([]*Container, error) {
	entries, err := os.ReadDir(root)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("read %s: %w", root, err)
	}
	var out []*Container
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		c, err := Load(root, e.Name())
		if err != nil {
			continue
		}
		out = append(out, c)
	}
	return out, nil
}

// Pids lists the container's processes (host pids).
func (c *Container) Pids() ([]int, error) {
	if c.Status() == Stopped {
		return nil, nil
	}
	m, err := c.cgroup()
	if err != nil {
		return nil, err
	}
	return m.Pids()
}
