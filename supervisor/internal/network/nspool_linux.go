package network

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// nsPool keeps one network namespace made ahead, its loopback up, held by
// an open fd: no file and no mount, so nothing of it shows outside berthd,
// and it goes when berthd exits. An attach then bind-mounts it on the
// container's path (one mount call) instead of making a namespace (an
// unshare, a mount and a netlink exchange: 1-2 ms here, on the way of
// every container's start). The next one is made in the background.
type nsPool struct {
	mu      sync.Mutex
	fds     []int
	filling bool
	closed  bool
}

// poolSize is how many namespaces wait: one covers containers started one
// after another; concurrent starts past it make their own.
const poolSize = 1

// take hands out a namespace fd, or -1 when none is ready. The caller
// closes it.
func (p *nsPool) take() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.fds) == 0 {
		return -1
	}
	fd := p.fds[len(p.fds)-1]
	p.fds = p.fds[:len(p.fds)-1]
	return fd
}

// fill makes namespaces in the background until poolSize wait.
func (p *nsPool) fill() {
	p.mu.Lock()
	if p.filling || p.closed || len(p.fds) >= poolSize {
		p.mu.Unlock()
		return
	}
	p.filling = true
	p.mu.Unlock()
	go func() {
		for {
			fd, err := newNetNSFd()
			p.mu.Lock()
			if err != nil || p.closed {
				p.filling = false
				p.mu.Unlock()
				if err == nil {
					unix.Close(fd)
				}
				return
			}
			p.fds = append(p.fds, fd)
			if len(p.fds) >= poolSize {
				p.filling = false
				p.mu.Unlock()
				return
			}
			p.mu.Unlock()
		}
	}()
}

// close releases the waiting namespaces and stops filling.
func (p *nsPool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for _, fd := range p.fds {
		unix.Close(fd)
	}
	p.fds = nil
}

// newNetNSFd makes a network namespace with its loopback up and returns
// an fd that keeps it; mountNetNSFd then gives it a path, so that it
// lives on without any process in it: berthd creates it before the
// container's process exists, the runtime joins it by path, and the
// addresses in it survive the container's restarts and berthd's.
//
// unshare(CLONE_NEWNET) moves only the calling thread, so it runs on a
// locked thread of its own that is never unlocked: when the goroutine
// ends, the Go runtime kills the thread instead of letting other
// goroutines run in the new namespace.
func newNetNSFd() (int, error) {
	type result struct {
		fd  int
		err error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			ch <- result{-1, fmt.Errorf("unshare: %w", err)}
			return
		}
		// Docker's default for a container's own network namespace:
		// any port is bindable without CAP_NET_BIND_SERVICE. The spec
		// sets it too, but a container in a user namespace cannot (the
		// namespace belongs to the host's user namespace), so it is set
		// here, where the sysctl files are this thread's namespace's.
		if err := os.WriteFile("/proc/sys/net/ipv4/ip_unprivileged_port_start", []byte("0"), 0); err != nil {
			ch <- result{-1, fmt.Errorf("ip_unprivileged_port_start: %w", err)}
			return
		}
		fd, err := unix.Open("/proc/self/task/"+strconv.Itoa(unix.Gettid())+"/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		ch <- result{fd, err}
	}()
	r := <-ch
	if r.err != nil {
		return -1, fmt.Errorf("new netns: %w", r.err)
	}
	h, err := netlink.NewHandleAt(netns.NsHandle(r.fd))
	if err == nil {
		var lo netlink.Link
		if lo, err = h.LinkByName("lo"); err == nil {
			err = h.LinkSetUp(lo)
		}
		h.Close()
	}
	if err != nil {
		unix.Close(r.fd)
		return -1, fmt.Errorf("new netns: loopback: %w", err)
	}
	return r.fd, nil
}

// mountNetNSFd bind-mounts the namespace of fd on a new file at path.
func mountNetNSFd(fd int, path string) error {
	f, err := unix.Open(path, unix.O_RDONLY|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC, 0o444)
	if err != nil {
		return fmt.Errorf("create netns %s: %w", path, err)
	}
	unix.Close(f)
	if err := unix.Mount("/proc/self/fd/"+strconv.Itoa(fd), path, "", unix.MS_BIND, ""); err != nil {
		unix.Unlink(path)
		return fmt.Errorf("bind mount netns on %s: %w", path, err)
	}
	return nil
}

// makeNetNS gives path a new network namespace with its loopback up: a
// pooled one when there is one.
func (m *Manager) makeNetNS(path string) error {
	defer m.pool.fill()
	fd := m.pool.take()
	if fd < 0 {
		var err error
		if fd, err = newNetNSFd(); err != nil {
			return err
		}
	}
	defer unix.Close(fd)
	return mountNetNSFd(fd, path)
}
