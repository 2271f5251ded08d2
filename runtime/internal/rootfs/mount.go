package rootfs

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// OpenBindSources opens, as detached mount trees (open_tree), the
// sources of the bind mounts among mounts, keyed by index. The parent
// does this for a container with a new user namespace: its init mounts
// after entering that namespace, where root is an unprivileged host user
// who may not even reach the sources (a directory under /root, berthd's
// own 0700 dirs), as runc does. Relative sources are relative to dir.
func OpenBindSources(dir string, mounts []specs.Mount) (map[int]*os.File, error) {
	out := map[int]*os.File{}
	for i := range mounts {
		m := &mounts[i]
		o := parseOptions(m.Type, m.Options)
		if !o.bind || m.Type == "cgroup" || m.Type == "cgroup2" {
			continue
		}
		src := m.Source
		if !filepath.IsAbs(src) {
			src = filepath.Join(dir, src)
		}
		flags := uint(unix.OPEN_TREE_CLONE | unix.OPEN_TREE_CLOEXEC)
		if o.flags&unix.MS_REC != 0 {
			flags |= unix.AT_RECURSIVE
		}
		fd, err := unix.OpenTree(unix.AT_FDCWD, src, flags)
		if err != nil {
			for _, f := range out {
				f.Close()
			}
			return nil, fmt.Errorf("mount %s: bind source %s: %w", m.Destination, m.Source, err)
		}
		out[i] = os.NewFile(uintptr(fd), src)
	}
	return out, nil
}

// IDMap makes the detached mount tree f (from OpenBindSources) an
// idmapped mount through the user namespace of process pid: once the
// container's user namespace exists, for mounts with uidMappings.
func IDMap(f *os.File, pid int, recursive bool) error {
	ns, err := unix.Open(fmt.Sprintf("/proc/%d/ns/user", pid), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(ns)
	flags := unix.AT_EMPTY_PATH
	if recursive {
		flags |= unix.AT_RECURSIVE
	}
	attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_IDMAP, Userns_fd: uint64(ns)}
	if err := unix.MountSetattr(int(f.Fd()), "", uint(flags), &attr); err != nil {
		return fmt.Errorf("idmapped mount of %s: %w", f.Name(), err)
	}
	return nil
}

// IsRecursiveBind reports whether m is an rbind.
func IsRecursiveBind(m *specs.Mount) bool {
	o := parseOptions(m.Type, m.Options)
	return o.bind && o.flags&unix.MS_REC != 0
}

// OpenSysfs makes, as a detached mount, the sysfs of mounts (if there is
// one, by index) as seen from the network namespace at netnsPath. A new
// user namespace may not mount sysfs while it does not own the network
// namespace it joined (one berthd made): made here by the still
// privileged parent, sysfs shows the container's own interfaces, where a
// bind of the host's /sys would show the host's.
func OpenSysfs(netnsPath string, mounts []specs.Mount) (int, *os.File, error) {
	idx := -1
	for i := range mounts {
		if mounts[i].Type == "sysfs" && !parseOptions(mounts[i].Type, mounts[i].Options).bind {
			idx = i
		}
	}
	if idx < 0 {
		return -1, nil, nil
	}
	o := parseOptions("sysfs", mounts[idx].Options)
	var attrs int
	for flag, attr := range map[uintptr]int{
		unix.MS_RDONLY: unix.MOUNT_ATTR_RDONLY, unix.MS_NOSUID: unix.MOUNT_ATTR_NOSUID,
		unix.MS_NODEV: unix.MOUNT_ATTR_NODEV, unix.MS_NOEXEC: unix.MOUNT_ATTR_NOEXEC,
	} {
		if o.flags&flag != 0 {
			attrs |= attr
		}
	}
	type result struct {
		fd  int
		err error
	}
	ch := make(chan result, 1)
	go func() {
		// This thread enters the namespace and is never given back.
		runtime.LockOSThread()
		ch <- func() result {
			ns, err := unix.Open(netnsPath, unix.O_RDONLY|unix.O_CLOEXEC, 0)
			if err != nil {
				return result{-1, err}
			}
			err = unix.Setns(ns, unix.CLONE_NEWNET)
			unix.Close(ns)
			if err != nil {
				return result{-1, fmt.Errorf("join %s: %w", netnsPath, err)}
			}
			fs, err := unix.Fsopen("sysfs", unix.FSOPEN_CLOEXEC)
			if err != nil {
				return result{-1, err}
			}
			defer unix.Close(fs)
			if err := unix.FsconfigCreate(fs); err != nil {
				return result{-1, err}
			}
			fd, err := unix.Fsmount(fs, unix.FSMOUNT_CLOEXEC, attrs)
			return result{fd, err}
		}()
	}()
	r := <-ch
	if r.err != nil {
		return -1, nil, fmt.Errorf("mount sysfs for %s: %w", netnsPath, r.err)
	}
	return idx, os.NewFile(uintptr(r.fd), "sysfs"), nil
}

