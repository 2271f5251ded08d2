package cgroups

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/berth-project/berth/internal/cgroupfs"
)

// v2Manager drives a cgroup in the unified (cgroup2) hierarchy.
type v2Manager struct {
	dir string
}

func (m *v2Manager) Apply(pid int) error {
	if err := m.Prepare(); err != nil {
		return err
	}
	return writeFile(m.dir, "cgroup.procs", strconv.Itoa(pid))
}

// Prepare creates the cgroup with every controller enabled above it.
func (m *v2Manager) Prepare() error {
	if err := mkdirAll(m.dir); err != nil {
		return err
	}
	return enableControllers(cgroupRoot, m.dir)
}

// JoinPlan: fork into the cgroup (required: it is the only hierarchy).
func (m *v2Manager) JoinPlan() (tasks []string, unified string, unifiedOptional bool) {
	return nil, m.dir, false
}

// enableControllers enables every available controller in the
// subtree_control of root and of each parent of dir, so that dir gets the
// interface files Set writes. Like runc it enables them all rather than only
// those a spec uses, so a later update can set any limit. Failures are
// ignored: a parent with processes of its own cannot delegate controllers
// (the "no internal processes" rule), and Set then reports the missing file.
func enableControllers(root, dir string) error {
	avail, err := readFile(root, "cgroup.controllers")
	if err != nil {
		return err
	}
	ctrls := strings.Fields(avail)
	if len(ctrls) == 0 {
		return nil
	}
	all := "+" + strings.Join(ctrls, " +")
	for p, rest := root, strings.TrimPrefix(dir, root+"/"); ; {
		if err := writeFile(p, "cgroup.subtree_control", all); err != nil {
			for _, c := range ctrls {
				_ = writeFile(p, "cgroup.subtree_control", "+"+c)
			}
		}
		next, after, more := strings.Cut(rest, "/")
		if !more {
			return nil
		}
		p, rest = p+"/"+next, after
	}
}

func (m *v2Manager) Pids() ([]int, error) { return pidsIn(m.dir, nil) }

func (m *v2Manager) Freeze() error { return freezeV2(m.dir) }

func (m *v2Manager) Thaw() error { return writeFile(m.dir, "cgroup.freeze", "0") }

func (m *v2Manager) Frozen() (bool, error) { return frozenV2(m.dir) }

func (m *v2Manager) Destroy() error { return cgroupfs.Remove(m.dir) }

func (m *v2Manager) Paths() map[string]string { return map[string]string{"": m.dir} }

// OOMKillCount reads the oom_kill line of memory.events, which counts the
// cgroup and its descendants.
func (m *v2Manager) OOMKillCount() (uint64, error) {
	s, err := readFile(m.dir, "memory.events")
	if err != nil {
		return 0, err
	}
	n, ok := keyValue(s, "oom_kill")
	if !ok {
		return 0, fmt.Errorf("read %s/memory.events: %w: no oom_kill count", m.dir, ErrNotSupported)
	}
	return n, nil
}
