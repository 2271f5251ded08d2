// Package compat holds drop-in tests: the engines that use runc today —
// Debian's containerd 1.6 with its stock containerd-shim-runc-v2, podman
// 4.3 with conmon, and dockerd 20.10 — run containers with berth-runtime
// in runc's place. Each test starts its engine with its own root, state
// and socket under a temp dir and removes every trace when it ends
// (daemons are stopped by pid).
//
// The runtime under test is $COMPAT_RUNTIME, default <repo>/bin/berth-runtime;
//
//	COMPAT_RUNTIME=/usr/sbin/runc go test ./integration/compat/
//
// runs the same tests with runc. The tests need root; without it, or
// without an engine's binaries, they skip.
package compat

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const (
	// imageRef is the busybox image every engine loads from imageTar.
	imageRef   = "localhost/berth-compat-busybox:latest"
	cmdTimeout = 90 * time.Second
)

var (
	runtimeBin string // absolute path of the runtime under test
	imageTar   string // docker-archive of a busybox image, built once
)

func TestMain(m *testing.M) { os.Exit(testMain(m)) }

func testMain(m *testing.M) int {
	runtimeBin = os.Getenv("COMPAT_RUNTIME")
	if runtimeBin == "" {
		runtimeBin = filepath.Join("..", "..", "bin", "berth-runtime")
	} else if !strings.Contains(runtimeBin, "/") {
		if p, err := exec.LookPath(runtimeBin); err == nil {
			runtimeBin = p
		}
	}
	if abs, err := filepath.Abs(runtimeBin); err == nil {
		runtimeBin = abs
	}
	if os.Geteuid() == 0 {
		dir, err := os.MkdirTemp("", "berth-compat-image-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		imageTar = filepath.Join(dir, "busybox.tar")
		if err := buildDockerArchive(imageTar); err != nil {
			fmt.Fprintf(os.Stderr, "compat: build image: %v\n", err)
			return 1
		}
	}
	return m.Run()
}

// requireEngine skips unless root and the named binaries exist, and fails
// without the runtime under test.
func requireEngine(t *testing.T, bins ...string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("compat tests need root")
	}
	if _, err := os.Stat(runtimeBin); err != nil {
		t.Fatalf("runtime under test: %v (run make build, or set COMPAT_RUNTIME)", err)
	}
	for _, b := range bins {
		if _, err := exec.LookPath(b); err != nil {
			t.Skipf("%s not installed", b)
		}
	}
}

// result is one command's outcome.
type result struct {
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
}

// run runs name with args and env added to the environment, and returns
// its result. It fails the test only if the command cannot run at all.
func run(t *testing.T, env []string, name string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.WaitDelay = 5 * time.Second
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
		if ctx.Err() != nil {
			t.Fatalf("%s %s: timed out after %v: %s", name, strings.Join(args, " "), cmdTimeout, r)
		}
	default:
		t.Fatalf("%s %s: %v", name, strings.Join(args, " "), err)
	}
	return r
}

// mustRun is run that fails the test unless the command exits 0.
func mustRun(t *testing.T, env []string, name string, args ...string) string {
	t.Helper()
	r := run(t, env, name, args...)
	if r.code != 0 {
		t.Fatalf("%s %s: %s", name, strings.Join(args, " "), r)
	}
	return r.stdout
}

// eventually polls fn until it returns true or 15s pass.
func eventually(t *testing.T, what string, fn func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !fn() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// daemonProc is an engine daemon this test started.
type daemonProc struct {
	cmd    *exec.Cmd
	waited chan struct{}
	log    string
}

// startDaemon starts name with args, its output going to log.
func startDaemon(t *testing.T, log string, env []string, name string, args ...string) *daemonProc {
	t.Helper()
	f, err := os.Create(log)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	d := &daemonProc{cmd: cmd, waited: make(chan struct{}), log: log}
	go func() { cmd.Wait(); close(d.waited) }()
	return d
}

// stop ends the daemon by its pid: SIGTERM, then SIGKILL after 20s.
func (d *daemonProc) stop() {
	if d == nil || d.cmd == nil {
		return
	}
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.waited:
	case <-time.After(20 * time.Second):
		d.cmd.Process.Signal(syscall.SIGKILL)
		<-d.waited
	}
	d.cmd = nil
}

