package oci

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/runstate"
	"github.com/berth-project/berth/shim/internal/reaper"
)

// fakeRuntime writes a script named name that records its arguments and
// behaves per command: ps prints pids, kill fails the way runc does for a
// gone container (JSON error in --log), create of "signals" says created on
// the fd of runstate.CreatedFDEnv and goes on running, create of "fails"
// fails with a message, anything else succeeds.
func fakeRuntime(t *testing.T, name string) (*Runtime, string) {
	t.Helper()
	dir := t.TempDir()
	args := filepath.Join(dir, "args")
	script := `#!/bin/sh
echo "$@" >> ` + args + `
log=
while [ $# -gt 0 ]; do
  case $1 in
    --log) log=$2; shift 2;;
    --root|--log-format) shift 2;;
    *) break;;
  esac
done
for a; do id=$a; done
case $1/$id in
  ps/*) echo '[1,2,3]';;
  update/*) cat > ` + filepath.Join(dir, "resources") + `;;
  kill/*) echo '{"level":"error","msg":"container does not exist","time":"x"}' >> "$log"; exit 1;;
  create/signals) printf x >&$` + runstate.CreatedFDEnv + `; exec sleep 2;;
  create/fails) echo '{"level":"error","msg":"bad bundle","time":"x"}' >> "$log"; exit 1;;
esac
`
	bin := filepath.Join(dir, name)
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	r, err := reaper.New()
	if err != nil {
		t.Fatal(err)
	}
	return &Runtime{Binary: bin, Root: filepath.Join(dir, "root"), Log: filepath.Join(dir, "log.json"), Reaper: r}, dir
}

func TestRuntimeCommands(t *testing.T) {
	rt, dir := fakeRuntime(t, "rt")
	pids, err := rt.Ps("c1")
	if err != nil || !reflect.DeepEqual(pids, []int{1, 2, 3}) {
		t.Errorf("Ps = %v, %v; want [1 2 3]", pids, err)
	}
	if err := rt.Update("c1", []byte(`{"pids":{"limit":5}}`)); err != nil {
		t.Errorf("Update: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "resources")); string(b) != `{"pids":{"limit":5}}` {
		t.Errorf("update stdin = %q", b)
	}
	err = rt.Kill("c1", 9, true)
	if err == nil || !NotRunning(err) || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("Kill = %v, want a not-running error with the runtime's message", err)
	}
	if err := rt.Create("c1", "/b", &CreateOpts{PidFile: "/b/init.pid", ConsoleSocket: "/s", NoPivot: true}); err != nil {
		t.Errorf("Create: %v", err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "args"))
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	want := "--root " + rt.Root + " --log " + rt.Log + " --log-format json create --bundle /b --pid-file /b/init.pid --console-socket /s --no-pivot c1"
	if lines[len(lines)-1] != want {
		t.Errorf("create argv = %q, want %q", lines[len(lines)-1], want)
	}
	if !strings.HasSuffix(lines[2], "kill --all c1 9") {
		t.Errorf("kill argv = %q", lines[2])
	}
}

func TestResolve(t *testing.T) {
	if _, err := Resolve("/nonexistent/runtime"); err == nil {
		t.Errorf("Resolve of a missing path succeeded")
	}
	if p, err := Resolve("/bin/sh"); err != nil || p != "/bin/sh" {
		t.Errorf("Resolve(/bin/sh) = %q, %v", p, err)
	}
	if _, err := Resolve("/etc/passwd"); err == nil {
		t.Errorf("Resolve of a non-executable succeeded")
	}
}

