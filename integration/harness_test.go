// Package integration holds black-box tests for berth-runtime. They drive the
// built binary exactly as containerd, conmon and dockerd do (runc's command
// line) and assert what a process inside the container observes. The same
// suite runs against runc: BERTH_RUNTIME=/usr/sbin/runc go test ./integration/
//
// Every test uses its own --root state directory and its own bundle, so tests
// run in parallel. The tests need root; as any other user they skip.
package integration

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// cgroupParent is the cgroup (relative to every hierarchy's root) under
// which each test container gets its own cgroupsPath, so leftovers are easy
// to find and never mix with the test binary's own cgroup.
const cgroupParent = "/berth-integration"

// cmdTimeout bounds every runtime invocation so a hung runtime fails the
// test instead of the whole run.
const cmdTimeout = 60 * time.Second

var (
	runtimeBin  string // absolute path of the runtime under test
	templateDir string // rootfs template built once per test binary run

	specOnce  sync.Once
	specBytes []byte // the runtime's own `spec` output, cached
	specErr   error

	versionOnce sync.Once
	isRuncRT    bool

	idCounter atomic.Int64
)

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	runtimeBin = os.Getenv("BERTH_RUNTIME")
	switch {
	case runtimeBin == "":
		// go test runs in the package directory: the binary is <repo>/bin.
		runtimeBin = filepath.Join("..", "bin", "berth-runtime")
	case !strings.Contains(runtimeBin, "/"):
		if path, err := exec.LookPath(runtimeBin); err == nil {
			runtimeBin = path
		}
	}
	if abs, err := filepath.Abs(runtimeBin); err == nil {
		runtimeBin = abs
	}
	if os.Geteuid() == 0 {
		dir, err := buildTemplate()
		if err != nil {
			fmt.Fprintf(os.Stderr, "integration: build rootfs template: %v\n", err)
			return 1
		}
		templateDir = dir
		defer os.RemoveAll(dir)
		defer removeCgroupParent()
	}
	return m.Run()
}

// requireRoot skips the test unless it runs as root: creating containers
// needs namespaces, mounts and cgroups.
func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("integration tests need root")
	}
	if _, err := os.Stat(runtimeBin); err != nil {
		t.Fatalf("runtime under test: %v (run make build, or set BERTH_RUNTIME)", err)
	}
}

// isRunc reports whether the runtime under test is runc itself; a few tests
// check behaviour the OCI spec asks for but runc does not implement.
func isRunc(t *testing.T) bool {
	t.Helper()
	versionOnce.Do(func() {
		out, _ := exec.Command(runtimeBin, "--version").Output()
		isRuncRT = strings.HasPrefix(string(out), "runc ")
	})
	return isRuncRT
}

// skipIfRunc skips the (sub)test when running against runc, saying why.
func skipIfRunc(t *testing.T, why string) {
	t.Helper()
	if isRunc(t) {
		t.Skip("runc differs here: " + why)
	}
}

// buildTemplate makes a rootfs from Debian's busybox-static: bin/busybox
// plus one symlink per applet, the usual top-level dirs, and a passwd/group
// with root, a test user 1000:1000 and nobody.
func buildTemplate() (string, error) {
	dir, err := os.MkdirTemp("", "berth-integration-rootfs-")
	if err != nil {
		return "", err
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return "", err
	}
	for _, d := range []string{"bin", "proc", "sys", "dev", "etc", "root", "home/user"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return "", err
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "tmp"), 0o777); err != nil {
		return "", err
	}
	if err := os.Chmod(filepath.Join(dir, "tmp"), 0o1777); err != nil {
		return "", err
	}
	if err := os.Chown(filepath.Join(dir, "home/user"), 1000, 1000); err != nil {
		return "", err
	}
	if err := copyFile("/bin/busybox", filepath.Join(dir, "bin/busybox")); err != nil {
		return "", err
	}
	list, err := exec.Command("/bin/busybox", "--list").Output()
	if err != nil {
		return "", fmt.Errorf("busybox --list: %w", err)
	}
	for _, applet := range strings.Fields(string(list)) {
		if applet == "busybox" {
			continue
		}
		if err := os.Symlink("busybox", filepath.Join(dir, "bin", applet)); err != nil {
			return "", err
		}
	}
	files := map[string]string{
		"etc/passwd": "root:x:0:0:root:/root:/bin/sh\n" +
			"user:x:1000:1000:user:/home/user:/bin/sh\n" +
			"nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
		"etc/group": "root:x:0:\n" +
			"user:x:1000:\n" +
			"nogroup:x:65534:\n",
		"etc/hostname": "template\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			return "", err
		}
	}
	return dir, nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fi.Mode().Perm())
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// copyTree copies the template rootfs: directories, symlinks, regular files.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		fi, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
			if err := os.Chmod(target, fi.Mode().Perm()|fi.Mode()&os.ModeSticky); err != nil {
				return err
			}
		case d.Type()&os.ModeSymlink != 0:
			link, err := os.Readlink(path)
			if err != nil {
				return err
			}
			return os.Symlink(link, target)
		default:
			if err := copyFile(path, target); err != nil {
				return err
			}
		}
		if rel == "home/user" {
			return os.Chown(target, 1000, 1000)
		}
		return nil
	})
}

