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
	"unsafe"

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

// dirFd is an O_PATH fd of a directory of the layer, and whether the
// directory is set-group-ID (what is created in it then takes its group
// instead of the creator's, so even a 0:0 entry needs a chown).
type dirFd struct {
	fd     int
	setgid bool
}

type extractor struct {
	rootFd   int
	root     dirFd
	rootReal string
	dirs     map[string]dirFd
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
		dirs:     map[string]dirFd{},
		implicit: map[string]bool{},
		buf:      make([]byte, 256<<10),
		isRoot:   os.Geteuid() == 0,
	}
	defer e.close()
	if e.rootReal, err = os.Readlink(fdPath(fd)); err != nil {
		return nil, err
	}
	if e.root, err = statDir(fd); err != nil {
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
		setTimesPath(fd, dt.atime, dt.mtime)
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
	for _, d := range e.dirs {
		unix.Close(d.fd)
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
// (and remembering them as implicit). Resolved directories stay cached
// until an entry is removed: tar entries come mostly in directory order,
// so most entries cost no path walk at all, only an *at call relative to
// their parent's fd.
func (e *extractor) dir(rel string) (dirFd, error) {
	if rel == "" {
		return e.root, nil
	}
	if d, ok := e.dirs[rel]; ok {
		return d, nil
	}
	fd, err := e.resolve(rel, unix.O_PATH|unix.O_DIRECTORY)
	if err == unix.ENOENT {
		if err := e.mkdirImplicit(rel); err != nil {
			return dirFd{}, err
		}
		fd, err = e.resolve(rel, unix.O_PATH|unix.O_DIRECTORY)
	}
	if err != nil {
		return dirFd{}, &os.PathError{Op: "open parent", Path: rel, Err: err}
	}
	d, err := statDir(fd)
	if err != nil {
		unix.Close(fd)
		return dirFd{}, err
	}
	if len(e.dirs) > 512 {
		e.flush()
	}
	e.dirs[rel] = d
	return d, nil
}

func statDir(fd int) (dirFd, error) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return dirFd{}, err
	}
	return dirFd{fd: fd, setgid: st.Mode&unix.S_ISGID != 0}, nil
}

// mkdirImplicit creates directory rel, which the tar did not list.
func (e *extractor) mkdirImplicit(rel string) error {
	parent, base := split(rel)
	pd, err := e.dir(parent)
	if err != nil {
		return err
	}
	if err := unix.Mkdirat(pd.fd, base, 0o755); err != nil && err != unix.EEXIST {
		return &os.PathError{Op: "mkdir", Path: rel, Err: err}
	}
	real, err := e.realPath(pd.fd, base)
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
	case tar.TypeReg, tar.TypeRegA, tar.TypeGNUSparse, tar.TypeDir, tar.TypeSymlink, tar.TypeLink,
		tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
	default:
		return fmt.Errorf("unsupported tar entry type %q", hdr.Typeflag)
	}
	pd, err := e.dir(dirRel)
	if err != nil {
		return err
	}
	mode := uint32(hdr.Mode) & 0o7777
	// Create first and look only if the name is taken (rare: most
	// entries are new), instead of a stat before every entry.
	done, err := e.create(pd, base, name, hdr, tr, mode)
	if err == unix.EEXIST {
		var st unix.Stat_t
		if serr := unix.Fstatat(pd.fd, base, &st, unix.AT_SYMLINK_NOFOLLOW); serr == nil &&
			hdr.Typeflag == tar.TypeDir && st.Mode&unix.S_IFMT == unix.S_IFDIR {
			delete(e.implicit, name) // listed after all: keep its own attributes
			e.dirTimes = append(e.dirTimes, dirTime{name, atimeOf(hdr), hdr.ModTime})
			if (st.Mode^mode)&unix.S_ISGID != 0 {
				// Cached fds of it (under any name) carry
				// the old set-group-ID state.
				if err := e.attrs(pd, base, hdr, mode); err != nil {
					return err
				}
				e.flush()
				return nil
			}
			done, err = false, nil
		} else {
			// A later entry replaces an earlier one of this layer.
			// Remove through pd before the flush closes its fd.
			if err := removeAt(pd.fd, base); err != nil {
				return err
			}
			e.flush()
			if pd, err = e.dir(dirRel); err != nil {
				return err
			}
			done, err = e.create(pd, base, name, hdr, tr, mode)
		}
	}
	if err != nil || done {
		return err
	}
	return e.attrs(pd, base, hdr, mode)
}

