// Package unpack extracts one image layer (a tar stream) into its own
// directory, in the form overlayfs reads as a lower layer: OCI whiteouts
// (".wh.NAME") become 0/0 character devices and opaque markers
// (".wh..wh..opq") become the trusted.overlay.opaque=y xattr on the
// directory. Ownership, modes, times, xattrs, hard links, symlinks and
// device nodes are kept.
//
// Every path is resolved inside the layer directory with openat2
// RESOLVE_IN_ROOT, the way a chrooted tar would see it: a symlink in the
// layer pointing at "/etc" or "../../.." resolves to the layer's own root,
// never to the host. Names whose cleaned form climbs above the root ("../x")
// are rejected; absolute names are taken relative to the root, as tar does.
//
// Because no lower layer is mounted under a layer while it unpacks, all
// layers of an image can unpack at once. Two things then need the lower
// layers and are left to FixUp: directories the tar did not list (created
// implicitly as parents) must take the lower layer's owner, mode and times,
// since overlayfs shows the upper directory's attributes; and hard links
// whose target is a file of a lower layer.
package unpack

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// ErrEscape is returned for tar entries whose name or link target climbs
// out of the layer root.
var ErrEscape = errors.New("path escapes the layer root")

const (
	whiteoutPrefix = ".wh."
	whiteoutMeta   = ".wh..wh."
	opaqueMarker   = ".wh..wh..opq"
	opaqueXattr    = "trusted.overlay.opaque"
)

// Result tells what FixUp has to finish once the lower layers are there.
type Result struct {
	// Size is the number of bytes of regular file data written.
	Size int64
	// ImplicitDirs are directories (paths relative to the layer root)
	// created only because an entry's parent was missing from the tar.
	ImplicitDirs []string
	// LowerLinks are hard links whose target is not in this layer.
	LowerLinks []Link
}

// Link is a hard link Name -> Target, both relative to the layer root.
type Link struct {
	Name, Target string
}

type dirTime struct {
	name         string
	atime, mtime time.Time
}

type extractor struct {
	rootFd   int
	rootReal string
	dirs     map[string]int
	implicit map[string]bool
	order    []string
	dirTimes []dirTime
	res      Result
	buf      []byte
	isRoot   bool
}

// Apply extracts the tar stream r into root, an empty directory. It reads r
// to its end (so a digest computed over r covers all of it).
func Apply(ctx context.Context, root string, r io.Reader) (*Result, error) {
	fd, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: root, Err: err}
	}
	e := &extractor{
		rootFd:   fd,
		dirs:     map[string]int{},
		implicit: map[string]bool{},
		buf:      make([]byte, 256<<10),
		isRoot:   os.Geteuid() == 0,
	}
	defer e.close()
	if e.rootReal, err = os.Readlink(fdPath(fd)); err != nil {
		return nil, err
	}
	tr := tar.NewReader(r)
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read tar: %w", err)
		}
		if err := e.entry(hdr, tr); err != nil {
			return nil, fmt.Errorf("unpack %q: %w", hdr.Name, err)
		}
	}
	// Tar ends with zero blocks and may have padding after them.
	if _, err := io.CopyBuffer(io.Discard, r, e.buf); err != nil {
		return nil, fmt.Errorf("read tar: %w", err)
	}
	for i := len(e.dirTimes) - 1; i >= 0; i-- {
		dt := e.dirTimes[i]
		fd, err := e.resolve(dt.name, unix.O_PATH|unix.O_NOFOLLOW)
		if err != nil {
			continue // replaced by a later entry
		}
		setTimes(fd, dt.atime, dt.mtime)
		unix.Close(fd)
	}
	for _, d := range e.order {
		if e.implicit[d] {
			e.res.ImplicitDirs = append(e.res.ImplicitDirs, d)
		}
	}
	return &e.res, nil
}

func (e *extractor) close() {
	e.flush()
	unix.Close(e.rootFd)
}

// flush forgets cached directory fds; called whenever an entry is removed,
// since a cached fd could then name a directory no longer in the tree.
func (e *extractor) flush() {
	for _, fd := range e.dirs {
		unix.Close(fd)
	}
	clear(e.dirs)
}

