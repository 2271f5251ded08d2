package containers

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestRun covers `run` in the foreground: output, exit codes, stdout and
// stderr apart, stdin, and the flags that shape the process.
func TestRun(t *testing.T) {
	d := startBerthd(t)
	envFile := filepath.Join(d.dir, "env")
	os.WriteFile(envFile, []byte("# comment\nFROM_FILE=yes\n"), 0o644)
	tests := []struct {
		name       string
		stdin      string
		args       []string
		wantOut    string
		wantErrOut string
		wantCode   int
	}{
		{"echo", "", []string{"busybox", "echo", "hello from berth"}, "hello from berth\n", "", 0},
		{"exit code", "", []string{"busybox", "sh", "-c", "exit 42"}, "", "", 42},
		{"streams apart", "", []string{"busybox", "sh", "-c", "echo out; echo err >&2"}, "out\n", "err\n", 0},
		{"stdin", "line one\nline two\n", []string{"-i", "busybox", "wc", "-l"}, "2\n", "", 0},
		{"env", "", []string{"-e", "A=1", "-e", "B", "--env-file", envFile, "busybox", "sh", "-c", "echo $A,$FROM_FILE,${B-unset}"}, "1,yes,unset\n", "", 0},
		{"workdir", "", []string{"-w", "/tmp/new", "busybox", "pwd"}, "/tmp/new\n", "", 0},
		{"user", "", []string{"-u", "nobody", "busybox", "id", "-u"}, "65534\n", "", 0},
		{"user uid:gid", "", []string{"-u", "1234:5678", "busybox", "id"}, "uid=1234 gid=5678 groups=5678\n", "", 0},
		{"entrypoint", "", []string{"--entrypoint", "echo", "busybox", "a", "b"}, "a b\n", "", 0},
		{"hostname", "", []string{"--hostname", "myhost", "busybox", "hostname"}, "myhost\n", "", 0},
		{"hosts file", "", []string{"--hostname", "h1", "busybox", "cat", "/etc/hostname"}, "h1\n", "", 0},
		{"command not found", "", []string{"busybox", "nosuchcommand"}, "", "", 127},
		{"loopback only", "", []string{"--network", "none", "busybox", "sh", "-c", "ls /sys/class/net | tr '\\n' ' '"}, "lo ", "", 0},
		{"default bridge", "", []string{"busybox", "sh", "-c", "ls /sys/class/net | tr '\\n' ' '"}, "eth0 lo ", "", 0},
		{"network host", "", []string{"--network", "host", "busybox", "sh", "-c", "test -e /sys/class/net/lo && echo ok"}, "ok\n", "", 0},
		{"read-only", "", []string{"--read-only", "busybox", "sh", "-c", "touch /x 2>/dev/null || echo denied; touch /tmp/y 2>/dev/null || echo tmp-denied"}, "denied\ntmp-denied\n", "", 0},
		{"read-only tmpfs", "", []string{"--read-only", "--tmpfs", "/tmp", "busybox", "sh", "-c", "touch /tmp/y && echo ok"}, "ok\n", "", 0},
		{"cap-drop", "", []string{"--cap-drop", "CHOWN", "busybox", "sh", "-c", "chown nobody /tmp 2>/dev/null || echo no-chown"}, "no-chown\n", "", 0},
		{"privileged", "", []string{"--privileged", "busybox", "sh", "-c", "mount -t tmpfs none /tmp && echo mounted"}, "mounted\n", "", 0},
		{"no-new-privileges", "", []string{"--security-opt", "no-new-privileges", "busybox", "grep", "NoNewPrivs", "/proc/self/status"}, "NoNewPrivs:\t1\n", "", 0},
		{"init", "", []string{"--init", "busybox", "sh", "-c", "cat /proc/1/cmdline | tr '\\0' ' '"}, "/sbin/docker-init -- sh -c cat /proc/1/cmdline | tr '\\0' ' ' ", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.name == "init" {
				if _, err := os.Stat("/usr/bin/tini-static"); err != nil {
					t.Skip("tini-static not installed")
				}
			}
			r := d.berthIn(tt.stdin, append([]string{"run", "--rm"}, tt.args...)...)
			if r.code != tt.wantCode {
				t.Fatalf("run %v: exit %d, want %d\n%v", tt.args, r.code, tt.wantCode, r)
			}
			if tt.wantCode == 127 {
				if !strings.Contains(r.stderr, "nosuchcommand") {
					t.Errorf("stderr %q does not name the missing command", r.stderr)
				}
				return
			}
			if r.stdout != tt.wantOut {
				t.Errorf("run %v: stdout %q, want %q", tt.args, r.stdout, tt.wantOut)
			}
			if r.stderr != tt.wantErrOut {
				t.Errorf("run %v: stderr %q, want %q", tt.args, r.stderr, tt.wantErrOut)
			}
		})
	}
	if n := d.containerDirs(); n != 0 {
		t.Errorf("--rm left %d container directories", n)
	}
	d.assertClean()
}

