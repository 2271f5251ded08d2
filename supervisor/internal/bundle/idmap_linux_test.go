package bundle

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSearchable(t *testing.T) {
	top := t.TempDir()
	open := filepath.Join(top, "open", "bundle")
	closed := filepath.Join(top, "closed", "bundle")
	for _, d := range []string{open, closed} {
		if err := os.MkdirAll(d, 0o711); err != nil {
			t.Fatal(err)
		}
	}
	os.Chmod(top, 0o711)
	os.Chmod(filepath.Dir(top), 0o711) // t.TempDir's own parent is 0700
	os.Chmod(filepath.Join(top, "closed"), 0o700)
	if err := searchable(open); err != nil && !strings.Contains(err.Error(), "not searchable") {
		t.Fatal(err)
	} else if err != nil {
		t.Skipf("a directory above the test's is closed to others: %v", err)
	}
	err := searchable(closed)
	if err == nil || !strings.Contains(err.Error(), filepath.Join(top, "closed")+" is not searchable") {
		t.Errorf("searchable(%s) = %v, want it to name %s/closed", closed, err, top)
	}
}
