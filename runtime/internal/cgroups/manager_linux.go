package cgroups

import (
	"github.com/berth-project/berth/internal/cgroupfs"

	"fmt"
	"sort"
)

// New returns the Manager for a container's cgroup; it only computes paths
// and creates nothing (Apply does). cgroupsPath is the spec's
// linux.cgroupsPath: with systemd it has systemd's "slice:prefix:name" form,
// mapped to the cgroupfs path systemd would use; otherwise it is a path
// below each hierarchy root, "/<id>" when empty.
func New(cgroupsPath, id string, systemd bool) (Manager, error) {
	inner, err := innerPath(cgroupsPath, id, systemd)
	if err != nil {
		return nil, err
	}
	mode := CurrentMode()
	var mounts map[string]string
	if mode == Legacy || mode == Hybrid {
		if mounts, err = v1Mounts(); err != nil {
			return nil, err
		}
	}
	paths, err := pathsFor(mode, mounts, inner)
	if err != nil {
		return nil, err
	}
	return Load(paths)
}

// pathsFor computes Paths() for the cgroup at inner: one entry per v1
// controller (co-mounted ones share a directory) and "" for the cgroup2
// hierarchy, alone on v2 and next to the v1 ones on hybrid.
func pathsFor(mode Mode, mounts map[string]string, inner string) (map[string]string, error) {
	switch mode {
	case Unified:
		return map[string]string{"": cgroupRoot + inner}, nil
	case Legacy, Hybrid:
		if len(mounts) == 0 {
			return nil, fmt.Errorf("cgroup v1 controllers: %w: none mounted", ErrNotSupported)
		}
		paths := make(map[string]string, len(mounts)+1)
		for c, mnt := range mounts {
			paths[c] = mnt + inner
		}
		if mode == Hybrid {
			paths[""] = unifiedRoot + inner
		}
		return paths, nil
	}
	return nil, fmt.Errorf("cgroups: %w: no cgroup filesystem at %s", ErrNotSupported, cgroupRoot)
}

// Load rebuilds a Manager from the Paths() of one made by New, as stored in
// the container state. It makes no system call.
func Load(paths map[string]string) (Manager, error) {
	if len(paths) == 0 {
		return nil, fmt.Errorf("%w: no cgroup paths", ErrInvalidPath)
	}
	for c, p := range paths {
		if !cgroupfs.ValidPath(p) {
			return nil, fmt.Errorf("%w %q for controller %q: want a clean absolute path below a hierarchy root", ErrInvalidPath, p, c)
		}
	}
	if dir, ok := paths[""]; ok && len(paths) == 1 {
		return &v2Manager{dir: dir}, nil
	}
	m := &v1Manager{paths: make(map[string]string, len(paths))}
	seen := make(map[string]bool, len(paths))
	for c, p := range paths {
		if c == "" {
			m.unified = p
			continue
		}
		m.paths[c] = p
		if !seen[p] {
			seen[p] = true
			m.dirs = append(m.dirs, p)
		}
	}
	sort.Strings(m.dirs)
	return m, nil
}
