package cgroup

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"golang.org/x/sys/unix"
)

// OOMWatch reports the OOM kills of a container's memory cgroup.
type OOMWatch struct {
	// mu makes a kill's report and Flush one step each: a kill is
	// reported once, and a report that started ends before Flush returns.
	mu    sync.Mutex
	over  bool        // the loop ended; check's fds are closed
	check func() bool // reads what is pending without blocking; true: a kill
	fn    func()
	close func() // ends the loop's wait
}

// Stop ends the watch.
func (w *OOMWatch) Stop() { w.close() }

// Flush reports a kill the kernel has signalled and the watch has not
// reported yet, and waits for a report under way. The exit of a process
// the OOM killer ended is seen by the reaper about when the kill is
// signalled here; flushing before the exit is published orders the
// events as containerd expects: the OOM first.
func (w *OOMWatch) Flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.over && w.check() {
		w.fn()
	}
}

// watch runs the reporting loop: wait blocks until something may be
// pending (false: the watch is over); release then closes what check
// uses, once Flush can no longer use it.
func (w *OOMWatch) watch(wait func() bool, release func()) {
	for wait() {
		w.mu.Lock()
		if w.check() {
			w.fn()
		}
		w.mu.Unlock()
	}
	w.mu.Lock()
	w.over = true
	release()
	w.mu.Unlock()
}

// WatchOOM calls fn each time the kernel's OOM killer acts in the
// container's memory cgroup, until the cgroup is removed or Stop is
// called. v1 uses an eventfd registered through cgroup.event_control on
// memory.oom_control; v2 watches memory.events with inotify and compares
// oom_kill counts. Both fds are non-blocking and wait in Go's poller.
func (c *Cgroup) WatchOOM(fn func()) (*OOMWatch, error) {
	if d := c.v1["memory"]; d != "" {
		return watchV1(d, fn)
	}
	if c.v2 != "" {
		return watchV2(c.v2, fn)
	}
	return &OOMWatch{over: true, fn: fn, close: func() {}}, nil
}

func watchV1(dir string, fn func()) (*OOMWatch, error) {
	ctl, err := os.Open(filepath.Join(dir, "memory.oom_control"))
	if err != nil {
		return nil, err
	}
	defer ctl.Close()
	efd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		return nil, os.NewSyscallError("eventfd", err)
	}
	reg := fmt.Sprintf("%d %d", efd, ctl.Fd())
	if err := os.WriteFile(filepath.Join(dir, "cgroup.event_control"), []byte(reg), 0); err != nil {
		unix.Close(efd)
		return nil, err
	}
	// Reads without blocking go to the fd itself (Flush); the loop waits
	// for readability in the poller through a duplicate.
	dup, err := unix.Dup(efd)
	if err != nil {
		unix.Close(efd)
		return nil, os.NewSyscallError("dup", err)
	}
	unix.CloseOnExec(dup)
	ev := os.NewFile(uintptr(dup), "oom-eventfd")
	rc, err := ev.SyscallConn()
	if err != nil {
		ev.Close()
		unix.Close(efd)
		return nil, err
	}
	var closeOnce sync.Once
	w := &OOMWatch{fn: fn}
	w.close = func() { closeOnce.Do(func() { ev.Close() }) }
	w.check = func() bool {
		var buf [8]byte
		n, err := unix.Read(efd, buf[:])
		if err != nil || n != 8 || binary.NativeEndian.Uint64(buf[:]) == 0 {
			return false
		}
		// The eventfd also fires when the cgroup is removed.
		_, err = os.Stat(filepath.Join(dir, "memory.oom_control"))
		return err == nil
	}
	go func() {
		w.watch(func() bool {
			werr := rc.Read(func(uintptr) bool {
				// Ready when the eventfd has a count; the read is check's.
				var fds = []unix.PollFd{{Fd: int32(efd), Events: unix.POLLIN}}
				n, _ := unix.Poll(fds, 0)
				return n > 0
			})
			if werr != nil {
				return false
			}
			if _, err := os.Stat(filepath.Join(dir, "memory.oom_control")); err != nil {
				return false
			}
			return true
		}, func() {
			w.close()
			unix.Close(efd)
		})
	}()
	return w, nil
}

func watchV2(dir string, fn func()) (*OOMWatch, error) {
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
	w := &OOMWatch{fn: fn}
	var closeOnce sync.Once
	w.close = func() { closeOnce.Do(func() { f.Close() }) }
	w.check = func() bool {
		if cur := readKV(dir, "memory.events")["oom_kill"]; cur > last {
			last = cur
			return true
		}
		return false
	}
	go func() {
		buf := make([]byte, 4096)
		w.watch(func() bool {
			n, err := f.Read(buf)
			if err != nil {
				return false
			}
			for off := 0; off+unix.SizeofInotifyEvent <= n; {
				mask := binary.NativeEndian.Uint32(buf[off+4:])
				nameLen := binary.NativeEndian.Uint32(buf[off+12:])
				off += unix.SizeofInotifyEvent + int(nameLen)
				if mask&unix.IN_IGNORED != 0 {
					return false // the cgroup was removed
				}
			}
			return true
		}, w.close)
	}()
	return w, nil
}
