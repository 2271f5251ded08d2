package containerd

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestRunEcho is the acceptance line: `ctr run --rm` prints the output and
// leaves no shim behind.
func TestRunEcho(t *testing.T) {
	d := newDaemon(t)
	out := d.ctr("run", "--rm", "--runtime", runtimeName, imageRef, "echo", "echo", "hi")
	if strings.TrimSpace(out) != "hi" {
		t.Errorf("ctr run echo hi: stdout %q, want %q", out, "hi")
	}
	waitNoShims(t, d)
	if ls := strings.TrimSpace(d.ctr("containers", "ls", "-q")); ls != "" {
		t.Errorf("containers left after run --rm: %q", ls)
	}
}

// TestRunStreamsAndExitCode keeps stdout and stderr apart and passes the
// exit status through.
func TestRunStreamsAndExitCode(t *testing.T) {
	d := newDaemon(t)
	r := d.run("run", "--rm", "--runtime", runtimeName, imageRef, "streams", "sh", "-c", "echo out; echo err >&2; exit 7")
	if r.code != 7 || strings.TrimSpace(r.stdout) != "out" || !strings.Contains(r.stderr, "err") {
		t.Errorf("ctr run: code %d stdout %q stderr %q; want 7, %q, containing %q", r.code, r.stdout, r.stderr, "out", "err")
	}
}

// TestRunStdin forwards piped stdin and closes it at EOF.
func TestRunStdin(t *testing.T) {
	d := newDaemon(t)
	r := d.runStdin(strings.NewReader("line one\nline two\n"), "run", "--rm", "--runtime", runtimeName, imageRef, "stdin", "sh", "-c", "wc -l; cat")
	if r.code != 0 || strings.TrimSpace(r.stdout) != "2" {
		t.Errorf("ctr run with stdin: code %d stdout %q stderr %q; want 0, %q", r.code, r.stdout, r.stderr, "2")
	}
}

// TestDetachedLifecycle drives a detached container through exec, ps,
// pause, resume, kill and delete.
func TestDetachedLifecycle(t *testing.T) {
	d := newDaemon(t)
	d.ctr("run", "-d", "--runtime", runtimeName, imageRef, "life", "sleep", "1000")
	d.waitStatus("life", "RUNNING")

	r := d.run("task", "exec", "--exec-id", "e1", "life", "sh", "-c", "echo out; echo err >&2; exit 3")
	if r.code != 3 || strings.TrimSpace(r.stdout) != "out" || !strings.Contains(r.stderr, "err") {
		t.Errorf("task exec: code %d stdout %q stderr %q; want 3, %q, containing %q", r.code, r.stdout, r.stderr, "out", "err")
	}
	r = d.run("task", "exec", "--exec-id", "e1b", "life", "/nonexistent")
	if r.code == 0 {
		t.Errorf("task exec /nonexistent: exit 0, want a failure")
	}

	d.ctr("task", "exec", "-d", "--exec-id", "e2", "life", "sleep", "500")
	ps := d.ctr("task", "ps", "life")
	if n := len(strings.Split(strings.TrimSpace(ps), "\n")); n != 3 || !strings.Contains(ps, "e2") {
		t.Errorf("task ps: %q, want a header, init and exec e2", ps)
	}

	d.ctr("task", "pause", "life")
	if s := d.taskStatus("life"); s != "PAUSED" {
		t.Errorf("after pause: status %s, want PAUSED", s)
	}
	if r := d.run("task", "pause", "life"); r.code == 0 {
		t.Errorf("second pause succeeded, want failed precondition")
	}
	d.ctr("task", "resume", "life")
	if s := d.taskStatus("life"); s != "RUNNING" {
		t.Errorf("after resume: status %s, want RUNNING", s)
	}
	if r := d.run("task", "delete", "life"); r.code == 0 || !strings.Contains(r.stderr, "precondition") {
		t.Errorf("delete running task: code %d stderr %q, want failed precondition", r.code, r.stderr)
	}

	d.ctr("task", "kill", "-s", "SIGKILL", "life")
	d.waitStatus("life", "STOPPED")
	exitFile := filepath.Join(d.dir, "state/io.containerd.runtime.v2.task", d.ns, "life/init.exit")
	var e struct {
		Pid        int `json:"pid"`
		ExitStatus int `json:"exit_status"`
	}
	if b, err := os.ReadFile(exitFile); err != nil {
		t.Errorf("exit file: %v", err)
	} else if err := json.Unmarshal(b, &e); err != nil || e.ExitStatus != 137 || e.Pid == 0 {
		t.Errorf("exit file %s = %s, want exit_status 137 (%v)", exitFile, b, err)
	}
	r = d.run("task", "delete", "life")
	if r.code != 0 || !strings.Contains(r.stderr, "137") {
		t.Errorf("task delete: code %d stderr %q, want success reporting 137", r.code, r.stderr)
	}
	d.ctr("containers", "rm", "life")
	waitNoShims(t, d)
}

// TestRunInteractive drives `ctr run -t` with a shell through tmux.
func TestRunInteractive(t *testing.T) {
	d := newDaemon(t)
	x := newTmux(t, d, 100, 30, "run", "-t", "--rm", "--runtime", runtimeName, imageRef, "tty", "sh")
	x.send("echo hello-$((40+2))", "Enter")
	x.waitFor("hello-42")
	x.send("stty size", "Enter")
	x.waitFor("30 100")
	x.send("exit 5", "Enter")
	if code := x.exitCode(); code != 5 {
		t.Errorf("ctr run -t exit code %d, want 5", code)
	}
	waitNoShims(t, d)
}

