// Package rootfs builds a container's root filesystem inside its new mount
// namespace: the mounts of config.json, /dev, pivot_root, then masked and
// read-only paths. Every destination is resolved inside the rootfs without
// following symlinks out of it (see resolve.go).
package rootfs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Setup runs in the container's init, in its own mount namespace, and
// leaves the process with rootfs as its root directory.
// beforePivot runs once the mounts are in place, before the root changes
// (the point where the createRuntime and createContainer hooks run).
// sources are the fds of bind sources opened by the parent, by mount
// index (see OpenBindSources); the others are mounted by path.
func Setup(spec *specs.Spec, rootfs string, noPivot bool, sources map[int]int, beforePivot func() error) error {
	// Nothing we mount may propagate back to the host.
	if err := unix.Mount("", "/", "", unix.MS_SLAVE|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("make / rslave: %w", err)
	}
	// pivot_root needs the new root to be a mount point.
	if err := unix.Mount(rootfs, rootfs, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("bind mount rootfs %s: %w", rootfs, err)
	}
	for i := range spec.Mounts {
		src := -1
		if fd, ok := sources[i]; ok {
			src = fd
		}
		err := mountEntry(rootfs, &spec.Mounts[i], src)
		if src >= 0 {
			unix.Close(src)
		}
		if err != nil {
			return err
		}
	}
	// A /dev bound from elsewhere (the host's, with docker's -v /dev:/dev)
	// is used as it is: creating nodes and links in it would replace the
	// source's own entries.
	if !hasBindMount(spec, "/dev") {
		if err := createDevices(rootfs, spec); err != nil {
			return err
		}
		if err := devSymlinks(rootfs); err != nil {
			return err
		}
	}
	if beforePivot != nil {
		if err := beforePivot(); err != nil {
			return err
		}
	}
	if noPivot {
		return moveRoot(rootfs)
	}
	return pivotRoot(rootfs)
}

// Finish runs after the root change: sysctls, then masked and read-only
// paths, then the read-only root (in that order, since the later steps make
// the earlier ones impossible).
func Finish(spec *specs.Spec) error {
	l := spec.Linux
	if l != nil {
		for k, v := range l.Sysctl {
			if err := writeSysctl(k, v); err != nil {
				return err
			}
		}
		for _, p := range l.ReadonlyPaths {
			if err := readonlyPath(p); err != nil {
				return err
			}
		}
		for _, p := range l.MaskedPaths {
			if err := maskPath(p); err != nil {
				return err
			}
		}
	}
	if l != nil && l.RootfsPropagation != "" {
		p, ok := propagationOpts[l.RootfsPropagation]
		if !ok {
			return fmt.Errorf("unknown rootfsPropagation %q", l.RootfsPropagation)
		}
		if err := unix.Mount("", "/", "", p, ""); err != nil {
			return fmt.Errorf("set rootfs propagation %s: %w", l.RootfsPropagation, err)
		}
	}
	if spec.Root.Readonly {
		if err := remountReadonly("/"); err != nil {
			return fmt.Errorf("make rootfs read-only: %w", err)
		}
	}
	return nil
}

func hasBindMount(spec *specs.Spec, dest string) bool {
	for _, m := range spec.Mounts {
		if filepath.Clean(m.Destination) == dest && parseOptions(m.Type, m.Options).bind {
			return true
		}
	}
	return false
}

