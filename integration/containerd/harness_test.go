// Package containerd holds black-box tests of containerd-shim-berth-v2:
// Debian's containerd 1.6 (started by each test with its own root, state
// and socket in a temp dir, CRI off) drives the built shim through ctr, and
// a few tests talk to the shim's ttrpc socket directly with the task client
// for what ctr cannot express (bad input, event order, the delete action).
//
// The shim runs the runtime under test: $BERTH_RUNTIME, default
// <repo>/bin/berth-runtime. The tests copy the shim into a temp bin dir with
// a `berth-runtime` symlink next to it (the shim's default lookup), so
//
//	BERTH_RUNTIME=/usr/sbin/runc go test ./integration/containerd/
//
// runs the same suite against runc. $BERTH_SHIM overrides the shim binary.
// The tests need root (and `make build`); as any other user they skip.
package containerd

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/berth-project/berth/integration/internal/containerdtest"
)

const (
	// imageRef is the busybox image every test imports.
	imageRef = "docker.io/library/berth-busybox:latest"
	// runtimeName makes containerd run containerd-shim-berth-v2.
	runtimeName = "io.containerd.berth.v2"
	cmdTimeout  = 60 * time.Second
)

var (
	shimBin    string // the shim under test
	runtimeBin string // the OCI runtime the shim runs
	fixtureDir string // image tar and rootfs template, built once
	imageTar   string
	rootfsDir  string
)

func TestMain(m *testing.M) { os.Exit(testMain(m)) }

func testMain(m *testing.M) int {
	shimBin = envPath("BERTH_SHIM", "../../bin/containerd-shim-berth-v2")
	runtimeBin = envPath("BERTH_RUNTIME", "../../bin/berth-runtime")
	if os.Geteuid() == 0 {
		dir, err := os.MkdirTemp("", "berth-shim-fixture-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		fixtureDir = dir
		rootfsDir = filepath.Join(dir, "rootfs")
		imageTar = filepath.Join(dir, "busybox.tar")
		if err := buildRootfs(rootfsDir); err != nil {
			fmt.Fprintf(os.Stderr, "build rootfs: %v\n", err)
			return 1
		}
		if err := buildImage(rootfsDir, imageTar); err != nil {
			fmt.Fprintf(os.Stderr, "build image: %v\n", err)
			return 1
		}
	}
	return m.Run()
}

func envPath(key, def string) string {
	p := os.Getenv(key)
	if p == "" {
		p = def
	}
	if abs, err := filepath.Abs(p); err == nil {
		p = abs
	}
	return p
}

// requireRoot skips unless root, and fails without the binaries under test.
func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("containerd integration tests need root")
	}
	for _, b := range []string{shimBin, runtimeBin} {
		if _, err := os.Stat(b); err != nil {
			t.Fatalf("%v (run make build, or set BERTH_SHIM / BERTH_RUNTIME)", err)
		}
	}
	for _, b := range []string{"containerd", "ctr"} {
		if _, err := exec.LookPath(b); err != nil {
			t.Skipf("%s not installed", b)
		}
	}
}

// ---------------------------------------------------------------- fixtures

// buildRootfs makes a busybox tree: /bin/busybox and one symlink per
// applet where busybox installs it, plus passwd and group.
func buildRootfs(dir string) error {
	for _, d := range []string{"bin", "sbin", "usr/bin", "usr/sbin", "etc", "proc", "sys", "dev", "root", "run", "var"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "tmp"), 0o1777); err != nil {
		return err
	}
	if err := os.Chmod(filepath.Join(dir, "tmp"), 0o1777); err != nil {
		return err
	}
	bb, err := os.ReadFile("/bin/busybox")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "bin/busybox"), bb, 0o755); err != nil {
		return err
	}
	list, err := exec.Command("/bin/busybox", "--list-full").Output()
	if err != nil {
		return fmt.Errorf("busybox --list-full: %w", err)
	}
	for _, p := range strings.Fields(string(list)) {
		if p == "bin/busybox" {
			continue
		}
		if err := os.Symlink("/bin/busybox", filepath.Join(dir, p)); err != nil && !os.IsExist(err) {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "etc/passwd"), []byte("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n"), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "etc/group"), []byte("root:x:0:\nnogroup:x:65534:\n"), 0o644)
}

