package integration

// Security tests: each one attempts a known container escape and asserts
// that it fails. They need root and run against runc too
// (BERTH_RUNTIME=/usr/sbin/runc); where runc defends differently the test
// says so.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// fileSHA256 returns the hex sha256 of a file.
func fileSHA256(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// TestRuntimeExeFromHost is CVE-2019-5736 seen from the host: whoever can
// open /proc/PID/exe of a container's init while it still runs the runtime
// (between create and start) holds a reference to the runtime binary. After
// the container is gone, reopening that reference for writing must fail:
// berth starts init through a read-only bind mount of its binary (EROFS);
// runc 1.1 uses a detached read-only bind mount or a sealed memfd copy.
func TestRuntimeExeFromHost(t *testing.T) {
	requireRoot(t)
	t.Parallel()
	// A private copy of the binary: any other test running the shared one
	// would make the final write fail with ETXTBSY instead of EROFS.
	bin := filepath.Join(t.TempDir(), filepath.Base(runtimeBin))
	if err := copyFile(runtimeBin, bin); err != nil {
		t.Fatal(err)
	}
	before := fileSHA256(t, bin)
	b := newBundle(t, "true")
	root := t.TempDir()
	runtime := func(args ...string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, append([]string{"--root", root}, args...)...)
		out := tempFile(t)
		defer out.Close()
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Run(); err != nil {
			t.Fatalf("%s %s: %v: %s", filepath.Base(bin), strings.Join(args, " "), err, readBack(t, out))
		}
	}
	t.Cleanup(func() { exec.Command(bin, "--root", root, "delete", "--force", b.id).Run() })
	runtime("create", "--bundle", b.dir, b.id)
	pid := stateOf(t, root, b.id).Pid

	fd, err := unix.Open(fmt.Sprintf("/proc/%d/exe", pid), unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("open /proc/%d/exe O_PATH: %v", pid, err)
	}
	defer unix.Close(fd)
	var st, binSt unix.Stat_t
	if err := unix.Fstat(fd, &st); err == nil && unix.Stat(bin, &binSt) == nil {
		t.Logf("init's exe: dev %d ino %d (runtime binary: dev %d ino %d)", st.Dev, st.Ino, binSt.Dev, binSt.Ino)
	}
	reopen := fmt.Sprintf("/proc/self/fd/%d", fd)

	// While init runs the binary the kernel refuses writers (ETXTBSY) or the
	// mount does (EROFS); either way this must fail.
	if err := tryWrite(reopen); err == nil {
		t.Errorf("reopened the runtime binary of a created container's init for writing")
	} else {
		t.Logf("while init runs: %v", err)
	}

	runtime("delete", "--force", b.id)
	waitGone(t, pid)

	err = tryWrite(reopen)
	switch {
	case err == nil:
		t.Errorf("reopened the runtime binary through /proc/%d/exe for writing after the container was deleted", pid)
	case isRunc(t):
		t.Logf("after delete (runc): %v", err)
	case !errors.Is(err, unix.EROFS):
		t.Errorf("reopen for writing after delete: %v, want EROFS (init started from a read-only bind mount)", err)
	}
	if after := fileSHA256(t, bin); after != before {
		t.Errorf("runtime binary sha256 changed: %s -> %s", before, after)
	}
	assertNoLeftovers(t, root, b)
}

// tryWrite opens path for writing and writes back the byte already at
// offset 0, so that a success (the failure this test looks for) leaves the
// file as it was. It returns the first error.
func tryWrite(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, 0); err != nil {
		return err
	}
	_, err = f.WriteAt(b, 0)
	return err
}

