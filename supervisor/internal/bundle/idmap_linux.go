package bundle

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/forkexec"
	"github.com/berth-project/berth/supervisor/internal/rootfs"
)

// IDMapSize is how many ids a container with a user namespace of its
// own maps: 0-65535, as Docker's userns-remap and podman's --userns=auto.
const IDMapSize = 65536

// HolderEnv, in berthd's environment, makes it a user namespace holder
// (see Hold). berthd's main calls Hold first thing when it is set.
const HolderEnv = "_BERTHD_USERNS_HOLDER"

// Hold is all a user namespace holder does: it lives, in the namespace
// it was started in, until its stdin closes.
func Hold() {
	io.Copy(io.Discard, os.Stdin)
	os.Exit(0)
}

// MountRootfsIDMapped mounts the rootfs as MountRootfs does, for a
// container whose root is host id hostID: each layer is seen through an
// idmapped mount that shows the files' owners as the container sees
// them (root's files as hostID's, and so on), and files the container
// makes land on disk with the ids the container gave them. The image's
// layers and the container layer are thus the same as without a user
// namespace: commit, diff, cp and export need nothing special, and the
// layers stay shared with every other container.
func (p Paths) MountRootfsIDMapped(lowers []string, hostID uint32) error {
	if err := searchable(p.Bundle); err != nil {
		return err
	}
	uns, err := usernsFD(hostID)
	if err != nil {
		return err
	}
	defer unix.Close(uns)
	// The idmapped mounts are attached here only while the overlay is
	// mounted on them: it keeps clones of its layers, so they go at once.
	dir := filepath.Join(p.Bundle, "idmap")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	var attached []string
	defer func() {
		for _, t := range attached {
			unix.Unmount(t, unix.MNT_DETACH)
		}
		os.RemoveAll(dir)
	}()
	attach := func(src, name string) (string, error) {
		t := filepath.Join(dir, name)
		if err := idmapMount(src, t, uns); err != nil {
			return "", err
		}
		attached = append(attached, t)
		return t, nil
	}
	var mapped []string
	for i, l := range append([]string{p.InitLayer()}, lowers...) {
		t, err := attach(l, strconv.Itoa(i))
		if err != nil {
			return err
		}
		mapped = append(mapped, t)
	}
	// The upper and work dirs must be on one mount: their parent is.
	if _, err := attach(p.Dir, "c"); err != nil {
		return err
	}
	return mountOverlayAs(dir, len(mapped), p.Rootfs(), hostID)
}

// mountOverlayAs mounts the overlay of the idmapped layers in dir (0, 1,
// ... n-1 and c/diff, c/work) on target, with host id as the mounter's
// filesystem uid and gid (rootfs.AsFSID). overlayfs works in its layers
// with the mounter's credentials: through the idmapped container layer
// only ids of the container's range exist, so root's id would be refused
// (EOVERFLOW) where the mounter's id is the container's root. The paths
// are relative to dir, short whatever the number of layers.
func mountOverlayAs(dir string, n int, target string, id uint32) error {
	return rootfs.AsFSID(id, func() error {
		if err := unix.Unshare(unix.CLONE_FS); err != nil {
			return fmt.Errorf("unshare fs: %w", err)
		}
		if err := unix.Chdir(dir); err != nil {
			return &os.PathError{Op: "chdir", Path: dir, Err: err}
		}
		lowers := make([]string, n)
		for i := range lowers {
			lowers[i] = strconv.Itoa(i)
		}
		return mountRetry(target, fmt.Sprintf("lowerdir=%s,upperdir=c/diff,workdir=c/work,index=off", strings.Join(lowers, ":")))
	})
}

// searchable checks that a user with no rights of its own can reach dir:
// the container's root, an unprivileged host id, mounts its rootfs and
// bind sources from inside its user namespace, by their paths under the
// bundle.
func searchable(dir string) error {
	for d := dir; ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			return err
		}
		if fi.Mode().Perm()&0o001 == 0 {
			return fmt.Errorf("--user-namespace: %s is not searchable by others (mode %v), so the container's root cannot reach its bundle %s", d, fi.Mode().Perm(), dir)
		}
		if d == "/" || d == "." {
			return nil
		}
	}
}

// idmapMount attaches at target (made) an idmapped clone of src, mapped
// through user namespace uns.
func idmapMount(src, target string, uns int) error {
	fd, err := unix.OpenTree(unix.AT_FDCWD, src, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
	if err != nil {
		return fmt.Errorf("idmapped mount of %s: open_tree: %w", src, err)
	}
	defer unix.Close(fd)
	attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_IDMAP, Userns_fd: uint64(uns)}
	if err := unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH, &attr); err != nil {
		return fmt.Errorf("idmapped mount of %s: the filesystem or kernel does not support idmapped mounts (needed by --user-namespace): %w", src, err)
	}
	if err := os.Mkdir(target, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return err
	}
	if err := unix.MoveMount(fd, "", unix.AT_FDCWD, target, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
		return fmt.Errorf("idmapped mount of %s: move_mount: %w", src, err)
	}
	return nil
}

// usernsFD returns an fd of a new user namespace mapping 0-65535 to
// hostID and the ids after it. A user namespace exists only while
// something holds it: a short-lived holder process (berthd itself, see
// Hold) is started in it, and the namespace is kept by the fd.
func usernsFD(hostID uint32) (int, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return -1, err
	}
	defer w.Close()
	m := []syscall.SysProcIDMap{{ContainerID: 0, HostID: int(hostID), Size: IDMapSize}}
	pid, err := forkexec.Start("/proc/self/exe", []string{"berthd-userns"}, forkexec.Attr{
		Dir:   "/",
		Env:   []string{HolderEnv + "=1"},
		Files: []*os.File{r, nil, nil},
		Sys: &syscall.SysProcAttr{
			Cloneflags: syscall.CLONE_NEWUSER, UidMappings: m, GidMappings: m,
			Pdeathsig: syscall.SIGKILL,
		},
	})
	r.Close()
	if err != nil {
		return -1, fmt.Errorf("user namespace for %d: %w", hostID, err)
	}
	fd, err := unix.Open(fmt.Sprintf("/proc/%d/ns/user", pid), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	w.Close()
	forkexec.Wait(pid)
	if err != nil {
		return -1, fmt.Errorf("user namespace for %d: %w", hostID, err)
	}
	return fd, nil
}