// create makes the entry base in directory pd. It fails with EEXIST,
// before consuming any data, if the name is taken. done means the entry
// is complete (a regular file with its attributes, a hard link); else the
// caller sets the attributes.
func (e *extractor) create(pd dirFd, base, name string, hdr *tar.Header, tr io.Reader, mode uint32) (done bool, err error) {
	switch hdr.Typeflag {
	case tar.TypeReg, tar.TypeRegA, tar.TypeGNUSparse:
		return true, e.file(pd, base, hdr, tr, mode)
	case tar.TypeDir:
		if err := unix.Mkdirat(pd.fd, base, 0o700); err != nil {
			return false, err
		}
		e.dirTimes = append(e.dirTimes, dirTime{name, atimeOf(hdr), hdr.ModTime})
	case tar.TypeSymlink:
		if err := unix.Symlinkat(hdr.Linkname, pd.fd, base); err != nil {
			return false, err
		}
	case tar.TypeLink:
		return true, e.hardlink(pd.fd, base, name, hdr.Linkname)
	default: // tar.TypeChar, tar.TypeBlock, tar.TypeFifo
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
		if err := unix.Mknodat(pd.fd, base, m, int(dev)); err != nil {
			return false, err
		}
	}
	return false, nil
}

// needChown tells whether an entry created by this process in pd does
// not already have the owner hdr asks for: it has root's (0:0) unless pd is
// set-group-ID, or this process is not root.
func (e *extractor) needChown(pd dirFd, hdr *tar.Header) bool {
	return hdr.Uid != 0 || hdr.Gid != 0 || !e.isRoot || pd.setgid
}

func atimeOf(hdr *tar.Header) time.Time {
	if hdr.AccessTime.IsZero() {
		return hdr.ModTime
	}
	return hdr.AccessTime
}

func (e *extractor) file(pd dirFd, base string, hdr *tar.Header, r io.Reader, mode uint32) error {
	fd, err := unix.Openat(pd.fd, base, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	n, err := io.CopyBuffer(fdWriter(fd), r, e.buf)
	if err != nil {
		return err
	}
	e.res.Size += n
	if e.needChown(pd, hdr) {
		if err := unix.Fchown(fd, hdr.Uid, hdr.Gid); err != nil {
			return err
		}
	}
	// Mode after owner: chown clears set-id bits.
	if err := unix.Fchmod(fd, mode); err != nil {
		return err
	}
	if err := e.xattrs(fd, "", hdr); err != nil {
		return err
	}
	return futimens(fd, atimeOf(hdr), hdr.ModTime)
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
// entry base in directory pd without following a symlink.
func (e *extractor) attrs(pd dirFd, base string, hdr *tar.Header, mode uint32) error {
	if e.needChown(pd, hdr) {
		if err := unix.Fchownat(pd.fd, base, hdr.Uid, hdr.Gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return err
		}
	}
	if hdr.Typeflag != tar.TypeSymlink {
		// Mode after owner: chown clears set-id bits.
		if err := unix.Fchmodat(pd.fd, base, mode, 0); err != nil {
			return err
		}
	}
	if len(hdr.PAXRecords) > 0 {
		if err := e.xattrs(-1, fdPath(pd.fd)+"/"+base, hdr); err != nil {
			return err
		}
	}
	if hdr.Typeflag == tar.TypeDir {
		return nil
	}
	ts := timespecs(atimeOf(hdr), hdr.ModTime)
	return unix.UtimesNanoAt(pd.fd, base, ts[:], unix.AT_SYMLINK_NOFOLLOW)
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
	pd, err := e.dir(dirRel)
	if err != nil {
		return err
	}
	pfd := pd.fd
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
		var st unix.Stat_t
		if unix.Fstatat(pfd, base, &st, unix.AT_SYMLINK_NOFOLLOW) == nil {
			return unix.EEXIST // the caller removes the old entry first
		}
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

func timespecs(atime, mtime time.Time) [2]unix.Timespec {
	return [2]unix.Timespec{unix.NsecToTimespec(atime.UnixNano()), unix.NsecToTimespec(mtime.UnixNano())}
}

// futimens sets the times of the file open as fd (utimensat with a NULL
// path: no lookup, unlike a /proc/self/fd path).
func futimens(fd int, atime, mtime time.Time) error {
	ts := timespecs(atime, mtime)
	_, _, errno := unix.Syscall6(unix.SYS_UTIMENSAT, uintptr(fd), 0, uintptr(unsafe.Pointer(&ts[0])), 0, 0, 0)
	if errno != 0 {
		return errno
	}
	return nil
}

// setTimesPath sets the times of what the O_PATH fd refers to (not
// following it if it is a symlink).
func setTimesPath(fd int, atime, mtime time.Time) error {
	ts := timespecs(atime, mtime)
	err := unix.UtimesNanoAt(fd, "", ts[:], unix.AT_EMPTY_PATH|unix.AT_SYMLINK_NOFOLLOW)
	if err == unix.EINVAL { // kernels before AT_EMPTY_PATH support in utimensat
		err = unix.UtimesNanoAt(unix.AT_FDCWD, fdPath(fd), ts[:], 0)
	}
	return err
}
