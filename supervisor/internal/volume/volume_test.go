package volume

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/supervisor/internal/metadata"
)

func newManager(t *testing.T) (*Manager, string) {
	t.Helper()
	root := t.TempDir()
	db, err := metadata.Open(filepath.Join(root, "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	m, err := New(db, filepath.Join(root, "volumes"))
	if err != nil {
		t.Fatal(err)
	}
	return m, root
}

func TestCreateGetListRemove(t *testing.T) {
	ctx := context.Background()
	m, root := newManager(t)
	v, err := m.Create(ctx, CreateRequest{Name: "data", Labels: map[string]string{"a": "1"}})
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(root, "volumes", "data", "_data"); v.Mountpoint != want {
		t.Errorf("Mountpoint = %q, want %q", v.Mountpoint, want)
	}
	if fi, err := os.Stat(v.Mountpoint); err != nil || !fi.IsDir() {
		t.Fatalf("mountpoint: %v", err)
	}
	// Creating it again returns it, as docker volume create does.
	if _, err := m.Create(ctx, CreateRequest{Name: "data"}); err != nil {
		t.Errorf("Create again: %v", err)
	}
	if _, err := m.Create(ctx, CreateRequest{Name: "data", Labels: map[string]string{"a": "2"}}); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("Create with other labels = %v, want ErrInvalidArgument", err)
	}
	anon, err := m.Create(ctx, CreateRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(anon.Name) != 64 || !anon.Anonymous {
		t.Errorf("unnamed volume = %q anonymous %v, want 64 hex digits, anonymous", anon.Name, anon.Anonymous)
	}

	js, err := v.DockerJSON()
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	json.Unmarshal(js, &got)
	for k, want := range map[string]any{"Name": "data", "Driver": "local", "Scope": "local", "Mountpoint": v.Mountpoint} {
		if got[k] != want {
			t.Errorf("inspect %s = %v, want %v", k, got[k], want)
		}
	}
	if _, ok := got["CreatedAt"].(string); !ok {
		t.Errorf("inspect CreatedAt = %v, want a string", got["CreatedAt"])
	}

	for _, tc := range []struct {
		filters []string
		want    []string
	}{
		{nil, []string{anon.Name, "data"}},
		{[]string{"name=dat"}, []string{"data"}},
		{[]string{"label=a"}, []string{"data"}},
		{[]string{"label=a=2"}, nil},
		{[]string{"dangling=true", "label=a=1"}, []string{"data"}},
		{[]string{"dangling=false"}, nil},
	} {
		list, err := m.List(ctx, tc.filters)
		if err != nil {
			t.Fatalf("List(%q): %v", tc.filters, err)
		}
		var names []string
		for _, v := range list {
			names = append(names, v.Name)
		}
		slices.Sort(names)
		slices.Sort(tc.want)
		if !slices.Equal(names, tc.want) {
			t.Errorf("List(%q) = %q, want %q", tc.filters, names, tc.want)
		}
	}
	if _, err := m.List(ctx, []string{"colour=red"}); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("List(colour=red) = %v, want ErrInvalidArgument", err)
	}

	if err := m.Remove(ctx, "data", false); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "volumes", "data")); !os.IsNotExist(err) {
		t.Errorf("volume dir after Remove: %v", err)
	}
	if err := m.Remove(ctx, "data", false); !errors.Is(err, ErrNotFound) {
		t.Errorf("Remove missing = %v, want ErrNotFound", err)
	}
	if err := m.Remove(ctx, "data", true); err != nil {
		t.Errorf("Remove -f missing = %v, want nil", err)
	}
}

func TestBadNames(t *testing.T) {
	m, _ := newManager(t)
	for _, name := range []string{"a", "-x", ".x", "a/b", "../x", "a b", "x:y"} {
		if _, err := m.Create(context.Background(), CreateRequest{Name: name}); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("Create(%q) = %v, want ErrInvalidArgument", name, err)
		}
	}
	if _, err := m.Create(context.Background(), CreateRequest{Name: "ok", Driver: "nfs"}); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("Create(driver nfs) = %v, want ErrInvalidArgument", err)
	}
}