// berthState writes a berth-runtime state dir for id under rt.Root.
func berthState(t *testing.T, rt *Runtime, id string, r runstate.Record) string {
	t.Helper()
	dir := filepath.Join(rt.Root, id)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	data, _ := json.Marshal(r)
	if err := os.WriteFile(filepath.Join(dir, runstate.StateFile), data, 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestInProcessStartDelete: for berth-runtime, a created container is
// started and a stopped one deleted by the shim itself (the fake runtime
// records no call); anything else still goes to the runtime binary.
func TestInProcessStartDelete(t *testing.T) {
	rt, dir := fakeRuntime(t, "berth-runtime")
	calls := func() string {
		b, _ := os.ReadFile(filepath.Join(dir, "args"))
		os.Remove(filepath.Join(dir, "args"))
		return string(b)
	}

	// A parked init: a live process and an exec fifo that a writer waits on.
	sleeper := exec.Command("sleep", "30")
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	defer sleeper.Process.Kill()
	start, _, err := runstate.ProcStart(sleeper.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	live := runstate.Record{Format: runstate.Format, ID: "c1", InitPid: sleeper.Process.Pid, InitStart: start}
	c1 := berthState(t, rt, "c1", live)
	fifo := filepath.Join(c1, runstate.FifoName)
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	released := make(chan error, 1)
	go func() {
		f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err == nil {
			_, err = f.Write([]byte{0})
			f.Close()
		}
		released <- err
	}()
	if err := rt.Start("c1"); err != nil {
		t.Fatalf("Start: %v", err)
	}
	if err := <-released; err != nil {
		t.Fatalf("init side of the fifo: %v", err)
	}
	if c := calls(); c != "" {
		t.Errorf("Start ran the runtime: %q", c)
	}
	// Started: the runtime is asked (and would say so).
	rt.Start("c1")
	if c := calls(); !strings.Contains(c, "start c1") {
		t.Errorf("Start of a started container did not go to the runtime: %q", c)
	}
	// A live init is the runtime's to kill.
	rt.Delete("c1", true)
	if c := calls(); !strings.Contains(c, "delete --force c1") {
		t.Errorf("Delete of a running container did not go to the runtime: %q", c)
	}

	// Stopped (no such process): removed in process.
	dead := runstate.Record{Format: runstate.Format, ID: "c2", InitPid: sleeper.Process.Pid, InitStart: start + 1}
	c2 := berthState(t, rt, "c2", dead)
	if err := rt.Delete("c2", true); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := os.Stat(c2); !os.IsNotExist(err) {
		t.Errorf("state dir of c2 still there: %v", err)
	}
	if c := calls(); c != "" {
		t.Errorf("Delete ran the runtime: %q", c)
	}

	// Poststop hooks, an unknown state format, another runtime: the binary.
	hooks := dead
	hooks.ID, hooks.Hooks = "c3", json.RawMessage(`{"poststop":[{"path":"/bin/true"}]}`)
	berthState(t, rt, "c3", hooks)
	old := dead
	old.ID, old.Format = "c4", ""
	berthState(t, rt, "c4", old)
	rt.Delete("c3", true)
	rt.Delete("c4", false)
	if c := calls(); !strings.Contains(c, "delete --force c3") || !strings.Contains(c, "delete c4") {
		t.Errorf("Delete with hooks / old format did not go to the runtime: %q", c)
	}
	other, _ := fakeRuntime(t, "rt")
	other.Root = rt.Root
	berthState(t, other, "c5", dead)
	other.Delete("c5", false)
	if _, err := os.Stat(filepath.Join(rt.Root, "c5")); err != nil {
		t.Errorf("a runtime that is not berth-runtime had its state removed by the shim: %v", err)
	}
}

// TestCreateSignalled: berth-runtime's create says "created" on the pipe
// of CreatedFDEnv, and Create returns then, not when the process ends; a
// create that fails without saying it is judged by its exit.
func TestCreateSignalled(t *testing.T) {
	rt, _ := fakeRuntime(t, "berth-runtime")
	start := time.Now()
	if err := rt.Create("signals", "/b", &CreateOpts{PidFile: "/b/p"}); err != nil {
		t.Fatalf("Create: %v", err)
	}
	if d := time.Since(start); d > 1500*time.Millisecond {
		t.Errorf("Create waited %v for the runtime to end", d)
	}
	err := rt.Create("fails", "/b", &CreateOpts{PidFile: "/b/p"})
	var re *Error
	if !errors.As(err, &re) || re.Status != 1 || re.Msg != "bad bundle" {
		t.Errorf("failing Create = %v, want the runtime's message and status 1", err)
	}
}
