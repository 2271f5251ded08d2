package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestLifecycle walks one container through create, start, exit and delete,
// checking `state` at every step.
func TestLifecycle(t *testing.T) {
	requireRoot(t)
	t.Parallel()
	b := newBundle(t, "sh", "-c", "echo started; exec sleep 100")
	annotations := map[string]string{"org.berth.test": "passthrough", "io.kubernetes.cri.sandbox-id": "x"}
	b.edit(t, func(s *specs.Spec) { s.Annotations = annotations })
	root := t.TempDir()
	pidFile := filepath.Join(t.TempDir(), "init.pid")

	before := time.Now().Add(-time.Second)
	c := create(t, root, b, "--pid-file", pidFile)
	st := c.state(t)
	if st.Status != "created" {
		t.Errorf("status after create = %q, want %q", st.Status, "created")
	}
	if st.Pid <= 0 {
		t.Fatalf("pid after create = %d, want > 0", st.Pid)
	}
	if got := readPidFile(t, pidFile); got != st.Pid {
		t.Errorf("pid file = %d, want the state's pid %d", got, st.Pid)
	}
	if !processAlive(st.Pid) {
		t.Errorf("init process %d does not exist after create", st.Pid)
	}
	if st.OCIVersion == "" {
		t.Errorf("state ociVersion is empty")
	}
	if st.ID != b.id {
		t.Errorf("state id = %q, want %q", st.ID, b.id)
	}
	if st.Bundle != b.dir {
		t.Errorf("state bundle = %q, want %q", st.Bundle, b.dir)
	}
	createdAt, err := time.Parse(time.RFC3339, st.Created)
	if err != nil {
		t.Errorf("state created = %q, not RFC 3339: %v", st.Created, err)
	} else if createdAt.Before(before) || createdAt.After(time.Now().Add(time.Second)) {
		t.Errorf("state created = %v, want between %v and now", createdAt, before)
	}
	for k, v := range annotations {
		if st.Annotations[k] != v {
			t.Errorf("state annotation %q = %q, want %q", k, st.Annotations[k], v)
		}
	}
	if out := c.output(t); out != "" {
		t.Errorf("output before start = %q, want nothing: the user process must wait for start", out)
	}

	c.start(t)
	c.waitOutput(t, "started\n")
	st = c.state(t)
	if st.Status != "running" {
		t.Errorf("status after start = %q, want %q", st.Status, "running")
	}
	// exec sleep replaced sh: the init pid is unchanged and runs sleep.
	cmdline, _ := os.ReadFile("/proc/" + strconv.Itoa(st.Pid) + "/cmdline")
	if got := strings.ReplaceAll(string(cmdline), "\x00", " "); got != "sleep 100 " {
		t.Errorf("init cmdline = %q, want %q", got, "sleep 100 ")
	}

	rtOK(t, root, "kill", c.id, "KILL")
	st = c.waitStatus(t, "stopped")
	if st.ID != b.id || st.Bundle != b.dir {
		t.Errorf("stopped state = %+v, want id %q bundle %q", st, b.id, b.dir)
	}

	rtOK(t, root, "delete", c.id)
	_, stderr, code := rt(t, root, "state", c.id)
	if code != 1 {
		t.Errorf("state after delete: exit code %d, want 1", code)
	}
	if !strings.Contains(stderr, "does not exist") {
		t.Errorf("state after delete: stderr %q, want it to contain %q", stderr, "does not exist")
	}
	assertNoLeftovers(t, root, b)
}

func TestStateUnknown(t *testing.T) {
	requireRoot(t)
	t.Parallel()
	root := t.TempDir()
	for _, cmd := range [][]string{
		{"state", "nosuchcontainer"},
		{"start", "nosuchcontainer"},
		{"kill", "nosuchcontainer", "KILL"},
		{"delete", "nosuchcontainer"},
		{"exec", "nosuchcontainer", "true"},
		{"ps", "nosuchcontainer"},
	} {
		t.Run(cmd[0], func(t *testing.T) {
			_, stderr, code := rt(t, root, cmd...)
			// podman checks state's exit code; runc's exec exits 255.
			if cmd[0] == "state" && code != 1 {
				t.Errorf("%v: exit code %d, want 1", cmd, code)
			}
			if code == 0 {
				t.Errorf("%v: exit code 0, want an error", cmd)
			}
			// podman and containerd match this text.
			if !strings.Contains(stderr, "does not exist") {
				t.Errorf("%v: stderr %q, want it to contain %q", cmd, stderr, "does not exist")
			}
		})
	}
}