// TestRefcount: a volume in use cannot be removed or pruned; Release
// frees it, and rm -v removes anonymous volumes but keeps named ones.
func TestRefcount(t *testing.T) {
	ctx := context.Background()
	m, _ := newManager(t)
	req := MountRequest{Binds: []string{"shared:/data", "/cache"}, Tmpfs: []string{"/run:size=1m"}}
	mounts, err := m.Resolve(ctx, "c1", req)
	if err != nil {
		t.Fatal(err)
	}
	if len(mounts) != 3 {
		t.Fatalf("Resolve gave %d mounts, want 3: %+v", len(mounts), mounts)
	}
	if mounts[0].Source != m.mountpoint("shared") || mounts[0].Type != "bind" {
		t.Errorf("volume mount = %+v", mounts[0])
	}
	if mounts[2].Type != "tmpfs" || !slices.Contains(mounts[2].Options, "size=1048576") {
		t.Errorf("tmpfs mount = %+v", mounts[2])
	}
	anonName := filepath.Base(filepath.Dir(mounts[1].Source))
	if _, err := m.Resolve(ctx, "c2", MountRequest{Mounts: []string{"type=volume,src=shared,dst=/x,ro"}}); err != nil {
		t.Fatal(err)
	}
	// Resolving c1 again registers nothing twice.
	if _, err := m.Resolve(ctx, "c1", MountRequest{Binds: []string{"shared:/data"}}); err != nil {
		t.Fatal(err)
	}
	v, _ := m.Get(ctx, "shared")
	if !slices.Equal(v.Users, []string{"c1", "c2"}) {
		t.Errorf("users = %q, want [c1 c2]", v.Users)
	}
	err = m.Remove(ctx, "shared", true)
	if !errors.Is(err, ErrInUse) || !strings.Contains(err.Error(), "c1") {
		t.Errorf("Remove in use = %v, want ErrInUse naming c1", err)
	}
	if names, _, err := m.Prune(ctx, true, nil); err != nil || len(names) != 0 {
		t.Errorf("Prune -a with every volume in use = %q, %v", names, err)
	}

	if err := m.Release(ctx, "c1", true); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Get(ctx, anonName); !errors.Is(err, ErrNotFound) {
		t.Errorf("anonymous volume after rm -v: %v, want gone", err)
	}
	if err := m.Remove(ctx, "shared", false); !errors.Is(err, ErrInUse) {
		t.Errorf("Remove while c2 uses it = %v, want ErrInUse", err)
	}
	if err := m.Release(ctx, "c2", true); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Get(ctx, "shared"); err != nil {
		t.Errorf("named volume after rm -v: %v, want kept", err)
	}
	// prune keeps named volumes unless -a.
	if names, _, _ := m.Prune(ctx, false, nil); len(names) != 0 {
		t.Errorf("Prune = %q, want nothing (only named volumes left)", names)
	}
	os.WriteFile(filepath.Join(m.mountpoint("shared"), "f"), []byte("12345"), 0o644)
	names, size, err := m.Prune(ctx, true, nil)
	if err != nil || !slices.Equal(names, []string{"shared"}) || size != 5 {
		t.Errorf("Prune -a = %q, %d, %v; want [shared], 5", names, size, err)
	}
}

