package unpack

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"golang.org/x/sys/unix"
)

// FixUp finishes a layer extracted by Apply once its lower layers are
// complete. lowers are the lower layers' directories, the nearest first.
//
//   - A directory created only as a parent takes owner, mode, xattrs and
//     times from the same directory in the merged lower layers: overlayfs
//     shows the upper directory's attributes, and the image author meant
//     the lower one's (Docker and containerd apply layers onto the merged
//     tree, where such a parent already exists).
//   - A hard link to a file of a lower layer becomes a copy of that file:
//     layers are separate directories, and a link across them would tie
//     their inodes together.
func FixUp(root string, lowers []string, res *Result) error {
	rootFd, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: root, Err: err}
	}
	defer unix.Close(rootFd)
	for _, l := range res.LowerLinks {
		if err := fixLink(rootFd, lowers, l); err != nil {
			return fmt.Errorf("hard link %s -> %s: %w", l.Name, l.Target, err)
		}
	}
	dirs := append([]string(nil), res.ImplicitDirs...)
	// Parents first, so that a child's times are set after its parent's
	// xattrs and owner changed nothing under it.
	sort.SliceStable(dirs, func(i, j int) bool { return strings.Count(dirs[i], "/") < strings.Count(dirs[j], "/") })
	for i := len(dirs) - 1; i >= 0; i-- {
		if err := fixDir(rootFd, lowers, dirs[i]); err != nil {
			return fmt.Errorf("directory %s: %w", dirs[i], err)
		}
	}
	return nil
}

func fixDir(rootFd int, lowers []string, rel string) error {
	fd, err := openNoSymlinks(rootFd, rel, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW)
	if err != nil {
		return nil // replaced by a later entry of the layer: nothing to fix
	}
	defer unix.Close(fd)
	lfd, err := lookupLower(lowers, rel)
	if err != nil || lfd < 0 {
		return err // not in any lower layer: keep root:root 0755
	}
	defer unix.Close(lfd)
	var st unix.Stat_t
	if err := unix.Fstat(lfd, &st); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return nil
	}
	p := fdPath(fd)
	if err := unix.Chown(p, int(st.Uid), int(st.Gid)); err != nil {
		return err
	}
	if err := unix.Chmod(p, st.Mode&0o7777); err != nil {
		return err
	}
	if err := copyXattrs(fdPath(lfd), p, true); err != nil {
		return err
	}
	ts := []unix.Timespec{st.Atim, st.Mtim}
	return unix.UtimesNanoAt(unix.AT_FDCWD, p, ts, 0)
}

