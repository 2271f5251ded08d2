package oci

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/berth-project/berth/shim/internal/reaper"
)

// fakeRuntime writes a script that records its arguments and behaves per
// command: ps prints pids, kill fails the way runc does for a gone
// container (JSON error in --log), anything else succeeds.
func fakeRuntime(t *testing.T) (*Runtime, string) {
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
case $1 in
  ps) echo '[1,2,3]';;
  update) cat > ` + filepath.Join(dir, "resources") + `;;
  kill) echo '{"level":"error","msg":"container does not exist","time":"x"}' >> "$log"; exit 1;;
esac
`
	bin := filepath.Join(dir, "rt")
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
	rt, dir := fakeRuntime(t)
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
