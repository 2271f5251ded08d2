package containers

import (
	"archive/tar"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// TestUserNamespace: --user-namespace runs the container's root as an
// unprivileged host id of a range no other container has, while the
// container sees its files as in any container (root's own, writable,
// copy-up and chown working) and the container layer on disk holds the
// ids the container gave its files, so commit needs nothing special.
func TestUserNamespace(t *testing.T) {
	d := startBerthd(t)
	// The container's root, an unprivileged host id, reaches its bundle
	// by path, as under /run/berth; the harness's temp dir is 0700.
	if err := os.Chmod(d.dir, 0o711); err != nil {
		t.Fatal(err)
	}

	// Inside: root, its own files, a writable /etc/hosts, its own network
	// interfaces in /sys, any port bindable.
	script := `id -u; cat /proc/self/uid_map /proc/self/gid_map | tr -s ' ' | sed 's/^ //'; stat -c %u:%g / /etc/passwd;` +
		` echo edited >> /etc/hosts && tail -1 /etc/hosts; ls /sys/class/net | tr '\n' ' '; echo;` +
		` touch /root-file /tmp/f && chown 1234:4321 /tmp/f && stat -c %u:%g /root-file /tmp/f;` +
		` echo kept >> /etc/passwd && stat -c %u:%g /etc/passwd;` +
		` nc -l -p 80 & sleep 0.2; kill $! && echo bound`
	out := d.ok("run", "--name", "u1", "--user-namespace", "busybox", "sh", "-c", script)
	got := lines(out)
	if len(got) != 11 {
		t.Fatalf("output:\n%s", out)
	}
	want := map[int]string{0: "0", 3: "0:0", 4: "0:0", 5: "edited", 6: "eth0 lo ", 7: "0:0", 8: "1234:4321", 9: "0:0", 10: "bound"}
	for i, w := range want {
		if got[i] != w {
			t.Errorf("line %d = %q, want %q (output:\n%s)", i, got[i], w, out)
		}
	}
	m := strings.Fields(got[1])
	if len(m) != 3 || m[0] != "0" || m[2] != "65536" || m[1] == "0" {
		t.Fatalf("uid_map %q, want 0 HOSTID 65536 with HOSTID not 0", got[1])
	}
	base, _ := strconv.ParseUint(m[1], 10, 32)
	if got[2] != got[1] {
		t.Errorf("gid_map %q differs from uid_map %q", got[2], got[1])
	}
	if um := field(d.inspect("u1"), "HostConfig", "UsernsMode"); um != "private" {
		t.Errorf("HostConfig.UsernsMode = %v, want private", um)
	}

	// On disk, the container layer has the ids the container used.
	id := d.out("inspect", "-f", "{{.Id}}", "u1")
	diff := filepath.Join(d.root, "containers", id, "diff")
	for name, w := range map[string][2]uint32{"root-file": {0, 0}, "tmp/f": {1234, 4321}, "etc/passwd": {0, 0}} {
		var st syscall.Stat_t
		if err := syscall.Stat(filepath.Join(diff, name), &st); err != nil {
			t.Errorf("container layer: %v", err)
		} else if st.Uid != w[0] || st.Gid != w[1] {
			t.Errorf("container layer %s owned by %d:%d, want %d:%d", name, st.Uid, st.Gid, w[0], w[1])
		}
	}
	// And a commit of it is an ordinary image.
	d.ok("commit", "u1", "userns-commit")
	if o := d.out("run", "--rm", "userns-commit", "stat", "-c", "%u:%g", "/tmp/f"); o != "1234:4321" {
		t.Errorf("committed /tmp/f owned by %q, want 1234:4321", o)
	}

	// On the host the processes run as the mapped id; a second container
	// gets a range of its own; exec joins the namespace.
	d.ok("run", "-d", "--name", "u2", "--user-namespace", "busybox", "sleep", "60")
	d.ok("run", "-d", "--name", "u3", "--user-namespace", "busybox", "sleep", "60")
	uids := map[uint32]bool{}
	for _, c := range []string{"u2", "u3"} {
		pid := d.out("inspect", "-f", "{{.State.Pid}}", c)
		var st syscall.Stat_t
		if err := syscall.Stat("/proc/"+pid, &st); err != nil {
			t.Fatal(err)
		}
		if st.Uid < 65536 {
			t.Errorf("%s's process runs as host uid %d, want an unprivileged mapped id", c, st.Uid)
		}
		uids[st.Uid] = true
		if o := d.out("exec", c, "id", "-u"); o != "0" {
			t.Errorf("exec in %s: id -u = %q, want 0", c, o)
		}
	}
	if len(uids) != 2 {
		t.Errorf("u2 and u3 share host uid %v, want a range each", uids)
	}
	if uids[uint32(base)] {
		t.Errorf("u1's range (%d) was given again while u1 exists", base)
	}
	// A named volume is idmapped: the container's files keep its ids on
	// disk, and any container, with a user namespace or not, sees them so.
	d.ok("run", "--rm", "--user-namespace", "-v", "uvol:/data", "busybox", "sh", "-c", "touch /data/f && chown 7:8 /data/f")
	for _, args := range [][]string{
		{"run", "--rm", "-v", "uvol:/data", "busybox", "stat", "-c", "%u:%g", "/data/f"},
		{"run", "--rm", "--user-namespace", "-v", "uvol:/data", "busybox", "stat", "-c", "%u:%g", "/data/f"},
	} {
		if o := d.out(args...); o != "7:8" {
			t.Errorf("berth %s = %q, want 7:8", strings.Join(args, " "), o)
		}
	}
	// berthd's own writes and reads of the container's files use the
	// container's ids: a new working directory, cp in (as root, or with
	// -a its owners), cp out and export.
	if o := d.out("run", "--rm", "--user-namespace", "-w", "/new/dir", "busybox", "stat", "-c", "%n %u:%g", "."); o != ". 0:0" {
		t.Errorf("-w /new/dir: %q, want . 0:0", o)
	}
	d.ok("run", "-d", "--name", "u4", "--user-namespace", "busybox", "sh", "-c", "echo hi > /mine && chown 7:8 /mine && sleep 60")
	src := filepath.Join(t.TempDir(), "in")
	os.WriteFile(src, []byte("in\n"), 0o644)
	os.Chown(src, 1234, 1234)
	d.ok("cp", src, "u4:/in")
	d.ok("cp", "-a", src, "u4:/in-a")
	if o := d.out("exec", "u4", "stat", "-c", "%n %u:%g", "/in", "/in-a"); o != "/in 0:0\n/in-a 1234:1234" {
		t.Errorf("cp into the container: %q", o)
	}
	export := d.ok("export", "u4")
	owners := map[string]string{}
	tr := tar.NewReader(strings.NewReader(export))
	for {
		h, err := tr.Next()
		if err != nil {
			break
		}
		owners[h.Name] = fmt.Sprintf("%d:%d", h.Uid, h.Gid)
	}
	for name, want := range map[string]string{"mine": "7:8", "in-a": "1234:1234", "bin/busybox": "0:0"} {
		if owners[name] != want {
			t.Errorf("export: %s owned by %q, want %s", name, owners[name], want)
		}
	}
	d.ok("rm", "-f", "u4")

	// Without the flag, nothing changes.
	if o := d.out("run", "--rm", "busybox", "cat", "/proc/self/uid_map"); len(strings.Fields(o)) != 3 || strings.Fields(o)[1] != "0" {
		t.Errorf("a container without --user-namespace has uid_map %q, want the identity", o)
	}

	// Refused combinations, as Docker refuses them with a user namespace.
	for _, args := range [][]string{
		{"run", "--rm", "--user-namespace", "--privileged", "busybox", "true"},
		{"run", "--rm", "--user-namespace", "--network", "host", "busybox", "true"},
	} {
		r := d.fails(args...)
		if !strings.Contains(r.stderr, "--user-namespace") || r.code != 125 {
			t.Errorf("berth %s: %v; want exit 125 naming --user-namespace", strings.Join(args, " "), r)
		}
	}

	d.ok("rm", "-f", "u1", "u2", "u3")
	d.assertClean()
	if ents, _ := os.ReadDir(filepath.Join(d.state, "bundles")); len(ents) != 0 {
		t.Errorf("bundles left: %d", len(ents))
	}
}