// TestExecTTY runs an interactive `ctr task exec -t` in a detached task.
func TestExecTTY(t *testing.T) {
	d := newDaemon(t)
	d.ctr("run", "-d", "--runtime", runtimeName, imageRef, "host", "sleep", "1000")
	d.waitStatus("host", "RUNNING")
	x := newTmux(t, d, 80, 24, "task", "exec", "-t", "--exec-id", "sh1", "host", "sh")
	x.send("echo tty-$((3*3))", "Enter")
	x.waitFor("tty-9")
	x.send("tty", "Enter")
	x.waitFor("/dev/pts/")
	x.send("stty size", "Enter")
	x.waitFor("24 80")
	x.send("exit 4", "Enter")
	if code := x.exitCode(); code != 4 {
		t.Errorf("ctr task exec -t exit code %d, want 4", code)
	}
	if s := d.taskStatus("host"); s != "RUNNING" {
		t.Errorf("task after exec: %s, want RUNNING", s)
	}
}

// TestContainerdRestart kills containerd with SIGKILL: the containers keep
// running, and a restarted containerd finds them, sees an exit that
// happened while it was down, and can kill the survivor.
func TestContainerdRestart(t *testing.T) {
	d := newDaemon(t)
	d.ctr("run", "-d", "--runtime", runtimeName, imageRef, "survivor", "sleep", "1000")
	d.ctr("run", "-d", "--runtime", runtimeName, imageRef, "victim", "sleep", "1000")
	d.waitStatus("survivor", "RUNNING")
	d.waitStatus("victim", "RUNNING")
	pid := d.taskPid("survivor")
	victim := d.taskPid("victim")
	shims := d.shimPids()

	d.kill9()
	time.Sleep(200 * time.Millisecond)
	if !processAlive(pid) {
		t.Fatalf("container init %d died with containerd", pid)
	}
	for _, s := range shims {
		if !processAlive(s) {
			t.Errorf("shim %d died with containerd", s)
		}
	}
	syscall.Kill(victim, syscall.SIGKILL) // exits while nobody listens

	d.start()
	if s := d.taskStatus("survivor"); s != "RUNNING" {
		t.Errorf("after restart: survivor %s, want RUNNING", s)
	}
	d.waitStatus("victim", "STOPPED")
	if r := d.run("task", "delete", "victim"); r.code != 0 || !strings.Contains(r.stderr, "137") {
		t.Errorf("delete victim: code %d stderr %q, want success reporting 137", r.code, r.stderr)
	}
	d.ctr("task", "kill", "-s", "SIGKILL", "survivor")
	d.waitStatus("survivor", "STOPPED")
	d.ctr("task", "delete", "survivor")
	d.ctr("containers", "rm", "survivor", "victim")
	waitNoShims(t, d)
}

func (d *daemon) taskPid(id string) int {
	d.t.Helper()
	for _, line := range strings.Split(d.ctr("task", "ls"), "\n") {
		f := strings.Fields(line)
		if len(f) == 3 && f[0] == id {
			pid, _ := strconv.Atoi(f[1])
			return pid
		}
	}
	d.t.Fatalf("task %s not listed", id)
	return 0
}

// waitNoShims waits until every shim of the daemon has exited.
func waitNoShims(t *testing.T, d *daemon) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		alive := 0
		for _, p := range d.shimPids() {
			if processAlive(p) {
				alive++
			}
		}
		if alive == 0 {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Errorf("shims still running: %v", d.shimPids())
}

// tmuxSession runs one ctr command in a private tmux server (-L) so the
// test can type into its terminal and read the screen.
type tmuxSession struct {
	t        *testing.T
	server   string
	exitFile string
}

func newTmux(t *testing.T, d *daemon, width, height int, ctrArgs ...string) *tmuxSession {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux not installed")
	}
	x := &tmuxSession{t: t, server: "bsh-" + randHex(4), exitFile: filepath.Join(d.dir, "tmux-exit-"+randHex(4))}
	script := filepath.Join(d.dir, "tmux-"+randHex(4)+".sh")
	quoted := []string{"ctr", "-a", d.sock, "-n", d.ns}
	quoted = append(quoted, ctrArgs...)
	for i, a := range quoted {
		quoted[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	body := fmt.Sprintf("#!/bin/sh\n%s\necho $? > %s\n", strings.Join(quoted, " "), x.exitFile)
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("tmux", "-L", x.server, "-f", "/dev/null", "new-session", "-d", "-s", "main",
		"-x", strconv.Itoa(width), "-y", strconv.Itoa(height), script).CombinedOutput()
	if err != nil {
		t.Fatalf("tmux new-session: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("tmux", "-L", x.server, "kill-server").Run() })
	return x
}

func (x *tmuxSession) send(keys ...string) {
	x.t.Helper()
	args := append([]string{"-L", x.server, "send-keys", "-t", "main"}, keys...)
	if out, err := exec.Command("tmux", args...).CombinedOutput(); err != nil {
		x.t.Fatalf("tmux send-keys: %v: %s", err, out)
	}
}

func (x *tmuxSession) screen() string {
	out, _ := exec.Command("tmux", "-L", x.server, "capture-pane", "-p", "-t", "main").Output()
	return string(out)
}

func (x *tmuxSession) waitFor(s string) {
	x.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if strings.Contains(x.screen(), s) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	x.t.Fatalf("terminal never showed %q; screen:\n%s", s, x.screen())
}

// exitCode waits for the ctr command to end and returns its exit code.
func (x *tmuxSession) exitCode() int {
	x.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(x.exitFile); err == nil && len(b) > 0 {
			n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
			return n
		}
		time.Sleep(50 * time.Millisecond)
	}
	x.t.Fatalf("ctr in tmux did not exit; screen:\n%s", x.screen())
	return -1
}
