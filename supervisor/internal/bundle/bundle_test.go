package bundle

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestSharedInitLayer: new containers share one init layer, made once and
// complete; a container made with its own init/ (by an older berthd)
// keeps it.
func TestSharedInitLayer(t *testing.T) {
	root, state := t.TempDir(), t.TempDir()
	a, b := New(root, state, "a"), New(root, state, "b")
	for _, p := range []Paths{a, b} {
		if err := p.Create(); err != nil {
			t.Fatal(err)
		}
	}
	shared := filepath.Join(root, "init-layer")
	if a.InitLayer() != shared || b.InitLayer() != shared {
		t.Errorf("init layers %s, %s; want both %s", a.InitLayer(), b.InitLayer(), shared)
	}
	for _, e := range initLayer {
		fi, err := os.Lstat(filepath.Join(shared, e.path))
		if err != nil || fi.IsDir() != e.dir {
			t.Errorf("%s in the shared init layer: %v (dir %v)", e.path, err, e.dir)
		}
	}
	if _, err := os.Lstat(filepath.Join(a.Dir, "init")); !os.IsNotExist(err) {
		t.Errorf("a container of its own init layer was made: %v", err)
	}
	ents, _ := os.ReadDir(root)
	for _, e := range ents {
		if e.Name() != "init-layer" && e.Name() != "containers" {
			t.Errorf("stray entry %s in the root", e.Name())
		}
	}
	// Removing a container leaves the shared layer.
	if err := a.RemoveAll(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(shared, "etc/hosts")); err != nil {
		t.Errorf("shared init layer damaged by a removal: %v", err)
	}
	// An older container with its own init layer keeps using it.
	old := New(root, state, "old")
	if err := os.MkdirAll(filepath.Join(old.Dir, "init"), 0o755); err != nil {
		t.Fatal(err)
	}
	if got := old.InitLayer(); got != filepath.Join(old.Dir, "init") {
		t.Errorf("old container's init layer = %s", got)
	}
}

// TestRemoveAllDiscards: a removed container's directories are gone from
// their place at once and deleted from the trash soon after; SweepTrash
// empties what a crash left.
func TestRemoveAllDiscards(t *testing.T) {
	root, state := t.TempDir(), t.TempDir()
	p := New(root, state, "c1")
	if err := p.Create(); err != nil {
		t.Fatal(err)
	}
	if err := p.MakeBundle(); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(p.Upper(), "f"), []byte("x"), 0o644)
	if err := p.RemoveAll(); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{p.Dir, p.Bundle} {
		if _, err := os.Lstat(d); !os.IsNotExist(err) {
			t.Errorf("%s still there: %v", d, err)
		}
	}
	// The same container can be made again at once.
	if err := p.Create(); err != nil {
		t.Fatal(err)
	}
	empty := func(dir string) bool {
		for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
			if ents, _ := os.ReadDir(dir); len(ents) == 0 {
				return true
			}
		}
		return false
	}
	if !empty(filepath.Join(root, "trash")) || !empty(filepath.Join(state, "trash")) {
		t.Error("the trash was not emptied")
	}
	// Removing what does not exist is no error.
	if err := New(root, state, "nope").RemoveAll(); err != nil {
		t.Errorf("RemoveAll of a missing container: %v", err)
	}
	// What a crash left goes at the next start.
	left := filepath.Join(state, "trash", "c9-0123")
	os.MkdirAll(filepath.Join(left, "sub"), 0o700)
	SweepTrash(root, state)
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		if _, err := os.Lstat(left); os.IsNotExist(err) {
			return
		}
	}
	t.Error("SweepTrash left the trash")
}
