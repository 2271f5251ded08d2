package snapshot

import (
	"testing"

	"golang.org/x/sys/unix"
)

func TestSpreadLayers(t *testing.T) {
	dir := t.TempDir()
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if _, err := unix.IoctlGetUint32(fd, unix.FS_IOC_GETFLAGS); err != nil {
		t.Skipf("no inode flags on this file system: %v", err)
	}
	spreadLayers(dir)
	spreadLayers(dir) // idempotent
	flags, err := unix.IoctlGetUint32(fd, unix.FS_IOC_GETFLAGS)
	if err != nil {
		t.Fatal(err)
	}
	var st unix.Statfs_t
	unix.Fstatfs(fd, &st)
	if st.Type == unix.EXT4_SUPER_MAGIC && flags&fsTopdirFl == 0 {
		t.Errorf("ext4 directory flags %#x: FS_TOPDIR_FL not set", flags)
	}
	spreadLayers(dir + "/missing") // no error to report, no panic
}