// pivotRoot makes rootfs the root and detaches the old one, without needing
// a directory for it inside the rootfs (pivot_root(".", ".") stacks the old
// root on top of the new one, then we unmount it).
func pivotRoot(rootfs string) error {
	oldRoot, err := unix.Open("/", unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open /: %w", err)
	}
	defer unix.Close(oldRoot)
	newRoot, err := unix.Open(rootfs, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open rootfs: %w", err)
	}
	defer unix.Close(newRoot)
	if err := unix.Fchdir(newRoot); err != nil {
		return fmt.Errorf("chdir to rootfs: %w", err)
	}
	if err := unix.PivotRoot(".", "."); err != nil {
		return fmt.Errorf("pivot_root: %w", err)
	}
	if err := unix.Fchdir(oldRoot); err != nil {
		return fmt.Errorf("chdir to old root: %w", err)
	}
	// The old root may be shared with the host: keep the unmount from
	// propagating there.
	if err := unix.Mount("", ".", "", unix.MS_SLAVE|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("make old root rslave: %w", err)
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("unmount old root: %w", err)
	}
	if err := unix.Chdir("/"); err != nil {
		return fmt.Errorf("chdir /: %w", err)
	}
	return nil
}

// moveRoot is --no-pivot: move the rootfs mount over / and chroot into it.
func moveRoot(rootfs string) error {
	if err := unix.Chdir(rootfs); err != nil {
		return fmt.Errorf("chdir to rootfs: %w", err)
	}
	if err := unix.Mount(rootfs, "/", "", unix.MS_MOVE, ""); err != nil {
		return fmt.Errorf("move rootfs to /: %w", err)
	}
	if err := unix.Chroot("."); err != nil {
		return fmt.Errorf("chroot: %w", err)
	}
	if err := unix.Chdir("/"); err != nil {
		return fmt.Errorf("chdir /: %w", err)
	}
	return nil
}

// remountReadonly makes the mount at path read-only, keeping the flags the
// kernel locks on it (nosuid, nodev, noexec, atime flags).
func remountReadonly(path string) error {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return &os.PathError{Op: "statfs", Path: path, Err: err}
	}
	flags := uintptr(unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY) | lockedFlags(st.Flags)
	if err := unix.Mount("", path, "", flags, ""); err != nil {
		return &os.PathError{Op: "remount read-only", Path: path, Err: err}
	}
	return nil
}

// lockedFlags turns statfs f_flags into the MS_ flags a bind remount must
// repeat.
func lockedFlags(f int64) uintptr {
	var out uintptr
	for st, ms := range map[int64]uintptr{
		unix.ST_NOSUID: unix.MS_NOSUID, unix.ST_NODEV: unix.MS_NODEV, unix.ST_NOEXEC: unix.MS_NOEXEC,
		unix.ST_NOATIME: unix.MS_NOATIME, unix.ST_NODIRATIME: unix.MS_NODIRATIME, unix.ST_RELATIME: unix.MS_RELATIME,
	} {
		if f&st != 0 {
			out |= ms
		}
	}
	return out
}

func writeSysctl(key, value string) error {
	path := "/proc/sys/" + filepath.Clean(replaceDots(key))
	if err := os.WriteFile(path, []byte(value), 0); err != nil {
		return fmt.Errorf("set sysctl %s: %w", key, err)
	}
	return nil
}

func replaceDots(k string) string {
	b := []byte(k)
	for i, c := range b {
		if c == '.' {
			b[i] = '/'
		} else if c == '/' {
			b[i] = '.'
		}
	}
	return string(b)
}

// readonlyPath bind mounts path onto itself read-only; a missing path is
// not an error (it is not there to protect).
func readonlyPath(path string) error {
	if err := unix.Mount(path, path, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return nil
		}
		return &os.PathError{Op: "bind mount read-only path", Path: path, Err: err}
	}
	return remountReadonly(path)
}

// maskPath hides path: /dev/null over a file, an empty read-only tmpfs over
// a directory.
func maskPath(path string) error {
	err := unix.Mount("/dev/null", path, "", unix.MS_BIND, "")
	if errors.Is(err, unix.ENOTDIR) {
		err = unix.Mount("tmpfs", path, "tmpfs", unix.MS_RDONLY, "size=0k")
	}
	if err != nil && !errors.Is(err, unix.ENOENT) {
		return &os.PathError{Op: "mask", Path: path, Err: err}
	}
	return nil
}
