package unpack

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
}

var mtime = time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)

// entry is a tar entry; kind is one of file, dir, symlink, link, char, fifo.
type entry struct {
	name, kind, body, link string
	mode                   int64
	uid, gid               int
	xattrs                 map[string]string
}

func mkTar(t *testing.T, ents ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range ents {
		h := &tar.Header{Name: e.name, Mode: e.mode, Uid: e.uid, Gid: e.gid, ModTime: mtime, Linkname: e.link, Format: tar.FormatPAX}
		if h.Mode == 0 {
			h.Mode = 0o644
		}
		switch e.kind {
		case "file", "":
			h.Typeflag, h.Size = tar.TypeReg, int64(len(e.body))
		case "dir":
			h.Typeflag = tar.TypeDir
		case "symlink":
			h.Typeflag = tar.TypeSymlink
		case "link":
			h.Typeflag = tar.TypeLink
		case "char":
			h.Typeflag, h.Devmajor, h.Devminor = tar.TypeChar, 1, 3
		case "fifo":
			h.Typeflag = tar.TypeFifo
		}
		for k, v := range e.xattrs {
			if h.PAXRecords == nil {
				h.PAXRecords = map[string]string{}
			}
			h.PAXRecords["SCHILY.xattr."+k] = v
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			tw.Write([]byte(e.body))
		}
	}
	tw.Close()
	return buf.Bytes()
}

func apply(t *testing.T, root string, ents ...entry) (*Result, error) {
	t.Helper()
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	return Apply(context.Background(), root, bytes.NewReader(mkTar(t, ents...)))
}

func lstat(t *testing.T, p string) *unix.Stat_t {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Lstat(p, &st); err != nil {
		t.Fatalf("lstat %s: %v", p, err)
	}
	return &st
}

