package reference

import (
	"errors"
	"testing"
)

func TestParse(t *testing.T) {
	dg := "sha256:" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	tests := []struct {
		in, want, familiar string
	}{
		{"busybox", "docker.io/library/busybox:latest", "busybox:latest"},
		{"busybox:1.36", "docker.io/library/busybox:1.36", "busybox:1.36"},
		{"library/busybox", "docker.io/library/busybox:latest", "busybox:latest"},
		{"docker.io/busybox", "docker.io/library/busybox:latest", "busybox:latest"},
		{"index.docker.io/library/busybox", "docker.io/library/busybox:latest", "busybox:latest"},
		{"user/app:v1", "docker.io/user/app:v1", "user/app:v1"},
		{"localhost/app", "localhost/app:latest", "localhost/app:latest"},
		{"localhost:5000/a/b/c", "localhost:5000/a/b/c:latest", "localhost:5000/a/b/c:latest"},
		{"127.0.0.1:5000/busybox:x", "127.0.0.1:5000/busybox:x", "127.0.0.1:5000/busybox:x"},
		{"quay.io/org/img", "quay.io/org/img:latest", "quay.io/org/img:latest"},
		{"busybox@" + dg, "docker.io/library/busybox@" + dg, "busybox@" + dg},
		{"busybox:tag@" + dg, "docker.io/library/busybox:tag@" + dg, "busybox:tag@" + dg},
		{"a-b_c__d/e.f", "docker.io/a-b_c__d/e.f:latest", "a-b_c__d/e.f:latest"},
	}
	for _, tt := range tests {
		r, err := Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q) = %v", tt.in, err)
			continue
		}
		if r.String() != tt.want || r.Familiar() != tt.familiar {
			t.Errorf("Parse(%q) = %s (%s), want %s (%s)", tt.in, r, r.Familiar(), tt.want, tt.familiar)
		}
	}
}

func TestParseInvalid(t *testing.T) {
	for _, in := range []string{
		"", "Busybox", "busybox:", "busybox:-x", ":tag", "busybox@sha256:abc",
		"busybox@md5:0123", "a//b", "/busybox", "busybox/", "bad host:5000/x",
		"a..b", "-a", "a:b:c", "busybox:" + string(make([]byte, 200)),
	} {
		if r, err := Parse(in); !errors.Is(err, ErrInvalid) {
			t.Errorf("Parse(%q) = %v, %v; want ErrInvalid", in, r, err)
		}
	}
}

func TestLoopback(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"localhost:5000/x", true},
		{"127.0.0.1:5000/x", true},
		{"127.0.0.2/x", true},
		{"[::1]:5000/x", true},
		{"example.com:5000/x", false},
		{"busybox", false},
		{"10.0.0.1:5000/x", false},
	}
	for _, tt := range tests {
		r, err := Parse(tt.in)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tt.in, err)
		}
		if got := r.IsLoopback(); got != tt.want {
			t.Errorf("Parse(%q).IsLoopback() = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestRegistry(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "docker.io"},
		{"https://index.docker.io/v1/", "docker.io"},
		{"localhost:5000", "localhost:5000"},
		{"http://127.0.0.1:5000", "127.0.0.1:5000"},
	}
	for _, tt := range tests {
		if got, err := Registry(tt.in); err != nil || got != tt.want {
			t.Errorf("Registry(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}