func TestKill(t *testing.T) {
	requireRoot(t)
	t.Parallel()
	// init is pid 1 of its namespace: only signals it handles (or KILL)
	// arrive, so the script traps the ones under test and reports them.
	script := `trap 'echo got TERM; exit 0' TERM; trap 'echo got USR1; exit 0' USR1; trap 'echo got HUP; exit 0' HUP; echo ready; sleep 100 & wait`
	tests := []struct {
		name    string
		args    []string // after the id
		wantOut string   // printed by the trap, "" for KILL
	}{
		{"default is TERM", nil, "got TERM"},
		{"TERM", []string{"TERM"}, "got TERM"},
		{"SIGTERM", []string{"SIGTERM"}, "got TERM"},
		{"15", []string{"15"}, "got TERM"},
		{"USR1", []string{"USR1"}, "got USR1"},
		{"SIGHUP", []string{"SIGHUP"}, "got HUP"},
		{"KILL", []string{"KILL"}, ""},
		{"9", []string{"9"}, ""},
		{"SIGKILL", []string{"SIGKILL"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := startContainer(t, newBundle(t, "sh", "-c", script))
			c.waitOutput(t, "ready\n")
			pid := c.state(t).Pid
			rtOK(t, c.root, append([]string{"kill", c.id}, tt.args...)...)
			c.waitStatus(t, "stopped")
			waitGone(t, pid)
			if tt.wantOut != "" {
				c.waitOutput(t, tt.wantOut)
			}
		})
	}

	t.Run("all", func(t *testing.T) {
		t.Parallel()
		c := startContainer(t, newBundle(t, "sh", "-c", "sleep 100 & sleep 100 & echo ready; wait"))
		c.waitOutput(t, "ready\n")
		pids := psJSON(t, c)
		if len(pids) < 3 {
			t.Fatalf("ps --format json = %v, want init and two sleeps", pids)
		}
		rtOK(t, c.root, "kill", "--all", c.id, "KILL")
		for _, pid := range pids {
			waitGone(t, pid)
		}
		c.waitStatus(t, "stopped")
	})

	t.Run("stopped container", func(t *testing.T) {
		t.Parallel()
		c := startContainer(t, newBundle(t, "true"))
		c.waitStatus(t, "stopped")
		_, stderr, code := rt(t, c.root, "kill", c.id, "KILL")
		if code == 0 {
			t.Fatalf("kill of a stopped container succeeded, want an error")
		}
		// containerd matches this text to treat the kill as done.
		if !strings.Contains(stderr, "container not running") {
			t.Errorf("kill of a stopped container: stderr %q, want it to contain %q", stderr, "container not running")
		}
	})

	t.Run("bad signal", func(t *testing.T) {
		t.Parallel()
		c := startContainer(t, newBundle(t, "sleep", "100"))
		_, stderr, code := rt(t, c.root, "kill", c.id, "NOSUCHSIG")
		if code == 0 {
			t.Errorf("kill with signal NOSUCHSIG succeeded, want an error")
		}
		if len(stderrLines(stderr)) != 1 {
			t.Errorf("kill with signal NOSUCHSIG: stderr %q, want one line", stderr)
		}
		if st := c.state(t); st.Status != "running" {
			t.Errorf("status after a bad kill = %q, want %q", st.Status, "running")
		}
	})
}

func TestDelete(t *testing.T) {
	requireRoot(t)
	t.Parallel()

	t.Run("running without force", func(t *testing.T) {
		t.Parallel()
		b := newBundle(t, "sleep", "100")
		c := startContainer(t, b)
		_, stderr, code := rt(t, c.root, "delete", c.id)
		if code == 0 {
			t.Fatalf("delete of a running container succeeded, want an error")
		}
		if len(stderrLines(stderr)) != 1 {
			t.Errorf("delete of a running container: stderr %q, want one line", stderr)
		}
		st := c.state(t)
		if st.Status != "running" || !processAlive(st.Pid) {
			t.Errorf("after a refused delete: status %q, pid %d alive %v; want running", st.Status, st.Pid, processAlive(st.Pid))
		}
	})

	t.Run("running with force", func(t *testing.T) {
		t.Parallel()
		b := newBundle(t, "sleep", "100")
		c := startContainer(t, b)
		pid := c.state(t).Pid
		rtOK(t, c.root, "delete", "--force", c.id)
		waitGone(t, pid)
		assertNoLeftovers(t, c.root, b)
	})

	// runc deletes a created container without --force, killing its init;
	// containerd relies on it, so berth does the same.
	t.Run("created", func(t *testing.T) {
		t.Parallel()
		b := newBundle(t, "sleep", "100")
		c := create(t, t.TempDir(), b)
		pid := c.state(t).Pid
		rtOK(t, c.root, "delete", c.id)
		waitGone(t, pid)
		assertNoLeftovers(t, c.root, b)
	})

	t.Run("stopped", func(t *testing.T) {
		t.Parallel()
		b := newBundle(t, "true")
		c := startContainer(t, b)
		c.waitStatus(t, "stopped")
		rtOK(t, c.root, "delete", c.id)
		assertNoLeftovers(t, c.root, b)
	})

	t.Run("force on unknown id", func(t *testing.T) {
		t.Parallel()
		// containerd calls delete --force on ids that may be gone already.
		if _, stderr, code := rt(t, t.TempDir(), "delete", "--force", "nosuchcontainer"); code != 0 {
			t.Errorf("delete --force of an unknown id: exit code %d (stderr %q), want 0", code, stderr)
		}
	})
}

// listEntry is one element of `list --format json`.
type listEntry struct {
	ID      string `json:"id"`
	Pid     int    `json:"pid"`
	Status  string `json:"status"`
	Bundle  string `json:"bundle"`
	Created string `json:"created"`
	Owner   string `json:"owner"`
}

