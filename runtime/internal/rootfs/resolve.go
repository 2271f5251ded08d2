package rootfs

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// ErrEscape is returned when a path inside the rootfs climbs out of it
// through "..", directly or by way of a symlink.
var ErrEscape = errors.New("escapes the container's root filesystem")

// create says what resolve makes when the path does not exist.
type create int

const (
	noCreate create = iota
	createDir
	createFile
)

// resolve walks path component by component under root, as the container
// would see it: absolute symlinks restart at root, and nothing is followed
// outside root. A ".." that would climb above root is an error rather than
// being clamped, because a config that asks for it is broken or hostile.
// It returns an O_PATH fd of the result; the caller closes it.
func resolve(root, path string, mk create) (int, error) {
	rootFd, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, &os.PathError{Op: "open", Path: root, Err: err}
	}
	stack := []int{rootFd}
	closeAll := func(keep int) {
		for _, fd := range stack {
			if fd != keep {
				unix.Close(fd)
			}
		}
	}
	todo := splitPath(path)
	links := 0
	for len(todo) > 0 {
		comp := todo[0]
		todo = todo[1:]
		cur := stack[len(stack)-1]
		switch comp {
		case "", ".":
			continue
		case "..":
			if len(stack) == 1 {
				closeAll(-1)
				return -1, fmt.Errorf("path %s %w", path, ErrEscape)
			}
			unix.Close(cur)
			stack = stack[:len(stack)-1]
			continue
		}
		last := len(todo) == 0
		fd, err := unix.Openat(cur, comp, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if errors.Is(err, unix.ENOENT) && mk != noCreate {
			if last && mk == createFile {
				var f int
				f, err = unix.Openat(cur, comp, unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o755)
				if err == nil {
					unix.Close(f)
				}
			} else {
				err = unix.Mkdirat(cur, comp, 0o755)
			}
			if err == nil || errors.Is(err, unix.EEXIST) {
				fd, err = unix.Openat(cur, comp, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
			}
		}
		if err != nil {
			closeAll(-1)
			return -1, &os.PathError{Op: "resolve", Path: path, Err: err}
		}
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			unix.Close(fd)
			closeAll(-1)
			return -1, &os.PathError{Op: "stat", Path: path, Err: err}
		}
		if st.Mode&unix.S_IFMT == unix.S_IFLNK {
			target, err := readlinkFd(fd)
			unix.Close(fd)
			if err != nil {
				closeAll(-1)
				return -1, &os.PathError{Op: "readlink", Path: path, Err: err}
			}
			if links++; links > 40 {
				closeAll(-1)
				return -1, &os.PathError{Op: "resolve", Path: path, Err: unix.ELOOP}
			}
			todo = append(splitPath(target), todo...)
			if strings.HasPrefix(target, "/") {
				for _, f := range stack[1:] {
					unix.Close(f)
				}
				stack = stack[:1]
			}
			continue
		}
		if !last && st.Mode&unix.S_IFMT != unix.S_IFDIR {
			unix.Close(fd)
			closeAll(-1)
			return -1, &os.PathError{Op: "resolve", Path: path, Err: unix.ENOTDIR}
		}
		stack = append(stack, fd)
	}
	final := stack[len(stack)-1]
	if final == rootFd {
		// The path is the root itself: hand out a separate fd.
		fd, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		closeAll(-1)
		if err != nil {
			return -1, &os.PathError{Op: "open", Path: root, Err: err}
		}
		return fd, nil
	}
	closeAll(final)
	return final, nil
}

func splitPath(p string) []string {
	return strings.Split(p, "/")
}

func readlinkFd(fd int) (string, error) {
	buf := make([]byte, 4096)
	n, err := unix.Readlinkat(fd, "", buf)
	if err != nil {
		return "", err
	}
	return string(buf[:n]), nil
}

// fdPath is the magic-link path of an fd, usable as a mount target: the
// kernel mounts on the object the fd refers to, not on a path that could
// have been swapped for a symlink in between.
func fdPath(fd int) string {
	return "/proc/self/fd/" + strconv.Itoa(fd)
}
