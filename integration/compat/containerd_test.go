package compat

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/berth-project/berth/integration/internal/containerdtest"
)

// containerd is a containerd instance this test started, with its root,
// state, sockets and the runtime's --root under dir.
type containerd struct {
	t        *testing.T
	dir      string
	sock     string
	ns       string
	runcRoot string // passed as --runc-root: the runtime's state lives here
	d        *daemonProc
	cgBefore []string
}

func startContainerd(t *testing.T) *containerd {
	t.Helper()
	requireEngine(t, "containerd", "ctr", "containerd-shim-runc-v2")
	dir := shortTempDir(t, "bcc")
	c := &containerd{
		t: t, dir: dir, sock: filepath.Join(dir, "c.sock"), ns: "berth-compat",
		runcRoot: filepath.Join(dir, "runc"),
		cgBefore: cgroupParents("berth-compat"),
	}
	t.Cleanup(c.cleanup)
	cfgPath := containerdtest.WriteConfig(t, dir, c.sock)
	c.d = startDaemon(t, filepath.Join(dir, "containerd.log"), nil, "containerd", "-c", cfgPath)
	eventually(t, "containerd to answer", func() bool {
		if c.d.exited() {
			t.Fatalf("containerd exited:\n%s", c.d.logTail())
		}
		return run(t, nil, "ctr", "-a", c.sock, "version").code == 0
	})
	c.ctr(t, "images", "import", imageTar)
	return c
}

// run runs ctr against this daemon and namespace.
func (c *containerd) run(t *testing.T, args ...string) result {
	t.Helper()
	return run(t, nil, "ctr", append([]string{"-a", c.sock, "-n", c.ns}, args...)...)
}

// ctr runs ctr and fails the test unless it exits 0; it returns stdout.
func (c *containerd) ctr(t *testing.T, args ...string) string {
	t.Helper()
	r := c.run(t, args...)
	if r.code != 0 {
		t.Fatalf("ctr %s: %s", strings.Join(args, " "), r)
	}
	return r.stdout
}

// runtimeFlags make the stock shim run the runtime under test, with its
// state in our dir.
func (c *containerd) runtimeFlags() []string {
	return []string{"--runc-binary", runtimeBin, "--runc-root", c.runcRoot}
}

// task returns the PID and STATUS columns of `ctr task ls` for id.
func (c *containerd) task(t *testing.T, id string) (pid int, status string) {
	t.Helper()
	for _, line := range strings.Split(c.ctr(t, "task", "ls"), "\n") {
		f := strings.Fields(line)
		if len(f) == 3 && f[0] == id {
			pid, _ := strconv.Atoi(f[1])
			return pid, f[2]
		}
	}
	return 0, ""
}

func (c *containerd) waitStatus(t *testing.T, id, want string) {
	t.Helper()
	eventually(t, fmt.Sprintf("task %s to be %s", id, want), func() bool {
		_, st := c.task(t, id)
		return st == want
	})
}

// deleteTask runs `ctr task delete` and returns the exit status it reports:
// ctr 1.6 warns "task ID exit with non-zero exit code N" and says nothing
// for 0.
func (c *containerd) deleteTask(t *testing.T, id string) int {
	t.Helper()
	r := c.run(t, "task", "delete", id)
	if r.code != 0 {
		t.Fatalf("ctr task delete %s: %s", id, r)
	}
	const marker = "non-zero exit code "
	i := strings.Index(r.stderr, marker)
	if i < 0 {
		return 0
	}
	rest := r.stderr[i+len(marker):]
	end := strings.IndexFunc(rest, func(r rune) bool { return r < '0' || r > '9' })
	if end < 0 {
		end = len(rest)
	}
	n, err := strconv.Atoi(rest[:end])
	if err != nil {
		t.Fatalf("ctr task delete %s: cannot read the exit code in %q", id, r.stderr)
	}
	return n
}

func (c *containerd) cleanup() {
	if c.d != nil && c.d.cmd != nil {
		if c.t.Failed() {
			c.t.Logf("containerd log (tail):\n%s", c.d.logTail())
		}
		t := c.t
		for _, id := range strings.Fields(c.run(t, "task", "ls", "-q").stdout) {
			c.run(t, "task", "kill", "-s", "SIGKILL", id)
		}
		for _, id := range strings.Fields(c.run(t, "task", "ls", "-q").stdout) {
			c.run(t, "task", "delete", "-f", id)
		}
		for _, id := range strings.Fields(c.run(t, "containers", "ls", "-q").stdout) {
			c.run(t, "containers", "rm", id)
		}
		c.d.stop()
	}
	killProcessesMentioning(c.t, c.dir)
	unmountUnder(c.dir)
	removeCgroupTree(newCgroupParents(c.ns, c.cgBefore))
	os.RemoveAll(c.dir)
}

// assertGone checks that nothing of container id is left: runtime state,
// cgroups, shim.
func (c *containerd) assertGone(t *testing.T, id string) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(c.runcRoot, c.ns, id)); err == nil {
		t.Errorf("runtime state %s left behind", filepath.Join(c.runcRoot, c.ns, id))
	}
	eventually(t, "the container's cgroups to go", func() bool { return len(cgroupsOf(c.ns, id)) == 0 })
}

