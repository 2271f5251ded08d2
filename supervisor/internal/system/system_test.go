package system

import (
	"os"
	"path/filepath"
	"testing"
)

func TestParseVersion(t *testing.T) {
	tests := []struct{ in, want string }{
		{"berth-runtime version 0.1.0-dev\ncommit: x\n", "0.1.0-dev"},
		{"containerd-shim-berth-v2 version dev\n", "dev"},
		{"runc version 1.1.5+ds1\ncommit: ...", "1.1.5+ds1"},
		{"no such thing\n", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := parseVersion([]byte(tt.in)); got != tt.want {
			t.Errorf("parseVersion(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestHostFiles(t *testing.T) {
	dir := t.TempDir()
	osr := filepath.Join(dir, "os-release")
	os.WriteFile(osr, []byte("NAME=\"Debian GNU/Linux\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\n"), 0o644)
	if got := osName(osr); got != "Debian GNU/Linux 12 (bookworm)" {
		t.Errorf("osName = %q", got)
	}
	if got := osName(filepath.Join(dir, "missing")); got != "linux" {
		t.Errorf("osName of a missing file = %q, want linux", got)
	}
	mi := filepath.Join(dir, "meminfo")
	os.WriteFile(mi, []byte("MemTotal:       24576000 kB\nMemFree:        1000 kB\n"), 0o644)
	if got, want := memTotal(mi), int64(24576000*1024); got != want {
		t.Errorf("memTotal = %d, want %d", got, want)
	}
}
