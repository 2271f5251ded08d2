package main

import (
	"strings"
	"testing"
)

func TestSocketDir(t *testing.T) {
	long := "/tmp/" + strings.Repeat("x", 60) + "/containerd.sock"
	for _, tc := range []struct{ address, want string }{
		{"/run/containerd/containerd.sock", "/run/containerd/s"},
		{"unix:///run/berth/berthd.sock", "/run/berth/s"},
		{"/tmp/ctd123/containerd.sock", "/tmp/ctd123/s"},
		{long, defaultSocketDir},
		{"", defaultSocketDir},
		{"relative.sock", defaultSocketDir},
	} {
		if got := socketDir(tc.address); got != tc.want {
			t.Errorf("socketDir(%q) = %q, want %q", tc.address, got, tc.want)
		}
	}
}

func TestSocketAddress(t *testing.T) {
	a := socketAddress("/run/containerd/s", "/run/containerd/containerd.sock", "default", "c1")
	b := socketAddress("/run/containerd/s", "/run/containerd/containerd.sock", "default", "c2")
	if a == b || !strings.HasPrefix(a, "unix:///run/containerd/s/") || len(socketPath(a)) != len("/run/containerd/s/")+64 {
		t.Errorf("socketAddress: %q, %q", a, b)
	}
	if again := socketAddress("/run/containerd/s", "/run/containerd/containerd.sock", "default", "c1"); again != a {
		t.Errorf("socketAddress not stable: %q != %q", again, a)
	}
}
