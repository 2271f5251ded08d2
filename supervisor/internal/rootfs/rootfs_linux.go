// Package rootfs reads and writes a container's filesystem from the host
// without ever leaving it: every path is resolved with openat2's
// RESOLVE_IN_ROOT against a descriptor of the container's root (so ".."
// and symlinks, absolute ones included, stay inside, however the
// container rearranges its files meanwhile), and every entry is then
// created or opened relative to its parent's descriptor, by a single name,
// without following a final symlink. It serves `cp` both ways, `export`,
// and the tar of the container layer that `commit` needs.
package rootfs

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"runtime"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Root is an open container root filesystem.
type Root struct {
	fd   int
	path string
	// shift is the host id of the container's root when it has a user
	// namespace of its own (OpenShifted), else 0.
	shift uint32
}

// Open opens the root at dir (a host path).
func Open(dir string) (*Root, error) {
	fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: dir, Err: err}
	}
	return &Root{fd: fd, path: dir}, nil
}

// userNSSize is how many ids a container's user namespace maps.
const userNSSize = 65536

// OpenShifted opens the root of a container whose ids 0-65535 are host
// ids shift and up, mounted through idmapped layers: the files show the
// host ids. Tar reports the container's ids, and Extract and MkdirAll
// create what the container's root would (as that host id: through the
// idmapped container layer no other id can create anything, EOVERFLOW).
func OpenShifted(dir string, shift uint32) (*Root, error) {
	r, err := Open(dir)
	if err == nil {
		r.shift = shift
	}
	return r, err
}

// containerID is the container's view of host id v.
func (r *Root) containerID(v uint32) int {
	if r.shift == 0 {
		return int(v)
	}
	if v >= r.shift && v-r.shift < userNSSize {
		return int(v - r.shift)
	}
	return 65534 // unmapped: nobody, as the container sees it
}

// secbitNoSetuidFixup keeps capabilities across a change of fsuid.
const secbitNoSetuidFixup = 1 << 2

// AsFSID runs fn on a thread of its own whose filesystem uid and gid are
// id, with every capability kept (SECBIT_NO_SETUID_FIXUP): what fn
// creates is id's, and it may still chown. Through an idmapped mount of a
// container with a user namespace only that container's ids exist, so
// berthd works there as the container's root (EOVERFLOW otherwise). fn
// may change the thread further (its working directory, say): the thread
// is never given back to Go.
func AsFSID(id uint32, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		errc <- func() error {
			if err := unix.Prctl(unix.PR_SET_SECUREBITS, secbitNoSetuidFixup, 0, 0, 0); err != nil {
				return fmt.Errorf("securebits: %w", err)
			}
			// Per thread, as the kernel has them.
			unix.RawSyscall(unix.SYS_SETFSGID, uintptr(id), 0, 0)
			unix.RawSyscall(unix.SYS_SETFSUID, uintptr(id), 0, 0)
			return fn()
		}()
	}()
	return <-errc
}

// asRoot runs fn as the container's root would create files (AsFSID);
// without a shift fn just runs.
func (r *Root) asRoot(fn func() error) error {
	if r.shift == 0 {
		return fn()
	}
	return AsFSID(r.shift, fn)
}

// Close releases the root.
func (r *Root) Close() error { return unix.Close(r.fd) }

// openIn opens p (a path in the container) relative to the root.
func (r *Root) openIn(p string, flags uint64) (int, error) {
	how := &unix.OpenHow{
		Flags:   flags | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS | unix.RESOLVE_NO_XDEV,
	}
	rel := strings.TrimPrefix(path.Clean("/"+p), "/")
	if rel == "" {
		rel = "."
	}
	for {
		fd, err := unix.Openat2(r.fd, rel, how)
		if err == unix.EINTR || err == unix.EAGAIN {
			continue
		}
		if err != nil {
			return -1, &os.PathError{Op: "open", Path: p, Err: err}
		}
		return fd, nil
	}
}

// parent opens the directory holding p and returns p's last element.
// The root itself has no parent: it is "." in itself.
func (r *Root) parent(p string) (int, string, error) {
	clean := path.Clean("/" + p)
	if clean == "/" {
		fd, err := unix.Dup(r.fd)
		return fd, ".", err
	}
	dir, base := path.Split(clean)
	fd, err := r.openIn(dir, unix.O_PATH|unix.O_DIRECTORY)
	return fd, base, err
}

