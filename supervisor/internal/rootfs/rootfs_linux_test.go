package rootfs

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// tarOf builds a tar of regular files (name -> content).
func tarOf(t *testing.T, files ...string) *bytes.Buffer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for i := 0; i+1 < len(files); i += 2 {
		tw.WriteHeader(&tar.Header{Name: files[i], Mode: 0o644, Size: int64(len(files[i+1])), Typeflag: tar.TypeReg})
		tw.Write([]byte(files[i+1]))
	}
	tw.Close()
	return &buf
}

// TestExtractStaysInside: symlinks in the root (absolute or with ..) and
// .. in entry names never lead a write out of it.
func TestExtractStaysInside(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	os.Symlink("/", filepath.Join(root, "abs"))
	os.Symlink("../../../../../..", filepath.Join(root, "rel"))
	os.Symlink(outside, filepath.Join(root, "target"))
	r, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	tests := []struct {
		dir, name, wantIn string
	}{
		{"/abs", "a", "a"},        // "/" inside the root is the root
		{"/rel", "b", "b"},        // .. stops at the root
		{"/", "../../../c", "c"},  // .. in a name too
		{"/", "target", "target"}, // replaces the symlink, not its target
	}
	for _, tt := range tests {
		if err := r.Extract(tt.dir, tarOf(t, tt.name, "x"), ExtractOptions{}); err != nil {
			t.Errorf("Extract(%s, %s): %v", tt.dir, tt.name, err)
			continue
		}
		if fi, err := os.Lstat(filepath.Join(root, tt.wantIn)); err != nil || !fi.Mode().IsRegular() {
			t.Errorf("Extract(%s, %s): %s not a file in the root: %v", tt.dir, tt.name, tt.wantIn, err)
		}
	}
	if ents, _ := os.ReadDir(outside); len(ents) != 0 {
		t.Errorf("files written outside the root: %v", ents)
	}
}

// TestTarRoundTrip: Tar names the top entry, keeps hard links, converts
// whiteouts when asked.
func TestTarRoundTrip(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "d", "sub"), 0o755)
	os.WriteFile(filepath.Join(root, "d", "f"), []byte("data"), 0o600)
	os.Link(filepath.Join(root, "d", "f"), filepath.Join(root, "d", "sub", "hard"))
	os.Symlink("f", filepath.Join(root, "d", "link"))
	r, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var buf bytes.Buffer
	if err := r.Tar("/d", &buf, TarOptions{Name: "top"}); err != nil {
		t.Fatal(err)
	}
	got := map[string]*tar.Header{}
	tr := tar.NewReader(&buf)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got[h.Name] = h
	}
	if h := got["top/f"]; h == nil || h.Size != 4 || h.Mode != 0o600 {
		t.Errorf("top/f: %+v", h)
	}
	if h := got["top/link"]; h == nil || h.Typeflag != tar.TypeSymlink || h.Linkname != "f" {
		t.Errorf("top/link: %+v", h)
	}
	hard, f := got["top/sub/hard"], got["top/f"]
	if hard == nil || f == nil || (hard.Typeflag != tar.TypeLink && f.Typeflag != tar.TypeLink) {
		t.Errorf("hard link not kept: %+v %+v", hard, f)
	}
	if _, ok := got["top/"]; !ok {
		t.Errorf("no top directory entry: %v", got)
	}
}

// TestTarFollowLink: with FollowLink, a symlink at the top is replaced by
// what it points to, a file or a directory, resolved inside the root (an
// absolute target means the root's own path, not the host's).
func TestTarFollowLink(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "d"), 0o755)
	os.WriteFile(filepath.Join(root, "f"), []byte("file data"), 0o640)
	os.WriteFile(filepath.Join(root, "d", "in"), []byte("x"), 0o644)
	os.Symlink("/f", filepath.Join(root, "lf"))
	os.Symlink("d", filepath.Join(root, "ld"))
	r, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	entries := func(p string) map[string]string {
		t.Helper()
		var buf bytes.Buffer
		if err := r.Tar(p, &buf, TarOptions{Name: "top", FollowLink: true}); err != nil {
			t.Fatalf("Tar(%s): %v", p, err)
		}
		got := map[string]string{}
		tr := tar.NewReader(&buf)
		for {
			h, err := tr.Next()
			if err == io.EOF {
				return got
			}
			if err != nil {
				t.Fatal(err)
			}
			data, _ := io.ReadAll(tr)
			got[h.Name] = string(h.Typeflag) + ":" + string(data)
		}
	}
	if got := entries("/lf"); len(got) != 1 || got["top"] != string(tar.TypeReg)+":file data" {
		t.Errorf("followed file link: %q", got)
	}
	if got := entries("/ld"); got["top/in"] != string(tar.TypeReg)+":x" {
		t.Errorf("followed dir link: %q", got)
	}
}