func TestList(t *testing.T) {
	requireRoot(t)
	t.Parallel()
	root := t.TempDir()

	if out := rtOK(t, root, "list", "-q"); out != "" {
		t.Errorf("list -q with no containers = %q, want nothing", out)
	}

	running := newBundle(t, "sleep", "100")
	create(t, root, running).start(t)
	idle := create(t, root, newBundle(t, "sleep", "100"))
	want := map[string]struct {
		status string
		bundle string
	}{
		running.id: {"running", running.dir},
		idle.id:    {"created", idle.b.dir},
	}

	t.Run("table", func(t *testing.T) {
		out := rtOK(t, root, "list")
		lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
		if got := strings.Fields(lines[0]); !slices.Equal(got, []string{"ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"}) {
			t.Errorf("list header = %q, want ID PID STATUS BUNDLE CREATED OWNER", lines[0])
		}
		if len(lines) != 3 {
			t.Fatalf("list = %q, want a header and two rows", out)
		}
		for _, line := range lines[1:] {
			f := strings.Fields(line)
			w, ok := want[f[0]]
			if !ok || len(f) < 6 {
				t.Errorf("list row %q: unexpected", line)
				continue
			}
			if f[2] != w.status || f[3] != w.bundle {
				t.Errorf("list row %q: status %q bundle %q, want %q %q", line, f[2], f[3], w.status, w.bundle)
			}
			if f[5] != "root" {
				t.Errorf("list row %q: owner %q, want %q", line, f[5], "root")
			}
		}
	})

	t.Run("quiet", func(t *testing.T) {
		out := rtOK(t, root, "list", "-q")
		got := strings.Fields(out)
		slices.Sort(got)
		wantIDs := []string{running.id, idle.id}
		slices.Sort(wantIDs)
		if !slices.Equal(got, wantIDs) {
			t.Errorf("list -q = %q, want %q", got, wantIDs)
		}
	})

	t.Run("json", func(t *testing.T) {
		out := rtOK(t, root, "list", "--format", "json")
		var entries []listEntry
		if err := json.Unmarshal([]byte(out), &entries); err != nil {
			t.Fatalf("list --format json: %v in %q", err, out)
		}
		if len(entries) != 2 {
			t.Fatalf("list --format json has %d entries, want 2: %s", len(entries), out)
		}
		for _, e := range entries {
			w, ok := want[e.ID]
			if !ok {
				t.Errorf("list entry %+v: unexpected id", e)
				continue
			}
			if e.Status != w.status || e.Bundle != w.bundle {
				t.Errorf("list entry %+v: want status %q bundle %q", e, w.status, w.bundle)
			}
			if e.Pid <= 0 || e.Owner != "root" {
				t.Errorf("list entry %+v: want a pid and owner root", e)
			}
			if _, err := time.Parse(time.RFC3339, e.Created); err != nil {
				t.Errorf("list entry created %q: %v", e.Created, err)
			}
		}
		// Every field containerd and podman read must be present.
		var raw []map[string]any
		json.Unmarshal([]byte(out), &raw)
		for _, field := range []string{"id", "pid", "status", "bundle", "created", "owner"} {
			if _, ok := raw[0][field]; !ok {
				t.Errorf("list --format json entry lacks %q: %v", field, raw[0])
			}
		}
	})
}

// psJSON returns `ps --format json` for the container.
func psJSON(t *testing.T, c *created) []int {
	t.Helper()
	out := rtOK(t, c.root, "ps", "--format", "json", c.id)
	var pids []int
	if err := json.Unmarshal([]byte(out), &pids); err != nil {
		t.Fatalf("ps --format json: %v in %q", err, out)
	}
	return pids
}

func TestPs(t *testing.T) {
	requireRoot(t)
	t.Parallel()
	c := startContainer(t, newBundle(t, "sh", "-c", "sleep 4242 & echo ready; wait"))
	c.waitOutput(t, "ready\n")
	initPid := c.state(t).Pid

	t.Run("table", func(t *testing.T) {
		out := rtOK(t, c.root, "ps", c.id)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if !strings.Contains(lines[0], "PID") {
			t.Errorf("ps header = %q, want a ps -ef header with PID", lines[0])
		}
		if !strings.Contains(out, "sleep 4242") {
			t.Errorf("ps = %q, want a line with %q", out, "sleep 4242")
		}
		if len(lines) != 3 {
			t.Errorf("ps = %q, want a header and two processes", out)
		}
	})

	t.Run("json", func(t *testing.T) {
		pids := psJSON(t, c)
		if len(pids) != 2 {
			t.Errorf("ps --format json = %v, want two pids", pids)
		}
		if !slices.Contains(pids, initPid) {
			t.Errorf("ps --format json = %v, want it to contain the init pid %d", pids, initPid)
		}
		for _, pid := range pids {
			if nsLink(t, pid, "pid") != nsLink(t, initPid, "pid") {
				t.Errorf("ps pid %d is not in the container's pid namespace", pid)
			}
		}
	})
}
