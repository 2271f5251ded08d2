// Package cgroupfs removes cgroup directories. berth-runtime's cgroup
// managers use it, and so does containerd-shim-berth-v2 when it deletes a
// berth-runtime container itself (internal/runstate): both must remove a
// container's cgroups the same way.
package cgroupfs

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"golang.org/x/sys/unix"
)

// Root is where the cgroup hierarchies are mounted.
const Root = "/sys/fs/cgroup"

// ValidPath reports whether p can name a container's cgroup: a clean
// absolute path that is not a hierarchy root's parent.
func ValidPath(p string) bool {
	return filepath.IsAbs(p) && filepath.Clean(p) == p && p != "/" && p != Root
}

// RemovePaths removes a container's cgroups: paths maps a v1 controller
// (or "" for the unified hierarchy) to its directory, as berth-runtime
// records them. Controllers that share a directory (cpu,cpuacct) remove it
// once; the v1 hierarchies go first, in path order, then the unified one.
// It returns the first error and still tries every directory.
func RemovePaths(paths map[string]string) error {
	seen := make(map[string]bool, len(paths))
	var dirs []string
	for c, p := range paths {
		if c == "" || seen[p] {
			continue
		}
		seen[p] = true
		dirs = append(dirs, p)
	}
	sort.Strings(dirs)
	if u, ok := paths[""]; ok {
		dirs = append(dirs, u)
	}
	var first error
	for _, d := range dirs {
		if err := Remove(d); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// Remove removes dir and the cgroups below it, children first. A missing
// dir is fine. rmdir fails with EBUSY while the cgroup still counts tasks:
// a task that was just killed leaves its cgroups a little after waitpid can
// see it gone, so EBUSY is retried for about 200 ms.
func Remove(dir string) error {
	err := unix.Rmdir(dir)
	if err == nil || err == unix.ENOENT {
		return nil
	}
	if err == unix.EBUSY || err == unix.ENOTEMPTY {
		for _, sub := range Subdirs(dir) {
			if err := Remove(sub); err != nil {
				return err
			}
		}
	}
	// The wait is usually far below a millisecond: start small.
	delay := 100 * time.Microsecond
	for i := 0; ; i++ {
		err = unix.Rmdir(dir)
		switch {
		case err == nil || err == unix.ENOENT:
			return nil
		case err == unix.EINTR:
			continue
		case err != unix.EBUSY || i == 11:
			return fmt.Errorf("remove %s: %w", dir, err)
		}
		time.Sleep(delay)
		delay *= 2
	}
}

// Subdirs lists the child cgroups of dir.
func Subdirs(dir string) []string {
	f, err := os.Open(dir)
	if err != nil {
		return nil
	}
	defer f.Close()
	ents, _ := f.ReadDir(-1)
	var out []string
	for _, e := range ents {
		if e.IsDir() {
			out = append(out, dir+"/"+e.Name())
		}
	}
	return out
}
