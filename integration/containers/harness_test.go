// Package containers holds black-box tests of berth's containers: each test
// starts its own berthd (temp --root, --state and --address), loads the
// busybox image hack/make-image.sh builds from Debian's busybox-static, and
// drives the berth CLI, checking what a user would see (output, exit
// codes, ps rows, inspect fields) and what the host keeps (no stray
// bundle, mount, shim or cgroup). They need root; without it they skip.
package containers

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

	"github.com/berth-project/berth/integration/internal/berthdtest"
)

var (
	berthdBin, berthBin, shimBin string
	imageArchive                 string // docker-archive of busybox:latest
	setupErr                     error
)

func TestMain(m *testing.M) { os.Exit(testMain(m)) }

func testMain(m *testing.M) int {
	repo, _ := filepath.Abs("../..")
	berthdBin = envOr("BERTHD", filepath.Join(repo, "bin", "berthd"))
	berthBin = envOr("BERTH", filepath.Join(repo, "bin", "berth"))
	shimBin = filepath.Join(filepath.Dir(berthdBin), "containerd-shim-berth-v2")
	if os.Geteuid() == 0 {
		dir, err := os.MkdirTemp("/var/tmp", "berth-ctr-test-")
		if err != nil {
			setupErr = err
			return m.Run()
		}
		defer os.RemoveAll(dir)
		oci := filepath.Join(dir, "oci")
		imageArchive = filepath.Join(dir, "busybox.tar")
		if out, err := exec.Command(filepath.Join(repo, "hack", "make-image.sh"), oci).CombinedOutput(); err != nil {
			setupErr = fmt.Errorf("make-image.sh: %v\n%s", err, out)
		} else if out, err := exec.Command("skopeo", "copy", "--quiet", "oci:"+oci+":busybox", "docker-archive:"+imageArchive+":busybox:latest").CombinedOutput(); err != nil {
			setupErr = fmt.Errorf("skopeo: %v\n%s", err, out)
		}
	}
	return m.Run()
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// requireRoot skips unless root with the binaries and tools present.
func requireRoot(t *testing.T, tools ...string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	for _, b := range []string{berthdBin, berthBin, shimBin} {
		if _, err := os.Stat(b); err != nil {
			t.Skipf("%s not built (make build)", b)
		}
	}
	for _, tool := range append([]string{"skopeo", "umoci"}, tools...) {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	if setupErr != nil {
		t.Fatal(setupErr)
	}
}

// daemon is one berthd with its own directories.
type daemon struct {
	t                 *testing.T
	dir               string
	root, state, addr string
	proc              berthdtest.Daemon
	logs              int // berthd.N.log: one per start
}

// startBerthd starts berthd in a fresh directory (short: shim sockets live
// beside berthd's and their paths are limited to 108 bytes) and loads
// busybox into it.
func startBerthd(t *testing.T) *daemon {
	t.Helper()
	requireRoot(t)
	dir, err := os.MkdirTemp("/tmp", "bct")
	if err != nil {
		t.Fatal(err)
	}
	d := &daemon{t: t, dir: dir, root: filepath.Join(dir, "root"), state: filepath.Join(dir, "state"), addr: filepath.Join(dir, "b.sock")}
	t.Cleanup(d.cleanup)
	d.start()
	d.ok("load", "-i", imageArchive)
	return d
}

// start runs berthd on d's directories (again, after a kill).
func (d *daemon) start() {
	d.t.Helper()
	d.logs++
	d.proc = berthdtest.Daemon{Root: d.root, State: d.state, Addr: d.addr,
		Log: filepath.Join(d.dir, fmt.Sprintf("berthd.%d.log", d.logs))}
	d.proc.Start(d.t, berthdBin)
}

// kill ends berthd with SIGKILL, as a crash would.
func (d *daemon) kill() { d.proc.Kill() }

func (d *daemon) stop() { d.proc.Stop(15 * time.Second) }

// cleanup removes every container, stops berthd, and checks (and then
// clears) what might be left on the host: shims, mounts, cgroups.
func (d *daemon) cleanup() {
	if d.proc.Running() {
		if ids := strings.Fields(d.out("ps", "-aq", "--no-trunc")); len(ids) > 0 {
			d.berth(append([]string{"rm", "-f"}, ids...)...)
		}
	}
	d.stop()
	if d.t.Failed() {
		for i := 1; i <= d.logs; i++ {
			b, _ := os.ReadFile(filepath.Join(d.dir, fmt.Sprintf("berthd.%d.log", i)))
			d.t.Logf("berthd log %d:\n%s", i, b)
		}
	}
	for _, pid := range d.shims() {
		syscall.Kill(pid, syscall.SIGKILL)
	}
	for _, m := range mountsUnder(d.dir) {
		syscall.Unmount(m, syscall.MNT_DETACH)
	}
	os.RemoveAll(d.dir)
}

// result is one CLI run.
type result struct {
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
}

// berthIn runs the CLI with stdin.
func (d *daemon) berthIn(stdin string, args ...string) result {
	d.t.Helper()
	r := d.proc.Run(d.t, berthBin, nil, stdin, 2*time.Minute, args...)
	return result{stdout: r.Stdout, stderr: r.Stderr, code: r.Code}
}

func (d *daemon) berth(args ...string) result {
	d.t.Helper()
	return d.berthIn("", args...)
}

// ok runs the CLI and fails the test unless it exits 0.
func (d *daemon) ok(args ...string) string {
	d.t.Helper()
	r := d.berth(args...)
	if r.code != 0 {
		d.t.Fatalf("berth %s: %v", strings.Join(args, " "), r)
	}
	return r.stdout
}

func (d *daemon) out(args ...string) string {
	d.t.Helper()
	return strings.TrimSpace(d.berth(args...).stdout)
}

// fails runs the CLI, wants a non-zero exit, and returns stderr.
func (d *daemon) fails(args ...string) result {
	d.t.Helper()
	r := d.berth(args...)
	if r.code == 0 {
		d.t.Fatalf("berth %s succeeded, want an error: %v", strings.Join(args, " "), r)
	}
	return r
}

// inspect returns a container's inspect JSON.
func (d *daemon) inspect(name string) map[string]any {
	d.t.Helper()
	var v []map[string]any
	if err := json.Unmarshal([]byte(d.ok("inspect", name)), &v); err != nil || len(v) != 1 {
		d.t.Fatalf("inspect %s: %v", name, err)
	}
	return v[0]
}

// field walks inspect JSON: field(m, "State", "Status").
func field(m map[string]any, path ...string) any {
	var v any = m
	for _, p := range path {
		mm, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = mm[p]
	}
	return v
}

// status is a container's State.Status.
func (d *daemon) status(name string) string {
	d.t.Helper()
	return d.out("inspect", "-f", "{{.State.Status}}", name)
}

// waitStatus waits until the container has the status.
func (d *daemon) waitStatus(name, want string, timeout time.Duration) {
	d.t.Helper()
	deadline := time.Now().Add(timeout)
	got := ""
	for time.Now().Before(deadline) {
		if got = d.status(name); got == want {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	d.t.Fatalf("container %s is %q, want %q", name, got, want)
}

// shims lists the pids of shims started for this berthd.
func (d *daemon) shims() []int {
	var pids []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(string(b), "\x00")
		if len(args) > 0 && strings.HasSuffix(args[0], "containerd-shim-berth-v2") && strings.Contains(string(b), d.addr) {
			pids = append(pids, pid)
		}
	}
	return pids
}

func mountsUnder(dir string) []string {
	b, _ := os.ReadFile("/proc/self/mountinfo")
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) > 4 && strings.HasPrefix(f[4], dir+"/") {
			out = append(out, f[4])
		}
	}
	return out
}

// cgroupsOf lists the container cgroups (any v1 hierarchy or v2) of ids.
func cgroupsOf(ids []string) []string {
	var out []string
	for _, id := range ids {
		m, _ := filepath.Glob("/sys/fs/cgroup/*/berth/" + id)
		out = append(out, m...)
		m, _ = filepath.Glob("/sys/fs/cgroup/berth/" + id)
		out = append(out, m...)
	}
	return out
}

// assertClean checks that nothing of a run is left: no bundle, no mount,
// no shim, no netns, and no cgroup of the given containers.
func (d *daemon) assertClean(ids ...string) {
	d.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var problems []string
		if ents, _ := os.ReadDir(filepath.Join(d.state, "bundles")); len(ents) > 0 {
			problems = append(problems, fmt.Sprintf("%d bundles left", len(ents)))
		}
		if ents, _ := os.ReadDir(filepath.Join(d.state, "netns")); len(ents) > 0 {
			problems = append(problems, fmt.Sprintf("%d netns left", len(ents)))
		}
		if m := mountsUnder(d.dir); len(m) > 0 {
			problems = append(problems, fmt.Sprintf("mounts left: %v", m))
		}
		if p := d.shims(); len(p) > 0 {
			problems = append(problems, fmt.Sprintf("shims left: %v", p))
		}
		if cg := cgroupsOf(ids); len(cg) > 0 {
			problems = append(problems, fmt.Sprintf("cgroups left: %v", cg))
		}
		if len(problems) == 0 {
			return
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("leftovers: %s", strings.Join(problems, "; "))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// containerDirs counts the containers' directories under the root.
func (d *daemon) containerDirs() int {
	ents, _ := os.ReadDir(filepath.Join(d.root, "containers"))
	return len(ents)
}

func lines(s string) []string {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}