// TestResourceLimits checks that limits reach the container's cgroup, as
// seen from inside.
func TestResourceLimits(t *testing.T) {
	d := startBerthd(t)
	if _, err := os.Stat("/sys/fs/cgroup/memory/memory.limit_in_bytes"); err != nil {
		t.Skip("no cgroup v1 memory controller")
	}
	if got := d.ok("run", "--rm", "--memory", "64m", "busybox", "cat", "/sys/fs/cgroup/memory/memory.limit_in_bytes"); strings.TrimSpace(got) != "67108864" {
		t.Errorf("memory.limit_in_bytes = %q, want 67108864", got)
	}
	if got := d.ok("run", "--rm", "--pids-limit", "42", "busybox", "cat", "/sys/fs/cgroup/pids/pids.max"); strings.TrimSpace(got) != "42" {
		t.Errorf("pids.max = %q, want 42", got)
	}
	if got := d.ok("run", "--rm", "--cpus", "0.5", "busybox", "cat", "/sys/fs/cgroup/cpu/cpu.cfs_quota_us"); strings.TrimSpace(got) != "50000" {
		t.Errorf("cpu.cfs_quota_us = %q, want 50000", got)
	}
	id := d.out("run", "-d", "--memory", "32m", "--cpus", "1.5", "--pids-limit", "10", "busybox", "sleep", "100")
	ins := d.inspect(id)
	if got := field(ins, "HostConfig", "Memory"); got != float64(32<<20) {
		t.Errorf("HostConfig.Memory = %v, want %d", got, 32<<20)
	}
	if got := field(ins, "HostConfig", "NanoCpus"); got != 1.5e9 {
		t.Errorf("HostConfig.NanoCpus = %v, want 1.5e9", got)
	}
	out := d.ok("stats", "--no-stream", id)
	if !strings.Contains(out, "MEM USAGE / LIMIT") || !strings.Contains(out, "32MiB") {
		t.Errorf("stats does not show the 32MiB limit:\n%s", out)
	}
	d.ok("rm", "-f", id)
	d.assertClean(id)
}

