package rootfs

import (
	"fmt"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// mountEntry performs one mount of config.json under rootfs.
func mountEntry(rootfs string, m *specs.Mount) error {
	o := parseOptions(m.Type, m.Options)
	if m.Type == "cgroup" || m.Type == "cgroup2" {
		return mountCgroup(rootfs, m, o)
	}
	source := m.Source
	mk := createDir
	if o.bind {
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
	if o.bind {
		typ = ""
		// The first bind ignores every flag but MS_REC; they need a remount.
		err = unix.Mount(source, target, "", o.flags&(unix.MS_BIND|unix.MS_REC), "")
	} else {
		err = unix.Mount(source, target, typ, o.flags, o.dataString())
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
