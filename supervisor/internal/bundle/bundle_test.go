package bundle

import (
	"os"
	"path/filepath"
	"testing"
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
