package bundle

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// MountRootfs mounts the overlay of the container's layers on the
// bundle's rootfs: lowers (nearest first; the image's snapshot dirs) under
// the init layer, with the container layer as upper dir.
func (p Paths) MountRootfs(lowers []string) error {
	return mountOverlay(append([]string{p.InitLayer()}, lowers...), p.Upper(), p.Work(), p.Rootfs())
}

// UnmountRootfs unmounts the rootfs (nothing if it is not mounted).
func (p Paths) UnmountRootfs() error { return Unmount(p.Rootfs()) }

// mountOverlay mounts an overlay on target. mount(2) copies at most one
// page of options, which a deep image's absolute lowerdir list can
// exceed: then the paths are given relative to the snapshots directory,
// from a thread that has its own working directory (unshare(CLONE_FS)), so
// the rest of berthd keeps its cwd.
func mountOverlay(lowers []string, upper, work, target string) error {
	opts := func(rel func(string) string) string {
		l := make([]string, len(lowers))
		for i, d := range lowers {
			l[i] = rel(d)
		}
		return fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s,index=off", strings.Join(l, ":"), rel(upper), rel(work))
	}
	data := opts(func(s string) string { return s })
	if len(data) < os.Getpagesize()-1 {
		return mountRetry(target, data)
	}
	base := filepath.Dir(filepath.Dir(lowers[len(lowers)-1])) // ROOT/snapshots
	rel := func(s string) string {
		r, err := filepath.Rel(base, s)
		if err != nil {
			return s
		}
		return r
	}
	data = opts(rel)
	if len(data) >= os.Getpagesize()-1 {
		return fmt.Errorf("mount overlay on %s: %d layers do not fit in the mount options", target, len(lowers))
	}
	errc := make(chan error, 1)
	go func() {
		// The thread is never unlocked: with its own fs context it must
		// not run other goroutines, and it ends with this one.
		runtime.LockOSThread()
		if err := unix.Unshare(unix.CLONE_FS); err != nil {
			errc <- fmt.Errorf("unshare fs: %w", err)
			return
		}
		if err := unix.Chdir(base); err != nil {
			errc <- &os.PathError{Op: "chdir", Path: base, Err: err}
			return
		}
		errc <- mountRetry(target, data)
	}()
	return <-errc
}

func mountRetry(target, data string) error {
	err := unix.Mount("overlay", target, "overlay", 0, data)
	if errors.Is(err, unix.EINVAL) && strings.HasSuffix(data, ",index=off") {
		// A kernel without the index feature rejects the option.
		err = unix.Mount("overlay", target, "overlay", 0, strings.TrimSuffix(data, ",index=off"))
	}
	if err != nil {
		return fmt.Errorf("mount overlay on %s: %w", target, err)
	}
	return nil
}

// Unmount unmounts everything stacked on target. A busy mount (a process
// still exiting) is retried for two seconds, then detached.
func Unmount(target string) error {
	deadline := time.Now().Add(2 * time.Second)
	for {
		err := unix.Unmount(target, unix.UMOUNT_NOFOLLOW)
		switch {
		case err == nil:
			continue // stacked mounts
		case errors.Is(err, unix.EINVAL), errors.Is(err, unix.ENOENT):
			return nil
		case errors.Is(err, unix.EBUSY) && time.Now().Before(deadline):
			time.Sleep(10 * time.Millisecond)
		case errors.Is(err, unix.EBUSY):
			if err := unix.Unmount(target, unix.MNT_DETACH|unix.UMOUNT_NOFOLLOW); err != nil {
				return &os.PathError{Op: "umount", Path: target, Err: err}
			}
			return nil
		default:
			return &os.PathError{Op: "umount", Path: target, Err: err}
		}
	}
}

// Mounted reports whether path is a mount point.
func Mounted(path string) bool {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		fields := strings.SplitN(sc.Text(), " ", 6)
		if len(fields) > 4 && unescapeMountPath(fields[4]) == path {
			return true
		}
	}
	return false
}

// unescapeMountPath undoes mountinfo's octal escapes (\040 for a space).
func unescapeMountPath(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			var v byte
			ok := true
			for _, c := range s[i+1 : i+4] {
				if c < '0' || c > '7' {
					ok = false
					break
				}
				v = v*8 + byte(c-'0')
			}
			if ok {
				b.WriteByte(v)
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
