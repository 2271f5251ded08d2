package containers

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// waitHealth polls a container's State.Health.Status until it is want.
func (d *daemon) waitHealth(name, want string) {
	d.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	got := ""
	for time.Now().Before(deadline) {
		if got = d.out("inspect", "-f", "{{if .State.Health}}{{.State.Health.Status}}{{end}}", name); got == want {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	d.t.Fatalf("%s: health %q, want %q", name, got, want)
}

// TestHealthcheck: --health-* checks run as execs in the container; the
// status goes starting → unhealthy after the retries fail → healthy on a
// success, shows in ps and inspect (with the last results and their
// output) and as health_status events, and outlives a berthd crash. A check that outlives its timeout
// is killed and fails. An image's HEALTHCHECK applies unless
// --no-healthcheck, and bad values are refused.
func TestHealthcheck(t *testing.T) {
	d := startBerthd(t)
	start := time.Now()
	d.ok("run", "-d", "--name", "hc", "--health-cmd", "cat /tmp/ok", "--health-interval", "100ms", "--health-retries", "2", "busybox", "sleep", "300")
	d.waitHealth("hc", "unhealthy")
	if st := d.out("ps", "--format", "{{.Status}}", "-f", "name=hc"); !strings.HasSuffix(st, "(unhealthy)") {
		t.Errorf("ps STATUS %q, want it to end in (unhealthy)", st)
	}
	h := field(d.inspect("hc"), "State", "Health").(map[string]any)
	if streak, _ := h["FailingStreak"].(float64); streak < 2 {
		t.Errorf("FailingStreak %v, want at least the 2 retries", h["FailingStreak"])
	}
	log, _ := h["Log"].([]any)
	if len(log) == 0 || len(log) > 5 {
		t.Fatalf("Log has %d results, want 1 to 5", len(log))
	}
	last := log[len(log)-1].(map[string]any)
	if last["ExitCode"].(float64) != 1 || !strings.Contains(last["Output"].(string), "No such file") {
		t.Errorf("last result %v, want exit 1 with cat's complaint", last)
	}

	d.ok("exec", "hc", "sh", "-c", "echo fine > /tmp/ok")
	d.waitHealth("hc", "healthy")
	if st := d.out("ps", "--format", "{{.Status}}", "-f", "name=hc"); !strings.HasSuffix(st, "(healthy)") {
		t.Errorf("ps STATUS %q, want it to end in (healthy)", st)
	}
	h = field(d.inspect("hc"), "State", "Health").(map[string]any)
	log = h["Log"].([]any)
	if last := log[len(log)-1].(map[string]any); last["ExitCode"].(float64) != 0 || last["Output"] != "fine\n" {
		t.Errorf("last result %v, want exit 0 with output fine", last)
	}
	if hc := field(d.inspect("hc"), "Config", "Healthcheck", "Test"); fmt.Sprint(hc) != "[CMD-SHELL cat /tmp/ok]" {
		t.Errorf("Config.Healthcheck.Test = %v", hc)
	}
	ev := d.ok("events", "--since", fmt.Sprint(start.Unix()), "--until", fmt.Sprint(time.Now().Unix()+1),
		"-f", "container=hc", "--format", "{{.Action}}")
	if !strings.Contains(ev, "health_status: unhealthy\n") || !strings.Contains(ev, "health_status: healthy\n") {
		t.Errorf("events:\n%s\nwant health_status: unhealthy and healthy", ev)
	}

	// A berthd crash keeps the health: the checks go on from it.
	d.kill()
	d.start()
	// Recorded at the change to healthy: at least the 2 failures and the
	// success (a fresh start would have one result, if any, by now).
	if h := strings.Fields(d.out("inspect", "-f", "{{.State.Health.Status}} {{len .State.Health.Log}}", "hc")); len(h) != 2 || h[0] != "healthy" || h[1] < "3" {
		t.Errorf("health after a berthd restart: %q, want healthy with the results from before", h)
	}
	if names := d.out("ps", "-f", "health=healthy", "--format", "{{.Names}}"); names != "hc" {
		t.Errorf("ps -f health=healthy: %q, want hc", names)
	}
	// A check that hangs is killed at its timeout and counts as failed.
	d.ok("run", "-d", "--name", "slow", "--health-cmd", "sleep 60", "--health-timeout", "200ms", "--health-interval", "100ms", "--health-retries", "1", "busybox", "sleep", "300")
	d.waitHealth("slow", "unhealthy")
	log = field(d.inspect("slow"), "State", "Health", "Log").([]any)
	if out := log[len(log)-1].(map[string]any)["Output"]; out != "Health check exceeded timeout (200ms)" {
		t.Errorf("timed-out result output %q", out)
	}
	time.Sleep(300 * time.Millisecond)
	if ps := d.out("exec", "slow", "ps", "-o", "args"); strings.Count(ps, "sleep 60") > 1 {
		t.Errorf("timed-out checks still run:\n%s", ps)
	}

	// An image's HEALTHCHECK, and --no-healthcheck.
	ctx := writeContext(t, map[string]string{"Dockerfile": "FROM busybox\nHEALTHCHECK --interval=100ms CMD true\nCMD sleep 300\n"})
	d.ok("build", "-t", "withhc:1", ctx)
	d.ok("run", "-d", "--name", "imghc", "withhc:1")
	d.waitHealth("imghc", "healthy")
	d.ok("run", "-d", "--name", "nohc", "--no-healthcheck", "withhc:1")
	time.Sleep(300 * time.Millisecond)
	if h := d.out("inspect", "-f", "{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}", "nohc"); h != "none" {
		t.Errorf("--no-healthcheck: health %q, want none", h)
	}
	if st := d.out("ps", "--format", "{{.Status}}", "-f", "name=nohc"); strings.Contains(st, "(") {
		t.Errorf("--no-healthcheck: ps STATUS %q has a health part", st)
	}

	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"--no-healthcheck", "--health-cmd", "true"}, "conflicts"},
		{[]string{"--health-interval", "-1s", "--health-cmd", "true"}, "cannot be negative"},
		{[]string{"--health-interval", "10us", "--health-cmd", "true"}, "less than 1ms"},
	} {
		r := d.fails(append(append([]string{"run", "--rm"}, c.args...), "busybox", "true")...)
		if !strings.Contains(r.stderr, c.msg) {
			t.Errorf("run %v: %v; want %q", c.args, r, c.msg)
		}
	}
}
