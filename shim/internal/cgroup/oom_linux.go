package cgroup

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// WatchOOM calls fn each time the kernel's OOM killer acts in the
// container's memory cgroup, until the cgroup is removed or stop is called.
// v1 uses an eventfd registered through cgroup.event_control on
// memory.oom_control; v2 watches memory.events with inotify and compares
// oom_kill counts. Both fds are non-blocking and wait in Go's poller.
func (c *Cgroup) WatchOOM(fn func()) (stop func(), err error) {
	if d := c.v1["memory"]; d != "" {
		return watchV1(d, fn)
	}
	if c.v2 != "" {
		return watchV2(c.v2, fn)
	}
	return func() {}, nil
}

func watchV1(dir string, fn func()) (func(), error) {
	ctl, err := os.Open(filepath.Join(dir, "memory.oom_control"))
	if err != nil {
		return nil, err
	}
	defer ctl.Close()
	efd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		return nil, os.NewSyscallError("eventfd", err)
	}
	ev := os.NewFile(uintptr(efd), "oom-eventfd")
	reg := fmt.Sprintf("%d %d", efd, ctl.Fd())
	if err := os.WriteFile(filepath.Join(dir, "cgroup.event_control"), []byte(reg), 0); err != nil {
		ev.Close()
		return nil, err
	}
	go func() {
		defer ev.Close()
		buf := make([]byte, 8)
		for {
			if _, err := ev.Read(buf); err != nil {
				return
			}
			// The eventfd also fires when the cgroup is removed.
			if _, err := os.Stat(filepath.Join(dir, "memory.oom_control")); err != nil {
				return
			}
			if binary.NativeEndian.Uint64(buf) > 0 {
				fn()
			}
		}
	}()
	return func() { ev.Close() }, nil
}

func watchV2(dir string, fn func()) (func(), error) {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return nil, os.NewSyscallError("inotify_init1", err)
	}
	events := filepath.Join(dir, "memory.events")
	if _, err := unix.InotifyAddWatch(fd, events, unix.IN_MODIFY); err != nil {
		unix.Close(fd)
		return nil, &os.PathError{Op: "inotify_add_watch", Path: events, Err: err}
	}
	f := os.NewFile(uintptr(fd), "oom-inotify")
	last := readKV(dir, "memory.events")["oom_kill"]
	go func() {
		defer f.Close()
		buf := make([]byte, 4096)
		for {
			n, err := f.Read(buf)
			if err != nil {
				return
			}
			for off := 0; off+unix.SizeofInotifyEvent <= n; {
				mask := binary.NativeEndian.Uint32(buf[off+4:])
				nameLen := binary.NativeEndian.Uint32(buf[off+12:])
				off += unix.SizeofInotifyEvent + int(nameLen)
				if mask&unix.IN_IGNORED != 0 {
					return // the cgroup was removed
				}
			}
			if cur := readKV(dir, "memory.events")["oom_kill"]; cur > last {
				last = cur
				fn()
			}
		}
	}()
	return func() { f.Close() }, nil
}
