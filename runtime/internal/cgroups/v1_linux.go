package cgroups

import (
	"fmt"
	"maps"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/cgroupfs"
)

// v1Manager drives a cgroup in the v1 hierarchies (Legacy and Hybrid).
type v1Manager struct {
	paths   map[string]string // controller -> directory
	dirs    []string          // the distinct directories, sorted
	unified string            // Hybrid: the same cgroup in the cgroup2 hierarchy
	// unifiedMade: Prepare created (or found) the cgroup2 directory.
	unifiedMade bool
}

// dir returns the directory of a v1 controller.
func (m *v1Manager) dir(controller string) (string, error) {
	if d := m.paths[controller]; d != "" {
		return d, nil
	}
	return "", fmt.Errorf("cgroup v1 %s controller %w: not mounted", controller, ErrNotSupported)
}

// Apply creates the cgroup in every v1 hierarchy, including named ones such
// as name=systemd, and moves pid into it. On Hybrid it also joins the cgroup2
// hierarchy, best effort: it may be read-only, and only the few controllers
// v1 lacks live there, which Set enables if it needs them. On error the
// caller kills pid and calls Destroy.
func (m *v1Manager) Apply(pid int) error {
	if err := m.Prepare(); err != nil {
		return err
	}
	p := strconv.Itoa(pid)
	for _, d := range m.dirs {
		if err := writeFile(d, "cgroup.procs", p); err != nil {
			return err
		}
	}
	if m.unifiedMade {
		_ = writeFile(m.unified, "cgroup.procs", p)
	}
	return nil
}

// Prepare creates the cgroup in every v1 hierarchy (and, best effort, in
// the cgroup2 one on Hybrid).
func (m *v1Manager) Prepare() error {
	cpuset := m.paths["cpuset"]
	for _, d := range m.dirs {
		var err error
		if d == cpuset {
			_, _, err = ensureCpuset(d)
		} else {
			err = mkdirAll(d)
		}
		if err != nil {
			return err
		}
	}
	m.unifiedMade = m.unified != "" && mkdirAll(m.unified) == nil
	return nil
}

// JoinPlan: the tasks file of every hierarchy, and the cgroup2 directory,
// best effort: if Prepare could not make it, the join skips it.
func (m *v1Manager) JoinPlan() (tasks []string, unified string, unifiedOptional bool) {
	for _, d := range m.dirs {
		tasks = append(tasks, d+"/tasks")
	}
	return tasks, m.unified, true
}

// ensureCpuset creates dir and returns its cpus and mems. A new v1 cpuset
// cgroup starts with empty cpuset.cpus and cpuset.mems, and the kernel
// refuses tasks (ENOSPC) until both are set, so they are copied from the
// parent, creating and fixing up parents first as needed.
func ensureCpuset(dir string) (cpus, mems string, err error) {
	created := true
	switch err := unix.Mkdir(dir, 0o755); err {
	case nil, unix.ENOENT: // ENOENT: the parent is missing, made below
		created = err == nil
	case unix.EEXIST:
		if cpus, err = readFile(dir, "cpuset.cpus"); err != nil {
			return "", "", err
		}
		if mems, err = readFile(dir, "cpuset.mems"); err != nil {
			return "", "", err
		}
		cpus, mems = strings.TrimSpace(cpus), strings.TrimSpace(mems)
		if cpus != "" && mems != "" {
			return cpus, mems, nil
		}
	default:
		return "", "", fmt.Errorf("mkdir %s: %w", dir, err)
	}
	// The walk ends at the hierarchy root, whose cpus and mems are never
	// empty; above it cpuset.cpus is missing and reading it fails.
	parent := dir[:max(strings.LastIndexByte(dir, '/'), 0)]
	if parent == "" {
		return "", "", fmt.Errorf("cpuset of %s: %w: no cpuset hierarchy above it", dir, ErrNotSupported)
	}
	pcpus, pmems, err := ensureCpuset(parent)
	if err != nil {
		return "", "", err
	}
	if !created {
		if err := mkdirAll(dir); err != nil {
			return "", "", err
		}
	}
	if cpus == "" {
		if err := writeFile(dir, "cpuset.cpus", pcpus); err != nil {
			return "", "", err
		}
	}
	if mems == "" {
		if err := writeFile(dir, "cpuset.mems", pmems); err != nil {
			return "", "", err
		}
	}
	return pcpus, pmems, nil
}

// Pids reads one hierarchy every process is in, preferring those that
// exist for tracking processes.
func (m *v1Manager) Pids() ([]int, error) {
	for _, c := range []string{"pids", "freezer", "memory", "name=systemd"} {
		if d := m.paths[c]; d != "" {
			return pidsIn(d, nil)
		}
	}
	return pidsIn(m.dirs[0], nil)
}

// freezer returns the directory that freezes the cgroup: the v1 freezer,
// or on Hybrid without it the cgroup2 cgroup (v2 is true).
func (m *v1Manager) freezer() (dir string, v2 bool, err error) {
	if d := m.paths["freezer"]; d != "" {
		return d, false, nil
	}
	if m.unified != "" {
		return m.unified, true, nil
	}
	return "", false, fmt.Errorf("freezer: %w: no freezer controller", ErrNotSupported)
}

func (m *v1Manager) Freeze() error {
	d, v2, err := m.freezer()
	switch {
	case err != nil:
		return err
	case v2:
		return freezeV2(d)
	}
	return freezeV1(d)
}

func (m *v1Manager) Thaw() error {
	d, v2, err := m.freezer()
	switch {
	case err != nil:
		return err
	case v2:
		return writeFile(d, "cgroup.freeze", "0")
	}
	return writeFile(d, "freezer.state", "THAWED")
}

func (m *v1Manager) Frozen() (bool, error) {
	d, v2, err := m.freezer()
	switch {
	case err != nil:
		return false, nil // nothing can freeze it
	case v2:
		return frozenV2(d)
	}
	return frozenV1(d)
}

// Destroy removes the cgroup from every hierarchy; the parents stay, as
// with runc, since other containers may share them.
func (m *v1Manager) Destroy() error { return cgroupfs.RemovePaths(m.Paths()) }

func (m *v1Manager) Paths() map[string]string {
	p := maps.Clone(m.paths)
	if m.unified != "" {
		p[""] = m.unified
	}
	return p
}

// OOMKillCount reads the oom_kill line of memory.oom_control (kernel >= 4.13).
func (m *v1Manager) OOMKillCount() (uint64, error) {
	d, err := m.dir("memory")
	if err != nil {
		return 0, err
	}
	s, err := readFile(d, "memory.oom_control")
	if err != nil {
		return 0, err
	}
	n, ok := keyValue(s, "oom_kill")
	if !ok {
		return 0, fmt.Errorf("read %s/memory.oom_control: %w: no oom_kill count (kernel < 4.13)", d, ErrNotSupported)
	}
	return n, nil
}
