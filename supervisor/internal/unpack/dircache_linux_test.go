package unpack

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// TestDirCacheSymlinkSwap replaces directories whose fds the extractor has
// cached (by writing into them first) with symlinks, and writes through
// the same names again: every later entry must follow the new symlink the
// way a chrooted tar would (inside the layer), never land in the removed
// directory, and nothing may be written outside the layer.
func TestDirCacheSymlinkSwap(t *testing.T) {
	requireRoot(t)
	tests := []struct {
		name  string
		ents  []entry
		files map[string]string // path inside the layer -> content
		gone  []string          // paths that must not exist
		links []string          // must be symlinks
	}{
		{"dir replaced by symlink to /", []entry{
			{name: "a/", kind: "dir", mode: 0o755},
			{name: "a/x", body: "1"},
			{name: "a", kind: "symlink", link: "/"},
			{name: "a/y", body: "2"},
		}, map[string]string{"y": "2"}, []string{"x"}, []string{"a"}},
		{"dir replaced by symlink climbing out", []entry{
			{name: "a/b/", kind: "dir", mode: 0o755},
			{name: "a/b/x", body: "1"},
			{name: "a/b", kind: "symlink", link: "../../../../.."},
			{name: "a/b/y", body: "2"},
		}, map[string]string{"y": "2"}, []string{"a/x", "x"}, []string{"a/b"}},
		{"parent replaced by symlink to another dir", []entry{
			{name: "c/b/", kind: "dir", mode: 0o755},
			{name: "a/b/", kind: "dir", mode: 0o755},
			{name: "a/b/x", body: "1"},
			{name: "a", kind: "symlink", link: "c"},
			{name: "a/b/y", body: "2"},
		}, map[string]string{"c/b/y": "2"}, []string{"c/b/x"}, []string{"a"}},
		{"parent replaced by symlink to a missing dir", []entry{
			{name: "a/x", body: "1"},
			{name: "a", kind: "symlink", link: "/var"},
			{name: "var/", kind: "dir", mode: 0o755},
			{name: "a/y", body: "2"},
		}, map[string]string{"var/y": "2"}, []string{"var/x"}, []string{"a"}},
		{"dir replaced by file then dir again", []entry{
			{name: "a/x", body: "1"},
			{name: "a", body: "file"},
			{name: "a/", kind: "dir", mode: 0o755},
			{name: "a/y", body: "2"},
		}, map[string]string{"a/y": "2"}, []string{"a/x"}, nil},
		{"dir gains set-group-ID after its fd was cached", []entry{
			{name: "m/a", body: "1"},
			{name: "m/", kind: "dir", mode: 0o2775, gid: 8},
			{name: "m/b", body: "2"},
		}, map[string]string{"m/a": "1", "m/b": "2"}, nil, nil},
		{"symlink replaced by dir", []entry{
			{name: "t/", kind: "dir", mode: 0o755},
			{name: "a", kind: "symlink", link: "t"},
			{name: "a/x", body: "1"},
			{name: "a/", kind: "dir", mode: 0o755},
			{name: "a/y", body: "2"},
		}, map[string]string{"t/x": "1", "a/y": "2"}, []string{"a/x", "t/y"}, nil},
		{"hard link replaces a cached dir", []entry{
			{name: "f", body: "f"},
			{name: "a/x", body: "1"},
			{name: "a", kind: "link", link: "f"},
			{name: "b/y", body: "2"},
		}, map[string]string{"a": "f", "b/y": "2"}, []string{"a/x"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := t.TempDir()
			root := filepath.Join(base, "sub", "l")
			if _, err := apply(t, root, tt.ents...); err != nil {
				t.Fatal(err)
			}
			for p, want := range tt.files {
				b, err := os.ReadFile(filepath.Join(root, p))
				if err != nil || string(b) != want {
					t.Errorf("%s = %q, %v; want %q", p, b, err, want)
				}
				if st := lstat(t, filepath.Join(root, p)); st.Mode&unix.S_IFMT != unix.S_IFREG {
					t.Errorf("%s: mode %o, want a regular file", p, st.Mode)
				}
			}
			for _, p := range tt.gone {
				if _, err := os.Lstat(filepath.Join(root, p)); err == nil {
					t.Errorf("%s exists", p)
				}
			}
			for _, p := range tt.links {
				if st := lstat(t, filepath.Join(root, p)); st.Mode&unix.S_IFMT != unix.S_IFLNK {
					t.Errorf("%s: mode %o, want a symlink", p, st.Mode)
				}
			}
			filepath.Walk(base, func(p string, info os.FileInfo, err error) error {
				if p == root {
					return filepath.SkipDir
				}
				if p != base && p != filepath.Join(base, "sub") {
					t.Errorf("written outside the layer: %s", p)
				}
				return nil
			})
			// Every entry here says 0:0 except set-group-ID dirs.
			filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
				if err != nil || p == root {
					return nil
				}
				st := lstat(t, p)
				if st.Uid != 0 || (st.Gid != 0 && st.Mode&unix.S_ISGID == 0) {
					t.Errorf("%s: owner %d:%d, want 0:0", p, st.Uid, st.Gid)
				}
				return nil
			})
		})
	}
}