// TestAnonymousVolumesPerStart: each start of a container resolves its
// mounts again and gets the same anonymous volumes back, not new ones.
func TestAnonymousVolumesPerStart(t *testing.T) {
	ctx := context.Background()
	m, _ := newManager(t)
	req := MountRequest{Binds: []string{"/cache"}, ImageVolumes: []string{"/data"}}
	first, err := m.Resolve(ctx, "c1", req)
	if err != nil {
		t.Fatal(err)
	}
	again, err := m.Resolve(ctx, "c1", req)
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != 2 || len(again) != 2 {
		t.Fatalf("Resolve gave %d then %d mounts, want 2", len(first), len(again))
	}
	for i := range first {
		if first[i].Source != again[i].Source {
			t.Errorf("start 2 mounts %s from %s, start 1 from %s", first[i].Destination, again[i].Source, first[i].Source)
		}
	}
	other, err := m.Resolve(ctx, "c2", req)
	if err != nil {
		t.Fatal(err)
	}
	if other[0].Source == first[0].Source {
		t.Errorf("another container got c1's anonymous volume %s", other[0].Source)
	}
	if list, _ := m.List(ctx, nil); len(list) != 4 {
		t.Errorf("%d volumes, want 4 (two per container)", len(list))
	}
	if err := m.Release(ctx, "c1", true); err != nil {
		t.Fatal(err)
	}
	if list, _ := m.List(ctx, nil); len(list) != 2 {
		t.Errorf("after rm -v of c1: %d volumes, want c2's 2", len(list))
	}
}

func TestResolveErrorsRollBack(t *testing.T) {
	ctx := context.Background()
	m, _ := newManager(t)
	missing := filepath.Join(t.TempDir(), "nope")
	for _, tc := range []struct {
		name string
		req  MountRequest
		want string
	}{
		{"missing --mount bind source", MountRequest{
			Binds:  []string{"newvol:/a"},
			Mounts: []string{"type=bind,src=" + missing + ",dst=/b"},
		}, "bind source path does not exist: " + missing},
		{"duplicate destination", MountRequest{Binds: []string{"v1:/a", "v2:/a"}}, "duplicate mount point: /a"},
		{"bad volume spec", MountRequest{Binds: []string{"a:b:c:d"}}, "invalid"},
		{"relative destination", MountRequest{Tmpfs: []string{"run"}}, "not an absolute path"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := m.Resolve(ctx, "c1", tc.req)
			if !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Resolve = %v, want ErrInvalidArgument containing %q", err, tc.want)
			}
			list, _ := m.List(ctx, nil)
			if len(list) != 0 {
				t.Errorf("volumes left after a failed Resolve: %d", len(list))
			}
		})
	}
	// -v creates a missing bind source, as Docker does.
	if _, err := m.Resolve(ctx, "c1", MountRequest{Binds: []string{missing + ":/b:ro"}}); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(missing); err != nil || !fi.IsDir() {
		t.Errorf("-v did not create its source: %v", err)
	}
}

