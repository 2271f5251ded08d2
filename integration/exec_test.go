package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestExec(t *testing.T) {
	requireRoot(t)
	t.Parallel()
	b := newBundle(t, "sleep", "1000")
	b.edit(t, withNamespace(specs.CgroupNamespace, ""), func(s *specs.Spec) {
		s.Process.Env = append(s.Process.Env, "FROM_CONFIG=yes")
	})
	c := startContainer(t, b)
	initPid := c.state(t).Pid

	tests := []struct {
		name     string
		args     []string // exec flags, then the id is inserted before the command
		cmd      []string
		wantOut  string
		wantCode int
	}{
		{"args", nil, []string{"cat", "/etc/hostname"}, "template\n", 0},
		{"args with spaces", nil, []string{"echo", "a", "b  c"}, "a b  c\n", 0},
		{"env flag", []string{"-e", "FOO=bar", "-e", "BAZ=qux"}, []string{"sh", "-c", "echo $FOO $BAZ"}, "bar qux\n", 0},
		{"env long flag", []string{"--env", "FOO=long"}, []string{"sh", "-c", "echo $FOO"}, "long\n", 0},
		{"env from config", nil, []string{"sh", "-c", "echo $FROM_CONFIG"}, "yes\n", 0},
		{"cwd", []string{"--cwd", "/tmp"}, []string{"pwd"}, "/tmp\n", 0},
		{"user", []string{"-u", "1000:1000"}, []string{"sh", "-c", "id -u; id -g"}, "1000\n1000\n", 0},
		{"user in id", []string{"--user", "1000:1000"}, []string{"id"}, "uid=1000(user) gid=1000(user)", 0},
		{"exit code", nil, []string{"sh", "-c", "echo out; exit 7"}, "out\n", 7},
		{"pid namespace", nil, []string{"sh", "-c", "cat /proc/1/cmdline | tr '\\0' ' '"}, "sleep 1000 ", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := append(append(tt.args, c.id), tt.cmd...)
			out, stderr, code := rt(t, c.root, append([]string{"exec"}, args...)...)
			if code != tt.wantCode {
				t.Errorf("exec %v: exit code %d, want %d (stderr %q)", args, code, tt.wantCode, stderr)
			}
			if !strings.HasPrefix(out, tt.wantOut) || (tt.wantOut == "" && out != "") {
				t.Errorf("exec %v: stdout %q, want %q", args, out, tt.wantOut)
			}
		})
	}

	t.Run("process file", func(t *testing.T) {
		t.Parallel()
		p := specs.Process{
			Args: []string{"sh", "-c", "echo $FOO; pwd; id -u"},
			Env:  []string{"PATH=/bin", "FOO=from-process-json"},
			Cwd:  "/tmp",
			User: specs.User{UID: 1000, GID: 1000},
		}
		data, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "process.json")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		out := rtOK(t, c.root, "exec", "--process", path, c.id)
		if want := "from-process-json\n/tmp\n1000\n"; out != want {
			t.Errorf("exec --process: stdout %q, want %q", out, want)
		}
	})

	t.Run("detach", func(t *testing.T) {
		t.Parallel()
		pidFile := filepath.Join(t.TempDir(), "exec.pid")
		start := time.Now()
		rtOK(t, c.root, "exec", "-d", "--pid-file", pidFile, c.id, "sleep", "77")
		if d := time.Since(start); d > 20*time.Second {
			t.Errorf("exec -d took %v, want it to return at once", d)
		}
		pid := readPidFile(t, pidFile)
		t.Cleanup(func() { killPid(pid) })
		if !processAlive(pid) {
			t.Fatalf("exec -d pid %d is not alive", pid)
		}
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if got := strings.ReplaceAll(string(cmdline), "\x00", " "); got != "sleep 77 " {
			t.Errorf("exec -d process cmdline = %q, want %q", got, "sleep 77 ")
		}
		// The exec'd process joins every namespace and the cgroup of init.
		for _, ns := range []string{"mnt", "uts", "ipc", "net", "pid", "cgroup"} {
			if got, want := nsLink(t, pid, ns), nsLink(t, initPid, ns); got != want {
				t.Errorf("exec'd process %s namespace = %q, want init's %q", ns, got, want)
			}
		}
		got, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
		want, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", initPid))
		if string(got) != string(want) {
			t.Errorf("exec'd process cgroups:\n%s\nwant init's:\n%s", got, want)
		}
		// It is also seen by ps.
		pids := psJSON(t, c)
		found := false
		for _, p := range pids {
			found = found || p == pid
		}
		if !found {
			t.Errorf("ps --format json = %v, want it to contain the exec'd pid %d", pids, pid)
		}
	})

	t.Run("tty", func(t *testing.T) {
		t.Parallel()
		cs := newConsoleSocket(t)
		pidFile := filepath.Join(t.TempDir(), "exec.pid")
		// containerd execs with a tty this way: detached, master sent to it.
		rtOK(t, c.root, "exec", "-d", "-t", "--console-socket", cs.path, "--pid-file", pidFile,
			c.id, "sh", "-c", "tty; read line; echo got:$line")
		pid := readPidFile(t, pidFile)
		t.Cleanup(func() { killPid(pid) })
		master := cs.recv(t)
		out := readUntil(t, master, "\n")
		if !regexp.MustCompile(`/dev/pts/[0-9]+`).MatchString(out) {
			t.Errorf("tty in exec -t printed %q, want /dev/pts/N", out)
		}
		if _, err := master.Write([]byte("typed\n")); err != nil {
			t.Fatal(err)
		}
		readUntil(t, master, "got:typed")
		waitGone(t, pid)
	})
}

// TestExecStopped checks that exec into a container whose init exited fails.
func TestExecStopped(t *testing.T) {
	requireRoot(t)
	t.Parallel()
	c := startContainer(t, newBundle(t, "true"))
	c.waitStatus(t, "stopped")
	if _, _, code := c.exec(t, "true"); code == 0 {
		t.Errorf("exec into a stopped container succeeded, want an error")
	}
}

func killPid(pid int) {
	if p, err := os.FindProcess(pid); err == nil {
		p.Kill()
	}
}