// Info describes a path in the container.
type Info struct {
	Name       string
	Size       int64
	Mode       os.FileMode
	ModTime    time.Time
	LinkTarget string
}

// Stat describes p without following a final symlink (Docker's
// container path stat).
func (r *Root) Stat(p string) (*Info, error) {
	pfd, base, err := r.parent(p)
	if err != nil {
		return nil, err
	}
	defer unix.Close(pfd)
	var st unix.Stat_t
	if err := unix.Fstatat(pfd, base, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return nil, &os.PathError{Op: "stat", Path: p, Err: err}
	}
	info := &Info{Name: path.Base(path.Clean("/" + p)), Size: st.Size, Mode: fileMode(st.Mode), ModTime: time.Unix(st.Mtim.Unix())}
	if st.Mode&unix.S_IFMT == unix.S_IFLNK {
		info.LinkTarget, _ = readlinkat(pfd, base)
	}
	return info, nil
}

// IsDir reports whether p resolves to a directory (following symlinks
// inside the root).
func (r *Root) IsDir(p string) bool {
	fd, err := r.openIn(p, unix.O_PATH|unix.O_DIRECTORY)
	if err != nil {
		return false
	}
	unix.Close(fd)
	return true
}

func fileMode(m uint32) os.FileMode {
	mode := os.FileMode(m & 0o777)
	switch m & unix.S_IFMT {
	case unix.S_IFDIR:
		mode |= os.ModeDir
	case unix.S_IFLNK:
		mode |= os.ModeSymlink
	case unix.S_IFCHR:
		mode |= os.ModeDevice | os.ModeCharDevice
	case unix.S_IFBLK:
		mode |= os.ModeDevice
	case unix.S_IFIFO:
		mode |= os.ModeNamedPipe
	case unix.S_IFSOCK:
		mode |= os.ModeSocket
	}
	if m&unix.S_ISUID != 0 {
		mode |= os.ModeSetuid
	}
	if m&unix.S_ISGID != 0 {
		mode |= os.ModeSetgid
	}
	if m&unix.S_ISVTX != 0 {
		mode |= os.ModeSticky
	}
	return mode
}

func readlinkat(dirfd int, name string) (string, error) {
	buf := make([]byte, 4096)
	n, err := unix.Readlinkat(dirfd, name, buf)
	if err != nil {
		return "", err
	}
	return string(buf[:n]), nil
}

// TarOptions tune a tar of a tree.
type TarOptions struct {
	// Name is the tar name of the top entry ("" for the root's contents,
	// as export writes them).
	Name string
	// FollowLink: a symlink at the top is replaced by what it points to.
	FollowLink bool
	// Whiteouts converts overlay whiteouts (0/0 character devices and
	// opaque directories) to OCI whiteouts, for the container layer.
	Whiteouts bool
}

// Tar writes p and everything under it to w.
func (r *Root) Tar(p string, w io.Writer, o TarOptions) error {
	pfd, base, err := r.parent(p)
	if err != nil {
		return err
	}
	defer unix.Close(pfd)
	if o.FollowLink {
		fd, err := r.openIn(p, unix.O_PATH)
		if err != nil {
			return err
		}
		unix.Close(pfd)
		pfd, base = fd, ""
	}
	tw := tar.NewWriter(w)
	t := &tarrer{tw: tw, links: map[[2]uint64]string{}, whiteouts: o.Whiteouts, r: r}
	if err := t.add(pfd, base, o.Name); err != nil {
		return err
	}
	return tw.Close()
}

type tarrer struct {
	r         *Root
	tw        *tar.Writer
	links     map[[2]uint64]string // dev/ino -> first tar name, for hard links
	whiteouts bool
	buf       []byte
}