// CleanName turns a tar entry name into a path relative to the layer root
// ("" for the root itself), rejecting names that climb out of it.
func CleanName(name string) (string, error) {
	p := path.Clean(name)
	if p == ".." || strings.HasPrefix(p, "../") {
		return "", fmt.Errorf("%q: %w", name, ErrEscape)
	}
	p = strings.TrimLeft(path.Clean("/"+p), "/")
	return p, nil
}

// resolve opens name inside the root with RESOLVE_IN_ROOT.
func (e *extractor) resolve(name string, flags int) (int, error) {
	return openInRoot(e.rootFd, name, flags)
}

func openInRoot(rootFd int, name string, flags int) (int, error) {
	if name == "" {
		name = "."
	}
	how := unix.OpenHow{
		Flags:   uint64(flags | unix.O_CLOEXEC),
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
	}
	for {
		fd, err := unix.Openat2(rootFd, name, &how)
		if err == unix.EINTR || err == unix.EAGAIN {
			continue
		}
		return fd, err
	}
}

// dir returns an O_PATH fd of directory rel, creating missing directories
// (and remembering them as implicit).
func (e *extractor) dir(rel string) (int, error) {
	if rel == "" {
		return e.rootFd, nil
	}
	if fd, ok := e.dirs[rel]; ok {
		return fd, nil
	}
	fd, err := e.resolve(rel, unix.O_PATH|unix.O_DIRECTORY)
	if err == unix.ENOENT {
		if err := e.mkdirImplicit(rel); err != nil {
			return -1, err
		}
		fd, err = e.resolve(rel, unix.O_PATH|unix.O_DIRECTORY)
	}
	if err != nil {
		return -1, &os.PathError{Op: "open parent", Path: rel, Err: err}
	}
	if len(e.dirs) > 512 {
		e.flush()
	}
	e.dirs[rel] = fd
	return fd, nil
}

// mkdirImplicit creates directory rel, which the tar did not list.
func (e *extractor) mkdirImplicit(rel string) error {
	parent, base := split(rel)
	pfd, err := e.dir(parent)
	if err != nil {
		return err
	}
	if err := unix.Mkdirat(pfd, base, 0o755); err != nil && err != unix.EEXIST {
		return &os.PathError{Op: "mkdir", Path: rel, Err: err}
	}
	real, err := e.realPath(pfd, base)
	if err != nil {
		return err
	}
	e.implicit[real] = true
	e.order = append(e.order, real)
	return nil
}

func (e *extractor) realPath(dirfd int, base string) (string, error) {
	p, err := os.Readlink(fdPath(dirfd))
	if err != nil {
		return "", err
	}
	p = strings.TrimPrefix(strings.TrimPrefix(p, e.rootReal), "/")
	return path.Join(p, base), nil
}

func split(rel string) (dir, base string) {
	i := strings.LastIndexByte(rel, '/')
	if i < 0 {
		return "", rel
	}
	return rel[:i], rel[i+1:]
}

