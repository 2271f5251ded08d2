package containers

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestBadInput: each mistake gets one clear line and leaves nothing
// behind: no container record or directory, bundle, shim, mount or
// cgroup.
func TestBadInput(t *testing.T) {
	d := startBerthd(t)
	d.ok("run", "-d", "--name", "taken", "busybox", "sleep", "1000")
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"unknown image", []string{"run", "--rm", "127.0.0.1:1/nosuchimage"}, 125, "Unable to find image '127.0.0.1:1/nosuchimage:latest' locally"},
		{"unknown container rm", []string{"rm", "nosuchcontainer"}, 1, "Error response from daemon: No such container: nosuchcontainer"},
		{"unknown container stop", []string{"stop", "nosuchcontainer"}, 1, "No such container: nosuchcontainer"},
		{"unknown container logs", []string{"logs", "nosuchcontainer"}, 1, "No such container: nosuchcontainer"},
		{"unknown container exec", []string{"exec", "nosuchcontainer", "true"}, 1, "No such container: nosuchcontainer"},
		{"name in use", []string{"run", "--name", "taken", "busybox", "true"}, 125, `The container name "/taken" is already in use by container`},
		{"bad name", []string{"run", "--name", "bad/name", "busybox", "true"}, 125, "invalid container name"},
		{"bad volume", []string{"run", "-v", "relative/path:/data:rw:extra", "busybox", "true"}, 125, "invalid volume"},
		{"bad volume mode", []string{"run", "-v", "/tmp:/data:xyz", "busybox", "true"}, 125, `unknown mode "xyz"`},
		{"bad mount", []string{"run", "--mount", "type=bind,src=/nonexistent-berth,dst=/x", "busybox", "true"}, 125, "bind source path does not exist"},
		{"bad memory", []string{"run", "--memory", "12x", "busybox", "true"}, 125, `invalid memory size "12x"`},
		{"memory too small", []string{"run", "--memory", "1k", "busybox", "true"}, 125, "the minimum is 6MB"},
		{"bad cpus", []string{"run", "--cpus", "many", "busybox", "true"}, 125, "invalid cpus"},
		{"bad publish", []string{"run", "-p", "99999:80", "busybox", "true"}, 125, "invalid publish value"},
		{"unknown network", []string{"run", "--network", "nosuchnet", "busybox", "true"}, 125, "network nosuchnet not found"},
		{"alias on the default network", []string{"run", "--network-alias", "x", "busybox", "true"}, 125, "only supported for user-defined networks"},
		{"bad restart", []string{"run", "--restart", "sometimes", "busybox", "true"}, 125, "invalid restart policy"},
		{"bad cap", []string{"run", "--cap-add", "NOT_A_CAP", "busybox", "true"}, 125, "NOT_A_CAP"},
		{"bad security opt", []string{"run", "--security-opt", "seccomp=/nonexistent.json", "busybox", "true"}, 125, "nonexistent.json"},
		{"unknown user", []string{"run", "-u", "nosuchuser", "busybox", "true"}, 125, "nosuchuser"},
		{"rm running", []string{"rm", "taken"}, 1, "cannot remove container \"taken\": container is running: stop the container before removing or force remove"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := d.containerDirs()
			r := d.berth(tt.args...)
			if r.code != tt.wantCode {
				t.Errorf("berth %v: exit %d, want %d\n%v", tt.args, r.code, tt.wantCode, r)
			}
			if !strings.Contains(r.stderr, tt.wantErr) {
				t.Errorf("berth %v: stderr %q, want it to contain %q", tt.args, r.stderr, tt.wantErr)
			}
			errLines := lines(r.stderr)
			if tt.name != "unknown image" && len(errLines) != 1 {
				t.Errorf("berth %v: %d lines on stderr, want one:\n%s", tt.args, len(errLines), r.stderr)
			}
			if tt.args[0] == "run" && tt.name != "unknown user" {
				if after := d.containerDirs(); after != before {
					t.Errorf("berth %v left a container (%d -> %d directories)", tt.args, before, after)
				}
			}
		})
	}
	if st := d.status("taken"); st != "running" {
		t.Errorf("the container named taken is %s after the failed commands", st)
	}
	// The failed starts (unknown user) left records, as Docker does
	// (created), but nothing of a run.
	ids := strings.Fields(d.out("ps", "-aq", "--no-trunc", "-f", "status=created"))
	for _, id := range ids {
		d.ok("rm", id)
	}
	d.ok("rm", "-f", "taken")
	if n := d.containerDirs(); n != 0 {
		t.Errorf("%d container directories left", n)
	}
	d.assertClean(ids...)
}