// TestImageVolumesCopyUp: an image VOLUME gets an anonymous volume filled
// with the image's files, keeping owners, modes, links and xattrs; a
// user mount at the same place replaces it; a volume with files is not
// overwritten.
func TestImageVolumesCopyUp(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (chown)")
	}
	ctx := context.Background()
	m, _ := newManager(t)
	rootfs := t.TempDir()
	d := filepath.Join(rootfs, "var", "lib", "app")
	os.MkdirAll(filepath.Join(d, "sub"), 0o755)
	os.Chown(d, 1000, 1001)
	os.Chmod(d, 0o750)
	os.WriteFile(filepath.Join(d, "file"), []byte("hello"), 0o640)
	os.Chown(filepath.Join(d, "file"), 1000, 1001)
	unix.Chmod(filepath.Join(d, "file"), 0o4750) // setuid survives the chown
	os.Link(filepath.Join(d, "file"), filepath.Join(d, "sub", "hardlink"))
	os.Symlink("/etc/shadow", filepath.Join(d, "abs-link"))
	os.Symlink("../../../../../etc", filepath.Join(d, "escape"))
	unix.Mkfifo(filepath.Join(d, "fifo"), 0o600)
	xattrOK := unix.Setxattr(filepath.Join(d, "file"), "user.berth", []byte("v"), 0) == nil
	// A symlinked volume path must resolve inside the rootfs.
	os.Symlink("/var/lib/app", filepath.Join(rootfs, "link-to-app"))

	mounts, err := m.Resolve(ctx, "c1", MountRequest{
		ImageVolumes: []string{"/var/lib/app", "/link-to-app", "/covered", "/missing"},
		Binds:        []string{"mine:/covered"},
		ImageRootfs:  rootfs,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(mounts) != 4 {
		t.Fatalf("got %d mounts, want 4: %+v", len(mounts), mounts)
	}
	vol := mounts[1].Source
	if mounts[1].Destination != "/var/lib/app" {
		t.Fatalf("mounts[1] = %+v", mounts[1])
	}
	var st syscall.Stat_t
	syscall.Stat(vol, &st)
	if st.Uid != 1000 || st.Gid != 1001 || st.Mode&0o7777 != 0o750 {
		t.Errorf("volume dir: uid %d gid %d mode %o, want 1000 1001 750", st.Uid, st.Gid, st.Mode&0o7777)
	}
	syscall.Stat(filepath.Join(vol, "file"), &st)
	if st.Uid != 1000 || st.Mode&0o7777 != 0o4750 || st.Nlink != 2 {
		t.Errorf("file: uid %d mode %o nlink %d, want 1000 4750 2", st.Uid, st.Mode&0o7777, st.Nlink)
	}
	if b, _ := os.ReadFile(filepath.Join(vol, "sub", "hardlink")); string(b) != "hello" {
		t.Errorf("hard link content = %q", b)
	}
	if l, _ := os.Readlink(filepath.Join(vol, "abs-link")); l != "/etc/shadow" {
		t.Errorf("symlink = %q, want it copied as a link", l)
	}
	if l, _ := os.Readlink(filepath.Join(vol, "escape")); l != "../../../../../etc" {
		t.Errorf("escape symlink = %q", l)
	}
	if fi, err := os.Lstat(filepath.Join(vol, "fifo")); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("fifo: %v %v", fi, err)
	}
	if xattrOK {
		buf := make([]byte, 8)
		n, err := unix.Getxattr(filepath.Join(vol, "file"), "user.berth", buf)
		if err != nil || string(buf[:n]) != "v" {
			t.Errorf("xattr = %q, %v", buf[:n], err)
		}
	}
	// /link-to-app resolved inside the rootfs: same content.
	if b, _ := os.ReadFile(filepath.Join(mounts[2].Source, "file")); string(b) != "hello" {
		t.Errorf("volume at symlinked path: file = %q", b)
	}
	if entries, _ := os.ReadDir(mounts[0].Source); len(entries) != 0 {
		t.Errorf("user volume at /covered got image files: %v", entries)
	}

	// A named volume with data keeps it.
	named := m.mountpoint("mine")
	os.WriteFile(filepath.Join(named, "keep"), []byte("x"), 0o644)
	if _, err := m.Resolve(ctx, "c2", MountRequest{Binds: []string{"mine:/var/lib/app"}, ImageRootfs: rootfs}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(named, "file")); !os.IsNotExist(err) {
		t.Errorf("copy-up into a volume that has files: %v", err)
	}
	// nocopy leaves a fresh volume empty.
	mounts, err = m.Resolve(ctx, "c3", MountRequest{Binds: []string{"fresh:/var/lib/app:nocopy"}, ImageRootfs: rootfs})
	if err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(mounts[0].Source); len(entries) != 0 {
		t.Errorf("nocopy volume has %d entries", len(entries))
	}
}

// TestPersistence: volume records and users survive reopening meta.db.
func TestPersistence(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	open := func() (*Manager, *metadata.DB) {
		db, err := metadata.Open(filepath.Join(root, "meta.db"))
		if err != nil {
			t.Fatal(err)
		}
		m, err := New(db, filepath.Join(root, "volumes"))
		if err != nil {
			t.Fatal(err)
		}
		return m, db
	}
	m, db := open()
	if _, err := m.Resolve(ctx, "c1", MountRequest{Binds: []string{"keep:/k"}}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	m, db = open()
	defer db.Close()
	if err := m.Remove(ctx, "keep", false); !errors.Is(err, ErrInUse) {
		t.Errorf("Remove after reopen = %v, want ErrInUse", err)
	}
}
