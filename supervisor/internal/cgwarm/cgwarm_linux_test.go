package cgwarm

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestOwnProcsFile(t *testing.T) {
	root := t.TempDir()
	mk := func(rel string) string {
		p := filepath.Join(root, rel, "cgroup.procs")
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	pids := mk("pids/user.slice")
	v2 := mk("system.slice/berthd.service")
	tests := []struct {
		name, cgroup, want string
	}{
		{"hybrid picks a v1 hierarchy", "12:name=systemd:/x\n8:pids:/user.slice\n0::/user.slice\n", pids},
		{"v1 controller missing on disk", "4:memory:/nope\n8:pids:/user.slice\n", pids},
		{"pure v2", "0::/system.slice/berthd.service\n", v2},
		{"nothing usable", "4:memory:/nope\n0::/nope\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := filepath.Join(t.TempDir(), "cgroup")
			os.WriteFile(f, []byte(tt.cgroup), 0o644)
			if got := ownProcsFile(f, root); got != tt.want {
				t.Errorf("ownProcsFile = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestPrime moves the test process into the cgroup it is in: it must
// stay there (the move is a no-op) and Prime must not block.
func TestPrime(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to write cgroup.procs")
	}
	before, _ := os.ReadFile("/proc/self/cgroup")
	Prime()
	for deadline := time.Now().Add(5 * time.Second); inFlight.Load(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the priming write did not finish in 5 s")
		}
	}
	after, _ := os.ReadFile("/proc/self/cgroup")
	if string(before) != string(after) {
		t.Errorf("cgroups changed:\n%s\n->\n%s", before, after)
	}
	if procsPath == "" {
		t.Error("no cgroup.procs file found for this process")
	}
}