// removeCgroupParent removes the (then empty) parent cgroups the tests used.
func removeCgroupParent() {
	hs, _ := os.ReadDir("/sys/fs/cgroup")
	for _, h := range hs {
		os.Remove(filepath.Join("/sys/fs/cgroup", h.Name(), cgroupParent))
	}
}

// runtimeSpec returns the runtime's own `spec` output (generated once).
func runtimeSpec(t *testing.T) []byte {
	t.Helper()
	specOnce.Do(func() {
		dir, err := os.MkdirTemp("", "berth-integration-spec-")
		if err != nil {
			specErr = err
			return
		}
		defer os.RemoveAll(dir)
		cmd := exec.Command(runtimeBin, "spec")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			specErr = fmt.Errorf("%s spec: %v: %s", runtimeBin, err, out)
			return
		}
		specBytes, specErr = os.ReadFile(filepath.Join(dir, "config.json"))
	})
	if specErr != nil {
		t.Fatal(specErr)
	}
	return specBytes
}

// newID returns a container id unique in this test binary run and readable:
// it starts with the test name.
func newID(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	for _, r := range strings.ToLower(t.Name()) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	name := strings.TrimPrefix(b.String(), "test")
	if len(name) > 32 {
		name = name[:32]
	}
	return fmt.Sprintf("%s-%d-%d", strings.Trim(name, "-"), os.Getpid(), idCounter.Add(1))
}

// bundle is an OCI bundle in a test's temp dir. id is the container id the
// test should use for it; the spec's cgroupsPath is derived from it.
type bundle struct {
	dir    string
	rootfs string
	id     string
	spec   specs.Spec
}

// newBundle builds a fresh bundle whose config.json is the runtime's `spec`
// output with terminal false, the given args (if any) and a cgroupsPath
// under cgroupParent.
func newBundle(t *testing.T, args ...string) *bundle {
	t.Helper()
	b := &bundle{dir: t.TempDir(), id: newID(t)}
	b.rootfs = filepath.Join(b.dir, "rootfs")
	if err := copyTree(templateDir, b.rootfs); err != nil {
		t.Fatalf("copy rootfs: %v", err)
	}
	if err := json.Unmarshal(runtimeSpec(t), &b.spec); err != nil {
		t.Fatalf("parse runtime spec output: %v", err)
	}
	b.spec.Process.Terminal = false
	if len(args) > 0 {
		b.spec.Process.Args = args
	}
	b.spec.Linux.CgroupsPath = b.cgroupsPath()
	b.write(t)
	return b
}

// edit applies fns to the spec and rewrites config.json.
func (b *bundle) edit(t *testing.T, fns ...func(*specs.Spec)) *bundle {
	t.Helper()
	for _, fn := range fns {
		fn(&b.spec)
	}
	b.write(t)
	return b
}