// TestDetachedLifecycle drives one container through its verbs.
func TestDetachedLifecycle(t *testing.T) {
	d := startBerthd(t)
	id := d.out("run", "-d", "--name", "web", "busybox", "sh", "-c",
		`trap 'echo got TERM; exit 3' TERM; echo to-stdout; echo to-stderr >&2; while true; do sleep 0.1; done`)
	if len(id) != 64 {
		t.Fatalf("run -d printed %q, want a 64-hex ID", id)
	}
	// ps shows it with Docker's columns.
	ps := lines(d.ok("ps"))
	if len(ps) != 2 || !strings.HasPrefix(ps[0], "CONTAINER ID   IMAGE     COMMAND") || !strings.Contains(ps[1], id[:12]) ||
		!strings.Contains(ps[1], "Up ") || !strings.HasSuffix(ps[1], "web") {
		t.Errorf("ps:\n%s", strings.Join(ps, "\n"))
	}
	if got := d.out("ps", "-q", "-f", "name=web"); got != id[:12] {
		t.Errorf("ps -q -f name=web = %q, want %s", got, id[:12])
	}
	if got := d.out("ps", "-q", "-f", "ancestor=busybox"); got != id[:12] {
		t.Errorf("ps -q -f ancestor=busybox = %q", got)
	}
	if got := d.out("ps", "--no-trunc", "--format", "{{.ID}} {{.Names}} {{.State}}"); got != id+" web running" {
		t.Errorf("ps --format = %q", got)
	}
	// Logs keep the streams apart.
	deadline := time.Now().Add(5 * time.Second)
	var logs result
	for time.Now().Before(deadline) {
		if logs = d.berth("logs", "web"); strings.Contains(logs.stderr, "to-stderr") {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if logs.stdout != "to-stdout\n" || logs.stderr != "to-stderr\n" {
		t.Errorf("logs: stdout %q stderr %q", logs.stdout, logs.stderr)
	}
	if r := d.berth("logs", "-t", "--tail", "2", "web"); !strings.HasSuffix(r.stdout, "Z to-stdout\n") || !strings.HasSuffix(r.stderr, "Z to-stderr\n") || len(r.stderr) < 30 {
		t.Errorf("logs -t --tail 2: %v", r)
	}
	// exec: output, exit code, env, workdir, user.
	r := d.berth("exec", "-e", "X=1", "-w", "/tmp", "-u", "nobody", "web", "sh", "-c", "echo $X $(pwd) $(id -u); exit 5")
	if r.code != 5 || r.stdout != "1 /tmp 65534\n" {
		t.Errorf("exec: %v", r)
	}
	if r := d.berth("exec", "web", "nosuchcmd"); r.code != 127 && r.code != 126 {
		t.Errorf("exec of a missing command: %v", r)
	}
	// top lists the processes.
	if top := d.ok("top", "web"); !strings.Contains(top, "PID") || !strings.Contains(top, "sleep") {
		t.Errorf("top:\n%s", top)
	}
	// pause / unpause.
	d.ok("pause", "web")
	if st := d.status("web"); st != "paused" {
		t.Errorf("after pause: %s", st)
	}
	if ps := d.ok("ps"); !strings.Contains(ps, "(Paused)") {
		t.Errorf("ps of a paused container:\n%s", ps)
	}
	d.ok("unpause", "web")
	// stop sends TERM (the trap exits 3).
	d.ok("stop", "web")
	if got := d.out("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", "web"); got != "exited 3" {
		t.Errorf("after stop: %s", got)
	}
	if got := d.out("logs", "--tail", "1", "web"); got != "got TERM" {
		t.Errorf("last log line %q, want got TERM", got)
	}
	if ps := d.ok("ps", "-a"); !strings.Contains(ps, "Exited (3)") {
		t.Errorf("ps -a:\n%s", ps)
	}
	if got := d.out("ps", "-q"); got != "" {
		t.Errorf("ps without -a lists stopped containers: %q", got)
	}
	if got := d.out("ps", "-aq", "-f", "status=exited"); got != id[:12] {
		t.Errorf("ps -f status=exited = %q", got)
	}
	// start, kill -s, wait.
	d.ok("start", "web")
	d.waitStatus("web", "running", 5*time.Second)
	time.Sleep(200 * time.Millisecond)
	d.ok("kill", "-s", "TERM", "web")
	if got := d.out("wait", "web"); got != "3" {
		t.Errorf("wait = %q, want 3", got)
	}
	// restart from stopped; rename; rm.
	d.ok("restart", "web")
	d.waitStatus("web", "running", 5*time.Second)
	d.ok("rename", "web", "web2")
	if got := d.out("inspect", "-f", "{{.Name}}", id); got != "/web2" {
		t.Errorf("after rename: %s", got)
	}
	r = d.fails("rm", "web2")
	if !strings.Contains(r.stderr, "stop the container before removing or force remove") {
		t.Errorf("rm of a running container: %v", r)
	}
	if st := d.status("web2"); st != "running" {
		t.Errorf("a refused rm changed the container: %s", st)
	}
	d.ok("kill", "web2")
	d.waitStatus("web2", "exited", 5*time.Second)
	if got := d.out("inspect", "-f", "{{.State.ExitCode}}", "web2"); got != "137" {
		t.Errorf("exit code after kill: %s", got)
	}
	d.ok("rm", "web2")
	if n := d.containerDirs(); n != 0 {
		t.Errorf("rm left %d container directories", n)
	}
	d.fails("inspect", "web2")
	d.assertClean(id)
}

// TestLogsFollow: logs -f streams new output and ends when the container
// stops.
func TestLogsFollow(t *testing.T) {
	d := startBerthd(t)
	d.ok("run", "-d", "--name", "counter", "busybox", "sh", "-c", "for i in 1 2 3 4 5 6; do echo n$i; sleep 0.2; done")
	start := time.Now()
	got := d.ok("logs", "-f", "counter")
	if got != "n1\nn2\nn3\nn4\nn5\nn6\n" {
		t.Errorf("logs -f = %q", got)
	}
	if el := time.Since(start); el < 500*time.Millisecond || el > 10*time.Second {
		t.Errorf("logs -f returned after %v: it should follow until the container stops", el)
	}
	if got := d.out("logs", "--tail", "2", "counter"); got != "n5\nn6" {
		t.Errorf("logs --tail 2 = %q", got)
	}
	if got := d.out("logs", "--since", "1h", "counter"); !strings.HasPrefix(got, "n1") {
		t.Errorf("logs --since 1h = %q", got)
	}
	if got := d.out("logs", "--until", "2000-01-01T00:00:00Z", "counter"); got != "" {
		t.Errorf("logs --until 2000 = %q", got)
	}
}

// TestCreateStartAttach: create, then start -a; attach to a running one.
func TestCreateStartAttach(t *testing.T) {
	d := startBerthd(t)
	id := d.out("create", "--name", "c1", "busybox", "sh", "-c", "echo created-then-started; exit 9")
	if st := d.status(id); st != "created" {
		t.Errorf("status after create: %s", st)
	}
	if ps := d.ok("ps", "-a"); !strings.Contains(ps, "Created") {
		t.Errorf("ps -a after create:\n%s", ps)
	}
	r := d.berth("start", "-a", "c1")
	if r.code != 9 || r.stdout != "created-then-started\n" {
		t.Errorf("start -a: %v", r)
	}
	d.ok("create", "-i", "--name", "cat", "busybox", "cat")
	r = d.berthIn("via start -ai\n", "start", "-a", "-i", "cat")
	if r.code != 0 || r.stdout != "via start -ai\n" {
		t.Errorf("start -a -i with stdin: %v", r)
	}
	d.ok("run", "-d", "--name", "ticker", "busybox", "sh", "-c", "sleep 1; echo late; exit 6")
	r = d.berth("attach", "--no-stdin", "ticker")
	if r.code != 6 || r.stdout != "late\n" {
		t.Errorf("attach: %v", r)
	}
	if r := d.fails("attach", "ticker"); !strings.Contains(r.stderr, "cannot attach to a stopped container") {
		t.Errorf("attach to a stopped container: %v", r)
	}
}

// TestRestartPolicies: on-failure with a maximum, always, --rm.
func TestRestartPolicies(t *testing.T) {
	d := startBerthd(t)
	d.ok("run", "-d", "--name", "fails", "--restart", "on-failure:2", "busybox", "sh", "-c", "exit 4")
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if d.out("inspect", "-f", "{{.State.Status}} {{.RestartCount}}", "fails") == "exited 2" {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got := d.out("inspect", "-f", "{{.State.Status}} {{.RestartCount}} {{.State.ExitCode}}", "fails"); got != "exited 2 4" {
		t.Errorf("on-failure:2: %s, want exited 2 4", got)
	}
	d.ok("run", "-d", "--name", "ok", "--restart", "on-failure", "busybox", "true")
	d.waitStatus("ok", "exited", 5*time.Second)
	time.Sleep(500 * time.Millisecond)
	if got := d.out("inspect", "-f", "{{.RestartCount}}", "ok"); got != "0" {
		t.Errorf("on-failure restarted a success: %s", got)
	}
	d.ok("run", "-d", "--name", "always", "--restart", "always", "busybox", "sh", "-c", "sleep 0.2")
	time.Sleep(1500 * time.Millisecond)
	if got := d.out("inspect", "-f", "{{.RestartCount}}", "always"); got == "0" {
		t.Errorf("always did not restart")
	}
	// stop ends it for good.
	d.ok("stop", "always")
	time.Sleep(500 * time.Millisecond)
	if st := d.status("always"); st != "exited" {
		t.Errorf("always after stop: %s", st)
	}
	if r := d.berth("run", "--rm", "--restart", "always", "busybox", "true"); r.code != 125 || !strings.Contains(r.stderr, "--restart and --rm") {
		t.Errorf("--rm with --restart: %v", r)
	}
}

// TestSignalsAndPrune: without a terminal, signals to `berth run` reach the
// container (--sig-proxy); container prune removes the stopped ones only.
func TestSignalsAndPrune(t *testing.T) {
	d := startBerthd(t)
	cmd := exec.Command(berthBin, "run", "--name", "sig", "busybox", "sh", "-c",
		`trap 'echo got INT; exit 2' INT; echo ready; while true; do sleep 0.1; done`)
	cmd.Env = append(cmd.Environ(), "BERTH_ADDRESS="+d.addr)
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "ready") && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGINT)
	err := cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 || !strings.Contains(out.String(), "got INT") {
		t.Errorf("SIGINT to berth run: %v, output %q", err, out.String())
	}

	d.ok("run", "-d", "--name", "alive", "busybox", "sleep", "1000")
	d.ok("create", "--name", "fresh", "busybox", "true")
	r := d.ok("container", "prune", "-f")
	if !strings.Contains(r, "Deleted Containers:") || !strings.Contains(r, "Total reclaimed space:") {
		t.Errorf("prune output:\n%s", r)
	}
	if got := d.out("ps", "-a", "--format", "{{.Names}}"); got != "alive" {
		t.Errorf("after prune: %q, want only alive", got)
	}
	if got := d.out("container", "ls", "-q"); len(got) != 12 {
		t.Errorf("container ls -q = %q", got)
	}
}
