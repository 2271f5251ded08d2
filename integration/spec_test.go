package integration

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestSpec(t *testing.T) {
	requireRoot(t)
	t.Parallel()

	checkSpec := func(t *testing.T, path string) {
		t.Helper()
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("spec did not write config.json: %v", err)
		}
		var s specs.Spec
		if err := json.Unmarshal(data, &s); err != nil {
			t.Fatalf("config.json is not valid JSON: %v", err)
		}
		if s.Version == "" {
			t.Errorf("ociVersion is empty")
		}
		if s.Process == nil {
			t.Fatalf("config.json has no process")
		}
		if got := strings.Join(s.Process.Args, " "); got != "sh" {
			t.Errorf("process.args = %q, want %q", got, "sh")
		}
		if !s.Process.Terminal {
			t.Errorf("process.terminal = false, want true")
		}
		if s.Root == nil || s.Root.Path != "rootfs" {
			t.Errorf("root = %+v, want path rootfs", s.Root)
		}
	}

	t.Run("cwd", func(t *testing.T) {
		dir := t.TempDir()
		cmd := exec.Command(runtimeBin, "spec")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("spec: %v: %s", err, out)
		}
		checkSpec(t, filepath.Join(dir, "config.json"))
	})

	t.Run("bundle flag", func(t *testing.T) {
		dir := t.TempDir()
		cmd := exec.Command(runtimeBin, "spec", "--bundle", dir)
		cmd.Dir = t.TempDir() // must not write here
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("spec --bundle: %v: %s", err, out)
		}
		checkSpec(t, filepath.Join(dir, "config.json"))
		if _, err := os.Stat(filepath.Join(cmd.Dir, "config.json")); err == nil {
			t.Errorf("spec --bundle %s also wrote config.json in the working directory", dir)
		}
	})

	t.Run("refuses to overwrite", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "config.json")
		if err := os.WriteFile(path, []byte("precious"), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(runtimeBin, "spec", "--bundle", dir)
		out, err := cmd.CombinedOutput()
		if err == nil {
			t.Fatalf("spec over an existing config.json succeeded, want an error")
		}
		// runc says "File config.json exists. Remove it first".
		for _, want := range []string{"config.json", "exists"} {
			if !strings.Contains(string(out), want) {
				t.Errorf("spec error %q, want it to contain %q", out, want)
			}
		}
		if data, _ := os.ReadFile(path); string(data) != "precious" {
			t.Errorf("config.json = %q after refused spec, want %q", data, "precious")
		}
	})
}
