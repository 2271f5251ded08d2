package runstate

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// parkedInit plays the init's side of the exec fifo: it blocks opening the
// fifo for writing, then writes msg and closes it (as execve would).
func parkedInit(t *testing.T, dir string, msg []byte) chan error {
	t.Helper()
	if err := unix.Mkfifo(filepath.Join(dir, FifoName), 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		f, err := os.OpenFile(filepath.Join(dir, FifoName), os.O_WRONLY, 0)
		if err != nil {
			done <- err
			return
		}
		_, err = f.Write(msg)
		f.Close()
		done <- err
	}()
	return done
}

func TestRelease(t *testing.T) {
	alive := func() bool { return true }
	t.Run("started", func(t *testing.T) {
		dir := t.TempDir()
		done := parkedInit(t, dir, []byte{0})
		if err := Release(dir, alive); err != nil {
			t.Fatalf("Release: %v", err)
		}
		if err := <-done; err != nil {
			t.Fatalf("init side: %v", err)
		}
		if _, err := os.Lstat(filepath.Join(dir, FifoName)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("exec fifo still there after start: %v", err)
		}
		if err := Release(dir, alive); !errors.Is(err, ErrAlreadyStarted) {
			t.Errorf("second Release = %v, want ErrAlreadyStarted", err)
		}
	})
	t.Run("init error", func(t *testing.T) {
		dir := t.TempDir()
		done := parkedInit(t, dir, []byte("\x00exec: \"nope\": executable file not found in $PATH"))
		err := Release(dir, alive)
		<-done
		if err == nil || err.Error() != `exec: "nope": executable file not found in $PATH` {
			t.Errorf("Release = %v, want the init's message", err)
		}
	})
	t.Run("init gone", func(t *testing.T) {
		dir := t.TempDir()
		if err := unix.Mkfifo(filepath.Join(dir, FifoName), 0o600); err != nil {
			t.Fatal(err)
		}
		err := Release(dir, func() bool { return false })
		if !errors.Is(err, ErrInitExited) {
			t.Errorf("Release = %v, want ErrInitExited", err)
		}
		if _, err := os.Lstat(filepath.Join(dir, FifoName)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("exec fifo left behind: %v", err)
		}
	})
}

func TestHasHooks(t *testing.T) {
	for _, tc := range []struct {
		hooks string
		kind  string
		want  bool
	}{
		{"", "poststart", false},
		{"null", "poststart", false},
		{`{"prestart":[{"path":"/bin/true"}]}`, "poststart", false},
		{`{"poststart":[{"path":"/bin/true"}]}`, "poststart", true},
		{`{"poststart":[]}`, "poststart", false},
		{`{"poststop":[{"path":"/bin/true"}]}`, "poststop", true},
		{`[1,2]`, "poststop", true}, // unreadable: the runtime decides
	} {
		r := &Record{Hooks: json.RawMessage(tc.hooks)}
		if got := r.HasHooks(tc.kind); got != tc.want {
			t.Errorf("HasHooks(%q) with %s = %v, want %v", tc.kind, tc.hooks, got, tc.want)
		}
	}
}

func TestInitAliveAndCreated(t *testing.T) {
	cmd := exec.Command("sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer cmd.Process.Kill()
	start, _, err := ProcStart(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	r := &Record{InitPid: cmd.Process.Pid, InitStart: start}
	if !r.InitAlive() {
		t.Fatal("InitAlive = false for a running process")
	}
	if Created(dir, r) {
		t.Error("Created without an exec fifo")
	}
	if err := unix.Mkfifo(filepath.Join(dir, FifoName), 0o600); err != nil {
		t.Fatal(err)
	}
	if !Created(dir, r) {
		t.Error("Created = false with a live init and an exec fifo")
	}
	// Same pid, other start time: a reused pid is not our init.
	if (&Record{InitPid: cmd.Process.Pid, InitStart: start + 1}).InitAlive() {
		t.Error("InitAlive = true for another start time")
	}
	cmd.Process.Kill()
	cmd.Wait()
	if r.InitAlive() || Created(dir, r) {
		t.Error("init still counted alive after it was reaped")
	}
}

func TestReadAndDestroy(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "c1")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Read of a missing state = %v, want ErrNotExist", err)
	}
	// A directory the recorded "cgroup" path names, which Destroy must not
	// touch: it is not a path a cgroup can have.
	keep := t.TempDir()
	in := Record{Format: Format, ID: "c1", InitPid: 42, CgroupPaths: map[string]string{"": keep + "/"}}
	data, _ := json.Marshal(in)
	if err := os.WriteFile(filepath.Join(dir, StateFile), data, 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := Read(dir)
	if err != nil || r.Format != Format || r.ID != "c1" || r.InitPid != 42 {
		t.Fatalf("Read = %+v, %v", r, err)
	}
	if err := Destroy(dir, r); err != nil {
		t.Fatalf("Destroy: %v", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("state dir still there: %v", err)
	}
	if _, err := os.Stat(keep); err != nil {
		t.Errorf("Destroy touched an unclean cgroup path: %v", err)
	}
}

// TestConfig: config.json comes from its own file, or from state.json as
// older berth-runtimes kept it.
func TestConfig(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, ConfigFile), []byte(`{"ociVersion":"1.3.0"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if b, err := (&Record{ID: "c1"}).Config(dir); err != nil || string(b) != `{"ociVersion":"1.3.0"}` {
		t.Errorf("Config from the file = %s, %v", b, err)
	}
	old := &Record{ID: "c1", RawConfig: json.RawMessage(`{"ociVersion":"1.0.2"}`)}
	if b, err := old.Config(dir); err != nil || string(b) != `{"ociVersion":"1.0.2"}` {
		t.Errorf("Config from an old state.json = %s, %v", b, err)
	}
	if _, err := (&Record{ID: "c2"}).Config(t.TempDir()); err == nil {
		t.Error("Config without a saved config succeeded")
	}
	// The new state.json has no config in it.
	data, _ := json.Marshal(&Record{ID: "c1"})
	if strings.Contains(string(data), `"config"`) {
		t.Errorf("state.json holds a config: %s", data)
	}
}