// TestContainerd drives Debian's containerd and its stock shim with
// `ctr --runc-binary` pointing at the runtime under test.
func TestContainerd(t *testing.T) {
	c := startContainerd(t)

	t.Run("run --rm", func(t *testing.T) {
		out := c.ctr(t, append(append([]string{"run"}, c.runtimeFlags()...), "--rm", imageRef, "rm1", "echo", "hi")...)
		if out != "hi\n" {
			t.Errorf("ctr run --rm echo hi: %q, want %q", out, "hi\n")
		}
		c.assertGone(t, "rm1")
	})

	t.Run("exit code", func(t *testing.T) {
		r := c.run(t, append(append([]string{"run"}, c.runtimeFlags()...), "--rm", imageRef, "rm2", "sh", "-c", "echo out; echo err >&2; exit 7")...)
		if r.code != 7 || r.stdout != "out\n" || r.stderr != "err\n" {
			t.Errorf("ctr run of exit 7: %s, want exit 7, out, err", r)
		}
		c.assertGone(t, "rm2")
	})

	t.Run("detached task", func(t *testing.T) {
		const id = "d1"
		c.ctr(t, append(append([]string{"run", "-d"}, c.runtimeFlags()...), imageRef, id, "sh", "-c", "sleep 1000 & wait")...)
		c.waitStatus(t, id, "RUNNING")
		pid, _ := c.task(t, id)
		if pid <= 0 {
			t.Fatalf("ctr task ls: no pid for %s", id)
		}
		if data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err != nil || !strings.HasPrefix(string(data), "sh\x00-c\x00sleep 1000") {
			t.Errorf("task pid %d runs %q (%v), want the container's sh", pid, data, err)
		}

		// The shim drives the runtime under test: its state is in our root.
		st := mustRun(t, nil, runtimeBin, "--root", filepath.Join(c.runcRoot, c.ns), "state", id)
		if !strings.Contains(st, `"running"`) || !strings.Contains(st, fmt.Sprintf(`"pid": %d`, pid)) && !strings.Contains(st, fmt.Sprintf(`"pid":%d`, pid)) {
			t.Errorf("%s state %s = %s, want running with pid %d", filepath.Base(runtimeBin), id, st, pid)
		}

		out := c.ctr(t, "task", "exec", "--exec-id", "e1", id, "sh", "-c", "echo from exec; cat /proc/1/cmdline | tr '\\0' ' '")
		if out != "from exec\nsh -c sleep 1000 & wait " {
			t.Errorf("ctr task exec: %q", out)
		}
		if r := c.run(t, "task", "exec", "--exec-id", "e2", id, "sh", "-c", "exit 5"); r.code != 5 {
			t.Errorf("ctr task exec of exit 5: %s, want exit 5", r)
		}

		ps := c.ctr(t, "task", "ps", id)
		var pids []int
		for _, line := range strings.Split(ps, "\n")[1:] {
			if f := strings.Fields(line); len(f) > 0 {
				if p, err := strconv.Atoi(f[0]); err == nil {
					pids = append(pids, p)
				}
			}
		}
		if len(pids) != 2 || !slices.Contains(pids, pid) {
			t.Errorf("ctr task ps = %q, want the init %d and its sleep", ps, pid)
		}

		c.ctr(t, "task", "pause", id)
		c.waitStatus(t, id, "PAUSED")
		freezer := cgroupsOf(c.ns, id)
		for _, d := range freezer {
			if strings.Contains(d, "/freezer/") {
				if st, _ := os.ReadFile(filepath.Join(d, "freezer.state")); strings.TrimSpace(string(st)) != "FROZEN" {
					t.Errorf("%s/freezer.state = %q while paused", d, st)
				}
			}
		}
		c.ctr(t, "task", "resume", id)
		c.waitStatus(t, id, "RUNNING")
		if out := c.ctr(t, "task", "exec", "--exec-id", "e3", id, "echo", "resumed"); out != "resumed\n" {
			t.Errorf("exec after resume: %q", out)
		}

		c.ctr(t, "task", "kill", "-s", "SIGKILL", id)
		c.waitStatus(t, id, "STOPPED")
		if got := c.deleteTask(t, id); got != 128+9 {
			t.Errorf("ctr task delete of a SIGKILLed task: exit status %d, want %d", got, 128+9)
		}
		c.ctr(t, "containers", "rm", id)
		c.assertGone(t, id)
	})

	t.Run("task delete exit status", func(t *testing.T) {
		const id = "d2"
		c.ctr(t, append(append([]string{"run", "-d"}, c.runtimeFlags()...), imageRef, id, "sh", "-c", "exit 42")...)
		c.waitStatus(t, id, "STOPPED")
		if got := c.deleteTask(t, id); got != 42 {
			t.Errorf("ctr task delete: exit status %d, want 42", got)
		}
		c.ctr(t, "containers", "rm", id)
		c.assertGone(t, id)
	})

	t.Run("kill SIGTERM", func(t *testing.T) {
		const id = "d3"
		c.ctr(t, append(append([]string{"run", "-d"}, c.runtimeFlags()...), imageRef, id, "sh", "-c", "trap 'exit 3' TERM; while :; do sleep 0.1; done")...)
		c.waitStatus(t, id, "RUNNING")
		time.Sleep(200 * time.Millisecond) // let the trap be set
		c.ctr(t, "task", "kill", id)
		c.waitStatus(t, id, "STOPPED")
		if got := c.deleteTask(t, id); got != 3 {
			t.Errorf("ctr task delete after SIGTERM: exit status %d, want the trap's 3", got)
		}
		c.ctr(t, "containers", "rm", id)
		c.assertGone(t, id)
	})
}