func (e *extractor) entry(hdr *tar.Header, tr io.Reader) error {
	name, err := CleanName(hdr.Name)
	if err != nil {
		return err
	}
	if name == "" {
		return nil // the root's own attributes belong to the container layer
	}
	dirRel, base := split(name)
	if base != opaqueMarker && (strings.HasPrefix(name, whiteoutMeta) || strings.Contains(name, "/"+whiteoutMeta)) {
		return nil // aufs bookkeeping (.wh..wh.plnk/, .wh..wh.aufs)
	}
	if strings.HasPrefix(base, whiteoutPrefix) {
		return e.whiteout(dirRel, base)
	}
	switch hdr.Typeflag {
	case tar.TypeXGlobalHeader, tar.TypeXHeader:
		return nil
	}
	pfd, err := e.dir(dirRel)
	if err != nil {
		return err
	}
	var st unix.Stat_t
	if err := unix.Fstatat(pfd, base, &st, unix.AT_SYMLINK_NOFOLLOW); err == nil {
		if hdr.Typeflag == tar.TypeDir && st.Mode&unix.S_IFMT == unix.S_IFDIR {
			delete(e.implicit, name) // listed after all: keep its own attributes
		} else {
			// A later entry replaces an earlier one of this layer.
			e.flush()
			if err := removeAt(pfd, base); err != nil {
				return err
			}
			pfd, err = e.dir(dirRel)
			if err != nil {
				return err
			}
		}
	}
	mode := uint32(hdr.Mode) & 0o7777
	switch hdr.Typeflag {
	case tar.TypeReg, tar.TypeRegA, tar.TypeGNUSparse:
		return e.file(pfd, base, hdr, tr, mode)
	case tar.TypeDir:
		if err := unix.Mkdirat(pfd, base, 0o700); err != nil && err != unix.EEXIST {
			return err
		}
		e.dirTimes = append(e.dirTimes, dirTime{name, atimeOf(hdr), hdr.ModTime})
	case tar.TypeSymlink:
		if err := unix.Symlinkat(hdr.Linkname, pfd, base); err != nil {
			return err
		}
	case tar.TypeLink:
		return e.hardlink(pfd, base, name, hdr.Linkname)
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		m := mode
		switch hdr.Typeflag {
		case tar.TypeChar:
			m |= unix.S_IFCHR
		case tar.TypeBlock:
			m |= unix.S_IFBLK
		default:
			m |= unix.S_IFIFO
		}
		dev := unix.Mkdev(uint32(hdr.Devmajor), uint32(hdr.Devminor))
		if err := unix.Mknodat(pfd, base, m, int(dev)); err != nil {
			return err
		}
	default:
		return fmt.Errorf("unsupported tar entry type %q", hdr.Typeflag)
	}
	return e.attrs(pfd, base, hdr, mode)
}

func atimeOf(hdr *tar.Header) time.Time {
	if hdr.AccessTime.IsZero() {
		return hdr.ModTime
	}
	return hdr.AccessTime
}

func (e *extractor) file(pfd int, base string, hdr *tar.Header, r io.Reader, mode uint32) error {
	fd, err := unix.Openat(pfd, base, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	n, err := io.CopyBuffer(fdWriter(fd), r, e.buf)
	if err != nil {
		return err
	}
	e.res.Size += n
	if hdr.Uid != 0 || hdr.Gid != 0 || !e.isRoot {
		if err := unix.Fchown(fd, hdr.Uid, hdr.Gid); err != nil {
			return err
		}
	}
	if err := unix.Fchmod(fd, mode); err != nil {
		return err
	}
	if err := e.xattrs(fd, "", hdr); err != nil {
		return err
	}
	ts := []unix.Timespec{unix.NsecToTimespec(atimeOf(hdr).UnixNano()), unix.NsecToTimespec(hdr.ModTime.UnixNano())}
	return unix.UtimesNanoAt(unix.AT_FDCWD, fdPath(fd), ts, 0)
}

type fdWriter int

func (w fdWriter) Write(p []byte) (int, error) {
	total := 0
	for len(p) > 0 {
		n, err := unix.Write(int(w), p)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return total, err
		}
		total += n
		p = p[n:]
	}
	return total, nil
}

// attrs applies owner, mode, xattrs and (for non-directories) times to the
// entry base in directory pfd without following a symlink.
func (e *extractor) attrs(pfd int, base string, hdr *tar.Header, mode uint32) error {
	if err := unix.Fchownat(pfd, base, hdr.Uid, hdr.Gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return err
	}
	if hdr.Typeflag != tar.TypeSymlink {
		// Mode after owner: chown clears set-id bits.
		if err := unix.Fchmodat(pfd, base, mode, 0); err != nil {
			return err
		}
	}
	if err := e.xattrs(-1, fdPath(pfd)+"/"+base, hdr); err != nil {
		return err
	}
	if hdr.Typeflag == tar.TypeDir {
		return nil
	}
	ts := []unix.Timespec{unix.NsecToTimespec(atimeOf(hdr).UnixNano()), unix.NsecToTimespec(hdr.ModTime.UnixNano())}
	return unix.UtimesNanoAt(pfd, base, ts, unix.AT_SYMLINK_NOFOLLOW)
}

