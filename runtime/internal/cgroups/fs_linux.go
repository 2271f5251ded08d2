package cgroups

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/cgroupfs"
)

// Cgroup files are accessed with bare open/read/write/close: os.File adds an
// fstat and poller bookkeeping per file, and a container start writes dozens
// of them. Each write(2) to a cgroup file is parsed as one value, so a value
// is always written whole.

// writeFile writes value to dir/file.
func writeFile(dir, file, value string) error {
	p := dir + "/" + file
	fd, err := openFile(p, unix.O_WRONLY)
	if err != nil {
		return fmt.Errorf("write %q to %s: %w", value, p, err)
	}
	err = writeFd(fd, value)
	unix.Close(fd)
	if err != nil {
		return fmt.Errorf("write %q to %s: %w", value, p, err)
	}
	return nil
}

func openFile(p string, flags int) (int, error) {
	for {
		fd, err := unix.Open(p, flags|unix.O_CLOEXEC, 0)
		if err != unix.EINTR {
			return fd, err
		}
	}
}

func writeFd(fd int, value string) error {
	for {
		_, err := unix.Write(fd, []byte(value))
		if err != unix.EINTR {
			return err
		}
	}
}

// readFile returns the content of dir/file.
func readFile(dir, file string) (string, error) {
	p := dir + "/" + file
	fd, err := openFile(p, unix.O_RDONLY)
	if err != nil {
		return "", fmt.Errorf("read %s: %w", p, err)
	}
	defer unix.Close(fd)
	buf := make([]byte, 0, 256)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := unix.Read(fd, buf[len(buf):cap(buf)])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("read %s: %w", p, err)
		}
		if n == 0 {
			return string(buf), nil
		}
		buf = buf[:len(buf)+n]
	}
}

// readUint reads a file holding one number; "max" reads as maxValue.
func readUint(dir, file string, maxValue uint64) (uint64, error) {
	s, err := readFile(dir, file)
	if err != nil {
		return 0, err
	}
	s = strings.TrimSpace(s)
	if s == "max" {
		return maxValue, nil
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("read %s/%s: %w", dir, file, err)
	}
	return v, nil
}

// keyValue returns the number after key in a flat-keyed file such as
// memory.events or cpu.stat ("key value" lines); ok is false if key is absent.
func keyValue(content, key string) (v uint64, ok bool) {
	for content != "" {
		var line string
		line, content, _ = strings.Cut(content, "\n")
		k, val, _ := strings.Cut(line, " ")
		if k == key {
			v, err := strconv.ParseUint(strings.TrimSpace(val), 10, 64)
			return v, err == nil
		}
	}
	return 0, false
}

func exists(p string) bool {
	return unix.Access(p, unix.F_OK) == nil
}

// mkdirAll creates dir and its missing parents. It tries dir first, since
// its parent almost always exists already.
func mkdirAll(dir string) error {
	err := unix.Mkdir(dir, 0o755)
	if err == unix.ENOENT {
		if parent := filepath.Dir(dir); parent != dir {
			if err := mkdirAll(parent); err != nil {
				return err
			}
		}
		err = unix.Mkdir(dir, 0o755)
	}
	if err != nil && err != unix.EEXIST {
		return fmt.Errorf("mkdir %s: %w", dir, err)
	}
	return nil
}

// pidsIn appends the processes of dir and of every cgroup below it. A child
// cgroup removed while walking is skipped.
func pidsIn(dir string, out []int) ([]int, error) {
	s, err := readFile(dir, "cgroup.procs")
	if err != nil {
		return nil, err
	}
	for _, f := range strings.Fields(s) {
		pid, err := strconv.Atoi(f)
		if err != nil {
			return nil, fmt.Errorf("read %s/cgroup.procs: %w", dir, err)
		}
		out = append(out, pid)
	}
	for _, sub := range cgroupfs.Subdirs(dir) {
		more, err := pidsIn(sub, out)
		switch {
		case err == nil:
			out = more
		case !errors.Is(err, unix.ENOENT):
			return nil, err
		}
	}
	return out, nil
}
