package integration

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestBadInput feeds create broken bundles and ids. Each must fail with a
// non-zero exit code and one stderr line naming the problem, and leave
// nothing behind: no state dir, cgroup, mount or process.
func TestBadInput(t *testing.T) {
	requireRoot(t)
	t.Parallel()
	tests := []struct {
		name    string
		prepare func(t *testing.T, b *bundle) // breaks the bundle
		id      func(b *bundle) string        // nil: b.id
		wantMsg string                        // stderr must contain it (case-insensitive)
		runcMsg string                        // why runc's stderr is not one line naming the problem
	}{
		{
			name: "malformed config.json",
			prepare: func(t *testing.T, b *bundle) {
				os.WriteFile(filepath.Join(b.dir, "config.json"), []byte(`{"ociVersion": "1.0.2", "process": {`), 0o644)
			},
			wantMsg: "config.json",
			runcMsg: `runc prints only "unexpected EOF"`,
		},
		{
			name:    "missing config.json",
			prepare: func(t *testing.T, b *bundle) { os.Remove(filepath.Join(b.dir, "config.json")) },
			wantMsg: "config.json",
		},
		{
			name:    "missing rootfs",
			prepare: func(t *testing.T, b *bundle) { os.RemoveAll(b.rootfs) },
			wantMsg: "rootfs",
		},
		{
			name:    "empty args",
			prepare: func(t *testing.T, b *bundle) { b.edit(t, func(s *specs.Spec) { s.Process.Args = nil }) },
			wantMsg: "args",
		},
		{
			name:    "empty id",
			id:      func(*bundle) string { return "" },
			wantMsg: "id",
		},
		{
			name:    "id with slash",
			id:      func(b *bundle) string { return "bad/" + b.id },
			wantMsg: "id",
		},
		{
			name:    "id with dot-dot",
			id:      func(b *bundle) string { return "../" + b.id },
			wantMsg: "id",
		},
		{
			name:    "id is dot-dot",
			id:      func(b *bundle) string { return ".." },
			wantMsg: "id",
		},
		{
			name: "unknown namespace type",
			prepare: func(t *testing.T, b *bundle) {
				b.edit(t, withNamespace("foo", ""))
			},
			wantMsg: "foo",
		},
		{
			name: "namespace path that is no namespace",
			prepare: func(t *testing.T, b *bundle) {
				b.edit(t, withNamespace(specs.NetworkNamespace, "/etc/hostname"))
			},
			wantMsg: "/etc/hostname",
			runcMsg: "runc prints three lines about setns and pipes, not the path",
		},
		{
			// Written while the init sets itself up: the failure still
			// stops the create and removes the cgroup.
			name: "cpuset the kernel refuses",
			prepare: func(t *testing.T, b *bundle) {
				b.edit(t, withResources(func(r *specs.LinuxResources) { r.CPU = &specs.LinuxCPU{Cpus: "4095"} }))
			},
			wantMsg: "cpuset",
			runcMsg: "runc prints several lines",
		},
		{
			// Decoded only when the compiled-profile cache has no copy.
			name: "malformed seccomp profile",
			prepare: func(t *testing.T, b *bundle) {
				raw, err := os.ReadFile(filepath.Join(b.dir, "config.json"))
				if err != nil {
					t.Fatal(err)
				}
				var cfg map[string]any
				if err := json.Unmarshal(raw, &cfg); err != nil {
					t.Fatal(err)
				}
				cfg["linux"].(map[string]any)["seccomp"] = map[string]any{"defaultAction": 42}
				raw, _ = json.Marshal(cfg)
				if err := os.WriteFile(filepath.Join(b.dir, "config.json"), raw, 0o644); err != nil {
					t.Fatal(err)
				}
			},
			wantMsg: "seccomp",
			runcMsg: "runc names the Go type, not seccomp",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := newBundle(t, "sleep", "100")
			if tt.prepare != nil {
				tt.prepare(t, b)
			}
			id := b.id
			if tt.id != nil {
				id = tt.id(b)
			}
			root := t.TempDir()
			_, stderr, code := rt(t, root, "create", "--bundle", b.dir, id)
			if code == 0 {
				rt(t, root, "delete", "--force", id)
				t.Fatalf("create with %s succeeded, want an error", tt.name)
			}
			checkOneLineError(t, stderr, tt.wantMsg, tt.runcMsg)
			if id == "" || strings.Contains(id, "/") || id == ".." {
				id = "" // no state dir or process to look for by this id
			}
			assertNoLeftoversID(t, root, id, b)
			assertEmptyDir(t, root)
		})
	}
}

// checkOneLineError checks that stderr is one line containing want (case-
// insensitive). runcWhy, if set, explains how runc's stderr falls short and
// skips the check for runc.
func checkOneLineError(t *testing.T, stderr, want, runcWhy string) {
	t.Helper()
	if runcWhy != "" && isRunc(t) {
		t.Logf("not checking stderr %q (runc differs here: %s)", stderr, runcWhy)
		return
	}
	if lines := stderrLines(stderr); len(lines) != 1 {
		t.Errorf("stderr has %d lines, want one: %q", len(lines), stderr)
	}
	if !strings.Contains(strings.ToLower(stderr), strings.ToLower(want)) {
		t.Errorf("stderr %q, want it to name %q", stderr, want)
	}
}

// assertEmptyDir checks that a --root dir holds no state at all.
func assertEmptyDir(t *testing.T, dir string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	for _, e := range ents {
		t.Errorf("state left in %s: %s", dir, e.Name())
	}
}

