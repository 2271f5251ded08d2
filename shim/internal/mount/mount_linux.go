// Package mount mounts the rootfs that a Create request describes (what the
// snapshotter returned: an overlay, or a bind mount of a directory) on the
// bundle's rootfs directory, and unmounts it again.
package mount

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Mount is one entry of a Create request's rootfs.
type Mount struct {
	Type    string
	Source  string
	Target  string // inside the rootfs; "" is the rootfs itself
	Options []string
}

// All mounts ms on rootfs in order and unmounts what it did if one fails.
func All(ms []Mount, rootfs string) (err error) {
	defer func() {
		if err != nil {
			UnmountAll(rootfs)
		}
	}()
	for _, m := range ms {
		target := filepath.Join(rootfs, filepath.Clean("/"+m.Target))
		if err := m.mount(target); err != nil {
			return err
		}
	}
	return nil
}

var flagOptions = map[string]struct {
	clear bool
	flag  uintptr
}{
	"async":         {true, unix.MS_SYNCHRONOUS},
	"atime":         {true, unix.MS_NOATIME},
	"bind":          {false, unix.MS_BIND},
	"defaults":      {false, 0},
	"dev":           {true, unix.MS_NODEV},
	"diratime":      {true, unix.MS_NODIRATIME},
	"dirsync":       {false, unix.MS_DIRSYNC},
	"exec":          {true, unix.MS_NOEXEC},
	"mand":          {false, unix.MS_MANDLOCK},
	"noatime":       {false, unix.MS_NOATIME},
	"nodev":         {false, unix.MS_NODEV},
	"nodiratime":    {false, unix.MS_NODIRATIME},
	"noexec":        {false, unix.MS_NOEXEC},
	"nomand":        {true, unix.MS_MANDLOCK},
	"norelatime":    {true, unix.MS_RELATIME},
	"nostrictatime": {true, unix.MS_STRICTATIME},
	"nosuid":        {false, unix.MS_NOSUID},
	"rbind":         {false, unix.MS_BIND | unix.MS_REC},
	"relatime":      {false, unix.MS_RELATIME},
	"remount":       {false, unix.MS_REMOUNT},
	"ro":            {false, unix.MS_RDONLY},
	"rw":            {true, unix.MS_RDONLY},
	"strictatime":   {false, unix.MS_STRICTATIME},
	"suid":          {true, unix.MS_NOSUID},
	"sync":          {false, unix.MS_SYNCHRONOUS},
}

// parseOptions splits mount(8)-style options into flags and fs data.
func parseOptions(opts []string) (flags uintptr, data []string) {
	for _, o := range opts {
		if f, ok := flagOptions[o]; ok {
			if f.clear {
				flags &^= f.flag
			} else {
				flags |= f.flag
			}
			continue
		}
		data = append(data, o)
	}
	return flags, data
}

func (m Mount) mount(target string) error {
	flags, data := parseOptions(m.Options)
	typ := m.Type
	if typ == "bind" || typ == "rbind" {
		flags |= unix.MS_BIND
		if typ == "rbind" {
			flags |= unix.MS_REC
		}
	}
	joined := strings.Join(data, ",")
	if typ == "overlay" && len(joined) >= os.Getpagesize()-1 {
		// mount(2) copies at most one page of data; a deep image's
		// lowerdir list does not fit, so hand the layers one at a time to
		// the new mount API.
		return mountOverlayFsconfig(data, target)
	}
	if err := unix.Mount(m.Source, target, typ, flags, joined); err != nil {
		return fmt.Errorf("mount %s (%s) on %s: %w", m.Source, typ, target, err)
	}
	// A bind mount ignores MS_RDONLY and the other per-mount flags on its
	// first call; they take effect on a remount.
	if flags&unix.MS_BIND != 0 && flags&^(unix.MS_BIND|unix.MS_REC) != 0 {
		if err := unix.Mount("", target, "", flags|unix.MS_REMOUNT, ""); err != nil {
			unix.Unmount(target, unix.MNT_DETACH)
			return fmt.Errorf("remount %s: %w", target, err)
		}
	}
	return nil
}

func mountOverlayFsconfig(data []string, target string) error {
	fsfd, err := unix.Fsopen("overlay", unix.FSOPEN_CLOEXEC)
	if err != nil {
		return fmt.Errorf("fsopen overlay: %w", err)
	}
	defer unix.Close(fsfd)
	for _, o := range data {
		k, v, hasValue := strings.Cut(o, "=")
		switch {
		case k == "lowerdir":
			for _, l := range strings.Split(v, ":") {
				if err := unix.FsconfigSetString(fsfd, "lowerdir+", l); err != nil {
					return fmt.Errorf("overlay lowerdir+ %s: %w", l, err)
				}
			}
		case hasValue:
			err = unix.FsconfigSetString(fsfd, k, v)
		default:
			err = unix.FsconfigSetFlag(fsfd, k)
		}
		if err != nil {
			return fmt.Errorf("overlay option %s: %w", o, err)
		}
	}
	if err := unix.FsconfigCreate(fsfd); err != nil {
		return fmt.Errorf("overlay create: %w", err)
	}
	mfd, err := unix.Fsmount(fsfd, unix.FSMOUNT_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("fsmount overlay: %w", err)
	}
	defer unix.Close(mfd)
	if err := unix.MoveMount(mfd, "", unix.AT_FDCWD, target, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
		return fmt.Errorf("move_mount overlay on %s: %w", target, err)
	}
	return nil
}

// UnmountAll unmounts everything stacked on target. A busy mount (a
// process still exiting) is retried for a second, then detached.
func UnmountAll(target string) error {
	deadline := time.Now().Add(time.Second)
	for {
		err := unix.Unmount(target, unix.UMOUNT_NOFOLLOW)
		switch {
		case err == nil:
			continue
		case errors.Is(err, unix.EINVAL), errors.Is(err, unix.ENOENT):
			return nil // not (or no longer) a mount point
		case errors.Is(err, unix.EBUSY) && time.Now().Before(deadline):
			time.Sleep(20 * time.Millisecond)
		case errors.Is(err, unix.EBUSY):
			if err := unix.Unmount(target, unix.MNT_DETACH|unix.UMOUNT_NOFOLLOW); err != nil {
				return &os.PathError{Op: "umount", Path: target, Err: err}
			}
		default:
			return &os.PathError{Op: "umount", Path: target, Err: err}
		}
	}
}
