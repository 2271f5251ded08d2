package rootfs

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

func TestResolve(t *testing.T) {
	root := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(root, "a/b"), 0o755))
	must(os.MkdirAll(filepath.Join(root, "run"), 0o755))
	must(os.WriteFile(filepath.Join(root, "a/file"), nil, 0o644))
	must(os.Symlink("/run", filepath.Join(root, "varrun")))          // absolute: stays inside
	must(os.Symlink("../../../../etc", filepath.Join(root, "evil"))) // climbs out
	must(os.Symlink("a/b", filepath.Join(root, "rel")))
	must(os.Symlink("loop", filepath.Join(root, "loop")))

	tests := []struct {
		path string
		mk   create
		want string // relative to root; "" with wantErr
		err  error
	}{
		{"/a/b", noCreate, "a/b", nil},
		{"a/./b/", noCreate, "a/b", nil},
		{"/varrun", noCreate, "run", nil},
		{"/varrun/new", createDir, "run/new", nil},
		{"/rel/../file", noCreate, "a/file", nil},
		{"/", noCreate, "", nil},
		{"/evil", noCreate, "", ErrEscape},
		{"/evil/sub", createDir, "", ErrEscape},
		{"/../x", noCreate, "", ErrEscape},
		{"/a/file/x", noCreate, "", unix.ENOTDIR},
		{"/loop", noCreate, "", unix.ELOOP},
		{"/missing", noCreate, "", unix.ENOENT},
		{"/newfile", createFile, "newfile", nil},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			fd, err := resolve(root, tt.path, tt.mk)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("resolve(%q) error = %v, want %v", tt.path, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("resolve(%q): %v", tt.path, err)
			}
			defer unix.Close(fd)
			got, err := os.Readlink(fdPath(fd))
			if err != nil {
				t.Fatal(err)
			}
			if want := filepath.Join(root, tt.want); got != want {
				t.Fatalf("resolve(%q) = %q, want %q", tt.path, got, want)
			}
		})
	}
	if _, err := os.Stat("/etc/sub"); err == nil {
		t.Fatal("resolve created a directory outside the root")
	}
}
