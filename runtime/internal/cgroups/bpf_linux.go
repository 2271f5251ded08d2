package cgroups

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Attribute layouts of the bpf(2) commands used here (union bpf_attr in
// include/uapi/linux/bpf.h), trimmed to the fields berth sets; the kernel
// zero-fills the rest.
type (
	bpfProgLoadAttr struct {
		progType    uint32
		insnCnt     uint32
		insns       uint64
		license     uint64
		logLevel    uint32
		logSize     uint32
		logBuf      uint64
		kernVersion uint32
		progFlags   uint32
	}
	bpfAttachAttr struct {
		targetFd    uint32
		attachBpfFd uint32
		attachType  uint32
		attachFlags uint32
	}
	bpfQueryAttr struct {
		targetFd    uint32
		attachType  uint32
		queryFlags  uint32
		attachFlags uint32
		progIDs     uint64
		progCnt     uint32
		_           uint32
	}
	bpfGetFdAttr struct {
		id uint32
		_  [2]uint32
	}
)

// bpfLicense only matters for GPL-only helpers, which a device filter
// does not call.
var bpfLicense = []byte("Apache\x00")

// Buffer sizes are variables, not constants, so that the buffers are
// heap-allocated: bpf(2) takes their addresses as integers inside the
// attribute structs, which the runtime would not update if it moved a stack.
var bpfLogSize, bpfMaxFilters = 16 << 10, 64

func bpf(cmd int, attr unsafe.Pointer, size uintptr) (int, error) {
	for {
		r, _, errno := unix.Syscall(unix.SYS_BPF, uintptr(cmd), uintptr(attr), size)
		if errno == unix.EINTR || errno == unix.EAGAIN {
			continue
		}
		if errno != 0 {
			return -1, errno
		}
		return int(r), nil
	}
}

// attachDeviceFilter loads prog and attaches it to the cgroup2 directory dir
// in place of any device filter already attached there, so that Set can also
// update a running container. The new filter is attached before the old ones
// are detached: BPF_F_ALLOW_MULTI runs them all and a device must pass every
// one, so no request is allowed in between that either filter would deny.
func attachDeviceFilter(dir string, prog []bpfInsn) error {
	progFd, err := loadDeviceFilter(prog)
	if err != nil {
		return err
	}
	defer unix.Close(progFd)
	dirFd, err := unix.Open(dir, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", dir, err)
	}
	defer unix.Close(dirFd)

	old, err := attachedFilters(dirFd)
	if err != nil {
		return fmt.Errorf("query device filters of %s: %w", dir, err)
	}
	attach := bpfAttachAttr{targetFd: uint32(dirFd), attachBpfFd: uint32(progFd), attachType: unix.BPF_CGROUP_DEVICE, attachFlags: unix.BPF_F_ALLOW_MULTI}
	if _, err := bpf(unix.BPF_PROG_ATTACH, unsafe.Pointer(&attach), unsafe.Sizeof(attach)); err != nil {
		return fmt.Errorf("attach device filter to %s: %w", dir, err)
	}
	for _, id := range old {
		get := bpfGetFdAttr{id: id}
		fd, err := bpf(unix.BPF_PROG_GET_FD_BY_ID, unsafe.Pointer(&get), unsafe.Sizeof(get))
		if errors.Is(err, unix.ENOENT) {
			continue // detached meanwhile
		}
		if err != nil {
			return fmt.Errorf("get device filter %d of %s: %w", id, dir, err)
		}
		detach := bpfAttachAttr{targetFd: uint32(dirFd), attachBpfFd: uint32(fd), attachType: unix.BPF_CGROUP_DEVICE}
		_, err = bpf(unix.BPF_PROG_DETACH, unsafe.Pointer(&detach), unsafe.Sizeof(detach))
		unix.Close(fd)
		if err != nil && !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("detach device filter %d from %s: %w", id, dir, err)
		}
	}
	return nil
}

// attachedFilters lists the ids of the device programs attached directly to
// the cgroup (not inherited ones).
func attachedFilters(dirFd int) ([]uint32, error) {
	ids := make([]uint32, bpfMaxFilters)
	q := bpfQueryAttr{targetFd: uint32(dirFd), attachType: unix.BPF_CGROUP_DEVICE,
		progIDs: uint64(uintptr(unsafe.Pointer(&ids[0]))), progCnt: uint32(len(ids))}
	_, err := bpf(unix.BPF_PROG_QUERY, unsafe.Pointer(&q), unsafe.Sizeof(q))
	runtime.KeepAlive(ids)
	if err != nil {
		return nil, err
	}
	return ids[:min(q.progCnt, uint32(len(ids)))], nil
}

// loadDeviceFilter loads prog into the kernel. On a verifier error it loads
// again with a log buffer, to say why. Kernels before 5.11 charge programs to
// RLIMIT_MEMLOCK, so an EPERM is retried once with that limit lifted.
func loadDeviceFilter(prog []bpfInsn) (int, error) {
	code := encodeBPF(prog)
	attr := bpfProgLoadAttr{
		progType: unix.BPF_PROG_TYPE_CGROUP_DEVICE,
		insnCnt:  uint32(len(prog)),
		insns:    uint64(uintptr(unsafe.Pointer(&code[0]))),
		license:  uint64(uintptr(unsafe.Pointer(&bpfLicense[0]))),
	}
	fd, err := bpf(unix.BPF_PROG_LOAD, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	if errors.Is(err, unix.EPERM) {
		if unix.Setrlimit(unix.RLIMIT_MEMLOCK, &unix.Rlimit{Cur: unix.RLIM_INFINITY, Max: unix.RLIM_INFINITY}) == nil {
			fd, err = bpf(unix.BPF_PROG_LOAD, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
		}
	}
	if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.EACCES) {
		log := make([]byte, bpfLogSize)
		attr.logLevel, attr.logSize, attr.logBuf = 1, uint32(len(log)), uint64(uintptr(unsafe.Pointer(&log[0])))
		if fd2, err2 := bpf(unix.BPF_PROG_LOAD, unsafe.Pointer(&attr), unsafe.Sizeof(attr)); err2 == nil {
			unix.Close(fd2)
		}
		runtime.KeepAlive(log)
		if n := bytes.IndexByte(log, 0); n > 0 {
			err = fmt.Errorf("%w: %s", err, bytes.TrimSpace(log[:n]))
		}
	}
	runtime.KeepAlive(code)
	if err != nil {
		return -1, fmt.Errorf("load device filter: %w", err)
	}
	return fd, nil
}