func (b *bundle) write(t *testing.T) {
	t.Helper()
	data, err := json.MarshalIndent(&b.spec, "", "\t")
	if err != nil {
		t.Fatalf("marshal spec: %v", err)
	}
	if err := os.WriteFile(filepath.Join(b.dir, "config.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func (b *bundle) cgroupsPath() string { return cgroupParent + "/" + b.id }

// Spec edits used by many tests.

func writableRoot(s *specs.Spec) { s.Root.Readonly = false }

func withNamespace(typ specs.LinuxNamespaceType, path string) func(*specs.Spec) {
	return func(s *specs.Spec) {
		for i, ns := range s.Linux.Namespaces {
			if ns.Type == typ {
				s.Linux.Namespaces[i].Path = path
				return
			}
		}
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: typ, Path: path})
	}
}

func withoutNamespace(typ specs.LinuxNamespaceType) func(*specs.Spec) {
	return func(s *specs.Spec) {
		var kept []specs.LinuxNamespace
		for _, ns := range s.Linux.Namespaces {
			if ns.Type != typ {
				kept = append(kept, ns)
			}
		}
		s.Linux.Namespaces = kept
	}
}

func withMounts(ms ...specs.Mount) func(*specs.Spec) {
	return func(s *specs.Spec) { s.Mounts = append(s.Mounts, ms...) }
}

func withResources(fn func(*specs.LinuxResources)) func(*specs.Spec) {
	return func(s *specs.Spec) {
		if s.Linux.Resources == nil {
			s.Linux.Resources = &specs.LinuxResources{}
		}
		fn(s.Linux.Resources)
	}
}

// rtCmd returns an unstarted command running the runtime with --root root.
func rtCmd(ctx context.Context, root string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, runtimeBin, append([]string{"--root", root}, args...)...)
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// rt runs the runtime with --root root and returns its stdout, stderr and
// exit code. Output goes through files rather than pipes: a detached
// container inherits the runtime's stdio and would keep a pipe open.
func rt(t *testing.T, root string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	outF, errF := tempFile(t), tempFile(t)
	defer outF.Close()
	defer errF.Close()
	cmd := rtCmd(ctx, root, args...)
	cmd.Stdout, cmd.Stderr = outF, errF
	err := cmd.Run()
	stdout, stderr = readBack(t, outF), readBack(t, errF)
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr):
		code = exitErr.ExitCode()
		if ctx.Err() != nil {
			t.Fatalf("%s %s: timed out after %v; stderr: %s", filepath.Base(runtimeBin), strings.Join(args, " "), cmdTimeout, stderr)
		}
	default:
		t.Fatalf("%s %s: %v", filepath.Base(runtimeBin), strings.Join(args, " "), err)
	}
	return stdout, stderr, code
}

// rtOK runs the runtime and fails the test unless it exits 0; it returns
// stdout.
func rtOK(t *testing.T, root string, args ...string) string {
	t.Helper()
	stdout, stderr, code := rt(t, root, args...)
	if code != 0 {
		t.Fatalf("%s %s: exit code %d, stderr: %s", filepath.Base(runtimeBin), strings.Join(args, " "), code, stderr)
	}
	return stdout
}

func tempFile(t *testing.T) *os.File {
	t.Helper()
	f, err := os.CreateTemp("", "berth-integration-out-")
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(f.Name()) // anonymous: the fd keeps it alive
	return f
}