// add writes the entry name of dirfd (name "" means dirfd itself) as
// tarName, and its children.
func (t *tarrer) add(dirfd int, name, tarName string) error {
	var st unix.Stat_t
	flags := unix.AT_SYMLINK_NOFOLLOW
	if name == "" {
		flags |= unix.AT_EMPTY_PATH
	}
	if err := unix.Fstatat(dirfd, name, &st, flags); err != nil {
		return &os.PathError{Op: "stat", Path: tarName, Err: err}
	}
	hdr := &tar.Header{
		Name: tarName, Mode: int64(st.Mode & 0o7777), Uid: t.r.containerID(st.Uid), Gid: t.r.containerID(st.Gid),
		ModTime: time.Unix(st.Mtim.Unix()), Format: tar.FormatPAX,
	}
	typ := st.Mode & unix.S_IFMT
	if t.whiteouts && typ == unix.S_IFCHR && st.Rdev == 0 {
		// An overlay whiteout: the OCI form is an empty .wh.NAME file.
		dir, base := path.Split(tarName)
		hdr.Name, hdr.Typeflag, hdr.Mode = dir+".wh."+base, tar.TypeReg, 0o600
		return t.tw.WriteHeader(hdr)
	}
	if typ != unix.S_IFDIR && st.Nlink > 1 {
		key := [2]uint64{uint64(st.Dev), st.Ino}
		if first, ok := t.links[key]; ok {
			hdr.Typeflag, hdr.Linkname = tar.TypeLink, first
			return t.tw.WriteHeader(hdr)
		}
		t.links[key] = tarName
	}
	switch typ {
	case unix.S_IFREG:
		hdr.Typeflag, hdr.Size = tar.TypeReg, st.Size
		fd, err := openat(dirfd, name, unix.O_RDONLY|unix.O_NOFOLLOW)
		if err != nil {
			return err
		}
		f := os.NewFile(uintptr(fd), tarName)
		defer f.Close()
		if err := t.tw.WriteHeader(hdr); err != nil {
			return err
		}
		if t.buf == nil {
			t.buf = make([]byte, 256<<10)
		}
		n, err := io.CopyBuffer(t.tw, io.LimitReader(f, st.Size), t.buf)
		if err != nil {
			return err
		}
		if n < st.Size {
			// The file shrank while being read: pad, as tar needs.
			_, err = t.tw.Write(make([]byte, st.Size-n))
		}
		return err
	case unix.S_IFLNK:
		hdr.Typeflag = tar.TypeSymlink
		target, err := readlinkat(dirfd, name)
		if err != nil {
			return err
		}
		hdr.Linkname = target
		return t.tw.WriteHeader(hdr)
	case unix.S_IFCHR, unix.S_IFBLK:
		hdr.Typeflag = tar.TypeChar
		if typ == unix.S_IFBLK {
			hdr.Typeflag = tar.TypeBlock
		}
		hdr.Devmajor, hdr.Devminor = int64(unix.Major(st.Rdev)), int64(unix.Minor(st.Rdev))
		return t.tw.WriteHeader(hdr)
	case unix.S_IFIFO:
		hdr.Typeflag = tar.TypeFifo
		return t.tw.WriteHeader(hdr)
	case unix.S_IFSOCK:
		return nil // sockets cannot be archived
	case unix.S_IFDIR:
	default:
		return nil
	}
	hdr.Typeflag = tar.TypeDir
	fd, err := openat(dirfd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW)
	if err != nil {
		return err
	}
	dir := os.NewFile(uintptr(fd), tarName)
	defer dir.Close()
	if tarName != "" {
		hdr.Name = tarName + "/"
		if err := t.tw.WriteHeader(hdr); err != nil {
			return err
		}
		if t.whiteouts && isOpaque(fd) {
			if err := t.tw.WriteHeader(&tar.Header{Name: tarName + "/.wh..wh..opq", Typeflag: tar.TypeReg, Mode: 0o600, ModTime: hdr.ModTime, Format: tar.FormatPAX}); err != nil {
				return err
			}
		}
	}
	names, err := dir.Readdirnames(-1)
	if err != nil {
		return err
	}
	for _, n := range names {
		child := n
		if tarName != "" {
			child = tarName + "/" + n
		}
		if err := t.add(fd, n, child); err != nil {
			return err
		}
	}
	return nil
}