// buildImage writes an OCI image layout tar (one gzip layer of dir) that
// `ctr images import` names imageRef.
func buildImage(dir, out string) error {
	var layer bytes.Buffer
	diff := sha256.New()
	gz := gzip.NewWriter(&layer)
	tw := tar.NewWriter(io.MultiWriter(gz, diff))
	var paths []string
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && p != dir {
			paths = append(paths, p)
		}
		return err
	})
	sort.Strings(paths)
	for _, p := range paths {
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		link := ""
		if fi.Mode()&os.ModeSymlink != 0 {
			if link, err = os.Readlink(p); err != nil {
				return err
			}
		}
		h, err := tar.FileInfoHeader(fi, link)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		h.Name, h.Uname, h.Gname, h.Uid, h.Gid = rel, "", "", 0, 0
		h.ModTime = time.Unix(0, 0)
		if fi.IsDir() {
			h.Name += "/"
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if fi.Mode().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if _, err := tw.Write(b); err != nil {
				return err
			}
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := gz.Close(); err != nil {
		return err
	}
	blobs := map[string][]byte{}
	add := func(b []byte) (string, int) {
		sum := sha256.Sum256(b)
		d := hex.EncodeToString(sum[:])
		blobs[d] = b
		return "sha256:" + d, len(b)
	}
	layerDigest, layerSize := add(layer.Bytes())
	config, _ := json.Marshal(map[string]any{
		"architecture": "amd64", "os": "linux",
		"config": map[string]any{"Env": []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}, "Cmd": []string{"/bin/sh"}},
		"rootfs": map[string]any{"type": "layers", "diff_ids": []string{"sha256:" + hex.EncodeToString(diff.Sum(nil))}},
	})
	configDigest, configSize := add(config)
	manifest, _ := json.Marshal(map[string]any{
		"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
		"config": map[string]any{"mediaType": "application/vnd.oci.image.config.v1+json", "digest": configDigest, "size": configSize},
		"layers": []any{map[string]any{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": layerDigest, "size": layerSize}},
	})
	manifestDigest, manifestSize := add(manifest)
	index, _ := json.Marshal(map[string]any{
		"schemaVersion": 2,
		"manifests": []any{map[string]any{
			"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": manifestDigest, "size": manifestSize,
			"annotations": map[string]string{"io.containerd.image.name": imageRef, "org.opencontainers.image.ref.name": "latest"},
		}},
	})
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer f.Close()
	ow := tar.NewWriter(f)
	files := map[string][]byte{"oci-layout": []byte(`{"imageLayoutVersion":"1.0.0"}`), "index.json": index}
	for d, b := range blobs {
		files["blobs/sha256/"+d] = b
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := ow.WriteHeader(&tar.Header{Name: n, Mode: 0o644, Size: int64(len(files[n])), Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		if _, err := ow.Write(files[n]); err != nil {
			return err
		}
	}
	return ow.Close()
}

// ------------------------------------------------------------- containerd

// daemon is one containerd instance with everything under dir.
type daemon struct {
	t      *testing.T
	dir    string // short: shim socket paths must fit in 108 bytes
	bin    string // shim copy + berth-runtime symlink, first in PATH
	ns     string
	sock   string
	cmd    *exec.Cmd
	waited chan struct{}
}

// newDaemon starts containerd with the shim on its PATH and imports the
// busybox image; everything is undone when the test ends.
func newDaemon(t *testing.T) *daemon {
	t.Helper()
	requireRoot(t)
	dir, err := os.MkdirTemp("/tmp", "bsh")
	if err != nil {
		t.Fatal(err)
	}
	d := &daemon{t: t, dir: dir, bin: filepath.Join(dir, "bin"), ns: "bsh-" + randHex(4), sock: filepath.Join(dir, "c.sock")}
	t.Cleanup(d.cleanup)
	installShim(t, d.bin)
	containerdtest.WriteConfig(t, dir, d.sock) // d.start runs containerd on it
	d.start()
	d.ctr("images", "import", imageTar)
	return d
}

// installShim puts a copy of the shim and a berth-runtime symlink in dir.
// A copy, not a link: the shim finds berth-runtime next to its resolved
// executable.
func installShim(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(shimBin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "containerd-shim-berth-v2"), b, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(runtimeBin, filepath.Join(dir, "berth-runtime")); err != nil {
		t.Fatal(err)
	}
}

func (d *daemon) start() {
	d.t.Helper()
	logf, err := os.OpenFile(filepath.Join(d.dir, "containerd.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		d.t.Fatal(err)
	}
	defer logf.Close()
	cmd := exec.Command("containerd", "-c", filepath.Join(d.dir, "config.toml"))
	cmd.Env = append(os.Environ(), "PATH="+d.bin+":"+os.Getenv("PATH"))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		d.t.Fatal(err)
	}
	d.cmd, d.waited = cmd, make(chan struct{})
	go func() { cmd.Wait(); close(d.waited) }()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if exec.Command("ctr", "-a", d.sock, "version").Run() == nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	d.t.Fatalf("containerd did not come up:\n%s", d.logTail())
}

// kill9 ends containerd with SIGKILL, as a crash would.
func (d *daemon) kill9() {
	d.cmd.Process.Signal(syscall.SIGKILL)
	<-d.waited
	d.cmd = nil
}

func (d *daemon) stop() {
	if d.cmd == nil {
		return
	}
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.waited:
	case <-time.After(10 * time.Second):
		d.cmd.Process.Signal(syscall.SIGKILL)
		<-d.waited
	}
	d.cmd = nil
}

// ctrResult is one ctr invocation.
type ctrResult struct {
	stdout, stderr string
	code           int
}

// run runs ctr against this daemon and namespace.
func (d *daemon) run(args ...string) ctrResult {
	d.t.Helper()
	return d.runStdin(nil, args...)
}

// runStdin runs ctr with stdin (nil: /dev/null).
func (d *daemon) runStdin(stdin io.Reader, args ...string) ctrResult {
	d.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ctr", append([]string{"-a", d.sock, "-n", d.ns}, args...)...)
	cmd.Stdin = stdin
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := ctrResult{stdout: out.String(), stderr: errb.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		d.t.Fatalf("ctr %s: %v", strings.Join(args, " "), err)
	}
	return r
}

// ctr runs ctr and fails the test unless it succeeds; it returns stdout.
func (d *daemon) ctr(args ...string) string {
	d.t.Helper()
	r := d.run(args...)
	if r.code != 0 {
		d.t.Fatalf("ctr %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// taskStatus returns the STATUS column of `ctr task ls` for id, "" if absent.
func (d *daemon) taskStatus(id string) string {
	d.t.Helper()
	for _, line := range strings.Split(d.ctr("task", "ls"), "\n") {
		f := strings.Fields(line)
		if len(f) == 3 && f[0] == id {
			return f[2]
		}
	}
	return ""
}

// waitStatus polls until id's task has status want.
func (d *daemon) waitStatus(id, want string) {
	d.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	got := ""
	for time.Now().Before(deadline) {
		if got = d.taskStatus(id); got == want {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	d.t.Fatalf("task %s status = %q, want %q", id, got, want)
}

// shimPids returns the pids of shims started from this daemon's bin dir.
func (d *daemon) shimPids() []int {
	return pidsOfExe(filepath.Join(d.bin, "containerd-shim-berth-v2"))
}

func pidsOfExe(exe string) []int {
	var pids []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if l, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid)); err == nil && l == exe {
			pids = append(pids, pid)
		}
	}
	return pids
}

func (d *daemon) logTail() string {
	b, _ := os.ReadFile(filepath.Join(d.dir, "containerd.log"))
	lines := strings.Split(string(b), "\n")
	if len(lines) > 40 {
		lines = lines[len(lines)-40:]
	}
	return strings.Join(lines, "\n")
}

// cleanup removes every trace: tasks, containers, the daemon, leftover
// shims (by pid, only ours), mounts, runtime state, cgroups, the temp dir.
func (d *daemon) cleanup() {
	if d.t.Failed() {
		d.t.Logf("containerd log (tail):\n%s", d.logTail())
	}
	if d.cmd != nil {
		for _, id := range strings.Fields(d.run("task", "ls", "-q").stdout) {
			d.run("task", "kill", "-s", "SIGKILL", id)
		}
		for _, id := range strings.Fields(d.run("task", "ls", "-q").stdout) {
			d.run("task", "delete", "-f", id)
		}
		for _, id := range strings.Fields(d.run("containers", "ls", "-q").stdout) {
			d.run("containers", "rm", id)
		}
		d.stop()
	}
	for _, pid := range d.shimPids() {
		d.t.Logf("killing leftover shim %d", pid)
		syscall.Kill(pid, syscall.SIGKILL)
	}
	cleanupHost(d.dir, d.ns)
}

// cleanupHost unmounts what is under dir and removes the runtime root and
// cgroups of namespace ns, then dir itself.
func cleanupHost(dir, ns string) {
	unmountUnder(dir)
	os.RemoveAll(filepath.Join("/run/berth-runtime", ns))
	removeCgroups(ns)
	os.RemoveAll(dir)
}

func unmountUnder(dir string) {
	b, _ := os.ReadFile("/proc/self/mountinfo")
	var mps []string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) > 4 && strings.HasPrefix(f[4], dir+"/") {
			mps = append(mps, f[4])
		}
	}
	sort.Sort(sort.Reverse(sort.StringSlice(mps)))
	for _, m := range mps {
		syscall.Unmount(m, syscall.MNT_DETACH)
	}
}

// removeCgroups removes /sys/fs/cgroup/*/NS (ctr's containers live in
// /NS/ID); removing a cgroup that still has processes fails harmlessly.
func removeCgroups(ns string) {
	dirs, _ := filepath.Glob("/sys/fs/cgroup/*/" + ns)
	if d := "/sys/fs/cgroup/" + ns; isDir(d) {
		dirs = append(dirs, d)
	}
	for _, d := range dirs {
		var all []string
		filepath.WalkDir(d, func(p string, e os.DirEntry, err error) error {
			if err == nil && e.IsDir() {
				all = append(all, p)
			}
			return nil
		})
		for i := len(all) - 1; i >= 0; i-- {
			os.Remove(all[i])
		}
	}
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// processAlive reports whether pid exists and is not a zombie.
func processAlive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i > 0 && len(s) > i+2 && s[i+2] != 'Z'
}