// mountEntry performs one mount of config.json under rootfs. srcFd, if
// not -1, is the bind source opened by the parent (OpenBindSources).
func mountEntry(rootfs string, m *specs.Mount, srcFd int) error {
	o := parseOptions(m.Type, m.Options)
	if m.Type == "cgroup" || m.Type == "cgroup2" {
		return mountCgroup(rootfs, m, o)
	}
	source := m.Source
	mk := createDir
	if o.bind && srcFd >= 0 {
		var st unix.Stat_t
		if err := unix.Fstat(srcFd, &st); err != nil {
			return fmt.Errorf("mount %s: bind source: %w", m.Destination, err)
		}
		if st.Mode&unix.S_IFMT != unix.S_IFDIR {
			mk = createFile
		}
	} else if o.bind {
		// Relative bind sources are relative to the bundle, our cwd.
		if !filepath.IsAbs(source) {
			abs, err := filepath.Abs(source)
			if err != nil {
				return err
			}
			source = abs
		}
		fi, err := os.Stat(source)
		if err != nil {
			return fmt.Errorf("mount %s: bind source: %w", m.Destination, err)
		}
		if !fi.IsDir() {
			mk = createFile
		}
	}
	fd, err := resolve(rootfs, m.Destination, mk)
	if err != nil {
		return fmt.Errorf("mount destination %s: %w", m.Destination, err)
	}
	target := fdPath(fd)
	typ := m.Type
	if srcFd >= 0 {
		typ = ""
		// By the target's fd: move_mount does not follow a
		// /proc/self/fd path to a mount point (ENOENT).
		err = unix.MoveMount(srcFd, "", fd, "", unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH)
	} else if o.bind {
		typ = ""
		// The first bind ignores every flag but MS_REC; they need a remount.
		err = unix.Mount(source, target, "", o.flags&(unix.MS_BIND|unix.MS_REC), "")
	} else {
		err = unix.Mount(source, target, typ, o.flags, o.dataString())
		if err == unix.EPERM && m.Type == "sysfs" {
			// In a new user namespace that does not own the network
			// namespace (one made by berthd, say), the kernel refuses a
			// new sysfs; the host's is bound instead, as runc does. Its
			// files stay the host's: root in the container cannot write
			// them.
			o.bind, o.flags = true, o.flags|unix.MS_BIND|unix.MS_REC
			err = unix.Mount("/sys", target, "", unix.MS_BIND|unix.MS_REC, "")
		}
	}
	unix.Close(fd)
	if err != nil {
		return fmt.Errorf("mount %s on %s (type %q, options %v): %w", m.Source, m.Destination, m.Type, m.Options, err)
	}
	if !o.bind && o.propagation == 0 {
		return nil
	}
	// Later calls must name the new mount, not the directory under it:
	// resolve again.
	fd, err = resolve(rootfs, m.Destination, noCreate)
	if err != nil {
		return fmt.Errorf("mount destination %s: %w", m.Destination, err)
	}
	defer unix.Close(fd)
	target = fdPath(fd)
	if o.bind && o.flags&^(unix.MS_BIND|unix.MS_REC) != 0 {
		flags := o.flags | unix.MS_REMOUNT | unix.MS_BIND
		if err := unix.Mount("", target, "", flags&^unix.MS_REC, ""); err != nil {
			// Flags locked by the kernel (a source mounted nosuid in a
			// user namespace) must be kept: retry with them.
			var st unix.Statfs_t
			if unix.Fstatfs(fd, &st) != nil {
				return fmt.Errorf("remount %s: %w", m.Destination, err)
			}
			flags |= lockedFlags(st.Flags) &^ o.clear
			if err := unix.Mount("", target, "", flags&^unix.MS_REC, ""); err != nil {
				return fmt.Errorf("remount %s with %v: %w", m.Destination, m.Options, err)
			}
		}
	}
	if o.propagation != 0 {
		if err := unix.Mount("", target, "", o.propagation, ""); err != nil {
			return fmt.Errorf("set propagation of %s: %w", m.Destination, err)
		}
	}
	return nil
}