func (d *daemonProc) exited() bool {
	select {
	case <-d.waited:
		return true
	default:
		return false
	}
}

func (d *daemonProc) logTail() string {
	b, _ := os.ReadFile(d.log)
	lines := strings.Split(string(b), "\n")
	if len(lines) > 40 {
		lines = lines[len(lines)-40:]
	}
	return strings.Join(lines, "\n")
}

// shortTempDir makes a temp dir under /tmp with a short name: unix socket
// paths (sun_path, 108 bytes) of the engines and shims live under it.
func shortTempDir(t *testing.T, prefix string) string {
	t.Helper()
	dir, err := os.MkdirTemp("/tmp", prefix)
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// killProcessesMentioning SIGKILLs live processes whose command line
// contains s (a temp dir of this test), never this test itself.
func killProcessesMentioning(t *testing.T, s string) {
	t.Helper()
	for _, pid := range processesMentioning(s) {
		t.Logf("killing leftover process %d", pid)
		syscall.Kill(pid, syscall.SIGKILL)
	}
}

func processesMentioning(s string) []int {
	var pids []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err == nil && bytes.Contains(cmdline, []byte(s)) && !isZombie(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

func isZombie(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	i := bytes.LastIndexByte(data, ')')
	return i < 0 || i+2 >= len(data) || data[i+2] == 'Z' || data[i+2] == 'X'
}

// mountsUnder lists host mount points at or below dir, deepest first.
func mountsUnder(dir string) []string {
	b, _ := os.ReadFile("/proc/self/mountinfo")
	var mps []string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) > 4 && (f[4] == dir || strings.HasPrefix(f[4], dir+"/")) {
			mps = append(mps, f[4])
		}
	}
	sort.Sort(sort.Reverse(sort.StringSlice(mps)))
	return mps
}

func unmountUnder(dir string) {
	for _, m := range mountsUnder(dir) {
		syscall.Unmount(m, syscall.MNT_DETACH)
	}
}

// cgroupParents lists which hierarchies have a cgroup named name at their
// root, so a test removes only the parents it created.
func cgroupParents(name string) []string {
	dirs, _ := filepath.Glob("/sys/fs/cgroup/*/" + name)
	return dirs
}

// removeCgroupTree removes the (empty) cgroups under each dir, deepest first.
func removeCgroupTree(dirs []string) {
	for _, d := range dirs {
		var all []string
		filepath.WalkDir(d, func(p string, e os.DirEntry, err error) error {
			if err == nil && e.IsDir() {
				all = append(all, p)
			}
			return nil
		})
		sort.Sort(sort.Reverse(sort.StringSlice(all)))
		for _, p := range all {
			os.Remove(p)
		}
	}
}

// newCgroupParents returns the parents named name that exist now but not
// in before.
func newCgroupParents(name string, before []string) []string {
	var created []string
	for _, d := range cgroupParents(name) {
		if !slices.Contains(before, d) {
			created = append(created, d)
		}
	}
	return created
}

// cgroupsOf lists the cgroup dirs named id anywhere below /sys/fs/cgroup/*/parent.
func cgroupsOf(parent, id string) []string {
	var found []string
	for _, d := range cgroupParents(parent) {
		filepath.WalkDir(d, func(p string, e os.DirEntry, err error) error {
			if err == nil && e.IsDir() && e.Name() == id {
				found = append(found, p)
			}
			return nil
		})
	}
	return found
}

// ---------------------------------------------------------------- image

// buildDockerArchive writes a `docker save` style tar (manifest.json,
// config, one layer) of a busybox rootfs, named imageRef. docker load,
// podman load and ctr images import all read this format.
func buildDockerArchive(out string) error {
	layer, err := busyboxLayer()
	if err != nil {
		return err
	}
	layerSum := sha256.Sum256(layer)
	layerID := hex.EncodeToString(layerSum[:])
	config, err := json.Marshal(map[string]any{
		"architecture": "amd64",
		"os":           "linux",
		"created":      "1970-01-01T00:00:00Z",
		"config": map[string]any{
			"Env": []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
			"Cmd": []string{"/bin/sh"},
		},
		"rootfs":  map[string]any{"type": "layers", "diff_ids": []string{"sha256:" + layerID}},
		"history": []any{map[string]any{"created": "1970-01-01T00:00:00Z", "created_by": "berth compat test"}},
	})
	if err != nil {
		return err
	}
	configSum := sha256.Sum256(config)
	configName := hex.EncodeToString(configSum[:]) + ".json"
	manifest, err := json.Marshal([]any{map[string]any{
		"Config":   configName,
		"RepoTags": []string{imageRef},
		"Layers":   []string{layerID + "/layer.tar"},
	}})
	if err != nil {
		return err
	}
	repo, tag, _ := strings.Cut(imageRef, ":")
	repositories, _ := json.Marshal(map[string]map[string]string{repo: {tag: layerID}})

	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	files := []struct {
		name string
		data []byte
	}{
		{layerID + "/VERSION", []byte("1.0")},
		{layerID + "/json", []byte(`{"id":"` + layerID + `"}`)},
		{layerID + "/layer.tar", layer},
		{configName, config},
		{"manifest.json", manifest},
		{"repositories", repositories},
	}
	if err := tw.WriteHeader(&tar.Header{Name: layerID + "/", Mode: 0o755, Typeflag: tar.TypeDir}); err != nil {
		return err
	}
	for _, file := range files {
		if err := tw.WriteHeader(&tar.Header{Name: file.name, Mode: 0o644, Size: int64(len(file.data)), Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		if _, err := tw.Write(file.data); err != nil {
			return err
		}
	}
	return tw.Close()
}

// busyboxLayer returns an uncompressed layer tar: /bin/busybox with a
// symlink per applet where busybox installs it, the usual dirs, passwd and
// group.
func busyboxLayer() ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	epoch := time.Unix(0, 0)
	dir := func(name string, mode int64) error {
		return tw.WriteHeader(&tar.Header{Name: name + "/", Mode: mode, Typeflag: tar.TypeDir, ModTime: epoch})
	}
	file := func(name string, mode int64, data []byte) error {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: mode, Size: int64(len(data)), Typeflag: tar.TypeReg, ModTime: epoch}); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	for _, d := range []string{"bin", "sbin", "usr", "usr/bin", "usr/sbin", "etc", "proc", "sys", "dev", "root", "run", "var"} {
		if err := dir(d, 0o755); err != nil {
			return nil, err
		}
	}
	if err := dir("tmp", 0o1777); err != nil {
		return nil, err
	}
	bb, err := os.ReadFile("/bin/busybox")
	if err != nil {
		return nil, err
	}
	if err := file("bin/busybox", 0o755, bb); err != nil {
		return nil, err
	}
	list, err := exec.Command("/bin/busybox", "--list-full").Output()
	if err != nil {
		return nil, fmt.Errorf("busybox --list-full: %w", err)
	}
	seen := map[string]bool{"bin/busybox": true}
	for _, p := range strings.Fields(string(list)) {
		if seen[p] {
			continue
		}
		seen[p] = true
		if err := tw.WriteHeader(&tar.Header{Name: p, Linkname: "/bin/busybox", Mode: 0o777, Typeflag: tar.TypeSymlink, ModTime: epoch}); err != nil {
			return nil, err
		}
	}
	if err := file("etc/passwd", 0o644, []byte("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n")); err != nil {
		return nil, err
	}
	if err := file("etc/group", 0o644, []byte("root:x:0:\nnogroup:x:65534:\n")); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