func openat(dirfd int, name string, flags int) (int, error) {
	if name == "" {
		// dirfd itself, which may be an O_PATH fd of a file (a followed
		// symlink): reopen it through its /proc/self/fd link, which
		// names that very inode (so no O_NOFOLLOW: the link is magic).
		dirfd, name, flags = unix.AT_FDCWD, "/proc/self/fd/"+strconv.Itoa(dirfd), flags&^unix.O_NOFOLLOW
	}
	for {
		fd, err := unix.Openat(dirfd, name, flags|unix.O_CLOEXEC, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return -1, &os.PathError{Op: "open", Path: name, Err: err}
		}
		return fd, nil
	}
}

// isOpaque reports overlay's opaque-directory xattr.
func isOpaque(fd int) bool {
	buf := make([]byte, 8)
	for _, attr := range []string{"trusted.overlay.opaque", "user.overlay.opaque"} {
		if n, err := unix.Fgetxattr(fd, attr, buf); err == nil && n == 1 && buf[0] == 'y' {
			return true
		}
	}
	return false
}

// ExtractOptions tune an extraction.
type ExtractOptions struct {
	// KeepOwners uses the tar's uid and gid (cp -a); otherwise root.
	KeepOwners bool
	shift      uint32 // the Root's
}

// owner is the host uid and gid an entry gets.
func (o ExtractOptions) owner(hdr *tar.Header) (int, int, error) {
	uid, gid := 0, 0
	if o.KeepOwners {
		uid, gid = hdr.Uid, hdr.Gid
	}
	if o.shift == 0 {
		return uid, gid, nil
	}
	if uid < 0 || gid < 0 || uid >= userNSSize || gid >= userNSSize {
		return 0, 0, fmt.Errorf("owner %d:%d is outside the container's user namespace (0-%d)", uid, gid, userNSSize-1)
	}
	return uid + int(o.shift), gid + int(o.shift), nil
}

// Extract unpacks a tar into dir (a directory in the container). Each
// entry's parent is resolved inside the root, and the entry is created by
// its single name relative to that, never through a symlink.
func (r *Root) Extract(dir string, rd io.Reader, o ExtractOptions) error {
	o.shift = r.shift
	return r.asRoot(func() error { return r.extract(dir, rd, o) })
}

func (r *Root) extract(dir string, rd io.Reader, o ExtractOptions) error {
	if !r.IsDir(dir) {
		return fmt.Errorf("extract to %s: %w", dir, unix.ENOTDIR)
	}
	tr := tar.NewReader(rd)
	var dirs []*tar.Header
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("read archive: %w", err)
		}
		name := path.Clean("/" + hdr.Name)
		if name == "/" {
			continue
		}
		target := path.Join(dir, name)
		if err := r.extractOne(dir, target, hdr, tr, o); err != nil {
			return fmt.Errorf("extract %s: %w", hdr.Name, err)
		}
		if hdr.Typeflag == tar.TypeDir {
			h := *hdr
			h.Name = target
			dirs = append(dirs, &h)
		}
	}
	// Directory times last: their contents changed them.
	for i := len(dirs) - 1; i >= 0; i-- {
		if pfd, base, err := r.parent(dirs[i].Name); err == nil {
			ts := []unix.Timespec{unix.NsecToTimespec(dirs[i].ModTime.UnixNano()), unix.NsecToTimespec(dirs[i].ModTime.UnixNano())}
			unix.UtimesNanoAt(pfd, base, ts, unix.AT_SYMLINK_NOFOLLOW)
			unix.Close(pfd)
		}
	}
	return nil
}

