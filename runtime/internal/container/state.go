package container

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-project/berth/runtime/internal/cgroups"
)

const (
	stateFile = "state.json"
	fifoName  = "exec.fifo"
)

// Container is what berth-runtime keeps about a container in its state
// directory (<root>/<id>/state.json) between commands.
type Container struct {
	ID          string            `json:"id"`
	Bundle      string            `json:"bundle"`
	Rootfs      string            `json:"rootfs"`
	InitPid     int               `json:"init_pid"`
	InitStart   uint64            `json:"init_start"` // /proc/PID/stat starttime: guards against pid reuse
	Created     time.Time         `json:"created"`
	Owner       string            `json:"owner"`
	CgroupPaths map[string]string `json:"cgroup_paths,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Hooks       json.RawMessage   `json:"hooks,omitempty"`
	// RawConfig is config.json as it was at create. It is kept as bytes
	// and decoded only by the commands that need all of it (exec, update):
	// building encoding/json's type caches for the whole spec costs more
	// than the rest of `state` or `start`.
	RawConfig json.RawMessage `json:"config"`

	spec *specs.Spec
	dir  string
}

// Spec decodes the container's config.json.
func (c *Container) Spec() (*specs.Spec, error) {
	if c.spec == nil {
		var s specs.Spec
		if err := json.Unmarshal(c.RawConfig, &s); err != nil {
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
	data, err := os.ReadFile(filepath.Join(dir, stateFile))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("container %s %w", id, ErrNotExist)
		}
		return nil, fmt.Errorf("read state of %s: %w", id, err)
	}
	c := &Container{dir: dir}
	if err := json.Unmarshal(data, c); err != nil {
		return nil, fmt.Errorf("parse state of %s: %w", id, err)
	}
	return c, nil
}

// save writes state.json atomically.
func (c *Container) save() error {
	data, err := json.Marshal(c)
	if err != nil {
		return err
	}
	tmp := filepath.Join(c.dir, stateFile+".tmp")
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(c.dir, stateFile)); err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	return nil
}

// Dir is the container's state directory.
func (c *Container) Dir() string { return c.dir }

// Status works the status out from the live system rather than storing it,
// so it is right even when the init died while nobody was looking.
func (c *Container) Status() Status {
	if !c.initAlive() {
		return Stopped
	}
	if _, err := os.Lstat(filepath.Join(c.dir, fifoName)); err == nil {
		return Created
	}
	if m, err := c.cgroup(); err == nil {
		if frozen, err := m.Frozen(); err == nil && frozen {
			return Paused
		}
	}
	return Running
}

// initAlive reports whether the init process is still the one we started and
// has not exited (a zombie counts as exited).
func (c *Container) initAlive() bool {
	st, state, err := procStart(c.InitPid)
	if err != nil || st != c.InitStart {
		return false
	}
	return state != 'Z' && state != 'X'
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

// procStart returns the start time (in clock ticks since boot) and the state
// letter of pid, from /proc/PID/stat.
func procStart(pid int) (uint64, byte, error) {
	if pid <= 0 {
		return 0, 0, os.ErrNotExist
	}
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, err
	}
	// The command name may contain spaces and parentheses: split after the last ')'.
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 >= len(s) {
		return 0, 0, fmt.Errorf("parse /proc/%d/stat", pid)
	}
	fields := strings.Fields(s[i+2:])
	// fields[0] is field 3 (state); starttime is field 22.
	if len(fields) < 20 {
		return 0, 0, fmt.Errorf("parse /proc/%d/stat", pid)
	}
	st, err := strconv.ParseUint(fields[19], 10, 64)
	if err != nil {
		return 0, 0, fmt.Errorf("parse /proc/%d/stat: %w", pid, err)
	}
	return st, fields[0][0], nil
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