// TestRuntimeExeFromContainer is CVE-2019-5736 as the original exploit did
// it: the container's command is a script starting with #!/proc/self/exe, so
// the kernel runs the runtime binary (the interpreter is the executable of
// the process doing execve: the runtime's init) inside the container. A
// process in the container then opens /proc/PID/exe of it and tries to
// write, both while it runs and after it is gone.
//
// For the runtime to run inside, the rootfs gets the runtime's shared
// libraries. It blocks writing its usage message to a full pipe, which
// keeps it alive for the attacker. The test runs a copy of the runtime
// binary, so a successful attack cannot damage bin/.
func TestRuntimeExeFromContainer(t *testing.T) {
	requireRoot(t)
	t.Parallel()
	bin := filepath.Join(t.TempDir(), filepath.Base(runtimeBin))
	if err := copyFile(runtimeBin, bin); err != nil {
		t.Fatal(err)
	}
	before := fileSHA256(t, bin)

	attack := `
victim=
while [ -z "$victim" ]; do
	for d in /proc/[0-9]*; do
		p=${d#/proc/}
		[ "$p" = 1 ] && continue
		e=$(readlink "$d/exe" 2>/dev/null) || continue
		[ -n "$e" ] && [ "$e" != /bin/busybox ] && victim=$p && break
	done
	[ -z "$victim" ] && usleep 20000
done
echo "victim $victim exe $e"
(
	exec 3<"/proc/$victim/exe" || exit 1
	echo opened
	if printf PWNED 1<>"/proc/$victim/exe" 2>&1; then echo WRITE-RUNNING-OK; fi
	kill -9 "$victim"
	while readlink "/proc/$victim/exe" >/dev/null 2>&1; do usleep 10000; done
	echo victim gone
	# Until the test says no runtime process is left: any running copy of
	# the binary (the host's exec command) makes writes fail with ETXTBSY.
	while [ ! -e /sig/go ]; do usleep 20000; done
	if printf PWNED 1<>/proc/self/fd/3 2>&1; then echo WRITE-AFTER-EXIT-OK; fi
) 2>&1
echo attack done
sleep 100
`
	b := newBundle(t, "sh", "-c", attack)
	sig := t.TempDir()
	b.edit(t, withMounts(bindMount(sig, "/sig", "rw")))
	copyLibraries(t, bin, b.rootfs)
	if err := os.WriteFile(filepath.Join(b.rootfs, "evil"), []byte("#!/proc/self/exe\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	run := func(ctx context.Context, args ...string) *exec.Cmd {
		cmd := exec.CommandContext(ctx, bin, append([]string{"--root", root}, args...)...)
		cmd.WaitDelay = 5 * time.Second
		return cmd
	}
	out := tempFile(t)
	defer out.Close()
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	t.Cleanup(func() { run(context.Background(), "delete", "--force", b.id).Run() })
	createCmd := run(ctx, "create", "--bundle", b.dir, b.id)
	createCmd.Stdout, createCmd.Stderr = out, out
	if err := createCmd.Run(); err != nil {
		t.Fatalf("create: %v: %s", err, readBack(t, out))
	}
	if msg, err := run(ctx, "start", b.id).CombinedOutput(); err != nil {
		t.Fatalf("start: %v: %s", err, msg)
	}

	waitFor := func(what string, d time.Duration) bool {
		deadline := time.Now().Add(d)
		for time.Now().Before(deadline) {
			if report := readBack(t, out); strings.Contains(report, what) || strings.Contains(report, "attack done") {
				return true
			}
			time.Sleep(50 * time.Millisecond)
		}
		return false
	}
	// The victim: exec of the script, its stdout and stderr a full pipe.
	// If the attacker sees no victim, exec failed for another reason
	// (reported below); retry with an environment of another size.
	var victimErr error
	var victimOut bytes.Buffer
	found := false
	for _, pad := range []string{"", "x", "xxxxxxxxxxxxx"} {
		r, w := fullPipe(t)
		victim := run(ctx, "exec", "-e", "PAD="+pad, b.id, "/evil")
		victim.Stdout, victim.Stderr = w, w
		if err := victim.Start(); err != nil {
			t.Fatal(err)
		}
		w.Close()
		found = waitFor("victim gone", 5*time.Second)
		victimOut.Reset()
		drained := make(chan struct{})
		go func() { // let exec finish
			io.Copy(&victimOut, r)
			close(drained)
		}()
		victimErr = victim.Wait()
		<-drained
		r.Close()
		if found || isRunc(t) {
			break
		}
		// Seen with berth: exec fails with ECONNRESET when the config
		// message has an unlucky size; that is not what this test is about.
		t.Logf("exec /evil with PAD=%q: %v, output %q, but no victim in the container", pad, victimErr, bytes.TrimLeft(victimOut.Bytes(), "\x00"))
	}
	if found {
		if err := os.WriteFile(filepath.Join(sig, "go"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		waitFor("attack done", 10*time.Second)
	}
	report := readBack(t, out)
	t.Logf("exec /evil: %v, output %q; attacker's report:\n%s", victimErr, bytes.TrimLeft(victimOut.Bytes(), "\x00"), report)

	for _, success := range []string{"WRITE-RUNNING-OK", "WRITE-AFTER-EXIT-OK"} {
		if strings.Contains(report, success) {
			t.Errorf("container wrote to the runtime binary: %s", success)
		}
	}
	if _, afterExit, ok := strings.Cut(report, "victim gone"); ok && !isRunc(t) && !strings.Contains(afterExit, "Read-only file system") {
		t.Errorf("reopening the runtime binary for writing after its process exited: want EROFS (a read-only bind mount), got %q", afterExit)
	}
	if after := fileSHA256(t, bin); after != before {
		t.Errorf("runtime binary sha256 changed: %s -> %s", before, after)
	}
	if out, err := run(ctx, "delete", "--force", b.id).CombinedOutput(); err != nil {
		t.Errorf("delete --force: %v: %s", err, out)
	}
	assertNoLeftovers(t, root, b)
	if !strings.Contains(report, "attack done") {
		// runc's init reports the usage error of the runtime it started
		// through its log pipe, which runc exec copies: the process does
		// not block on the full pipe and is gone before the attacker sees it.
		skipIfRunc(t, "the runtime binary started in the container exits before the attacker can open it")
		t.Errorf("the attack did not run to its end: no runtime process showed up in the container")
	}
}

// fullPipe returns a blocking pipe whose buffer is already full: a process
// writing to w blocks until someone reads r.
func fullPipe(t *testing.T) (r, w *os.File) {
	t.Helper()
	var fds [2]int
	if err := unix.Pipe2(fds[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	size, err := unix.FcntlInt(uintptr(fds[1]), unix.F_GETPIPE_SZ, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := unix.Write(fds[1], make([]byte, size)); err != nil {
		t.Fatal(err)
	}
	return os.NewFile(uintptr(fds[0]), "full-pipe-r"), os.NewFile(uintptr(fds[1]), "full-pipe-w")
}

// copyLibraries copies the dynamic loader and shared libraries of bin (as
// ldd lists them) into rootfs at the same paths.
func copyLibraries(t *testing.T, bin, rootfs string) {
	t.Helper()
	out, err := exec.Command("ldd", bin).Output()
	if err != nil {
		t.Logf("ldd %s: %v (statically linked?)", bin, err)
		return
	}
	for _, line := range strings.Split(string(out), "\n") {
		for _, f := range strings.Fields(line) {
			if !strings.HasPrefix(f, "/") {
				continue
			}
			dst := filepath.Join(rootfs, f)
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := copyFile(f, dst); err != nil && !errors.Is(err, os.ErrExist) {
				t.Fatal(err)
			}
		}
	}
}

// fdNames lists the open fds of a process, as /proc/PID/fd names them.
func fdNames(t *testing.T, pid int) []string {
	t.Helper()
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		link, _ := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, e.Name()))
		names = append(names, e.Name()+" -> "+link)
	}
	return names
}

// fdNumbers returns the fd numbers of `ls -l /proc/self/fd` output, leaving
// out the one ls itself reads the directory through.
func fdNumbers(lsOut string) []string {
	var fds []string
	for _, line := range strings.Split(lsOut, "\n") {
		// lrwx------ 1 0 0 64 Jan 1 00:00 3 -> /proc/5/fd
		f := strings.Fields(line)
		i := slices.Index(f, "->")
		if i < 1 {
			continue
		}
		target := strings.Join(f[i+1:], " ")
		if strings.HasPrefix(target, "/proc/") && strings.HasSuffix(target, "/fd") {
			continue
		}
		fds = append(fds, f[i-1])
	}
	return fds
}

// TestLeakedFds is CVE-2024-21626: no runtime fd, and so no host directory,
// reaches the container process or an exec'd process; only 0, 1 and 2 are
// open, and the working directory is inside the container.
func TestLeakedFds(t *testing.T) {
	requireRoot(t)
	t.Parallel()
	want := []string{"0", "1", "2"}
	b := newBundle(t, "sleep", "1000")
	c := startContainer(t, b)
	initPid := c.state(t).Pid

	t.Run("init from the host", func(t *testing.T) {
		names := fdNames(t, initPid)
		if len(names) != 3 {
			t.Errorf("container init has fds %q, want only 0, 1, 2", names)
		}
	})

	t.Run("init from inside", func(t *testing.T) {
		out := c.execOK(t, "ls", "-l", "/proc/1/fd")
		if got := fdNumbers(out); !slices.Equal(got, want) {
			t.Errorf("ls -l /proc/1/fd = %q, want fds %q", out, want)
		}
	})

	t.Run("exec from inside", func(t *testing.T) {
		out := c.execOK(t, "ls", "-l", "/proc/self/fd")
		if got := fdNumbers(out); !slices.Equal(got, want) {
			t.Errorf("exec'd ls -l /proc/self/fd = %q, want fds %q", out, want)
		}
	})

	t.Run("exec from the host", func(t *testing.T) {
		pidFile := filepath.Join(t.TempDir(), "exec.pid")
		rtOK(t, c.root, "exec", "--detach", "--pid-file", pidFile, c.id, "sleep", "1000")
		pid := readPidFile(t, pidFile)
		defer killPid(pid)
		if names := fdNames(t, pid); len(names) != 3 {
			t.Errorf("exec'd process has fds %q, want only 0, 1, 2", names)
		}
	})

	t.Run("run", func(t *testing.T) {
		out := runOK(t, newBundle(t, "ls", "-l", "/proc/self/fd"))
		if got := fdNumbers(out); !slices.Equal(got, want) {
			t.Errorf("container's ls -l /proc/self/fd = %q, want fds %q", out, want)
		}
	})
}

// TestProcessCwd checks that the process starts in its configured cwd, a
// path inside the container, and that a cwd naming one of the runtime's
// own fds (/proc/self/fd/N, as in the CVE-2024-21626 exploit) never gives
// the process a host directory: the runtime must fail or the cwd must be a
// container path.
func TestProcessCwd(t *testing.T) {
	requireRoot(t)
	t.Parallel()

	t.Run("config cwd", func(t *testing.T) {
		t.Parallel()
		b := newBundle(t, "readlink", "/proc/self/cwd")
		b.edit(t, func(s *specs.Spec) { s.Process.Cwd = "/home/user" })
		if got := runOK(t, b); got != "/home/user\n" {
			t.Errorf("cwd of the container process = %q, want /home/user", got)
		}
	})

	c := startContainer(t, newBundle(t, "sleep", "1000"))
	t.Run("exec cwd", func(t *testing.T) {
		if got := rtOK(t, c.root, "exec", "--cwd", "/tmp", c.id, "readlink", "/proc/self/cwd"); got != "/tmp\n" {
			t.Errorf("cwd of the exec'd process = %q, want /tmp", got)
		}
	})

	// A cwd that is not a directory of the container shows up in
	// /proc/self/cwd as a path the container cannot reach; busybox's test
	// then finds no such directory. "(unreachable)" is the kernel's mark.
	check := func(t *testing.T, cwd, stdout, stderr string, code int) {
		t.Helper()
		if code != 0 {
			t.Logf("cwd %s refused: %s", cwd, strings.TrimSpace(stderr))
			return
		}
		got, verdict, _ := strings.Cut(strings.TrimSpace(stdout), " ")
		if !strings.HasPrefix(got, "/") || strings.Contains(got, "unreachable") || verdict != "inside" {
			t.Errorf("cwd %s: the process runs in %q (%s), want a container path or an error", cwd, got, verdict)
		}
	}
	script := `d=$(readlink /proc/self/cwd); if [ -d "$d" ] && [ "$d" -ef . ]; then echo "$d inside"; else echo "$d outside"; fi`
	for fd := 3; fd <= 9; fd++ {
		cwd := "/proc/self/fd/" + strconv.Itoa(fd)
		t.Run("config "+cwd, func(t *testing.T) {
			t.Parallel()
			b := newBundle(t, "sh", "-c", script)
			b.edit(t, func(s *specs.Spec) { s.Process.Cwd = cwd })
			root := t.TempDir()
			stdout, stderr, code := runContainerIn(t, root, b)
			check(t, cwd, stdout, stderr, code)
			if code != 0 {
				rt(t, root, "delete", "--force", b.id)
				assertNoLeftovers(t, root, b)
			}
		})
		t.Run("exec "+cwd, func(t *testing.T) {
			stdout, stderr, code := rt(t, c.root, "exec", "--cwd", cwd, c.id, "sh", "-c", script)
			check(t, cwd, stdout, stderr, code)
		})
	}
}

// TestMountDestinationSymlink mounts onto destinations that are symlinks
// in the rootfs pointing out of it (relative, climbing with ../, and
// absolute). The mount must fail or land inside the rootfs; nothing may be
// created in or mounted on the host directory the symlink names.
func TestMountDestinationSymlink(t *testing.T) {
	requireRoot(t)
	t.Parallel()
	climb := strings.Repeat("../", 32)
	tests := []struct {
		name   string
		link   func(host string) string // symlink target for a host path
		mount  func(host string) specs.Mount
		create string // file or dir a resolving-on-the-host runtime would create
	}{
		{
			name:  "relative dir",
			link:  func(host string) string { return climb + strings.TrimPrefix(host, "/") },
			mount: func(string) specs.Mount { return specs.Mount{Destination: "/evil", Type: "tmpfs", Source: "tmpfs"} },
		},
		{
			name:  "absolute dir",
			link:  func(host string) string { return host },
			mount: func(string) specs.Mount { return specs.Mount{Destination: "/evil", Type: "tmpfs", Source: "tmpfs"} },
		},
		{
			name:   "relative missing dir",
			link:   func(host string) string { return climb + strings.TrimPrefix(host, "/") + "/newdir" },
			mount:  func(string) specs.Mount { return specs.Mount{Destination: "/evil", Type: "tmpfs", Source: "tmpfs"} },
			create: "newdir",
		},
		{
			name: "relative missing file",
			link: func(host string) string { return climb + strings.TrimPrefix(host, "/") + "/newfile" },
			mount: func(host string) specs.Mount {
				return specs.Mount{Destination: "/evil", Type: "bind", Source: "/etc/hostname", Options: []string{"bind", "ro"}}
			},
			create: "newfile",
		},
		{
			name: "absolute climbing parent",
			link: func(host string) string { return "/../../../../../../../../" + strings.TrimPrefix(host, "/") },
			mount: func(host string) specs.Mount {
				return specs.Mount{Destination: "/evil/sub", Type: "tmpfs", Source: "tmpfs"}
			},
			create: "sub",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			host := t.TempDir()
			if err := os.WriteFile(filepath.Join(host, "canary"), []byte("host\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			b := newBundle(t, "sh", "-c", "cat /proc/self/mountinfo")
			if err := os.Symlink(tt.link(host), filepath.Join(b.rootfs, "evil")); err != nil {
				t.Fatal(err)
			}
			b.edit(t, withMounts(tt.mount(host)))
			root := t.TempDir()
			_, stderr, code := runContainerIn(t, root, b)
			t.Logf("exit %d, stderr %q", code, strings.TrimSpace(stderr))

			ents, _ := os.ReadDir(host)
			if len(ents) != 1 || ents[0].Name() != "canary" {
				var names []string
				for _, e := range ents {
					names = append(names, e.Name())
				}
				t.Errorf("host dir %s now holds %q, want only the canary", host, names)
			}
			if ms := mountsUnder(host); len(ms) > 0 {
				t.Errorf("host dir %s got mounts: %v", host, ms)
			}
			if data, err := os.ReadFile(filepath.Join(host, "canary")); err != nil || string(data) != "host\n" {
				t.Errorf("host canary = %q, %v", data, err)
			}
			if code != 0 {
				rt(t, root, "delete", "--force", b.id)
			}
			assertNoLeftovers(t, root, b)
		})
	}
}

// TestMaskedPathSymlink masks (and makes read-only) paths that are symlinks
// to the host's /etc, on a bind mount of a host dir, where a runtime
// resolving them before pivot_root would follow them on the host. The
// host's /etc must stay untouched: no new mount on it, still readable, and
// the symlinks themselves unchanged.
func TestMaskedPathSymlink(t *testing.T) {
	requireRoot(t)
	t.Parallel()
	hostDir := t.TempDir()
	links := map[string]string{
		"secret":    "/etc",
		"relsecret": strings.Repeat("../", 32) + "etc",
		"ro":        "/etc",
		"relro":     strings.Repeat("../", 32) + "etc",
		"hostname":  "/etc/hostname",
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(hostDir, name)); err != nil {
			t.Fatal(err)
		}
	}
	etcBefore := mountsAt("/etc")
	hostnameBefore, err := os.ReadFile("/etc/hostname")
	if err != nil {
		t.Fatal(err)
	}
	b := newBundle(t, "sh", "-c", "cat /proc/self/mountinfo")
	b.edit(t, withMounts(bindMount(hostDir, "/data", "rw")), func(s *specs.Spec) {
		s.Linux.MaskedPaths = append(s.Linux.MaskedPaths, "/data/secret", "/data/relsecret", "/data/hostname")
		s.Linux.ReadonlyPaths = append(s.Linux.ReadonlyPaths, "/data/ro", "/data/relro")
	})
	root := t.TempDir()
	_, stderr, code := runContainerIn(t, root, b)
	t.Logf("exit %d, stderr %q", code, strings.TrimSpace(stderr))

	if after := mountsAt("/etc"); !slices.Equal(after, etcBefore) {
		t.Errorf("host mounts on /etc changed: %v -> %v", etcBefore, after)
	}
	for _, m := range readMountinfo("/proc/self/mountinfo") {
		if strings.HasPrefix(m.mountPoint, "/etc/") {
			t.Errorf("host has a mount under /etc: %+v", m)
		}
	}
	if data, err := os.ReadFile("/etc/hostname"); err != nil || !bytes.Equal(data, hostnameBefore) {
		t.Errorf("host /etc/hostname now %q, %v; want %q", data, err, hostnameBefore)
	}
	if _, err := os.ReadDir("/etc"); err != nil {
		t.Errorf("host /etc: %v", err)
	}
	for name, target := range links {
		if got, err := os.Readlink(filepath.Join(hostDir, name)); err != nil || got != target {
			t.Errorf("symlink %s = %q, %v; want it unchanged (%q)", name, got, err, target)
		}
	}
	if code != 0 {
		rt(t, root, "delete", "--force", b.id)
	}
	assertNoLeftovers(t, root, b)
}

// mountsAt lists the host's mountinfo lines mounted at dir.
func mountsAt(dir string) []string {
	var found []string
	for _, m := range readMountinfo("/proc/self/mountinfo") {
		if m.mountPoint == dir {
			found = append(found, fmt.Sprintf("%s %s %s", m.fsType, m.source, m.root))
		}
	}
	return found
}

// TestDefaultMasks reads what the default masked paths hide and writes
// where the default read-only paths forbid it, with the runtime's own
// `spec` defaults (runc's list: /proc/kcore, /proc/keys, /proc/timer_list,
// /sys/firmware, ...; /proc/sys read-only).
func TestDefaultMasks(t *testing.T) {
	requireRoot(t)
	t.Parallel()
	tests := []struct {
		name   string
		host   string // skip when the host has no such path
		script string
		want   string
	}{
		{"kcore", "/proc/kcore", "wc -c < /proc/kcore", "0"},
		{"keys", "/proc/keys", "cat /proc/keys | wc -c", "0"},
		{"timer_list", "/proc/timer_list", "cat /proc/timer_list | wc -c", "0"},
		{"sched_debug", "/proc/sched_debug", "cat /proc/sched_debug | wc -c", "0"},
		{"firmware", "/sys/firmware", "ls -A /sys/firmware | wc -l", "0"},
		{"firmware not writable", "/sys/firmware", "touch /sys/firmware/x 2>/dev/null && echo written || echo refused", "refused"},
		{"proc/sys read-only", "/proc/sys/kernel/hostname", "echo evil > /proc/sys/kernel/hostname 2>/dev/null && echo written || echo refused", "refused"},
		{"proc/sys mount ro", "/proc/sys", "grep -c ' /proc/sys ro,' /proc/self/mountinfo", "1"},
		{"sysrq-trigger read-only", "/proc/sysrq-trigger", "grep -c ' /proc/sysrq-trigger ro,' /proc/self/mountinfo", "1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := os.Stat(tt.host); err != nil {
				t.Skipf("host has no %s", tt.host)
			}
			b := newBundle(t, "sh", "-c", tt.script)
			if got := strings.TrimSpace(runOK(t, b)); got != tt.want {
				t.Errorf("%s: %q, want %q", tt.script, got, tt.want)
			}
		})
	}
	t.Run("host side unmasked", func(t *testing.T) {
		// The masks are meaningful only if the host has content there.
		if data, _ := os.ReadFile("/proc/timer_list"); len(data) == 0 {
			t.Errorf("host /proc/timer_list is empty: the mask check above proves nothing")
		}
		if ents, _ := os.ReadDir("/sys/firmware"); len(ents) == 0 {
			t.Logf("host /sys/firmware is empty: the mask check above proves little")
		}
	})
}

// TestConfinement checks, with the runtime's default spec, that the
// container cannot write its cgroup files or sysfs, cannot mount or make
// device nodes, sees only its own processes and has exactly the
// capabilities of its config.
func TestConfinement(t *testing.T) {
	requireRoot(t)
	t.Parallel()
	// A sysfs file root may write on the host; writing its current value
	// back would change nothing even if it were allowed.
	const sysfsFile = "/sys/kernel/mm/transparent_hugepage/use_zero_page"
	tests := []struct {
		name   string
		host   string
		script string
		want   string
	}{
		{
			name:   "cgroup limit",
			host:   "/sys/fs/cgroup/memory/memory.limit_in_bytes",
			script: `f=/sys/fs/cgroup/memory/memory.limit_in_bytes; v=$(cat $f) || exit 1; echo 4096 > $f 2>/dev/null && echo written || echo refused`,
			want:   "refused",
		},
		{
			name:   "cgroup procs",
			host:   "/sys/fs/cgroup/pids/cgroup.procs",
			script: `echo $$ > /sys/fs/cgroup/pids/cgroup.procs 2>/dev/null && echo written || echo refused`,
			want:   "refused",
		},
		{
			name:   "cgroup mkdir",
			host:   "/sys/fs/cgroup/memory",
			script: `mkdir /sys/fs/cgroup/memory/escape 2>/dev/null && echo written || echo refused`,
			want:   "refused",
		},
		{
			name:   "cgroup mount read-only",
			host:   "/sys/fs/cgroup/memory",
			script: `awk '$5 == "/sys/fs/cgroup/memory" { split($6, o, ","); print o[1] }' /proc/self/mountinfo`,
			want:   "ro",
		},
		{
			name:   "sysfs",
			host:   sysfsFile,
			script: `f=` + sysfsFile + `; v=$(cat $f) || exit 1; echo $v > $f 2>/dev/null && echo written || echo refused`,
			want:   "refused",
		},
		{
			name:   "sysfs mount read-only",
			host:   "/sys",
			script: `awk '$5 == "/sys" { split($6, o, ","); print o[1] }' /proc/self/mountinfo`,
			want:   "ro",
		},
		{
			name:   "mount",
			script: `mount -t tmpfs evil /tmp 2>/dev/null && echo mounted || echo refused`,
			want:   "refused",
		},
		{
			name:   "cgroup fs mount",
			script: `mkdir -p /dev/cg && mount -t cgroup -o memory cgroup /dev/cg 2>/dev/null && echo mounted || echo refused`,
			want:   "refused",
		},
		{
			name:   "mknod",
			script: `mknod /dev/evil b 254 0 2>/dev/null && echo made || echo refused`,
			want:   "refused",
		},
		{
			name:   "proc entries",
			script: `n=0; for d in /proc/[0-9]*; do n=$((n+1)); done; echo $n`,
			want:   "1",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.host != "" {
				if _, err := os.Stat(tt.host); err != nil {
					t.Skipf("host has no %s", tt.host)
				}
			}
			b := newBundle(t, "sh", "-c", tt.script)
			got := strings.Join(strings.Fields(runOK(t, b)), " ")
			if got != tt.want {
				t.Errorf("%s: %q, want %q", tt.script, got, tt.want)
			}
		})
	}

	t.Run("host processes invisible", func(t *testing.T) {
		t.Parallel()
		c := startContainer(t, newBundle(t, "sleep", "1000"))
		out := c.execOK(t, "ps", "-o", "pid,args")
		if strings.Contains(out, "go test") || strings.Contains(out, ".test") || strings.Contains(out, "berth-runtime") {
			t.Errorf("container sees host processes:\n%s", out)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 3 { // header, sleep, ps
			t.Errorf("ps in the container = %q, want the header, init and ps", out)
		}
	})

	t.Run("capabilities", func(t *testing.T) {
		t.Parallel()
		b := newBundle(t, "grep", "^Cap", "/proc/self/status")
		caps := b.spec.Process.Capabilities
		got := parseCaps(t, runOK(t, b))
		for field, names := range map[string][]string{
			"CapBnd": caps.Bounding, "CapEff": caps.Effective, "CapPrm": caps.Permitted,
		} {
			if want := capMask(t, names); got[field] != want {
				t.Errorf("%s = %016x, want %016x (%v)", field, got[field], want, names)
			}
		}
		// The kernel may drop inheritable and ambient capabilities the
		// config asks for; it must never add any.
		for field, names := range map[string][]string{"CapInh": caps.Inheritable, "CapAmb": caps.Ambient} {
			if allowed := capMask(t, names); got[field]&^allowed != 0 {
				t.Errorf("%s = %016x, more than the config's %016x (%v)", field, got[field], allowed, names)
			}
		}
	})

	t.Run("capabilities of exec", func(t *testing.T) {
		t.Parallel()
		b := newBundle(t, "sleep", "1000")
		c := startContainer(t, b)
		got := parseCaps(t, c.execOK(t, "grep", "^Cap", "/proc/self/status"))
		caps := b.spec.Process.Capabilities
		for field, names := range map[string][]string{"CapBnd": caps.Bounding, "CapEff": caps.Effective} {
			if want := capMask(t, names); got[field] != want {
				t.Errorf("exec'd process %s = %016x, want %016x (%v)", field, got[field], want, names)
			}
		}
	})
}