func TestCleanName(t *testing.T) {
	tests := []struct {
		in, want string
		err      bool
	}{
		{"a/b", "a/b", false},
		{"./a/b/", "a/b", false},
		{"/etc/passwd", "etc/passwd", false},
		{"a/../b", "b", false},
		{".", "", false},
		{"/", "", false},
		{"../x", "", true},
		{"..", "", true},
		{"a/../../x", "", true},
		{"/../x", "x", false},
	}
	for _, tt := range tests {
		got, err := CleanName(tt.in)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("CleanName(%q) = %q, %v; want %q, err %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestApplyKinds(t *testing.T) {
	requireRoot(t)
	root := filepath.Join(t.TempDir(), "l")
	res, err := apply(t, root,
		entry{name: "bin/", kind: "dir", mode: 0o750, uid: 7, gid: 8},
		entry{name: "bin/sh", body: "#!", mode: 0o4755, uid: 1000, gid: 1000, xattrs: map[string]string{"user.k": "v"}},
		entry{name: "bin/ash", kind: "link", link: "bin/sh"},
		entry{name: "bin/ls", kind: "symlink", link: "/bin/sh"},
		entry{name: "dev/null", kind: "char", mode: 0o666},
		entry{name: "run/fifo", kind: "fifo"},
		entry{name: "etc/x", body: "x", xattrs: map[string]string{"trusted.overlay.opaque": "y"}},
	)
	if err != nil {
		t.Fatal(err)
	}
	st := lstat(t, root+"/bin")
	if st.Mode&0o7777 != 0o750 || st.Uid != 7 || st.Gid != 8 || st.Mtim.Sec != mtime.Unix() {
		t.Errorf("bin: mode %o uid %d gid %d mtime %d", st.Mode&0o7777, st.Uid, st.Gid, st.Mtim.Sec)
	}
	sh := lstat(t, root+"/bin/sh")
	if sh.Mode&0o7777 != 0o4755 || sh.Uid != 1000 || sh.Mtim.Sec != mtime.Unix() {
		t.Errorf("bin/sh: mode %o uid %d", sh.Mode&0o7777, sh.Uid)
	}
	if ash := lstat(t, root+"/bin/ash"); ash.Ino != sh.Ino {
		t.Errorf("bin/ash is not a hard link of bin/sh")
	}
	if l, _ := os.Readlink(root + "/bin/ls"); l != "/bin/sh" {
		t.Errorf("bin/ls -> %q", l)
	}
	if d := lstat(t, root+"/dev/null"); d.Mode&unix.S_IFMT != unix.S_IFCHR || d.Rdev != unix.Mkdev(1, 3) {
		t.Errorf("dev/null: mode %o rdev %d", d.Mode, d.Rdev)
	}
	if f := lstat(t, root+"/run/fifo"); f.Mode&unix.S_IFMT != unix.S_IFIFO {
		t.Errorf("run/fifo: mode %o", f.Mode)
	}
	buf := make([]byte, 8)
	if n, err := unix.Lgetxattr(root+"/bin/sh", "user.k", buf); err != nil || string(buf[:n]) != "v" {
		t.Errorf("user.k = %q, %v", buf[:n], err)
	}
	if _, err := unix.Lgetxattr(root+"/etc/x", "trusted.overlay.opaque", buf); err == nil {
		t.Errorf("trusted.overlay.opaque from the tar was applied")
	}
	sort.Strings(res.ImplicitDirs)
	if got := res.ImplicitDirs; len(got) != 3 || got[0] != "dev" || got[1] != "etc" || got[2] != "run" {
		t.Errorf("ImplicitDirs = %v, want [dev etc run]", got)
	}
	if res.Size != 3 {
		t.Errorf("Size = %d, want 3", res.Size)
	}
}

func TestWhiteouts(t *testing.T) {
	requireRoot(t)
	tests := []struct {
		name      string
		ents      []entry
		whiteouts []string // become 0/0 char devices
		opaque    []string
		files     []string // remain regular files
	}{
		{"file whiteout", []entry{{name: "etc/.wh.passwd", body: ""}}, []string{"etc/passwd"}, nil, nil},
		{"opaque dir", []entry{{name: "var/", kind: "dir", mode: 0o755}, {name: "var/.wh..wh..opq"}}, nil, []string{"var"}, nil},
		{"opaque without dir entry", []entry{{name: "a/b/.wh..wh..opq"}}, nil, []string{"a/b"}, nil},
		{"same-layer file after whiteout wins", []entry{{name: ".wh.f"}, {name: "f", body: "x"}}, nil, nil, []string{"f"}},
		{"same-layer file before whiteout stays", []entry{{name: "f", body: "x"}, {name: ".wh.f"}}, nil, nil, []string{"f"}},
		{"aufs metadata ignored", []entry{{name: ".wh..wh.plnk/1", body: ""}, {name: ".wh..wh.aufs"}}, nil, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := filepath.Join(t.TempDir(), "l")
			if _, err := apply(t, root, tt.ents...); err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.whiteouts {
				st := lstat(t, filepath.Join(root, w))
				if st.Mode&unix.S_IFMT != unix.S_IFCHR || st.Rdev != 0 {
					t.Errorf("%s: mode %o rdev %d, want 0/0 char device", w, st.Mode, st.Rdev)
				}
			}
			for _, o := range tt.opaque {
				buf := make([]byte, 4)
				n, err := unix.Lgetxattr(filepath.Join(root, o), opaqueXattr, buf)
				if err != nil || string(buf[:n]) != "y" {
					t.Errorf("%s: opaque xattr %q, %v", o, buf[:max(n, 0)], err)
				}
			}
			for _, f := range tt.files {
				if st := lstat(t, filepath.Join(root, f)); st.Mode&unix.S_IFMT != unix.S_IFREG {
					t.Errorf("%s: mode %o, want regular file", f, st.Mode)
				}
			}
			ents, _ := os.ReadDir(root)
			for _, e := range ents {
				if len(e.Name()) > 3 && e.Name()[:4] == ".wh." {
					t.Errorf("whiteout file %s left in the layer", e.Name())
				}
			}
		})
	}
}

// TestEscapes checks that nothing is ever written outside the layer dir.
func TestEscapes(t *testing.T) {
	requireRoot(t)
	tests := []struct {
		name    string
		ents    []entry
		wantErr error
		inside  []string // paths that must exist inside the layer
	}{
		{"dotdot", []entry{{name: "../evil", body: "x"}}, ErrEscape, nil},
		{"nested dotdot", []entry{{name: "a/../../evil", body: "x"}}, ErrEscape, nil},
		{"absolute", []entry{{name: "/evil", body: "x"}}, nil, []string{"evil"}},
		{"symlink to absolute dir then write", []entry{
			{name: "lnk", kind: "symlink", link: "/"},
			{name: "lnk/evil", body: "x"},
		}, nil, []string{"evil"}},
		{"symlink up then write", []entry{
			{name: "up", kind: "symlink", link: "../../../.."},
			{name: "up/evil", body: "x"},
		}, nil, []string{"evil"}},
		{"symlink chain", []entry{
			{name: "a", kind: "symlink", link: "b"},
			{name: "b", kind: "symlink", link: "../"},
			{name: "a/evil", body: "x"},
		}, nil, []string{"evil"}},
		{"hard link dotdot", []entry{{name: "h", kind: "link", link: "../outside"}}, ErrEscape, nil},
		{"hard link through symlink", []entry{
			{name: "up", kind: "symlink", link: "../.."},
			{name: "t", body: "t"},
			{name: "h", kind: "link", link: "up/t"},
		}, nil, []string{"h"}},
		{"replace symlink with file does not follow it", []entry{
			{name: "s", kind: "symlink", link: "../victim"},
			{name: "s", body: "x"},
		}, nil, []string{"s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := t.TempDir()
			victim := filepath.Join(base, "victim")
			os.WriteFile(victim, []byte("victim"), 0o644)
			root := filepath.Join(base, "sub", "l")
			_, err := apply(t, root, tt.ents...)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Apply = %v, want %v", err, tt.wantErr)
			}
			for _, p := range tt.inside {
				if _, err := os.Lstat(filepath.Join(root, p)); err != nil {
					t.Errorf("%s not inside the layer: %v", p, err)
				}
			}
			// Only base/victim and base/sub/l may exist outside the layer.
			filepath.Walk(base, func(p string, info os.FileInfo, err error) error {
				if p == root {
					return filepath.SkipDir
				}
				if p != base && p != victim && p != filepath.Join(base, "sub") {
					t.Errorf("written outside the layer: %s", p)
				}
				return nil
			})
			if b, _ := os.ReadFile(victim); string(b) != "victim" {
				t.Errorf("victim changed: %q", b)
			}
		})
	}
}

