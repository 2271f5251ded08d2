package specs

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestResolveUser(t *testing.T) {
	root := testRootfs(t)
	user := func(uid, gid uint32, gids ...uint32) specs.User {
		return specs.User{UID: uid, GID: gid, AdditionalGids: append([]uint32{gid}, gids...)}
	}
	tests := []struct {
		spec    string
		want    specs.User
		home    string
		invalid string // text of an ErrInvalid error
	}{
		{"", user(0, 0, 10), "/root", ""},
		{"root", user(0, 0, 10), "/root", ""},
		{"0", user(0, 0, 10), "/root", ""},
		{"app", user(1000, 1000, 100, 29, 44), "/home/app", ""},
		{"1000", user(1000, 1000, 100, 29, 44), "/home/app", ""},
		{"nohome", user(1001, 100, 44), "/", ""},
		{"daemon", user(1, 1), "/usr/sbin", ""},
		{"app:audio", user(1000, 29), "/home/app", ""},
		{"app:29", user(1000, 29), "/home/app", ""},
		{"app:4242", user(1000, 4242), "/home/app", ""},
		{"4242", user(4242, 0), "/", ""},
		{"4242:4343", user(4242, 4343), "/", ""},
		{"4242:video", user(4242, 44), "/", ""},
		{"root:users", user(0, 100), "/root", ""},
		{"nobody", specs.User{}, "", `user "nobody": no such user`},
		{"app:nogroup", specs.User{}, "", `group "nogroup": no such group`},
		{"app:", specs.User{}, "", `user "app:": want USER[:GROUP]`},
		{":0", specs.User{}, "", `user ":0": want USER[:GROUP]`},
		{"-1", specs.User{}, "", `user "-1": no such user`},
		{"4294967295", specs.User{}, "", `no such user`},
		{"broken", specs.User{}, "", `user "broken": no such user`},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			got, home, err := ResolveUser(root, tt.spec)
			if tt.invalid != "" {
				wantInvalid(t, "ResolveUser("+tt.spec+")", err, tt.invalid)
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) || home != tt.home {
				t.Errorf("ResolveUser(%q) = %+v, %q, %v; want %+v, %q", tt.spec, got, home, err, tt.want, tt.home)
			}
		})
	}
}

// TestResolveUserWithoutFiles covers images without /etc/passwd or
// /etc/group (scratch images, distroless ones): numeric ids still work.
func TestResolveUserWithoutFiles(t *testing.T) {
	root := t.TempDir()
	tests := []struct {
		spec string
		want specs.User
		ok   bool
	}{
		{"", specs.User{AdditionalGids: []uint32{0}}, true},
		{"65534", specs.User{UID: 65534, AdditionalGids: []uint32{0}}, true},
		{"65534:65534", specs.User{UID: 65534, GID: 65534, AdditionalGids: []uint32{65534}}, true},
		{"nobody", specs.User{}, false},
		{"1:wheel", specs.User{}, false},
	}
	for _, tt := range tests {
		got, home, err := ResolveUser(root, tt.spec)
		if (err == nil) != tt.ok || tt.ok && (!reflect.DeepEqual(got, tt.want) || home != "/") {
			t.Errorf("ResolveUser(%q) = %+v, %q, %v; want %+v, \"/\", ok=%v", tt.spec, got, home, err, tt.want, tt.ok)
		}
	}
}

// TestResolveUserSymlinkEscape plants an /etc/passwd that points at a
// "host" passwd file; the resolution must not read it.
func TestResolveUserSymlinkEscape(t *testing.T) {
	host := t.TempDir()
	writeFiles(t, host, map[string]string{"passwd": "hostuser:x:4000:4000::/home/hostuser:/bin/sh\n"})
	for _, link := range []string{filepath.Join(host, "passwd"), "../../../../../../../../" + filepath.Join(host, "passwd")} {
		root := t.TempDir()
		writeFiles(t, root, map[string]string{"etc/passwd": "->" + link})
		if u, _, err := ResolveUser(root, "hostuser"); err == nil {
			t.Errorf("passwd -> %s: resolved hostuser to %+v from outside the rootfs", link, u)
		}
	}
}

func TestResolveUserUnreadable(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "etc", "passwd"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ResolveUser(root, "app"); err == nil || !strings.Contains(err.Error(), "/etc/passwd") {
		t.Errorf("ResolveUser with a directory as /etc/passwd: error = %v, want one naming /etc/passwd", err)
	}
}
