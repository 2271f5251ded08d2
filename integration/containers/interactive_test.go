package containers

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// tmux drives a terminal session.
type tmux struct {
	t    *testing.T
	name string
}

func newTmux(t *testing.T, cmd string) *tmux {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux not installed")
	}
	m := &tmux{t: t, name: fmt.Sprintf("berth-it-%d", time.Now().UnixNano())}
	if out, err := exec.Command("tmux", "new-session", "-d", "-s", m.name, "-x", "120", "-y", "40", cmd).CombinedOutput(); err != nil {
		t.Fatalf("tmux: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("tmux", "kill-session", "-t", m.name).Run() })
	return m
}

func (m *tmux) send(keys ...string) {
	m.t.Helper()
	if out, err := exec.Command("tmux", append([]string{"send-keys", "-t", m.name}, keys...)...).CombinedOutput(); err != nil {
		m.t.Fatalf("send-keys: %v: %s", err, out)
	}
}

func (m *tmux) screen() string {
	out, _ := exec.Command("tmux", "capture-pane", "-p", "-t", m.name).Output()
	return string(out)
}

// waitFor waits until the screen shows want.
func (m *tmux) waitFor(want string) {
	m.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if strings.Contains(m.screen(), want) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	m.t.Fatalf("screen never showed %q:\n%s", want, m.screen())
}

// TestInteractiveTTY runs `berth run -it busybox sh` in a tmux terminal:
// commands and their output, the terminal size following a resize, ^C
// reaching the container's foreground process, exit with a status; then
// `exec -it` into a detached container.
func TestInteractiveTTY(t *testing.T) {
	d := startBerthd(t)
	m := newTmux(t, fmt.Sprintf("BERTH_ADDRESS=%s %s run -it --rm --name tty busybox sh; echo berth-exited-$?; sleep 60", d.addr, berthBin))
	m.waitFor("/ #")
	m.send("echo calc $((6*7))", "Enter")
	m.waitFor("calc 42")
	m.send("stty size", "Enter")
	m.waitFor("40 120")
	exec.Command("tmux", "resize-window", "-t", m.name, "-x", "90", "-y", "25").Run()
	time.Sleep(300 * time.Millisecond)
	m.send("stty size", "Enter")
	m.waitFor("25 90")
	m.send("tty", "Enter")
	m.waitFor("/dev/pts/0")
	m.send("sleep 100; echo after-sleep", "Enter")
	time.Sleep(300 * time.Millisecond)
	m.send("C-c")
	time.Sleep(300 * time.Millisecond)
	m.send("echo still-here", "Enter")
	m.waitFor("still-here")
	if strings.Contains(m.screen(), "\nafter-sleep") {
		t.Errorf("^C did not interrupt sleep:\n%s", m.screen())
	}
	m.send("exit 3", "Enter")
	m.waitFor("berth-exited-3")
	if got := d.out("ps", "-aq"); got != "" {
		t.Errorf("--rm left %s", got)
	}

	// ^D ends the shell as in a terminal.
	m2 := newTmux(t, fmt.Sprintf("BERTH_ADDRESS=%s %s run -it busybox sh; echo berth-exited-$?; sleep 60", d.addr, berthBin))
	m2.waitFor("/ #")
	m2.send("C-d")
	m2.waitFor("berth-exited-0")

	// exec -it into a running container.
	d.ok("run", "-d", "--name", "bg", "busybox", "sleep", "1000")
	m3 := newTmux(t, fmt.Sprintf("BERTH_ADDRESS=%s %s exec -it bg sh; echo exec-exited-$?; sleep 60", d.addr, berthBin))
	m3.waitFor("/ #")
	m3.send("ps -o pid,comm | grep -c sleep; stty size", "Enter")
	m3.waitFor("40 120")
	m3.send("exit 7", "Enter")
	m3.waitFor("exec-exited-7")
}
