package mount

import (
	"reflect"
	"testing"

	"golang.org/x/sys/unix"
)

func TestParseOptions(t *testing.T) {
	for _, tc := range []struct {
		opts  []string
		flags uintptr
		data  []string
	}{
		{[]string{"rbind", "ro"}, unix.MS_BIND | unix.MS_REC | unix.MS_RDONLY, nil},
		{[]string{"ro", "rw"}, 0, nil},
		{[]string{"nosuid", "lowerdir=/a:/b", "upperdir=/u", "index=off"}, unix.MS_NOSUID, []string{"lowerdir=/a:/b", "upperdir=/u", "index=off"}},
		{[]string{"suid", "nodev"}, unix.MS_NODEV, nil},
	} {
		flags, data := parseOptions(tc.opts)
		if flags != tc.flags || !reflect.DeepEqual(data, tc.data) {
			t.Errorf("parseOptions(%q) = %#x, %q; want %#x, %q", tc.opts, flags, data, tc.flags, tc.data)
		}
	}
}
