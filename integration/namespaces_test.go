package integration

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestNamespaces checks, for each namespace type, that the container gets a
// new one when the config lists it and shares the host's when it does not.
func TestNamespaces(t *testing.T) {
	requireRoot(t)
	t.Parallel()
	tests := []struct {
		typ      specs.LinuxNamespaceType
		proc     string // name under /proc/PID/ns
		canShare bool   // may be left out of the config
	}{
		{specs.PIDNamespace, "pid", true},
		{specs.UTSNamespace, "uts", true},
		{specs.IPCNamespace, "ipc", true},
		{specs.NetworkNamespace, "net", true},
		{specs.MountNamespace, "mnt", false},
		{specs.CgroupNamespace, "cgroup", true},
	}
	for _, tt := range tests {
		host := nsLink(t, os.Getpid(), tt.proc)
		t.Run(string(tt.typ)+"/new", func(t *testing.T) {
			t.Parallel()
			b := newBundle(t, "readlink", "/proc/self/ns/"+tt.proc)
			b.edit(t, withNamespace(tt.typ, ""))
			got := strings.TrimSpace(runOK(t, b))
			if !strings.HasPrefix(got, tt.proc+":[") || got == host {
				t.Errorf("%s namespace inside = %q, want a new one (host has %q)", tt.proc, got, host)
			}
		})
		if !tt.canShare {
			continue
		}
		t.Run(string(tt.typ)+"/host", func(t *testing.T) {
			t.Parallel()
			b := newBundle(t, "readlink", "/proc/self/ns/"+tt.proc)
			b.edit(t, withoutNamespace(tt.typ), func(s *specs.Spec) {
				if tt.typ == specs.UTSNamespace {
					s.Hostname = "" // needs a UTS namespace of its own
				}
			})
			if got := strings.TrimSpace(runOK(t, b)); got != host {
				t.Errorf("%s namespace inside = %q, want the host's %q", tt.proc, got, host)
			}
		})
	}

	t.Run("pid is 1", func(t *testing.T) {
		t.Parallel()
		if got := runOK(t, newBundle(t, "sh", "-c", "echo $$")); got != "1\n" {
			t.Errorf("echo $$ = %q, want %q", got, "1\n")
		}
	})

	t.Run("hostname", func(t *testing.T) {
		t.Parallel()
		b := newBundle(t, "hostname")
		b.edit(t, func(s *specs.Spec) { s.Hostname = "berth-host" })
		if got, want := runOK(t, b), "berth-host\n"; got != want {
			t.Errorf("hostname = %q, want %q", got, want)
		}
	})

	t.Run("domainname", func(t *testing.T) {
		t.Parallel()
		skipIfRunc(t, "runc 1.1 ignores the domainname field (added in runc 1.2)")
		b := newBundle(t, "cat", "/proc/sys/kernel/domainname")
		b.edit(t, func(s *specs.Spec) { s.Domainname = "berth.example" })
		if got, want := runOK(t, b), "berth.example\n"; got != want {
			t.Errorf("domainname = %q, want %q", got, want)
		}
	})

	t.Run("network has only lo", func(t *testing.T) {
		t.Parallel()
		out := runOK(t, newBundle(t, "cat", "/proc/net/dev"))
		var ifaces []string
		for _, line := range strings.Split(out, "\n") {
			if name, _, ok := strings.Cut(line, ":"); ok {
				ifaces = append(ifaces, strings.TrimSpace(name))
			}
		}
		if len(ifaces) != 1 || ifaces[0] != "lo" {
			t.Errorf("interfaces in a new network namespace = %q, want [lo]", ifaces)
		}
	})

	t.Run("cgroup namespace root", func(t *testing.T) {
		t.Parallel()
		b := newBundle(t, "cat", "/proc/self/cgroup")
		b.edit(t, withNamespace(specs.CgroupNamespace, ""))
		out := runOK(t, b)
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			parts := strings.SplitN(line, ":", 3)
			if len(parts) != 3 || parts[2] != "/" {
				t.Errorf("/proc/self/cgroup line %q, want path / in a cgroup namespace", line)
			}
		}
	})

	t.Run("join network by path", func(t *testing.T) {
		t.Parallel()
		name := newID(t)
		if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
			t.Fatalf("ip netns add: %v: %s", err, out)
		}
		t.Cleanup(func() { exec.Command("ip", "netns", "del", name).Run() })
		path := "/run/netns/" + name
		var st syscall.Stat_t
		if err := syscall.Stat(path, &st); err != nil {
			t.Fatal(err)
		}
		b := newBundle(t, "readlink", "/proc/self/ns/net")
		b.edit(t, withNamespace(specs.NetworkNamespace, path))
		if got, want := strings.TrimSpace(runOK(t, b)), fmt.Sprintf("net:[%d]", st.Ino); got != want {
			t.Errorf("network namespace inside = %q, want the one at %s %q", got, path, want)
		}
	})

	t.Run("join pid of another container", func(t *testing.T) {
		t.Parallel()
		first := startContainer(t, newBundle(t, "sleep", "4343"))
		pid := first.state(t).Pid
		b := newBundle(t, "sh", "-c", "readlink /proc/self/ns/pid; ps -o pid,args")
		b.edit(t, withNamespace(specs.PIDNamespace, fmt.Sprintf("/proc/%d/ns/pid", pid)))
		out := runOK(t, b)
		if want := nsLink(t, pid, "pid"); !strings.HasPrefix(out, want+"\n") {
			t.Errorf("pid namespace inside = %q, want the first container's %q", out, want)
		}
		found := false
		for _, line := range strings.Split(out, "\n") {
			f := strings.Fields(line)
			found = found || (len(f) == 3 && f[0] == "1" && f[1] == "sleep" && f[2] == "4343")
		}
		if !found {
			t.Errorf("ps in the joined pid namespace = %q, want pid 1 running sleep 4343", out)
		}
	})
}