func TestFixUpImplicitDirs(t *testing.T) {
	requireRoot(t)
	base := t.TempDir()
	l0, l1, up := base+"/0", base+"/1", base+"/2"
	if _, err := apply(t, l0,
		entry{name: "usr/", kind: "dir", mode: 0o700, uid: 1000, gid: 100},
		entry{name: "usr/lib/", kind: "dir", mode: 0o711, uid: 5, gid: 5},
		entry{name: "gone/", kind: "dir", mode: 0o700, uid: 9},
		entry{name: "opq/", kind: "dir", mode: 0o700, uid: 9},
		entry{name: "opq/d/", kind: "dir", mode: 0o700, uid: 9},
	); err != nil {
		t.Fatal(err)
	}
	if _, err := apply(t, l1,
		entry{name: ".wh.gone"},
		entry{name: "opq/", kind: "dir", mode: 0o755},
		entry{name: "opq/.wh..wh..opq"},
	); err != nil {
		t.Fatal(err)
	}
	res, err := apply(t, up,
		entry{name: "usr/lib/x", body: "x"},
		entry{name: "usr/new/y", body: "y"},
		entry{name: "gone/z", body: "z"},
		entry{name: "opq/d/z", body: "z"},
	)
	if err != nil {
		t.Fatal(err)
	}
	if err := FixUp(up, []string{l1, l0}, res); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path     string
		mode     uint32
		uid, gid uint32
	}{
		{"usr", 0o700, 1000, 100},
		{"usr/lib", 0o711, 5, 5},
		{"usr/new", 0o755, 0, 0}, // in no lower layer
		{"gone", 0o755, 0, 0},    // whited out in layer 1
		{"opq", 0o755, 0, 0},     // layer 1's own opq
		{"opq/d", 0o755, 0, 0},   // hidden by layer 1's opaque opq
	}
	for _, tt := range tests {
		st := lstat(t, filepath.Join(up, tt.path))
		if st.Mode&0o7777 != tt.mode || st.Uid != tt.uid || st.Gid != tt.gid {
			t.Errorf("%s: mode %o uid %d gid %d, want %o %d %d", tt.path, st.Mode&0o7777, st.Uid, st.Gid, tt.mode, tt.uid, tt.gid)
		}
	}
	if st := lstat(t, up+"/usr"); st.Mtim.Sec != mtime.Unix() {
		t.Errorf("usr mtime %d, want the lower's %d", st.Mtim.Sec, mtime.Unix())
	}
}

func TestFixUpLowerLinks(t *testing.T) {
	requireRoot(t)
	base := t.TempDir()
	l0, up := base+"/0", base+"/1"
	if _, err := apply(t, l0,
		entry{name: "bin/", kind: "dir", mode: 0o755},
		entry{name: "bin/busybox", body: "BB", mode: 0o4711, uid: 3},
	); err != nil {
		t.Fatal(err)
	}
	res, err := apply(t, up,
		entry{name: "bin/", kind: "dir", mode: 0o755},
		entry{name: "bin/sh", kind: "link", link: "bin/busybox"},
		entry{name: "bin/ash", kind: "link", link: "/bin/sh"},
	)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.LowerLinks) != 2 {
		t.Fatalf("LowerLinks = %v, want 2", res.LowerLinks)
	}
	if err := FixUp(up, []string{l0}, res); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"bin/sh", "bin/ash"} {
		b, err := os.ReadFile(filepath.Join(up, p))
		if err != nil || string(b) != "BB" {
			t.Errorf("%s = %q, %v", p, b, err)
		}
		st := lstat(t, filepath.Join(up, p))
		if st.Mode&0o7777 != 0o4711 || st.Uid != 3 {
			t.Errorf("%s: mode %o uid %d", p, st.Mode&0o7777, st.Uid)
		}
	}
	if lstat(t, up+"/bin/sh").Ino == lstat(t, l0+"/bin/busybox").Ino {
		t.Error("link shares the lower layer's inode")
	}
	if lstat(t, up+"/bin/sh").Ino != lstat(t, up+"/bin/ash").Ino {
		t.Error("bin/ash is not a link of bin/sh within the layer")
	}
	if _, err := os.Lstat(up + "/bin/busybox"); err == nil {
		t.Error("link target copied into the upper layer")
	}

	// A link to nothing is an error.
	res, err = apply(t, base+"/2", entry{name: "x", kind: "link", link: "nope"})
	if err != nil {
		t.Fatal(err)
	}
	if err := FixUp(base+"/2", []string{l0}, res); err == nil {
		t.Error("FixUp of a dangling hard link succeeded")
	}
}
