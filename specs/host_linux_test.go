package specs

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestDevicesUnder lists device nodes made in a temporary /dev; making
// them needs root.
func TestDevicesUnder(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to make device nodes")
	}
	dir := t.TempDir()
	mk := func(name string, mode uint32, major, minor uint32) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := unix.Mknod(p, mode, int(unix.Mkdev(major, minor))); err != nil {
			t.Skipf("mknod: %v", err)
		}
		if err := os.Chmod(p, os.FileMode(mode&0o777)); err != nil {
			t.Fatal(err)
		}
	}
	mk("null", unix.S_IFCHR|0o666, 1, 3)
	mk("sda", unix.S_IFBLK|0o660, 8, 0)
	mk("pts/0", unix.S_IFCHR|0o620, 136, 0)
	mk("console", unix.S_IFCHR|0o600, 5, 1)
	mk("net/tun", unix.S_IFCHR|0o666, 10, 200)
	writeFiles(t, dir, map[string]string{"notadevice": "x", "stdin": "->/proc/self/fd/0"})

	devs, err := devicesUnder(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range devs {
		got = append(got, d.Path+" "+d.Type)
		if d.Path == "/dev/sda" && (d.Major != 8 || d.Minor != 0 || *d.FileMode != 0o660) {
			t.Errorf("/dev/sda = %+v", d)
		}
	}
	if want := []string{"/dev/net/tun c", "/dev/null c", "/dev/sda b"}; !reflect.DeepEqual(got, want) {
		t.Errorf("devicesUnder() = %v, want %v", got, want)
	}
}

// TestReadRootfsFile checks that files are read as if rootfs were "/":
// symlinks, absolute or climbing with "..", cannot reach a host file, and
// a FIFO planted by an image is refused instead of blocking berthd.
func TestReadRootfsFile(t *testing.T) {
	host := t.TempDir()
	writeFiles(t, host, map[string]string{"secret": "host secret"})
	secret := filepath.Join(host, "secret")
	root := t.TempDir()
	writeFiles(t, root, map[string]string{
		"etc/real":       "inside",
		"etc/abs-link":   "->/etc/real",
		"etc/rel-link":   "->../etc/./real",
		"etc/escape-abs": "->" + secret,
		"etc/escape-rel": "->../../../../../../../../.." + secret,
		"etc/dir-link":   "->/",
		"etc/loop":       "->/etc/loop",
	})
	if err := unix.Mkfifo(filepath.Join(root, "etc/fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		want     string
		notExist bool
		errText  string
	}{
		{"/etc/real", "inside", false, ""},
		{"/etc/abs-link", "inside", false, ""},
		{"/etc/rel-link", "inside", false, ""},
		{"../../etc/real", "inside", false, ""},
		{"/etc/escape-abs", "", true, ""},
		{"/etc/escape-rel", "", true, ""},
		{"/etc/missing", "", true, ""},
		{"/etc/fifo", "", false, "not a regular file"},
		{"/etc/dir-link", "", false, "not a regular file"},
		{"/etc/loop", "", false, "too many levels"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readRootfsFile(root, tt.name)
			switch {
			case tt.notExist:
				if !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("readRootfsFile(%q) = %q, %v; want a not-exist error", tt.name, got, err)
				}
			case tt.errText != "":
				if err == nil || !strings.Contains(err.Error(), tt.errText) {
					t.Errorf("readRootfsFile(%q) error = %v, want %q", tt.name, err, tt.errText)
				}
			case err != nil || string(got) != tt.want:
				t.Errorf("readRootfsFile(%q) = %q, %v; want %q", tt.name, got, err, tt.want)
			}
		})
	}
	if _, err := readRootfsFile(filepath.Join(root, "nope"), "/etc/real"); err == nil {
		t.Error("readRootfsFile with a missing rootfs succeeded")
	}
}

// TestHostReaders runs the real readers of host facts on this machine.
func TestHostReaders(t *testing.T) {
	if k := readHostKernel(); !k.atLeast(kernelVersion{3, 10}) {
		t.Errorf("readHostKernel() = %v, want a real kernel version", k)
	}
	if !hostSysctlExists("kernel.hostname") || hostSysctlExists("kernel.no_such_sysctl") {
		t.Error("hostSysctlExists does not tell kernel.hostname from a made-up sysctl")
	}
	for _, p := range readThermalPaths() {
		if !strings.HasPrefix(p, "/sys/devices/system/cpu/cpu") {
			t.Errorf("readThermalPaths() returned %q", p)
		}
	}
	devs, err := readHostDevices()
	if err != nil {
		t.Fatalf("readHostDevices() error = %v", err)
	}
	found := false
	for _, d := range devs {
		found = found || d.Path == "/dev/null" && d.Type == "c" && d.Major == 1 && d.Minor == 3
		if d.Path == "/dev/console" || strings.HasPrefix(d.Path, "/dev/pts/") {
			t.Errorf("readHostDevices() lists %s", d.Path)
		}
	}
	if !found {
		t.Error("readHostDevices() has no /dev/null")
	}
}