func fixLink(rootFd int, lowers []string, l Link) error {
	parent, base := split(l.Name)
	pfd, err := openInRoot(rootFd, parent, unix.O_PATH|unix.O_DIRECTORY)
	if err != nil {
		return err
	}
	defer unix.Close(pfd)
	// The target may have appeared in this layer by now (a link to a link
	// that was itself fixed up).
	if tfd, err := openInRoot(rootFd, l.Target, unix.O_PATH|unix.O_NOFOLLOW); err == nil {
		defer unix.Close(tfd)
		return unix.Linkat(tfd, "", pfd, base, unix.AT_EMPTY_PATH)
	}
	lfd, err := lookupLower(lowers, l.Target)
	if err != nil {
		return err
	}
	if lfd < 0 {
		return errors.New("target not found in this or a lower layer")
	}
	defer unix.Close(lfd)
	var st unix.Stat_t
	if err := unix.Fstat(lfd, &st); err != nil {
		return err
	}
	p := fdPath(pfd) + "/" + base
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
		src, err := os.Open(fdPath(lfd))
		if err != nil {
			return err
		}
		defer src.Close()
		dfd, err := unix.Openat(pfd, base, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
		if err != nil {
			return err
		}
		dst := os.NewFile(uintptr(dfd), p)
		defer dst.Close()
		if _, err := io.Copy(dst, src); err != nil { // copy_file_range
			return err
		}
	case unix.S_IFLNK:
		target, err := os.Readlink(fdPath(lfd))
		if err != nil {
			// readlink of an O_PATH symlink fd needs the empty path form.
			buf := make([]byte, 4096)
			n, err := unix.Readlinkat(lfd, "", buf)
			if err != nil {
				return err
			}
			target = string(buf[:n])
		}
		if err := unix.Symlinkat(target, pfd, base); err != nil {
			return err
		}
	case unix.S_IFCHR, unix.S_IFBLK, unix.S_IFIFO:
		if err := unix.Mknodat(pfd, base, st.Mode, int(st.Rdev)); err != nil {
			return err
		}
	default:
		return fmt.Errorf("cannot link to a file of mode %o", st.Mode)
	}
	if err := unix.Fchownat(pfd, base, int(st.Uid), int(st.Gid), unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFLNK {
		if err := unix.Fchmodat(pfd, base, st.Mode&0o7777, 0); err != nil {
			return err
		}
		if err := copyXattrs(fdPath(lfd), p, false); err != nil {
			return err
		}
	}
	ts := []unix.Timespec{st.Atim, st.Mtim}
	return unix.UtimesNanoAt(pfd, base, ts, unix.AT_SYMLINK_NOFOLLOW)
}

// openNoSymlinks opens rel below rootFd refusing any symlink on the way.
func openNoSymlinks(rootFd int, rel string, flags int) (int, error) {
	if rel == "" {
		rel = "."
	}
	how := unix.OpenHow{
		Flags:   uint64(flags | unix.O_CLOEXEC),
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS,
	}
	for {
		fd, err := unix.Openat2(rootFd, rel, &how)
		if err == unix.EINTR || err == unix.EAGAIN {
			continue
		}
		return fd, err
	}
}

// lookupLower finds rel in the merged view of lowers (nearest first) the
// way overlayfs does: a whiteout or a non-directory on the way hides the
// path in every layer below, an opaque directory hides the layers below it.
// It returns an O_PATH fd of what it found, or -1. A symlink among the
// parents counts as a non-directory (it is not followed).
func lookupLower(lowers []string, rel string) (int, error) {
	comps := strings.Split(rel, "/")
	for _, l := range lowers {
		fd, err := unix.Open(l, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return -1, &os.PathError{Op: "open", Path: l, Err: err}
		}
		found, hidden, err := walkLayer(fd, comps)
		if err != nil || found >= 0 || hidden {
			return found, err
		}
	}
	return -1, nil
}

// walkLayer walks comps below fd (which it closes). It returns the fd of
// the last component if this layer has it, or hidden=true if this layer
// hides the path from the layers below.
func walkLayer(fd int, comps []string) (found int, hidden bool, err error) {
	defer func() {
		if fd >= 0 && fd != found {
			unix.Close(fd)
		}
	}()
	opaque := false
	for i, c := range comps {
		var st unix.Stat_t
		err := unix.Fstatat(fd, c, &st, unix.AT_SYMLINK_NOFOLLOW)
		if err == unix.ENOENT {
			return -1, opaque, nil
		}
		if err != nil {
			return -1, false, err
		}
		if st.Mode&unix.S_IFMT == unix.S_IFCHR && st.Rdev == 0 {
			return -1, true, nil // whiteout
		}
		last := i == len(comps)-1
		if !last && st.Mode&unix.S_IFMT != unix.S_IFDIR {
			return -1, true, nil
		}
		nfd, err := unix.Openat(fd, c, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return -1, false, err
		}
		unix.Close(fd)
		fd = nfd
		if last {
			return fd, true, nil
		}
		if isOpaque(fd) {
			opaque = true
		}
	}
	return -1, opaque, nil
}

func isOpaque(fd int) bool {
	buf := make([]byte, 4)
	n, err := unix.Getxattr(fdPath(fd), opaqueXattr, buf)
	return err == nil && n == 1 && buf[0] == 'y'
}

// copyXattrs copies xattrs from src, a /proc/self/fd magic link (followed),
// to dst, followed too if dstFollow, else a path whose last component is
// not followed.
func copyXattrs(src, dst string, dstFollow bool) error {
	buf := make([]byte, 64<<10)
	n, err := unix.Listxattr(src, buf)
	if err != nil || n == 0 {
		return nil
	}
	for _, name := range strings.Split(strings.TrimRight(string(buf[:n]), "\x00"), "\x00") {
		if name == "" || isOverlayXattr(name) {
			continue
		}
		val := make([]byte, 64<<10)
		m, err := unix.Getxattr(src, name, val)
		if err != nil {
			continue
		}
		set := unix.Lsetxattr
		if dstFollow {
			set = unix.Setxattr
		}
		if err := set(dst, name, val[:m], 0); err != nil && err != unix.ENOTSUP {
			return fmt.Errorf("set xattr %s: %w", name, err)
		}
	}
	return nil
}
