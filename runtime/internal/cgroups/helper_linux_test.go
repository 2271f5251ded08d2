package cgroups

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// helperEnv makes the test binary act as a helper process: it waits for one
// byte on stdin (sent once it has been moved into the cgroup under test),
// then does the action named by the variable and exits.
const helperEnv = "BERTH_CGROUPS_HELPER"

// Helper exit codes.
const (
	helperOK    = 0
	helperEPERM = 13
	helperOther = 1
)

func TestMain(m *testing.M) {
	if action := os.Getenv(helperEnv); action != "" {
		os.Exit(runHelper(action))
	}
	os.Exit(m.Run())
}

func runHelper(action string) int {
	var b [1]byte
	if _, err := os.Stdin.Read(b[:]); err != nil {
		return helperOther
	}
	switch {
	case action == "alloc":
		// Touch 256 MiB a page at a time; under a small limit the OOM
		// killer stops this long before the end.
		var keep [][]byte
		for range 256 {
			chunk := make([]byte, 1<<20)
			for i := 0; i < len(chunk); i += 4096 {
				chunk[i] = 1
			}
			keep = append(keep, chunk)
		}
		runtime.KeepAlive(keep)
		return helperOK
	case action == "spin":
		// 30 ms of CPU time, not of wall time: on a busy machine the
		// helper may get much less CPU than the time that passes.
		var ru syscall.Rusage
		cpu := func() time.Duration {
			syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
			return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		}
		for start := cpu(); cpu()-start < 30*time.Millisecond; {
		}
		return helperOK
	case strings.HasPrefix(action, "open:"):
		f, err := os.Open(strings.TrimPrefix(action, "open:"))
		if errors.Is(err, syscall.EPERM) {
			return helperEPERM
		}
		if err != nil {
			return helperOther
		}
		f.Close()
		return helperOK
	}
	return helperOther
}

// requireRoot skips tests that create real cgroups.
func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	if CurrentMode() == Unavailable {
		t.Skip("no cgroup filesystem")
	}
}

var testSeq atomic.Int32

// testCgroupPath is a cgroups path no other test or run uses.
func testCgroupPath() string {
	return fmt.Sprintf("/berth-test-%d-%d", os.Getpid(), testSeq.Add(1))
}

// newTestManager returns the Manager of a fresh cgroup that is destroyed
// when the test ends, after the processes the test started are gone.
func newTestManager(t *testing.T) Manager {
	t.Helper()
	m, err := New(testCgroupPath(), "", false)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		if err := m.Destroy(); err != nil {
			t.Errorf("Destroy: %v", err)
		}
	})
	return m
}

// startSleep starts a `sleep 100` in m's cgroup, killed when the test ends.
func startSleep(t *testing.T, m Manager) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("sleep", "100")
	if err := cmd.Start(); err != nil {
		t.Fatalf("start sleep: %v", err)
	}
	t.Cleanup(func() {
		_ = m.Thaw() // a frozen task does not die until thawed
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	if err := m.Apply(cmd.Process.Pid); err != nil {
		t.Fatalf("Apply(%d): %v", cmd.Process.Pid, err)
	}
	return cmd
}

// startHelper starts a helper process doing action and places it with
// place; the returned function lets it run and waits for it to exit.
func startHelper(t *testing.T, action string, place func(pid int) error) (run func() *os.ProcessState) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+action)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start helper: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	if err := place(cmd.Process.Pid); err != nil {
		t.Fatalf("place helper %d: %v", cmd.Process.Pid, err)
	}
	return func() *os.ProcessState {
		_, _ = io.WriteString(stdin, "go")
		stdin.Close()
		_ = cmd.Wait()
		return cmd.ProcessState
	}
}

// cgFile reads a file of m's cgroup in the hierarchy of controller ("" for
// cgroup2).
func cgFile(t *testing.T, m Manager, controller, file string) string {
	t.Helper()
	dir := m.Paths()[controller]
	if dir == "" {
		t.Fatalf("no %q hierarchy in %v", controller, m.Paths())
	}
	b, err := os.ReadFile(dir + "/" + file)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// procState returns the state letter of /proc/PID/stat.
func procState(t *testing.T, pid int) string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	// The command name may hold spaces and parentheses; the state follows the last ')'.
	return strings.Fields(s[strings.LastIndexByte(s, ')')+1:])[0]
}