// TestDirCacheManyDirs goes past the cache's size limit (it is flushed) and
// comes back to directories resolved before.
func TestDirCacheManyDirs(t *testing.T) {
	requireRoot(t)
	var ents []entry
	for i := 0; i < 1200; i++ {
		d := "d/" + name3(i%600) + "/"
		ents = append(ents, entry{name: d + "f" + name3(i), body: name3(i)})
	}
	root := filepath.Join(t.TempDir(), "l")
	if _, err := apply(t, root, ents...); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 1200; i++ {
		p := filepath.Join(root, "d", name3(i%600), "f"+name3(i))
		if b, err := os.ReadFile(p); err != nil || string(b) != name3(i) {
			t.Fatalf("%s = %q, %v", p, b, err)
		}
	}
}

func name3(i int) string {
	return string(rune('a'+i/26/26%26)) + string(rune('a'+i/26%26)) + string(rune('a'+i%26))
}

// TestSetgidParent: what is created in a set-group-ID directory takes the
// directory's group from the kernel; entries whose header says 0:0 must
// still end up 0:0 (and a subdirectory must not keep the inherited
// set-group-ID bit its header does not have).
func TestSetgidParent(t *testing.T) {
	requireRoot(t)
	root := filepath.Join(t.TempDir(), "l")
	if _, err := apply(t, root,
		entry{name: "var/mail/", kind: "dir", mode: 0o2775, gid: 8},
		entry{name: "var/mail/f", body: "x", mode: 0o644},
		entry{name: "var/mail/d/", kind: "dir", mode: 0o755},
		entry{name: "var/mail/l", kind: "symlink", link: "f"},
		entry{name: "var/mail/p", kind: "fifo", mode: 0o600},
		entry{name: "var/mail/g", body: "y", mode: 0o640, gid: 8},
	); err != nil {
		t.Fatal(err)
	}
	if st := lstat(t, root+"/var/mail"); st.Mode&0o7777 != 0o2775 || st.Gid != 8 {
		t.Fatalf("var/mail: mode %o gid %d", st.Mode&0o7777, st.Gid)
	}
	for p, want := range map[string]uint32{"f": 0o644, "d": 0o755, "l": 0, "p": 0o600} {
		st := lstat(t, root+"/var/mail/"+p)
		if st.Uid != 0 || st.Gid != 0 {
			t.Errorf("%s: owner %d:%d, want 0:0", p, st.Uid, st.Gid)
		}
		if st.Mode&unix.S_IFMT != unix.S_IFLNK && st.Mode&0o7777 != want {
			t.Errorf("%s: mode %o, want %o", p, st.Mode&0o7777, want)
		}
	}
	if st := lstat(t, root+"/var/mail/g"); st.Gid != 8 || st.Mode&0o7777 != 0o640 {
		t.Errorf("g: gid %d mode %o", st.Gid, st.Mode&0o7777)
	}
}

// TestReplaceEntries covers the name-taken paths: the extractor creates
// first and only looks when the kernel says EEXIST.
func TestReplaceEntries(t *testing.T) {
	requireRoot(t)
	root := filepath.Join(t.TempDir(), "l")
	res, err := apply(t, root,
		entry{name: "f", body: "old"},
		entry{name: "f", body: "new", mode: 0o600},
		entry{name: "d/x", body: "x"},
		entry{name: "d", body: "now a file"},
		entry{name: "s", kind: "symlink", link: "f"},
		entry{name: "s", kind: "symlink", link: "d"},
		entry{name: "h", body: "h"},
		entry{name: "h", kind: "link", link: "f"},
		entry{name: "lower", body: "shadowed"},
		entry{name: "lower", kind: "link", link: "not/here"},
		entry{name: "e/", kind: "dir", mode: 0o700, uid: 5},
		entry{name: "e/", kind: "dir", mode: 0o751, uid: 6},
		entry{name: "p", kind: "fifo"},
		entry{name: "p", kind: "char"},
	)
	if err != nil {
		t.Fatal(err)
	}
	read := func(p string) string { b, _ := os.ReadFile(filepath.Join(root, p)); return string(b) }
	if read("f") != "new" || lstat(t, root+"/f").Mode&0o777 != 0o600 {
		t.Errorf("f = %q mode %o", read("f"), lstat(t, root+"/f").Mode&0o777)
	}
	if read("d") != "now a file" {
		t.Errorf("d = %q", read("d"))
	}
	if l, _ := os.Readlink(root + "/s"); l != "d" {
		t.Errorf("s -> %q", l)
	}
	if lstat(t, root+"/h").Ino != lstat(t, root+"/f").Ino {
		t.Error("h is not a link of f")
	}
	if _, err := os.Lstat(root + "/lower"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("lower (a link to a lower layer's file) still has this layer's old file: %v", err)
	}
	if len(res.LowerLinks) != 1 || res.LowerLinks[0] != (Link{Name: "lower", Target: "not/here"}) {
		t.Errorf("LowerLinks = %v", res.LowerLinks)
	}
	if st := lstat(t, root+"/e"); st.Mode&0o7777 != 0o751 || st.Uid != 6 {
		t.Errorf("e: mode %o uid %d", st.Mode&0o7777, st.Uid)
	}
	if st := lstat(t, root+"/p"); st.Mode&unix.S_IFMT != unix.S_IFCHR {
		t.Errorf("p: mode %o", st.Mode)
	}
}
