package volume

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	pathrs "github.com/cyphar/filepath-securejoin/pathrs-lite"
	"golang.org/x/sys/unix"
)

// copyUpIfEmpty fills the empty volume directory vol with the image's
// files at dst, a path inside rootfs, as Docker does at a volume's first
// mount: owners, modes, xattrs, times, symlinks (as links, never
// followed), hard links, device nodes and fifos. A volume that already
// has files, or an image without a directory at dst, is left alone.
//
// dst is resolved inside rootfs with openat2-style scoping
// (pathrs.OpenInRoot) and the tree is walked with *at calls from
// directory fds opened O_NOFOLLOW, so an image's symlinks cannot make
// the copy read from, or write to, anywhere outside the two trees.
// When the copy fails the volume is emptied again so that the next mount
// retries instead of seeing half a copy.
func copyUpIfEmpty(rootfs, dst, vol string) (err error) {
	empty, err := isEmptyDir(vol)
	if err != nil || !empty {
		return err
	}
	h, err := pathrs.OpenInRoot(rootfs, dst)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	src, err := pathrs.Reopen(h, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC)
	h.Close()
	if errors.Is(err, unix.ENOTDIR) {
		return nil // a file in the image: nothing a directory volume could hold
	}
	if err != nil {
		return err
	}
	defer src.Close()
	to, err := os.OpenFile(vol, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer to.Close()
	defer func() {
		if err != nil {
			emptyDir(vol)
		}
	}()
	c := copier{root: to, links: map[devIno]string{}}
	if err := c.dir(src, to, ""); err != nil {
		return err
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(src.Fd()), &st); err != nil {
		return err
	}
	// The volume's top directory takes the image directory's owner and
	// mode, so that a non-root image user can write to its volume.
	if err := unix.Fchown(int(to.Fd()), int(st.Uid), int(st.Gid)); err != nil {
		return err
	}
	if err := unix.Fchmod(int(to.Fd()), st.Mode&0o7777); err != nil {
		return err
	}
	if err := copyXattrs(fdPath(int(src.Fd()), "."), fdPath(int(to.Fd()), ".")); err != nil {
		return err
	}
	return unix.UtimesNano(vol, []unix.Timespec{st.Atim, st.Mtim})
}

type devIno struct{ dev, ino uint64 }

type copier struct {
	root  *os.File          // the volume directory
	links map[devIno]string // first copy of each multiply-linked file, relative to root
}

// dir copies the entries of the directory src into dst; rel is dst's
// path relative to the volume.
func (c *copier) dir(src, dst *os.File, rel string) error {
	names, err := src.Readdirnames(-1)
	if err != nil {
		return fmt.Errorf("read %s: %w", rel, err)
	}
	sfd, dfd := int(src.Fd()), int(dst.Fd())
	for _, name := range names {
		if err := c.entry(sfd, dfd, name, filepath.Join(rel, name)); err != nil {
			return fmt.Errorf("copy %s: %w", filepath.Join(rel, name), err)
		}
	}
	return nil
}

func (c *copier) entry(sfd, dfd int, name, rel string) error {
	var st unix.Stat_t
	if err := unix.Fstatat(sfd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return err
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		if err := unix.Mkdirat(dfd, name, 0o700); err != nil {
			return err
		}
		sub, err := openDirAt(sfd, name)
		if err != nil {
			return err
		}
		defer sub.Close()
		dsub, err := openDirAt(dfd, name)
		if err != nil {
			return err
		}
		defer dsub.Close()
		if err := c.dir(sub, dsub, rel); err != nil {
			return err
		}
	case unix.S_IFREG:
		if st.Nlink > 1 {
			key := devIno{uint64(st.Dev), st.Ino}
			if first, ok := c.links[key]; ok {
				return unix.Linkat(int(c.root.Fd()), first, dfd, name, 0)
			}
			c.links[key] = rel
		}
		if err := copyFileAt(sfd, dfd, name); err != nil {
			return err
		}
	case unix.S_IFLNK:
		target, err := readlinkAt(sfd, name)
		if err != nil {
			return err
		}
		if err := unix.Symlinkat(target, dfd, name); err != nil {
			return err
		}
	default: // devices, fifos, sockets
		if err := unix.Mknodat(dfd, name, st.Mode, int(st.Rdev)); err != nil {
			return err
		}
	}
	return setAttrsAt(sfd, dfd, name, &st)
}

// setAttrsAt gives dfd/name the owner, mode, xattrs and times of st and
// sfd/name. The owner goes first: chown clears setuid bits and file
// capabilities, which the mode and xattrs then restore.
func setAttrsAt(sfd, dfd int, name string, st *unix.Stat_t) error {
	if err := unix.Fchownat(dfd, name, int(st.Uid), int(st.Gid), unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return err
	}
	isLink := st.Mode&unix.S_IFMT == unix.S_IFLNK
	if !isLink {
		if err := unix.Fchmodat(dfd, name, st.Mode&0o7777, 0); err != nil {
			return err
		}
	}
	if err := copyXattrs(fdPath(sfd, name), fdPath(dfd, name)); err != nil {
		return err
	}
	return unix.UtimesNanoAt(dfd, name, []unix.Timespec{st.Atim, st.Mtim}, unix.AT_SYMLINK_NOFOLLOW)
}

// fdPath names a file through /proc/self/fd: a directory fd (a resolved,
// trusted point) and a last component, which the l*xattr calls do not
// follow ("." for the directory itself).
func fdPath(dirfd int, name string) string {
	return "/proc/self/fd/" + strconv.Itoa(dirfd) + "/" + name
}

// copyXattrs copies every extended attribute of src to dst, without
// following a last-component symlink. Attributes dst's filesystem does
// not support are skipped.
func copyXattrs(src, dst string) error {
	size, err := unix.Llistxattr(src, nil)
	if errors.Is(err, unix.ENOTSUP) || size == 0 {
		return nil
	}
	if err != nil {
		return err
	}
	buf := make([]byte, size)
	size, err = unix.Llistxattr(src, buf)
	if err != nil {
		return err
	}
	for _, attr := range splitNul(buf[:size]) {
		n, err := unix.Lgetxattr(src, attr, nil)
		if err != nil {
			return fmt.Errorf("get xattr %s: %w", attr, err)
		}
		val := make([]byte, n)
		if n, err = unix.Lgetxattr(src, attr, val); err != nil {
			return fmt.Errorf("get xattr %s: %w", attr, err)
		}
		if err := unix.Lsetxattr(dst, attr, val[:n], 0); err != nil && !errors.Is(err, unix.ENOTSUP) {
			return fmt.Errorf("set xattr %s: %w", attr, err)
		}
	}
	return nil
}

func splitNul(b []byte) []string {
	var out []string
	for len(b) > 0 {
		i := 0
		for i < len(b) && b[i] != 0 {
			i++
		}
		if i > 0 {
			out = append(out, string(b[:i]))
		}
		b = b[min(i+1, len(b)):]
	}
	return out
}

func openDirAt(dirfd int, name string) (*os.File, error) {
	fd, err := unix.Openat(dirfd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), name), nil
}

func copyFileAt(sfd, dfd int, name string) error {
	in, err := unix.Openat(sfd, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	inf := os.NewFile(uintptr(in), name)
	defer inf.Close()
	out, err := unix.Openat(dfd, name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return err
	}
	outf := os.NewFile(uintptr(out), name)
	// *os.File to *os.File uses copy_file_range or sendfile.
	if _, err := io.Copy(outf, inf); err != nil {
		outf.Close()
		return err
	}
	return outf.Close()
}

func readlinkAt(dirfd int, name string) (string, error) {
	for size := 256; ; size *= 2 {
		buf := make([]byte, size)
		n, err := unix.Readlinkat(dirfd, name, buf)
		if err != nil {
			return "", err
		}
		if n < size {
			return string(buf[:n]), nil
		}
	}
}

func isEmptyDir(dir string) (bool, error) {
	f, err := os.Open(dir)
	if err != nil {
		return false, err
	}
	defer f.Close()
	names, err := f.Readdirnames(1)
	if errors.Is(err, io.EOF) {
		return true, nil
	}
	return len(names) == 0, err
}

// emptyDir removes what is inside dir, keeping dir.
func emptyDir(dir string) {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		os.RemoveAll(filepath.Join(dir, e.Name()))
	}
}
