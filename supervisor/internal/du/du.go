// Package du measures how much data a directory tree holds, for prune's
// reclaimed space and `system df`.
package du

import (
	"io/fs"
	"path/filepath"
)

// Size adds up the apparent sizes of the regular files under dir; what
// cannot be read counts as nothing.
func Size(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}
