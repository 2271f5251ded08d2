package integration

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestRun(t *testing.T) {
	requireRoot(t)
	t.Parallel()
	// The container's init is pid 1 of its pid namespace: the kernel drops
	// signals it has no handler for, even SIGKILL sent from inside. Signal
	// deaths are therefore tested without a pid namespace, and from outside.
	noPidNS := withoutNamespace(specs.PIDNamespace)
	tests := []struct {
		name     string
		args     []string
		edit     func(*specs.Spec)
		wantOut  string
		wantCode int // -1: any non-zero code
	}{
		{"stdout", []string{"echo", "hello from the container"}, nil, "hello from the container\n", 0},
		{"exit code", []string{"sh", "-c", "exit 3"}, nil, "", 3},
		{"stdout and exit code", []string{"sh", "-c", "echo partial; exit 42"}, nil, "partial\n", 42},
		{"killed by SIGKILL", []string{"sh", "-c", "kill -9 $$"}, noPidNS, "", 128 + 9},
		{"killed by SIGTERM", []string{"sh", "-c", "kill -15 $$"}, noPidNS, "", 128 + 15},
		{"command not found", []string{"/no/such/binary"}, nil, "", -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := newBundle(t, tt.args...)
			if tt.edit != nil {
				b.edit(t, tt.edit)
			}
			root := t.TempDir()
			out, stderr, code := runContainerIn(t, root, b)
			if tt.wantCode == -1 {
				if code == 0 {
					t.Errorf("run %v: exit code 0, want an error", tt.args)
				}
			} else if code != tt.wantCode {
				t.Errorf("run %v: exit code %d, want %d (stderr %q)", tt.args, code, tt.wantCode, stderr)
			}
			if out != tt.wantOut {
				t.Errorf("run %v: stdout %q, want %q", tt.args, out, tt.wantOut)
			}
			assertNoLeftovers(t, root, b) // run removes the container when it exits
		})
	}

	// The usual way a container dies by a signal: KILL from outside, which
	// the kernel always delivers to a pid namespace's init.
	t.Run("killed from outside by KILL", func(t *testing.T) {
		t.Parallel()
		b := newBundle(t, "sleep", "100")
		root := t.TempDir()
		t.Cleanup(func() { rt(t, root, "delete", "--force", b.id) })
		cmd := rtCmd(t.Context(), root, "run", "--bundle", b.dir, b.id)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		waitForState(t, root, b.id, "running")
		rtOK(t, root, "kill", b.id, "KILL")
		select {
		case <-done:
			if code := cmd.ProcessState.ExitCode(); code != 128+9 {
				t.Errorf("run killed by KILL: exit code %d, want %d", code, 128+9)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("run did not return after kill KILL")
		}
		assertNoLeftovers(t, root, b)
	})
}

// TestRunDetach checks run -d/--detach: the runtime returns while the
// container keeps running.
func TestRunDetach(t *testing.T) {
	requireRoot(t)
	t.Parallel()
	for _, flag := range []string{"-d", "--detach"} {
		t.Run(flag, func(t *testing.T) {
			t.Parallel()
			b := newBundle(t, "sleep", "100")
			root := t.TempDir()
			t.Cleanup(func() { rt(t, root, "delete", "--force", b.id) })
			start := time.Now()
			rtOK(t, root, "run", flag, "--bundle", b.dir, b.id)
			if d := time.Since(start); d > 20*time.Second {
				t.Fatalf("run %s took %v, want it to return at once", flag, d)
			}
			st := stateOf(t, root, b.id)
			if st.Status != "running" {
				t.Errorf("status after run %s = %q, want %q", flag, st.Status, "running")
			}
			if !processAlive(st.Pid) {
				t.Errorf("init pid %d not alive after run %s", st.Pid, flag)
			}
			rtOK(t, root, "delete", "--force", b.id)
			waitGone(t, st.Pid)
			assertNoLeftovers(t, root, b)
		})
	}
}

// TestCreateStdio checks that the container's stdio is the stdio of
// `create`: containerd's shim hands its fifos to create this way.
func TestCreateStdio(t *testing.T) {
	requireRoot(t)
	t.Parallel()
	b := newBundle(t, "sh", "-c", "echo to-stdout; echo to-stderr >&2; read line; echo read:$line")
	root := t.TempDir()
	dir := t.TempDir()
	stdinPath := filepath.Join(dir, "stdin")
	if err := os.WriteFile(stdinPath, []byte("from-stdin\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	stdin, err := os.Open(stdinPath)
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	stdout, err := os.Create(filepath.Join(dir, "stdout"))
	if err != nil {
		t.Fatal(err)
	}
	defer stdout.Close()
	stderr, err := os.Create(filepath.Join(dir, "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer stderr.Close()

	cmd := rtCmd(t.Context(), root, "create", "--bundle", b.dir, b.id)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
	t.Cleanup(func() { rt(t, root, "delete", "--force", b.id) })
	if err := cmd.Run(); err != nil {
		data, _ := os.ReadFile(filepath.Join(dir, "stderr"))
		t.Fatalf("create: %v: %s", err, data)
	}
	c := &created{root: root, id: b.id, b: b}
	if data, _ := os.ReadFile(filepath.Join(dir, "stdout")); len(data) != 0 {
		t.Errorf("stdout before start = %q, want nothing", data)
	}
	c.start(t)
	c.waitStatus(t, "stopped")
	for name, want := range map[string]string{
		"stdout": "to-stdout\nread:from-stdin\n",
		"stderr": "to-stderr\n",
	} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if string(data) != want {
			t.Errorf("container %s = %q, want %q", name, data, want)
		}
	}
	rtOK(t, root, "delete", b.id)
	assertNoLeftovers(t, root, b)
}