// TestMountSymlinkEscape mounts at a path whose parent is a symlink climbing
// out of the rootfs. Nothing may be created or mounted outside the rootfs.
// berth refuses such a config; runc resolves the symlink inside the rootfs
// and goes on, which the host-side checks accept.
func TestMountSymlinkEscape(t *testing.T) {
	requireRoot(t)
	t.Parallel()
	b := newBundle(t, "true")
	target := filepath.Join(os.TempDir(), "berth-escape-"+b.id)
	// Enough ".." to climb from any rootfs to /; the kernel stops at /.
	link := strings.Repeat("../", 32) + strings.TrimPrefix(target, "/")
	if err := os.Symlink(link, filepath.Join(b.rootfs, "evil")); err != nil {
		t.Fatal(err)
	}
	b.edit(t, withMounts(specs.Mount{Destination: "/evil/sub", Type: "tmpfs", Source: "tmpfs"}))
	t.Cleanup(func() { os.RemoveAll(target) })

	root := t.TempDir()
	_, stderr, code := runContainerIn(t, root, b)

	if _, err := os.Lstat(target); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("host path %s was created through the symlink (err %v)", target, err)
	}
	if ms := mountsUnder(target); len(ms) > 0 {
		t.Errorf("host path %s got mounts: %v", target, ms)
	}
	assertNoLeftovers(t, root, b)
	if isRunc(t) {
		t.Skip("runc differs here: it resolves the symlink inside the rootfs and mounts there")
	}
	if code == 0 {
		t.Fatalf("run with a mount through an escaping symlink succeeded, want an error")
	}
	checkOneLineError(t, stderr, "evil", "")
}

// TestDuplicateID checks that a second create with the same id fails and
// leaves the first container working.
func TestDuplicateID(t *testing.T) {
	requireRoot(t)
	t.Parallel()
	root := t.TempDir()
	first := newBundle(t, "sh", "-c", "echo first; sleep 100")
	c := create(t, root, first)
	pid := c.state(t).Pid

	second := newBundle(t, "sh", "-c", "echo second")
	_, stderr, code := rt(t, root, "create", "--bundle", second.dir, first.id)
	if code == 0 {
		t.Fatalf("second create with id %q succeeded, want an error", first.id)
	}
	checkOneLineError(t, stderr, "exists", "")
	if dirs := cgroupDirs(second.cgroupsPath()); len(dirs) > 0 {
		t.Errorf("failed create left cgroups: %v", dirs)
	}

	st := c.state(t)
	if st.Status != "created" || st.Pid != pid || st.Bundle != first.dir {
		t.Errorf("first container after a duplicate create: %+v, want created, pid %d, bundle %s", st, pid, first.dir)
	}
	c.start(t)
	c.waitOutput(t, "first\n")
	if out := c.output(t); strings.Contains(out, "second") {
		t.Errorf("output %q: the second bundle ran", out)
	}
}

// TestStartNotCreated checks that start fails unless the container is
// created, and changes nothing.
func TestStartNotCreated(t *testing.T) {
	requireRoot(t)
	t.Parallel()
	t.Run("running", func(t *testing.T) {
		t.Parallel()
		c := startContainer(t, newBundle(t, "sh", "-c", "echo once; sleep 100"))
		c.waitOutput(t, "once\n")
		_, stderr, code := rt(t, c.root, "start", c.id)
		if code == 0 {
			t.Fatalf("start of a running container succeeded, want an error")
		}
		checkOneLineError(t, stderr, "running", "")
		if st := c.state(t); st.Status != "running" {
			t.Errorf("status after a refused start = %q, want running", st.Status)
		}
		if out := c.output(t); out != "once\n" {
			t.Errorf("output %q, want the process started once", out)
		}
	})
	t.Run("stopped", func(t *testing.T) {
		t.Parallel()
		c := startContainer(t, newBundle(t, "echo", "once"))
		c.waitStatus(t, "stopped")
		_, stderr, code := rt(t, c.root, "start", c.id)
		if code == 0 {
			t.Fatalf("start of a stopped container succeeded, want an error")
		}
		checkOneLineError(t, stderr, "stopped", "")
		if st := c.state(t); st.Status != "stopped" {
			t.Errorf("status after a refused start = %q, want stopped", st.Status)
		}
		if out := c.output(t); out != "once\n" {
			t.Errorf("output %q, want the process started once", out)
		}
	})
}

// TestLogJSON checks --log FILE --log-format json: containerd reads the
// last error from that file.
func TestLogJSON(t *testing.T) {
	requireRoot(t)
	t.Parallel()
	root := t.TempDir()
	logFile := filepath.Join(t.TempDir(), "log.json")
	b := newBundle(t, "true")
	os.RemoveAll(b.rootfs)
	_, _, code := rt(t, root, "--log", logFile, "--log-format", "json", "create", "--bundle", b.dir, b.id)
	if code == 0 {
		t.Fatalf("create without a rootfs succeeded, want an error")
	}
	data, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatalf("log file: %v", err)
	}
	found := false
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var entry map[string]any
		if err := json.Unmarshal([]byte(line), &entry); err != nil {
			t.Errorf("log line %q is not JSON: %v", line, err)
			continue
		}
		msg, _ := entry["msg"].(string)
		if entry["level"] == "error" && strings.Contains(msg, "rootfs") {
			found = true
		}
	}
	if !found {
		t.Errorf("log file %q has no {\"level\":\"error\",\"msg\":...rootfs...} line", data)
	}
	assertNoLeftovers(t, root, b)
}