// xattrs sets the entry's PAX xattrs on fd, or if fd < 0 on p (never
// following a final symlink). overlayfs's own xattrs are dropped: a layer must not be able to
// forge whiteouts, opaque directories or redirects.
func (e *extractor) xattrs(fd int, p string, hdr *tar.Header) error {
	for k, v := range hdr.PAXRecords {
		name, ok := strings.CutPrefix(k, "SCHILY.xattr.")
		if !ok || isOverlayXattr(name) {
			continue
		}
		var err error
		if fd >= 0 {
			err = unix.Fsetxattr(fd, name, []byte(v), 0)
		} else {
			err = unix.Lsetxattr(p, name, []byte(v), 0)
		}
		if err == unix.ENOTSUP || (err == unix.EPERM && hdr.Typeflag == tar.TypeSymlink) {
			continue
		}
		if err != nil {
			return fmt.Errorf("set xattr %s: %w", name, err)
		}
	}
	return nil
}

func isOverlayXattr(name string) bool {
	return strings.HasPrefix(name, "trusted.overlay.") || strings.HasPrefix(name, "user.overlay.")
}

func (e *extractor) whiteout(dirRel, base string) error {
	pfd, err := e.dir(dirRel)
	if err != nil {
		return err
	}
	if base == opaqueMarker {
		// Through the fd's /proc magic link: pfd is an O_PATH fd.
		return unix.Setxattr(fdPath(pfd), opaqueXattr, []byte("y"), 0)
	}
	target := base[len(whiteoutPrefix):]
	if target == "" || target == "." || target == ".." {
		return fmt.Errorf("invalid whiteout %q", base)
	}
	var st unix.Stat_t
	if err := unix.Fstatat(pfd, target, &st, unix.AT_SYMLINK_NOFOLLOW); err == nil {
		// A whiteout hides lower layers only; an entry of this same
		// layer stays (OCI image spec, "Whiteouts").
		return nil
	}
	return unix.Mknodat(pfd, target, unix.S_IFCHR, 0)
}

func (e *extractor) hardlink(pfd int, base, name, linkname string) error {
	target, err := CleanName(linkname)
	if err != nil {
		return err
	}
	if target == "" {
		return fmt.Errorf("hard link to the root")
	}
	tfd, err := e.resolve(target, unix.O_PATH|unix.O_NOFOLLOW)
	if err == unix.ENOENT {
		e.res.LowerLinks = append(e.res.LowerLinks, Link{Name: name, Target: target})
		return nil
	}
	if err != nil {
		return &os.PathError{Op: "open link target", Path: target, Err: err}
	}
	defer unix.Close(tfd)
	var st unix.Stat_t
	if err := unix.Fstat(tfd, &st); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		return fmt.Errorf("hard link to directory %q", target)
	}
	// AT_EMPTY_PATH links the inode tfd holds, so the target path is not
	// looked up a second time.
	return unix.Linkat(tfd, "", pfd, base, unix.AT_EMPTY_PATH)
}

// removeAt removes name (recursively for a directory) from dirfd without
// following symlinks.
func removeAt(dirfd int, name string) error {
	err := unix.Unlinkat(dirfd, name, 0)
	if err == nil || err == unix.ENOENT {
		return nil
	}
	if err != unix.EISDIR && err != unix.EPERM {
		return &os.PathError{Op: "remove", Path: name, Err: err}
	}
	fd, err := unix.Openat(dirfd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "remove", Path: name, Err: err}
	}
	f := os.NewFile(uintptr(fd), name)
	names, err := f.Readdirnames(-1)
	if err == nil {
		for _, n := range names {
			if err = removeAt(fd, n); err != nil {
				break
			}
		}
	}
	f.Close()
	if err != nil {
		return err
	}
	if err := unix.Unlinkat(dirfd, name, unix.AT_REMOVEDIR); err != nil {
		return &os.PathError{Op: "remove", Path: name, Err: err}
	}
	return nil
}

func fdPath(fd int) string { return "/proc/self/fd/" + strconv.Itoa(fd) }

func setTimes(fd int, atime, mtime time.Time) error {
	ts := []unix.Timespec{unix.NsecToTimespec(atime.UnixNano()), unix.NsecToTimespec(mtime.UnixNano())}
	return unix.UtimesNanoAt(unix.AT_FDCWD, fdPath(fd), ts, 0)
}
