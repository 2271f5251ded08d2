package rootfs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// DefaultDevices are the device nodes every container gets (the OCI
// runtime spec's list); the cgroup device rules allow them too.
var DefaultDevices = []specs.LinuxDevice{
	{Path: "/dev/null", Type: "c", Major: 1, Minor: 3},
	{Path: "/dev/zero", Type: "c", Major: 1, Minor: 5},
	{Path: "/dev/full", Type: "c", Major: 1, Minor: 7},
	{Path: "/dev/random", Type: "c", Major: 1, Minor: 8},
	{Path: "/dev/urandom", Type: "c", Major: 1, Minor: 9},
	{Path: "/dev/tty", Type: "c", Major: 5, Minor: 0},
}

// createDevices makes the default devices and linux.devices under rootfs.
func createDevices(rootfs string, spec *specs.Spec) error {
	mode := os.FileMode(0o666)
	for _, d := range DefaultDevices {
		d.FileMode = &mode
		if err := mknod(rootfs, d); err != nil {
			return err
		}
	}
	if spec.Linux != nil {
		for _, d := range spec.Linux.Devices {
			if err := mknod(rootfs, d); err != nil {
				return err
			}
		}
	}
	return nil
}

func mknod(rootfs string, d specs.LinuxDevice) error {
	var typ uint32
	switch d.Type {
	case "c", "u":
		typ = unix.S_IFCHR
	case "b":
		typ = unix.S_IFBLK
	case "p":
		typ = unix.S_IFIFO
	default:
		return fmt.Errorf("device %s: unknown type %q", d.Path, d.Type)
	}
	perm := uint32(0o666)
	if d.FileMode != nil {
		perm = uint32(d.FileMode.Perm())
	}
	dir, name := filepath.Split(filepath.Clean(d.Path))
	dfd, err := resolve(rootfs, dir, createDir)
	if err != nil {
		return fmt.Errorf("device %s: %w", d.Path, err)
	}
	defer unix.Close(dfd)
	// O_PATH fds cannot be used with mknodat: go through the magic link.
	dirPath := fdPath(dfd)
	target := filepath.Join(dirPath, name)
	// A file already there (from the image) is replaced.
	if err := unix.Unlink(target); err != nil && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("device %s: %w", d.Path, err)
	}
	dev := int(unix.Mkdev(uint32(d.Major), uint32(d.Minor)))
	old := unix.Umask(0)
	err = unix.Mknod(target, typ|perm, dev)
	unix.Umask(old)
	if errors.Is(err, unix.EPERM) {
		// In a user namespace mknod is not allowed: bind the host's node.
		return bindDevice(target, d)
	}
	if err != nil {
		return fmt.Errorf("mknod %s: %w", d.Path, err)
	}
	uid, gid := 0, 0
	if d.UID != nil {
		uid = int(*d.UID)
	}
	if d.GID != nil {
		gid = int(*d.GID)
	}
	if err := unix.Lchown(target, uid, gid); err != nil {
		return fmt.Errorf("chown %s: %w", d.Path, err)
	}
	return nil
}

func bindDevice(target string, d specs.LinuxDevice) error {
	f, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("device %s: %w", d.Path, err)
	}
	f.Close()
	if err := unix.Mount(d.Path, target, "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("bind device %s: %w", d.Path, err)
	}
	return nil
}

// devSymlinks adds the /dev links programs expect.
func devSymlinks(rootfs string) error {
	links := [][2]string{
		{"/proc/self/fd", "fd"},
		{"/proc/self/fd/0", "stdin"},
		{"/proc/self/fd/1", "stdout"},
		{"/proc/self/fd/2", "stderr"},
		{"pts/ptmx", "ptmx"},
	}
	if _, err := os.Stat("/proc/kcore"); err == nil {
		links = append(links, [2]string{"/proc/kcore", "core"})
	}
	dfd, err := resolve(rootfs, "/dev", createDir)
	if err != nil {
		return fmt.Errorf("/dev: %w", err)
	}
	defer unix.Close(dfd)
	dir := fdPath(dfd)
	for _, l := range links {
		if err := unix.Symlink(l[0], filepath.Join(dir, l[1])); err != nil && !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("symlink /dev/%s: %w", l[1], err)
		}
	}
	return nil
}
