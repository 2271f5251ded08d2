package specs

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	pathrs "github.com/cyphar/filepath-securejoin/pathrs-lite"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func readHostKernel() kernelVersion {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return kernelVersion{}
	}
	k, _ := parseKernelVersion(unix.ByteSliceToString(u.Release[:]))
	return k
}

func readHostBoundingCaps() []string {
	var out []string
	for i, name := range capNames {
		// PR_CAPBSET_READ fails with EINVAL for a capability the kernel
		// does not know, and returns 0 for one dropped from the set.
		if ok, err := unix.PrctlRetInt(unix.PR_CAPBSET_READ, uintptr(i), 0, 0, 0); err == nil && ok == 1 {
			out = append(out, name)
		}
	}
	return out
}

func hostSysctlExists(name string) bool {
	_, err := os.Stat(filepath.Join("/proc/sys", strings.ReplaceAll(name, ".", "/")))
	return err == nil
}

func readThermalPaths() []string {
	paths, _ := filepath.Glob("/sys/devices/system/cpu/cpu[0-9]*/thermal_throttle")
	return paths
}

// readHostDevices walks /dev for device nodes, as Docker does for
// --privileged. The directories skipped hold mounts of their own (pts, shm,
// mqueue) or per-process links (fd); /dev/console is the runtime's to set
// up, pointing at the container's terminal.
func readHostDevices() ([]specs.LinuxDevice, error) {
	return devicesUnder("/dev")
}

func devicesUnder(root string) ([]specs.LinuxDevice, error) {
	var devs []specs.LinuxDevice
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // a device that went away while we looked
			}
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case "pts", "shm", "fd", "mqueue", ".lxc", ".lxd-mounts", ".udev":
				return filepath.SkipDir
			}
			return nil
		}
		if d.Name() == "console" || d.Type()&fs.ModeDevice == 0 {
			return nil
		}
		var st unix.Stat_t
		if err := unix.Lstat(path, &st); err != nil {
			if errors.Is(err, unix.ENOENT) {
				return nil
			}
			return &os.PathError{Op: "lstat", Path: path, Err: err}
		}
		typ := "c"
		if st.Mode&unix.S_IFMT == unix.S_IFBLK {
			typ = "b"
		}
		mode := fs.FileMode(st.Mode & 0o777)
		uid, gid := st.Uid, st.Gid
		rel, _ := filepath.Rel(root, path)
		devs = append(devs, specs.LinuxDevice{
			Path:     filepath.Join("/dev", rel),
			Type:     typ,
			Major:    int64(unix.Major(st.Rdev)),
			Minor:    int64(unix.Minor(st.Rdev)),
			FileMode: &mode,
			UID:      &uid,
			GID:      &gid,
		})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list host devices: %w", err)
	}
	return devs, nil
}

// maxRootfsFile caps what readRootfsFile reads: /etc/passwd and /etc/group
// come from an image, and a huge one should fail, not eat berthd's memory.
const maxRootfsFile = 16 << 20

// readRootfsFile reads the file at name inside rootfs, resolving every
// symlink as if rootfs were "/" (openat2 RESOLVE_IN_ROOT where the kernel
// has it), so an image cannot point /etc/passwd at a host file. It refuses
// anything but a regular file: opening a FIFO would block berthd.
func readRootfsFile(rootfs, name string) ([]byte, error) {
	h, err := pathrs.OpenInRoot(rootfs, name)
	if err != nil {
		return nil, err
	}
	defer h.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(h.Fd()), &st); err != nil {
		return nil, &os.PathError{Op: "fstat", Path: name, Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil, &os.PathError{Op: "read", Path: name, Err: errors.New("not a regular file")}
	}
	f, err := pathrs.Reopen(h, unix.O_RDONLY|unix.O_CLOEXEC)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxRootfsFile+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxRootfsFile {
		return nil, &os.PathError{Op: "read", Path: name, Err: errors.New("file too large")}
	}
	return data, nil
}
