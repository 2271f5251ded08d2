package bundle

import (
	"strings"
	"testing"
	"time"
)

func TestValidID(t *testing.T) {
	for _, tc := range []struct {
		id string
		ok bool
	}{
		{"abc", true},
		{"a.b_c-1", true},
		{"0abc", true},
		{"", false},
		{".abc", false},
		{"-abc", false},
		{"a/b", false},
		{"a b", false},
		{"..", false},
		{strings.Repeat("a", 76), true},
		{strings.Repeat("a", 77), false},
	} {
		if err := ValidID(tc.id); (err == nil) != tc.ok {
			t.Errorf("ValidID(%q) = %v, want ok=%v", tc.id, err, tc.ok)
		}
	}
}

func TestExitRoundTrip(t *testing.T) {
	dir := t.TempDir()
	want := Exit{Pid: 42, ExitStatus: 137, ExitedAt: time.Unix(1700000000, 5).UTC()}
	if err := WriteExit(dir, "e1", want); err != nil {
		t.Fatal(err)
	}
	got, err := ReadExit(dir, "e1")
	if err != nil {
		t.Fatal(err)
	}
	if *got != want {
		t.Errorf("ReadExit = %+v, want %+v", *got, want)
	}
	if _, err := ReadExit(dir, ""); !IsNotExist(err) {
		t.Errorf("ReadExit(init) without file: %v, want not exist", err)
	}
}