func (r *Root) extractOne(dir, target string, hdr *tar.Header, rd io.Reader, o ExtractOptions) error {
	if err := r.mkdirAll(path.Dir(target)); err != nil {
		return err
	}
	pfd, base, err := r.parent(target)
	if err != nil {
		return err
	}
	defer unix.Close(pfd)
	// Reopen the parent as a real directory descriptor (O_PATH cannot
	// be used for every *at call's permission checks).
	dfd, err := openat(pfd, ".", unix.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		return err
	}
	defer unix.Close(dfd)
	mode := uint32(hdr.Mode & 0o7777)
	var st unix.Stat_t
	exists := unix.Fstatat(dfd, base, &st, unix.AT_SYMLINK_NOFOLLOW) == nil
	if exists && !(hdr.Typeflag == tar.TypeDir && st.Mode&unix.S_IFMT == unix.S_IFDIR) {
		if st.Mode&unix.S_IFMT == unix.S_IFDIR {
			if err := unix.Unlinkat(dfd, base, unix.AT_REMOVEDIR); err != nil {
				return fmt.Errorf("cannot overwrite directory %s with a non-directory: %w", target, err)
			}
		} else if err := unix.Unlinkat(dfd, base, 0); err != nil {
			return err
		}
	}
	switch hdr.Typeflag {
	case tar.TypeDir:
		if !exists || st.Mode&unix.S_IFMT != unix.S_IFDIR {
			if err := unix.Mkdirat(dfd, base, mode); err != nil {
				return err
			}
		}
		fd, err := openat(dfd, base, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		return setAttrs(fd, hdr, o)
	case tar.TypeReg, tar.TypeRegA:
		fd, err := openat(dfd, base, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW)
		if err != nil {
			return err
		}
		f := os.NewFile(uintptr(fd), target)
		defer f.Close()
		if _, err := io.Copy(f, rd); err != nil {
			return err
		}
		return setAttrs(fd, hdr, o)
	case tar.TypeSymlink:
		if err := unix.Symlinkat(hdr.Linkname, dfd, base); err != nil {
			return err
		}
		if o.KeepOwners || o.shift != 0 {
			if uid, gid, err := o.owner(hdr); err == nil {
				unix.Fchownat(dfd, base, uid, gid, unix.AT_SYMLINK_NOFOLLOW)
			}
		}
		return nil
	case tar.TypeLink:
		// The link target is an entry of this same archive.
		src := path.Join(dir, path.Clean("/"+hdr.Linkname))
		sfd, sbase, err := r.parent(src)
		if err != nil {
			return err
		}
		defer unix.Close(sfd)
		return unix.Linkat(sfd, sbase, dfd, base, 0)
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
		if err := unix.Mknodat(dfd, base, m, int(unix.Mkdev(uint32(hdr.Devmajor), uint32(hdr.Devminor)))); err != nil {
			return err
		}
		if o.KeepOwners || o.shift != 0 {
			if uid, gid, err := o.owner(hdr); err == nil {
				unix.Fchownat(dfd, base, uid, gid, unix.AT_SYMLINK_NOFOLLOW)
			}
		}
		return nil
	}
	return nil // other types (global headers) are ignored
}

func setAttrs(fd int, hdr *tar.Header, o ExtractOptions) error {
	uid, gid, err := o.owner(hdr)
	if err != nil {
		return err
	}
	if err := unix.Fchown(fd, uid, gid); err != nil {
		return err
	}
	if err := unix.Fchmod(fd, uint32(hdr.Mode&0o7777)); err != nil {
		return err
	}
	ts := []unix.Timespec{unix.NsecToTimespec(hdr.ModTime.UnixNano()), unix.NsecToTimespec(hdr.ModTime.UnixNano())}
	return unix.UtimesNanoAt(fd, "", ts, unix.AT_EMPTY_PATH)
}

// MkdirAll creates dir and its missing parents inside the root (0755,
// owned by root).
func (r *Root) MkdirAll(dir string) error {
	return r.asRoot(func() error { return r.mkdirAll(dir) })
}

// mkdirAll creates dir and its missing parents inside the root.
func (r *Root) mkdirAll(dir string) error {
	clean := path.Clean("/" + dir)
	if r.IsDir(clean) {
		return nil
	}
	if clean != "/" {
		if err := r.mkdirAll(path.Dir(clean)); err != nil {
			return err
		}
	}
	pfd, base, err := r.parent(clean)
	if err != nil {
		return err
	}
	defer unix.Close(pfd)
	dfd, err := openat(pfd, ".", unix.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		return err
	}
	defer unix.Close(dfd)
	if err := unix.Mkdirat(dfd, base, 0o755); err != nil && !errors.Is(err, unix.EEXIST) {
		return &os.PathError{Op: "mkdir", Path: clean, Err: err}
	}
	return nil
}