func readBack(t *testing.T, f *os.File) string {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/self/fd/%d", f.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// runContainer runs the bundle in the foreground (`run`) in a fresh root and
// returns stdout, stderr and the exit code; extra flags go before the id.
func runContainer(t *testing.T, b *bundle, flags ...string) (stdout, stderr string, code int) {
	t.Helper()
	return runContainerIn(t, t.TempDir(), b, flags...)
}

// runContainerIn is runContainer with a given --root.
func runContainerIn(t *testing.T, root string, b *bundle, flags ...string) (stdout, stderr string, code int) {
	t.Helper()
	args := append([]string{"run", "--bundle", b.dir}, flags...)
	stdout, stderr, code = rt(t, root, append(args, b.id)...)
	t.Cleanup(func() { rt(t, root, "delete", "--force", b.id) })
	return stdout, stderr, code
}

// runOK runs the bundle and fails unless the container exits 0; it returns
// the container's stdout.
func runOK(t *testing.T, b *bundle, flags ...string) string {
	t.Helper()
	stdout, stderr, code := runContainer(t, b, flags...)
	if code != 0 {
		t.Fatalf("run %v: exit code %d, stdout: %q, stderr: %q", b.spec.Process.Args, code, stdout, stderr)
	}
	return stdout
}

// created is a container made with `create` whose stdio the test holds.
type created struct {
	root   string
	id     string
	b      *bundle
	stdout *os.File // the container's stdout and stderr (create's stdio)
}

// create runs `create` for b in root, with the container's stdout and stderr
// going to a file, and registers a forced delete for cleanup.
func create(t *testing.T, root string, b *bundle, flags ...string) *created {
	t.Helper()
	c := &created{root: root, id: b.id, b: b, stdout: tempFile(t)}
	t.Cleanup(func() { c.stdout.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	args := append([]string{"create", "--bundle", b.dir}, flags...)
	errF := tempFile(t)
	defer errF.Close()
	cmd := rtCmd(ctx, root, append(args, b.id)...)
	cmd.Stdout, cmd.Stderr = c.stdout, c.stdout
	t.Cleanup(func() { rt(t, root, "delete", "--force", b.id) })
	if err := cmd.Run(); err != nil {
		t.Fatalf("create %s: %v: %s", b.id, err, readBack(t, c.stdout))
	}
	return c
}

// output returns what the container wrote to its stdout/stderr so far.
func (c *created) output(t *testing.T) string {
	t.Helper()
	return readBack(t, c.stdout)
}

// start runs `start` and fails the test on error.
func (c *created) start(t *testing.T) {
	t.Helper()
	rtOK(t, c.root, "start", c.id)
}

// startContainer creates and starts b in a fresh root.
func startContainer(t *testing.T, b *bundle) *created {
	t.Helper()
	c := create(t, t.TempDir(), b)
	c.start(t)
	return c
}

// containerState is the runtime's `state` output: the OCI state plus runc's
// extra fields.
type containerState struct {
	OCIVersion  string            `json:"ociVersion"`
	ID          string            `json:"id"`
	Pid         int               `json:"pid"`
	Status      string            `json:"status"`
	Bundle      string            `json:"bundle"`
	Rootfs      string            `json:"rootfs"`
	Created     string            `json:"created"`
	Owner       string            `json:"owner"`
	Annotations map[string]string `json:"annotations"`
}

func (c *created) state(t *testing.T) containerState {
	t.Helper()
	return stateOf(t, c.root, c.id)
}

func stateOf(t *testing.T, root, id string) containerState {
	t.Helper()
	out := rtOK(t, root, "state", id)
	var st containerState
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("state %s: %v in %q", id, err, out)
	}
	return st
}

// waitStatus polls `state` until the container has the wanted status.
func (c *created) waitStatus(t *testing.T, want string) containerState {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		st := c.state(t)
		if st.Status == want {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("container %s: status %q, want %q", c.id, st.Status, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitForState polls `state` until the container exists with the wanted
// status (for containers started by a command still running).
func waitForState(t *testing.T, root, id, want string) containerState {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		out, _, code := rt(t, root, "state", id)
		var st containerState
		if code == 0 && json.Unmarshal([]byte(out), &st) == nil && st.Status == want {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("container %s: state %q, want status %q", id, out, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitOutput polls the container's output until it contains want.
func (c *created) waitOutput(t *testing.T, want string) string {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		out := c.output(t)
		if strings.Contains(out, want) {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("container output %q, want it to contain %q", out, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// exec runs `exec` in the container and returns stdout, stderr, exit code.
func (c *created) exec(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return rt(t, c.root, append([]string{"exec", c.id}, args...)...)
}

// execOK runs `exec` and fails unless it exits 0; it returns stdout.
func (c *created) execOK(t *testing.T, args ...string) string {
	t.Helper()
	stdout, stderr, code := c.exec(t, args...)
	if code != 0 {
		t.Fatalf("exec %v: exit code %d, stderr: %q", args, code, stderr)
	}
	return stdout
}

// stderrLines returns the non-empty lines of a runtime's stderr.
func stderrLines(stderr string) []string {
	var lines []string
	for _, l := range strings.Split(stderr, "\n") {
		if strings.TrimSpace(l) != "" {
			lines = append(lines, l)
		}
	}
	return lines
}

// nsLink returns the namespace link (e.g. "net:[4026531840]") of a process.
func nsLink(t *testing.T, pid int, ns string) string {
	t.Helper()
	link, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", pid, ns))
	if err != nil {
		t.Fatal(err)
	}
	return link
}

// readPidFile reads a pid file written by the runtime.
func readPidFile(t *testing.T, path string) int {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("pid file: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatalf("pid file %s: %q is not a pid", path, data)
	}
	return pid
}
