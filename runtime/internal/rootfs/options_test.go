package rootfs

import (
	"testing"

	"golang.org/x/sys/unix"
)

func TestParseOptions(t *testing.T) {
	tests := []struct {
		typ   string
		opts  []string
		flags uintptr
		prop  uintptr
		data  string
		bind  bool
	}{
		{"tmpfs", []string{"nosuid", "strictatime", "mode=755", "size=65536k"}, unix.MS_NOSUID | unix.MS_STRICTATIME, 0, "mode=755,size=65536k", false},
		{"bind", []string{"ro"}, unix.MS_BIND | unix.MS_RDONLY, 0, "", true},
		{"none", []string{"rbind", "rprivate", "nodev"}, unix.MS_BIND | unix.MS_REC | unix.MS_NODEV, unix.MS_PRIVATE | unix.MS_REC, "", true},
		{"sysfs", []string{"ro", "rw"}, 0, 0, "", false},
		{"tmpfs", []string{"tmpcopyup", "size=1m"}, 0, 0, "size=1m", false},
	}
	for _, tt := range tests {
		got := parseOptions(tt.typ, tt.opts)
		if got.flags != tt.flags || got.propagation != tt.prop || got.dataString() != tt.data || got.bind != tt.bind {
			t.Errorf("parseOptions(%q, %q) = %+v, want flags %#x prop %#x data %q bind %v",
				tt.typ, tt.opts, got, tt.flags, tt.prop, tt.data, tt.bind)
		}
	}
}
