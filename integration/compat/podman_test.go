package compat

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// podman is podman with private storage, run dir and config under dir, and
// the runtime under test as its OCI runtime.
type podman struct {
	dir      string
	env      []string
	cgBefore []string
}

func newPodman(t *testing.T) *podman {
	t.Helper()
	requireEngine(t, "podman", "conmon")
	dir := shortTempDir(t, "bcp")
	p := &podman{dir: dir, cgBefore: cgroupParents("libpod_parent")}
	t.Cleanup(func() { p.cleanup(t) })
	conf := fmt.Sprintf(`[containers]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = %q
tmp_dir = %q
[network]
network_config_dir = %q
`, filepath.Join(dir, "events.log"), filepath.Join(dir, "tmp"), filepath.Join(dir, "networks"))
	storage := fmt.Sprintf(`[storage]
driver = "overlay"
graphroot = %q
runroot = %q
`, filepath.Join(dir, "storage"), filepath.Join(dir, "run"))
	if err := os.WriteFile(filepath.Join(dir, "containers.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "storage.conf"), []byte(storage), 0o644); err != nil {
		t.Fatal(err)
	}
	p.env = []string{
		"CONTAINERS_CONF=" + filepath.Join(dir, "containers.conf"),
		"CONTAINERS_STORAGE_CONF=" + filepath.Join(dir, "storage.conf"),
	}
	p.podman(t, "load", "-i", imageTar)
	return p
}

// run runs podman with our config and the runtime under test.
func (p *podman) run(t *testing.T, args ...string) result {
	t.Helper()
	return run(t, p.env, "podman", append([]string{"--runtime", runtimeBin}, args...)...)
}

func (p *podman) podman(t *testing.T, args ...string) string {
	t.Helper()
	r := p.run(t, args...)
	if r.code != 0 {
		t.Fatalf("podman %s: %s", strings.Join(args, " "), r)
	}
	return r.stdout
}

func (p *podman) cleanup(t *testing.T) {
	p.run(t, "rm", "-a", "-f", "-t", "0")
	p.run(t, "rmi", "-a", "-f")
	killProcessesMentioning(t, p.dir)
	unmountUnder(p.dir)
	removeCgroupTree(newCgroupParents("libpod_parent", p.cgBefore))
	os.RemoveAll(p.dir)
}

// runFlags are needed on this machine: podman's default rlimits exceed the
// hard limits and the bounding set lacks CAP_SYS_RESOURCE (runc fails the
// same way without them).
var podmanRunFlags = []string{"--network", "none", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"}

// TestPodman runs, execs into, stops and removes containers with podman
// and conmon driving the runtime under test.
func TestPodman(t *testing.T) {
	p := newPodman(t)

	t.Run("run --rm", func(t *testing.T) {
		out := p.podman(t, append(append([]string{"run", "--rm"}, podmanRunFlags...), imageRef, "echo", "hi")...)
		if out != "hi\n" {
			t.Errorf("podman run --rm echo hi: %q, want %q", out, "hi\n")
		}
	})

	t.Run("exit code", func(t *testing.T) {
		r := p.run(t, append(append([]string{"run", "--rm"}, podmanRunFlags...), imageRef, "sh", "-c", "echo out; exit 7")...)
		if r.code != 7 || r.stdout != "out\n" {
			t.Errorf("podman run of exit 7: %s, want exit 7 and out", r)
		}
	})

	t.Run("detached", func(t *testing.T) {
		const name = "bc-detached"
		id := strings.TrimSpace(p.podman(t, append(append([]string{"run", "-d", "--name", name}, podmanRunFlags...), imageRef, "sh", "-c", "trap 'exit 3' TERM; echo started; while :; do sleep 0.1; done")...))
		if len(id) != 64 {
			t.Fatalf("podman run -d printed %q, want a container id", id)
		}
		if rt := strings.TrimSpace(p.podman(t, "inspect", "--format", "{{.OCIRuntime}}", name)); rt != runtimeBin && rt != filepath.Base(runtimeBin) {
			t.Errorf("container's OCI runtime = %q, want %s", rt, runtimeBin)
		}
		// podman passes no --root: the runtime's default state dir has it.
		if st := mustRun(t, nil, runtimeBin, "state", id); !strings.Contains(st, `"running"`) {
			t.Errorf("%s state %s = %s, want running", filepath.Base(runtimeBin), id, st)
		}
		eventually(t, "the container to log started", func() bool {
			return strings.Contains(p.run(t, "logs", name).stdout, "started")
		})
		if st := strings.TrimSpace(p.podman(t, "inspect", "--format", "{{.State.Status}}", name)); st != "running" {
			t.Errorf("status = %q, want running", st)
		}

		if out := p.podman(t, "exec", name, "sh", "-c", "echo from exec; cat /proc/1/cmdline | tr '\\0' ' '"); !strings.HasPrefix(out, "from exec\nsh -c trap") {
			t.Errorf("podman exec: %q", out)
		}
		if r := p.run(t, "exec", name, "sh", "-c", "exit 5"); r.code != 5 {
			t.Errorf("podman exec of exit 5: %s, want exit 5", r)
		}
		if out := p.podman(t, "exec", "--user", "65534", name, "id", "-u"); out != "65534\n" {
			t.Errorf("podman exec --user 65534 id -u: %q", out)
		}
		if out := p.podman(t, "top", name, "pid", "args"); !strings.Contains(out, "sh -c trap") {
			t.Errorf("podman top: %q", out)
		}

		p.podman(t, "pause", name)
		if st := strings.TrimSpace(p.podman(t, "inspect", "--format", "{{.State.Status}}", name)); st != "paused" {
			t.Errorf("status after pause = %q, want paused", st)
		}
		p.podman(t, "unpause", name)
		if st := strings.TrimSpace(p.podman(t, "inspect", "--format", "{{.State.Status}}", name)); st != "running" {
			t.Errorf("status after unpause = %q, want running", st)
		}

		p.podman(t, "stop", "-t", "5", name)
		if out := strings.TrimSpace(p.podman(t, "inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", name)); out != "exited 3" {
			t.Errorf("after stop: %q, want exited 3 (the trap's exit code)", out)
		}
		p.podman(t, "rm", name)
		if r := p.run(t, "inspect", name); r.code == 0 {
			t.Errorf("container still exists after podman rm")
		}
		assertRuntimeForgot(t, id)
	})

	t.Run("stop kills after timeout", func(t *testing.T) {
		const name = "bc-stubborn"
		id := strings.TrimSpace(p.podman(t, append(append([]string{"run", "-d", "--name", name}, podmanRunFlags...), imageRef, "sleep", "1000")...))
		p.podman(t, "stop", "-t", "1", name)
		if out := strings.TrimSpace(p.podman(t, "inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", name)); out != "exited 137" {
			t.Errorf("after stop of a container ignoring SIGTERM: %q, want exited 137", out)
		}
		p.podman(t, "rm", name)
		assertRuntimeForgot(t, id)
	})
}

// assertRuntimeForgot checks that the runtime's default state dir (podman
// passes no --root) has nothing left of container id.
func assertRuntimeForgot(t *testing.T, id string) {
	t.Helper()
	for _, root := range []string{"/run/berth-runtime", "/run/runc"} {
		if _, err := os.Stat(filepath.Join(root, id)); err == nil {
			t.Errorf("runtime state %s left behind", filepath.Join(root, id))
		}
	}
}