// TestManyContainers starts 50 containers at once; all run, and one
// rm -f removes them all.
func TestManyContainers(t *testing.T) {
	d := startBerthd(t)
	const n = 50
	var wg sync.WaitGroup
	errs := make(chan string, n)
	ids := make([]string, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(berthBin, "run", "-d", "--name", fmt.Sprintf("many%d", i), "busybox", "sleep", "1000")
			cmd.Env = append(cmd.Environ(), "BERTH_ADDRESS="+d.addr)
			out, err := cmd.CombinedOutput()
			if err != nil {
				errs <- fmt.Sprintf("run %d: %v: %s", i, err, out)
				return
			}
			ids[i] = strings.TrimSpace(string(out))
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	running := lines(d.ok("ps", "-q"))
	if len(running) != n {
		t.Fatalf("ps lists %d running containers, want %d", len(running), n)
	}
	if shims := d.shims(); len(shims) != n {
		t.Errorf("%d shims, want %d", len(shims), n)
	}
	// Each is really running: its process answers.
	if got := d.out("exec", "many17", "cat", "/proc/1/comm"); got != "sleep" {
		t.Errorf("exec many17: %q", got)
	}
	start := time.Now()
	d.ok(append([]string{"rm", "-f"}, running...)...)
	t.Logf("rm -f of %d containers took %v", n, time.Since(start))
	if got := d.out("ps", "-aq"); got != "" {
		t.Errorf("after rm -f: %q", got)
	}
	if c := d.containerDirs(); c != 0 {
		t.Errorf("%d container directories left", c)
	}
	d.assertClean(ids...)
}

// TestBerthdRestart kills berthd (SIGKILL) with containers running and
// starts it again: running containers are listed and controllable, logs
// -f keeps following, and one that exited meanwhile shows its real exit
// code; a restart policy applies to it.
func TestBerthdRestart(t *testing.T) {
	d := startBerthd(t)
	d.ok("run", "-d", "--name", "ticker", "busybox", "sh", "-c", "i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.2; done")
	d.ok("run", "-d", "--name", "quitter", "busybox", "sh", "-c", "sleep 1; exit 7")
	d.ok("run", "-d", "--name", "phoenix", "--restart", "on-failure:1", "busybox", "sh", "-c", "sleep 1; exit 9")
	d.ok("run", "-d", "-t", "--name", "term", "busybox", "sh")
	// A --rm container that exits while berthd is down is removed when it
	// comes back, as it would have been.
	vanisher := strings.TrimSpace(d.ok("run", "-d", "--rm", "--name", "vanisher", "busybox", "sh", "-c", "sleep 1; exit 3"))
	// A logs -f that runs across the crash.
	type res struct {
		out string
		err error
	}
	across := make(chan res, 1)
	go func() {
		cmd := exec.Command(berthBin, "logs", "-f", "ticker")
		cmd.Env = append(cmd.Environ(), "BERTH_ADDRESS="+d.addr)
		out, err := cmd.Output()
		across <- res{string(out), err}
	}()
	time.Sleep(500 * time.Millisecond)
	d.kill()
	time.Sleep(2 * time.Second) // quitter and phoenix exit while berthd is down
	d.start()

	ps := d.ok("ps", "-a")
	for _, name := range []string{"ticker", "quitter", "phoenix", "term"} {
		if !strings.Contains(ps, name) {
			t.Errorf("ps -a after restart lacks %s:\n%s", name, ps)
		}
	}
	if st := d.status("ticker"); st != "running" {
		t.Errorf("ticker after restart: %s", st)
	}
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end) && strings.Contains(d.ok("ps", "-a"), "vanisher"); {
		time.Sleep(100 * time.Millisecond)
	}
	if ps := d.ok("ps", "-a"); strings.Contains(ps, "vanisher") {
		t.Errorf("the --rm container that exited while berthd was down is still there:\n%s", ps)
	}
	for _, dir := range []string{filepath.Join(d.state, "bundles", vanisher), filepath.Join(d.root, "containers", vanisher)} {
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("the removed --rm container left %s (%v)", dir, err)
		}
	}
	if cg := cgroupsOf([]string{vanisher}); len(cg) > 0 {
		t.Errorf("the removed --rm container left cgroups: %v", cg)
	}
	if got := d.out("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", "quitter"); got != "exited 7" {
		t.Errorf("quitter: %s, want exited 7", got)
	}
	// phoenix exited 9 while berthd was down: on-failure:1 restarts it once.
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) && d.out("inspect", "-f", "{{.RestartCount}}", "phoenix") != "1" {
		time.Sleep(100 * time.Millisecond)
	}
	if got := d.out("inspect", "-f", "{{.RestartCount}}", "phoenix"); got != "1" {
		t.Errorf("phoenix restart count %s, want 1", got)
	}

	// logs -f follows the reconnected container until it stops.
	done := make(chan res, 1)
	go func() {
		cmd := exec.Command(berthBin, "logs", "-f", "--tail", "0", "ticker")
		cmd.Env = append(cmd.Environ(), "BERTH_ADDRESS="+d.addr)
		out, err := cmd.Output()
		done <- res{string(out), err}
	}()
	time.Sleep(1 * time.Second)
	d.ok("stop", "-t", "1", "ticker")
	select {
	case r := <-done:
		if r.err != nil || strings.Count(r.out, "tick") < 3 {
			t.Errorf("logs -f after restart: %v %q", r.err, r.out)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("logs -f did not end when the container stopped")
	}
	select {
	case r := <-across:
		// Every tick once, in order, from before the crash to the stop.
		ticks := lines(r.out)
		for i, l := range ticks {
			if l != fmt.Sprintf("tick %d", i) {
				t.Errorf("logs -f across the restart: line %d is %q (want tick %d); %d lines", i, l, i, len(ticks))
				break
			}
		}
		if r.err != nil || len(ticks) < 15 {
			t.Errorf("logs -f across the restart: %v, %d lines", r.err, len(ticks))
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the logs -f started before the crash did not end")
	}
	if got := d.out("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", "ticker"); got != "exited 137" {
		t.Errorf("ticker after stop: %s", got)
	}
	// exec into the reconnected terminal container.
	if got := d.out("exec", "term", "echo", "hi"); got != "hi" {
		t.Errorf("exec after restart: %q", got)
	}
	// A second crash while stopped containers exist changes nothing.
	d.kill()
	d.start()
	if got := d.out("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", "quitter"); got != "exited 7" {
		t.Errorf("quitter after a second restart: %s", got)
	}
	ids := strings.Fields(d.out("ps", "-aq", "--no-trunc"))
	d.ok(append([]string{"rm", "-f"}, ids...)...)
	d.assertClean(ids...)
}
