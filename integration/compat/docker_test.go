package compat

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// dockerd is a dockerd this test started with its own data root, exec
// root, socket and pid file, no bridge and no iptables, and the runtime
// under test added as runtime "berth".
type dockerd struct {
	dir      string
	env      []string // DOCKER_HOST for the docker CLI
	d        *daemonProc
	cgBefore []string
}

func startDockerd(t *testing.T) *dockerd {
	t.Helper()
	requireEngine(t, "dockerd", "docker", "containerd", "containerd-shim-runc-v2")
	dir := shortTempDir(t, "bcd")
	dk := &dockerd{dir: dir, cgBefore: cgroupParents("docker")}
	t.Cleanup(func() { dk.cleanup(t) })
	for _, d := range []string{"data", "exec"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	sock := filepath.Join(dir, "docker.sock")
	dk.env = []string{"DOCKER_HOST=unix://" + sock, "DOCKER_CONFIG=" + filepath.Join(dir, "cli")}
	dk.d = startDaemon(t, filepath.Join(dir, "dockerd.log"), nil, "dockerd",
		"--data-root", filepath.Join(dir, "data"),
		"--exec-root", filepath.Join(dir, "exec"),
		"-H", "unix://"+sock,
		"--pidfile", filepath.Join(dir, "docker.pid"),
		"--iptables=false", "--ip-masq=false", "--bridge=none", "--userland-proxy=false",
		"--add-runtime", "berth="+runtimeBin,
	)
	eventually(t, "dockerd to answer", func() bool {
		if dk.d.exited() {
			t.Fatalf("dockerd exited:\n%s", dk.d.logTail())
		}
		return run(t, dk.env, "docker", "version").code == 0
	})
	dk.docker(t, "load", "-i", imageTar)
	return dk
}

func (dk *dockerd) run(t *testing.T, args ...string) result {
	t.Helper()
	return run(t, dk.env, "docker", args...)
}

func (dk *dockerd) docker(t *testing.T, args ...string) string {
	t.Helper()
	r := dk.run(t, args...)
	if r.code != 0 {
		t.Fatalf("docker %s: %s", strings.Join(args, " "), r)
	}
	return r.stdout
}

func (dk *dockerd) cleanup(t *testing.T) {
	if dk.d != nil && dk.d.cmd != nil {
		if t.Failed() {
			t.Logf("dockerd log (tail):\n%s", dk.d.logTail())
		}
		if ids := strings.Fields(dk.run(t, "ps", "-aq").stdout); len(ids) > 0 {
			dk.run(t, append([]string{"rm", "-f"}, ids...)...)
		}
		dk.d.stop() // dockerd stops the containerd it started
	}
	killProcessesMentioning(t, dk.dir)
	unmountUnder(dk.dir)
	removeCgroupTree(newCgroupParents("docker", dk.cgBefore))
	os.RemoveAll(dk.dir)
}

func (dk *dockerd) inspect(t *testing.T, name, format string) string {
	t.Helper()
	return strings.TrimSpace(dk.docker(t, "inspect", "--format", format, name))
}

// TestDocker runs, execs into, stops and removes containers with dockerd
// (through its containerd and the stock shim) and `--runtime berth`.
func TestDocker(t *testing.T) {
	dk := startDockerd(t)
	runFlags := []string{"--runtime", "berth", "--network", "none"}

	t.Run("info lists the runtime", func(t *testing.T) {
		out := dk.docker(t, "info", "--format", "{{json .Runtimes}}")
		if !strings.Contains(out, `"berth"`) || !strings.Contains(out, runtimeBin) {
			t.Errorf("docker info runtimes = %s, want berth at %s", out, runtimeBin)
		}
	})

	t.Run("run --rm", func(t *testing.T) {
		out := dk.docker(t, append(append([]string{"run", "--rm"}, runFlags...), imageRef, "echo", "hi")...)
		if out != "hi\n" {
			t.Errorf("docker run --rm echo hi: %q, want %q", out, "hi\n")
		}
	})

	t.Run("exit code", func(t *testing.T) {
		r := dk.run(t, append(append([]string{"run", "--rm"}, runFlags...), imageRef, "sh", "-c", "echo out; echo err >&2; exit 7")...)
		if r.code != 7 || r.stdout != "out\n" || r.stderr != "err\n" {
			t.Errorf("docker run of exit 7: %s, want exit 7, out, err", r)
		}
	})

	t.Run("detached", func(t *testing.T) {
		const name = "bc-detached"
		dk.docker(t, append(append([]string{"run", "-d", "--name", name}, runFlags...), imageRef, "sh", "-c", "trap 'exit 3' TERM; echo started; while :; do sleep 0.1; done")...)
		if rt := dk.inspect(t, name, "{{.HostConfig.Runtime}}"); rt != "berth" {
			t.Errorf("container runtime = %q, want berth", rt)
		}
		eventually(t, "the container to log started", func() bool {
			return strings.Contains(dk.run(t, "logs", name).stdout, "started")
		})
		if st := dk.inspect(t, name, "{{.State.Status}}"); st != "running" {
			t.Errorf("status = %q, want running", st)
		}
		// dockerd's containerd runs the runtime with --root under our
		// exec root: the runtime under test knows the container there.
		id := dk.inspect(t, name, "{{.Id}}")
		states, _ := filepath.Glob(filepath.Join(dk.dir, "exec", "runtime-berth", "*", id, "state.json"))
		found := false
		for _, root := range runtimeRoots(dk.dir) {
			if r := run(t, nil, runtimeBin, "--root", root, "state", id); r.code == 0 && strings.Contains(r.stdout, `"running"`) {
				found = true
			}
		}
		if !found {
			t.Errorf("%s state %s: not found under %s (%v)", filepath.Base(runtimeBin), id, filepath.Join(dk.dir, "exec"), states)
		}

		if out := dk.docker(t, "exec", name, "sh", "-c", "echo from exec; cat /proc/1/cmdline | tr '\\0' ' '"); !strings.HasPrefix(out, "from exec\nsh -c trap") {
			t.Errorf("docker exec: %q", out)
		}
		if r := dk.run(t, "exec", name, "sh", "-c", "exit 5"); r.code != 5 {
			t.Errorf("docker exec of exit 5: %s, want exit 5", r)
		}
		if out := dk.docker(t, "exec", "-u", "65534", name, "id", "-u"); out != "65534\n" {
			t.Errorf("docker exec -u 65534 id -u: %q", out)
		}
		if out := dk.docker(t, "top", name); !strings.Contains(out, "sh -c trap") {
			t.Errorf("docker top: %q", out)
		}

		dk.docker(t, "pause", name)
		if st := dk.inspect(t, name, "{{.State.Status}}"); st != "paused" {
			t.Errorf("status after pause = %q, want paused", st)
		}
		dk.docker(t, "unpause", name)
		if st := dk.inspect(t, name, "{{.State.Status}}"); st != "running" {
			t.Errorf("status after unpause = %q, want running", st)
		}

		dk.docker(t, "stop", "-t", "5", name)
		if out := dk.inspect(t, name, "{{.State.Status}} {{.State.ExitCode}}"); out != "exited 3" {
			t.Errorf("after stop: %q, want exited 3 (the trap's exit code)", out)
		}
		dk.docker(t, "rm", name)
		if r := dk.run(t, "inspect", name); r.code == 0 {
			t.Errorf("container still exists after docker rm")
		}
		for _, root := range runtimeRoots(dk.dir) {
			if _, err := os.Stat(filepath.Join(root, id)); err == nil {
				t.Errorf("runtime state %s left behind", filepath.Join(root, id))
			}
		}
	})

	t.Run("stop kills after timeout", func(t *testing.T) {
		const name = "bc-stubborn"
		dk.docker(t, append(append([]string{"run", "-d", "--name", name}, runFlags...), imageRef, "sleep", "1000")...)
		dk.docker(t, "stop", "-t", "1", name)
		if out := dk.inspect(t, name, "{{.State.Status}} {{.State.ExitCode}}"); out != "exited 137" {
			t.Errorf("after stop of a container ignoring SIGTERM: %q, want exited 137", out)
		}
		dk.docker(t, "rm", name)
	})
}

// runtimeRoots lists the candidate --root dirs dockerd's shims give the
// runtime: <exec-root>/runtime-<name>/<namespace>.
func runtimeRoots(dir string) []string {
	roots, _ := filepath.Glob(filepath.Join(dir, "exec", "runtime-*", "*"))
	return roots
}
