package containers

import (
	"strings"
	"testing"
)

// TestUpdate: `update` changes the limits of a running container at once
// (seen in its cgroup) and for its later runs, and the restart policy;
// bad values and nothing to change are refused without changing anything.
func TestUpdate(t *testing.T) {
	d := startBerthd(t)
	d.ok("run", "-d", "--name", "up", "--memory", "64m", "busybox", "sleep", "300")
	if out := d.ok("update", "--memory", "32m", "--cpus", "0.5", "--pids-limit", "20", "--restart", "on-failure:3", "up"); out != "up\n" {
		t.Errorf("update printed %q, want the name", out)
	}
	limits := "cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/pids/pids.max | tr '\\n' ' '"
	if got, want := d.out("exec", "up", "sh", "-c", limits), "33554432 50000 20"; got != want {
		t.Errorf("limits inside after update: %q, want %q", got, want)
	}
	if got, want := d.out("inspect", "-f", "{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}} {{.HostConfig.PidsLimit}} {{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}", "up"), "33554432 500000000 20 on-failure:3"; got != want {
		t.Errorf("inspect after update: %q, want %q", got, want)
	}
	// The next run has them too.
	d.ok("restart", "-t", "1", "up")
	if got := d.out("exec", "up", "sh", "-c", limits); got != "33554432 50000 20" {
		t.Errorf("limits after a restart: %q", got)
	}
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"update", "--memory", "1k", "up"}, "Minimum memory limit"},
		{[]string{"update", "up"}, "one or more flags"},
		{[]string{"update", "--memory", "32m", "nosuch"}, "No such container"},
		{[]string{"update", "--restart", "sometimes", "up"}, "restart"},
	} {
		if r := d.fails(c.args...); !strings.Contains(r.stderr, c.msg) {
			t.Errorf("berth %s: %v; want %q", strings.Join(c.args, " "), r, c.msg)
		}
	}
	if got := d.out("inspect", "-f", "{{.HostConfig.Memory}}", "up"); got != "33554432" {
		t.Errorf("a refused update changed the memory to %s", got)
	}
	d.ok("run", "-d", "--rm", "--name", "gone", "busybox", "sleep", "300")
	if r := d.fails("update", "--restart", "always", "gone"); !strings.Contains(r.stderr, "AutoRemove") {
		t.Errorf("restart policy of a --rm container: %v", r)
	}
}
