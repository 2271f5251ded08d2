package du

import (
	"os"
	"path/filepath"
	"testing"
)

func TestSize(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "a", "b"), 0o755)
	os.WriteFile(filepath.Join(dir, "one"), make([]byte, 100), 0o644)
	os.WriteFile(filepath.Join(dir, "a", "b", "two"), make([]byte, 23), 0o644)
	os.Symlink("one", filepath.Join(dir, "link")) // not counted
	if got := Size(dir); got != 123 {
		t.Errorf("Size = %d, want 123", got)
	}
	if got := Size(filepath.Join(dir, "missing")); got != 0 {
		t.Errorf("Size of a missing dir = %d, want 0", got)
	}
}
