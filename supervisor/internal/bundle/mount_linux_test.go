package bundle

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMountManyLayers mounts an overlay whose absolute lowerdir list does
// not fit in a page: the relative form must (and every layer show).
func TestMountManyLayers(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	base := t.TempDir()
	snaps := filepath.Join(base, "a-rather-long-root-directory-name", "snapshots")
	var lowers []string
	for i := 0; i < 120; i++ {
		d := filepath.Join(snaps, fmt.Sprintf("%x", 1000+i), "fs")
		os.MkdirAll(d, 0o755)
		os.WriteFile(filepath.Join(d, fmt.Sprintf("f%d", i)), nil, 0o644)
		lowers = append(lowers, d)
	}
	if n := len(strings.Join(lowers, ":")); n < os.Getpagesize() {
		t.Fatalf("test layers too short (%d bytes) to need the relative form", n)
	}
	p := New(filepath.Join(base, "a-rather-long-root-directory-name"), filepath.Join(base, "state"), "c1")
	if err := p.Create(); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(p.Rootfs(), 0o755)
	if err := p.MountRootfs(lowers); err != nil {
		t.Fatal(err)
	}
	defer p.UnmountRootfs()
	for _, f := range []string{"f0", "f119", "etc/hosts"} {
		if _, err := os.Stat(filepath.Join(p.Rootfs(), f)); err != nil {
			t.Errorf("%s missing in the overlay: %v", f, err)
		}
	}
	wd, _ := os.Getwd()
	if strings.Contains(wd, "snapshots") {
		t.Errorf("the mount changed the process's working directory to %s", wd)
	}
	if err := p.UnmountRootfs(); err != nil || Mounted(p.Rootfs()) {
		t.Errorf("unmount: %v", err)
	}
}
