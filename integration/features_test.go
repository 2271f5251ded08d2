package integration

// Tests of the runtime features beyond the core lifecycle: seccomp, hooks,
// user namespaces, pause/resume, update, events, features, --preserve-fds
// and systemd socket activation (LISTEN_FDS).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// rtFull runs the runtime with --root root, stdin and extra files (fd 3,
// 4, ... in order) and returns stdout, stderr and the exit code.
func rtFull(t *testing.T, root string, stdin io.Reader, extra []*os.File, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	outF, errF := tempFile(t), tempFile(t)
	defer outF.Close()
	defer errF.Close()
	cmd := rtCmd(ctx, root, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr, cmd.ExtraFiles = stdin, outF, errF, extra
	err := cmd.Run()
	stdout, stderr = readBack(t, outF), readBack(t, errF)
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr):
		code = exitErr.ExitCode()
		if ctx.Err() != nil {
			t.Fatalf("%s %s: timed out; stderr: %s", filepath.Base(runtimeBin), strings.Join(args, " "), stderr)
		}
	default:
		t.Fatalf("%s %s: %v", filepath.Base(runtimeBin), strings.Join(args, " "), err)
	}
	return stdout, stderr, code
}

func withSeccomp(sc *specs.LinuxSeccomp) func(*specs.Spec) {
	return func(s *specs.Spec) { s.Linux.Seccomp = sc }
}

func errnoRule(errno uint, names ...string) specs.LinuxSyscall {
	return specs.LinuxSyscall{Names: names, Action: specs.ActErrno, ErrnoRet: &errno}
}

func TestSeccomp(t *testing.T) {
	requireRoot(t)
	t.Parallel()
	tests := []struct {
		name     string
		runcSkip string
		args     []string
		seccomp  specs.LinuxSeccomp
		want     string
		wantCode int
	}{
		{
			name:    "errno EPERM",
			args:    []string{"sh", "-c", "grep Seccomp: /proc/self/status; /bin/pwd 2>&1; echo $?"},
			seccomp: specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{errnoRule(1, "getcwd")}},
			want:    "Seccomp:\t2\npwd: getcwd: Operation not permitted\n1\n",
		},
		{
			name:    "errnoRet",
			args:    []string{"sh", "-c", "mkdir /tmp/x 2>&1; echo $?"},
			seccomp: specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{errnoRule(13, "mkdir", "mkdirat")}},
			want:    "mkdir: can't create directory '/tmp/x': Permission denied\n1\n",
		},
		{
			name: "errno without errnoRet",
			args: []string{"sh", "-c", "mkdir /tmp/x 2>&1; echo $?"},
			seccomp: specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{
				{Names: []string{"mkdir", "mkdirat"}, Action: specs.ActErrno},
			}},
			want: "mkdir: can't create directory '/tmp/x': Operation not permitted\n1\n",
		},
		{
			name: "kill process",
			args: []string{"uname"},
			seccomp: specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{
				{Names: []string{"uname"}, Action: specs.ActKillProcess},
			}},
			wantCode: 128 + 31, // SIGSYS
		},
		{
			name: "kill thread",
			args: []string{"uname"},
			seccomp: specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{
				{Names: []string{"uname"}, Action: specs.ActKill},
			}},
			wantCode: 128 + 31,
		},
		{
			// busybox linux32 calls personality(PER_LINUX32 = 8), linux64
			// personality(PER_LINUX = 0).
			name: "argument EQ",
			args: []string{"sh", "-c", "linux32 true 2>/dev/null && echo 32 allowed || echo 32 denied; linux64 true && echo 64 allowed"},
			seccomp: specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{{
				Names: []string{"personality"}, Action: specs.ActErrno, ErrnoRet: ptr(uint(1)),
				Args: []specs.LinuxSeccompArg{{Index: 0, Value: 8, Op: specs.OpEqualTo}},
			}}},
			want: "32 denied\n64 allowed\n",
		},
		{
			name: "argument MASKED_EQ",
			args: []string{"sh", "-c", "linux32 true 2>/dev/null && echo 32 allowed || echo 32 denied; linux64 true && echo 64 allowed"},
			seccomp: specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{{
				Names: []string{"personality"}, Action: specs.ActErrno, ErrnoRet: ptr(uint(1)),
				Args: []specs.LinuxSeccompArg{{Index: 0, Value: 0xff, ValueTwo: 8, Op: specs.OpMaskedEqual}},
			}}},
			want: "32 denied\n64 allowed\n",
		},
		{
			name: "architectures",
			args: []string{"sh", "-c", "mkdir /tmp/x 2>&1; echo $?"},
			seccomp: specs.LinuxSeccomp{
				DefaultAction: specs.ActAllow,
				Architectures: []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32},
				Syscalls:      []specs.LinuxSyscall{errnoRule(13, "mkdir", "mkdirat")},
			},
			want: "mkdir: can't create directory '/tmp/x': Permission denied\n1\n",
		},
		{
			name:     "flags",
			runcSkip: "runc 1.1 refuses seccomp flags (not yet supported)",
			args:     []string{"sh", "-c", "mkdir /tmp/x 2>&1; echo $?"},
			seccomp: specs.LinuxSeccomp{
				DefaultAction: specs.ActAllow,
				Flags:         []specs.LinuxSeccompFlag{"SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"},
				Syscalls:      []specs.LinuxSyscall{errnoRule(13, "mkdir", "mkdirat")},
			},
			want: "mkdir: can't create directory '/tmp/x': Permission denied\n1\n",
		},
		{
			// Docker's profile in small: an allowlist, and personality
			// allowed only for some values of its argument.
			name: "default action errno",
			args: []string{"sh", "-c", "mkdir /tmp/x 2>&1; linux32 true 2>/dev/null && echo 32 allowed || echo 32 denied; linux64 true && echo 64 allowed"},
			seccomp: specs.LinuxSeccomp{DefaultAction: specs.ActErrno, DefaultErrnoRet: ptr(uint(13)), Syscalls: []specs.LinuxSyscall{
				{Names: []string{"personality"}, Action: specs.ActAllow, Args: []specs.LinuxSeccompArg{{Index: 0, Value: 0, Op: specs.OpEqualTo}}},
				{Names: []string{"personality"}, Action: specs.ActAllow, Args: []specs.LinuxSeccompArg{{Index: 0, Value: 0xffffffff, Op: specs.OpEqualTo}}},
				{
					// everything a busybox sh needs, but not mkdir
					Names: []string{"read", "write", "close", "fstat", "newfstatat", "stat", "lstat", "mmap", "munmap", "mprotect", "brk",
						"rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "ioctl", "access", "getpid", "getppid", "getuid", "geteuid",
						"getgid", "getegid", "fcntl", "dup2", "dup3", "clone", "clone3", "fork", "vfork", "execve", "wait4", "exit",
						"exit_group", "arch_prctl", "set_tid_address", "set_robust_list", "rseq", "prlimit64", "getrandom", "uname",
						"open", "openat", "getcwd", "readlink", "futex", "sigaltstack", "getpgrp", "setpgid", "capget", "capset",
						"prctl", "setgroups", "setuid", "setgid", "setresuid", "setresgid", "chdir", "fchdir", "getdents64",
						"umask", "sched_yield", "nanosleep", "clock_nanosleep", "epoll_ctl", "epoll_pwait", "tgkill", "gettid",
						"seccomp", "madvise", "pread64", "close_range", "faccessat", "faccessat2", "statx", "lseek", "sysinfo",
						"setsid", "keyctl", "mlock", "getrlimit", "setrlimit", "pipe", "pipe2", "fstatfs", "statfs"},
					Action: specs.ActAllow,
				}}},
			want: "mkdir: can't create directory '/tmp/x': Permission denied\n32 denied\n64 allowed\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.runcSkip != "" {
				skipIfRunc(t, tt.runcSkip)
			}
			b := newBundle(t, tt.args...)
			b.edit(t, withSeccomp(&tt.seccomp), func(s *specs.Spec) { s.Process.Cwd = "/tmp" })
			stdout, stderr, code := runContainer(t, b)
			if code != tt.wantCode {
				t.Errorf("run %q: exit code %d, want %d (stdout %q, stderr %q)", tt.args, code, tt.wantCode, stdout, stderr)
			}
			if tt.wantCode == 0 && stdout != tt.want {
				t.Errorf("run %q: %q, want %q", tt.args, stdout, tt.want)
			}
		})
	}

	t.Run("exec inherits the filter", func(t *testing.T) {
		t.Parallel()
		b := newBundle(t, "sleep", "1000")
		b.edit(t, withSeccomp(&specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{errnoRule(13, "mkdir", "mkdirat")}}))
		c := startContainer(t, b)
		out, _, _ := c.exec(t, "sh", "-c", "mkdir /tmp/x 2>&1; grep Seccomp: /proc/self/status")
		if want := "mkdir: can't create directory '/tmp/x': Permission denied\nSeccomp:\t2\n"; out != want {
			t.Errorf("exec'd mkdir: %q, want %q", out, want)
		}
	})

	t.Run("bad action", func(t *testing.T) {
		t.Parallel()
		b := newBundle(t, "true")
		b.edit(t, withSeccomp(&specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{
			{Names: []string{"mkdir"}, Action: "SCMP_ACT_BOGUS"},
		}}))
		root := t.TempDir()
		_, stderr, code := rt(t, root, "create", "--bundle", b.dir, b.id)
		if code == 0 {
			rt(t, root, "delete", "--force", b.id)
			t.Fatalf("create with seccomp action SCMP_ACT_BOGUS succeeded, want an error")
		}
		checkOneLineError(t, stderr, "SCMP_ACT_BOGUS", "")
		assertNoLeftovers(t, root, b)
		assertEmptyDir(t, root)
	})

	t.Run("bad default action", func(t *testing.T) {
		t.Parallel()
		b := newBundle(t, "true")
		b.edit(t, withSeccomp(&specs.LinuxSeccomp{DefaultAction: "SCMP_ACT_NOPE"}))
		root := t.TempDir()
		_, stderr, code := rt(t, root, "create", "--bundle", b.dir, b.id)
		if code == 0 {
			rt(t, root, "delete", "--force", b.id)
			t.Fatalf("create with default action SCMP_ACT_NOPE succeeded, want an error")
		}
		checkOneLineError(t, stderr, "SCMP_ACT_NOPE", "")
		assertNoLeftovers(t, root, b)
		assertEmptyDir(t, root)
	})
}

// hookKinds lists the six hook kinds in the order a full lifecycle runs them.
var hookKinds = []string{"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"}

// hookRecord is one hook run as the recording hook logged it.
type hookRecord struct {
	kind  string
	env   string
	state specs.State
	raw   string
}

// recordingHook returns a hook that appends "KIND ENV STATE-JSON" as one line
// to log. Inside the container (startContainer) sh is busybox.
func recordingHook(kind, log string) specs.Hook {
	return specs.Hook{
		Path: "/bin/sh",
		Args: []string{"sh", "-c", `{ printf '%s %s ' "$0" "$HOOK_ENV"; cat; echo; } >> "$1"`, kind, log},
		Env:  []string{"HOOK_ENV=env-" + kind, "PATH=/usr/bin:/bin"},
	}
}

func readHookLog(t *testing.T, path string) []hookRecord {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	var recs []hookRecord
	lines := strings.Split(string(data), "\n")
	// The last element follows the last newline: a record still being
	// written, or nothing.
	for _, line := range lines[:len(lines)-1] {
		kind, rest, _ := strings.Cut(line, " ")
		env, js, _ := strings.Cut(rest, " ")
		r := hookRecord{kind: kind, env: env, raw: js}
		if err := json.Unmarshal([]byte(js), &r.state); err != nil {
			t.Errorf("hook %s got %q on stdin: %v", kind, js, err)
		}
		recs = append(recs, r)
	}
	return recs
}

func hookKindsOf(recs []hookRecord) []string {
	var kinds []string
	for _, r := range recs {
		kinds = append(kinds, r.kind)
	}
	return kinds
}

// waitHooks polls the hook log until it has n records.
func waitHooks(t *testing.T, path string, n int) []hookRecord {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		recs := readHookLog(t, path)
		if len(recs) >= n || time.Now().After(deadline) {
			return recs
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestHooks runs a container with all six hook kinds, each recording its
// stdin, and checks when each runs and what state it gets.
func TestHooks(t *testing.T) {
	requireRoot(t)
	t.Parallel()
	logDir := t.TempDir()
	os.Chmod(logDir, 0o777)
	hostLog := filepath.Join(logDir, "log")
	b := newBundle(t, "sh", "-c", "echo running; sleep 1000")
	annotations := map[string]string{"org.berth.hooks": "yes"}
	b.edit(t, withMounts(bindMount(logDir, "/hooks", "rw")), func(s *specs.Spec) {
		s.Annotations = annotations
		s.Hooks = &specs.Hooks{
			Prestart:        []specs.Hook{recordingHook("prestart", hostLog)},
			CreateRuntime:   []specs.Hook{recordingHook("createRuntime", hostLog)},
			CreateContainer: []specs.Hook{recordingHook("createContainer", hostLog)},
			// Resolved and run inside the container, after pivot_root.
			StartContainer: []specs.Hook{recordingHook("startContainer", "/hooks/log")},
			Poststart:      []specs.Hook{recordingHook("poststart", hostLog)},
			Poststop:       []specs.Hook{recordingHook("poststop", hostLog)},
		}
	})
	root := t.TempDir()
	c := create(t, root, b)
	pid := c.state(t).Pid

	wantAfter := func(step string, want []string, got []hookRecord) {
		t.Helper()
		if kinds := hookKindsOf(got); !slices.Equal(kinds, want) {
			unlessRunc(t, "runc 1.1 runs poststart hooks at create", "hooks run after %s: %q, want %q", step, kinds, want)
		}
	}
	wantAfter("create", hookKinds[:3], readHookLog(t, hostLog))
	c.start(t)
	c.waitOutput(t, "running\n")
	wantAfter("start", hookKinds[:5], waitHooks(t, hostLog, 5))
	rtOK(t, root, "kill", c.id, "KILL")
	c.waitStatus(t, "stopped")
	rtOK(t, root, "delete", c.id)
	recs := waitHooks(t, hostLog, 6)
	wantAfter("delete", hookKinds, recs)

	wantStatus := map[string]string{
		// The create operation has finished when these run (runtime-spec
		// runtime.md lifecycle steps 2 to 6; runtime-tools checks prestart).
		"prestart": "created", "createRuntime": "created", "createContainer": "created",
		"startContainer": "created", "poststart": "running", "poststop": "stopped",
	}
	for _, r := range recs {
		st := r.state
		if st.ID != b.id || st.Bundle != b.dir {
			t.Errorf("%s hook state id %q bundle %q, want %q %q", r.kind, st.ID, st.Bundle, b.id, b.dir)
		}
		if !mapsEqual(st.Annotations, annotations) {
			t.Errorf("%s hook state annotations %v, want %v", r.kind, st.Annotations, annotations)
		}
		if st.Version == "" {
			t.Errorf("%s hook state has no ociVersion: %s", r.kind, r.raw)
		}
		if r.env != "env-"+r.kind {
			t.Errorf("%s hook env HOOK_ENV=%q, want %q", r.kind, r.env, "env-"+r.kind)
		}
		if r.kind != "poststop" && st.Pid != pid {
			unlessRunc(t, "runc 1.1 gives hooks run inside the container the pid in its pid namespace",
				"%s hook state pid %d, want the init pid %d", r.kind, st.Pid, pid)
		}
		if want := wantStatus[r.kind]; string(st.Status) != want {
			unlessRunc(t, "runc 1.1 reports creating to create-time hooks and runs poststart before start",
				"%s hook state status %q, want %q", r.kind, st.Status, want)
		}
	}
	assertNoLeftovers(t, root, b)
}

// unlessRunc reports a test failure, or only logs it when the runtime is
// runc, whose behaviour differs for the reason given.
func unlessRunc(t *testing.T, why, format string, args ...any) {
	t.Helper()
	if isRunc(t) {
		t.Logf("runc differs here (%s): "+format, append([]any{why}, args...)...)
		return
	}
	t.Errorf(format, args...)
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// TestHookFailures checks what a failing or hanging hook does: at create it
// fails create and leaves nothing behind; startContainer fails start;
// poststart and poststop only warn (runtime-spec config.md "Lifecycle").
func TestHookFailures(t *testing.T) {
	requireRoot(t)
	t.Parallel()
	fail := specs.Hook{Path: "/bin/sh", Args: []string{"sh", "-c", "echo hook-says-no >&2; exit 3"}}
	for _, kind := range []string{"prestart", "createRuntime", "createContainer"} {
		t.Run(kind+" fails create", func(t *testing.T) {
			t.Parallel()
			b := newBundle(t, "true")
			b.edit(t, func(s *specs.Spec) { s.Hooks = hooksOf(kind, fail) })
			root := t.TempDir()
			_, stderr, code := rt(t, root, "create", "--bundle", b.dir, b.id)
			if code == 0 {
				rt(t, root, "delete", "--force", b.id)
				t.Fatalf("create with a failing %s hook succeeded, want an error", kind)
			}
			t.Logf("stderr: %s", strings.TrimSpace(stderr))
			if !strings.Contains(stderr, kind) && !isRunc(t) {
				t.Errorf("stderr %q, want it to name the %s hook", stderr, kind)
			}
			assertNoLeftovers(t, root, b)
			assertEmptyDir(t, root)
		})
	}

	t.Run("prestart timeout", func(t *testing.T) {
		t.Parallel()
		b := newBundle(t, "true")
		timeout := 1
		b.edit(t, func(s *specs.Spec) {
			s.Hooks = &specs.Hooks{Prestart: []specs.Hook{{Path: "/bin/sleep", Args: []string{"sleep", "30"}, Timeout: &timeout}}}
		})
		root := t.TempDir()
		start := time.Now()
		_, stderr, code := rt(t, root, "create", "--bundle", b.dir, b.id)
		elapsed := time.Since(start)
		if code == 0 {
			rt(t, root, "delete", "--force", b.id)
			t.Fatalf("create with a hook sleeping past its 1s timeout succeeded, want an error")
		}
		if elapsed > 10*time.Second {
			t.Errorf("create took %v with a 1s hook timeout", elapsed)
		}
		t.Logf("stderr after %v: %s", elapsed.Round(time.Millisecond), strings.TrimSpace(stderr))
		if !strings.Contains(strings.ToLower(stderr), "timed out") && !strings.Contains(strings.ToLower(stderr), "timeout") {
			t.Errorf("stderr %q, want it to say the hook timed out", stderr)
		}
		assertNoLeftovers(t, root, b)
		assertEmptyDir(t, root)
		if pids := processesMentioning("sleep 30"); len(pids) > 0 {
			for _, pid := range pids {
				if cmd, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); strings.HasPrefix(string(cmd), "sleep\x0030") {
					t.Errorf("the timed out hook (pid %d) still runs", pid)
				}
			}
		}
	})

	t.Run("startContainer fails start", func(t *testing.T) {
		t.Parallel()
		skipIfRunc(t, "runc 1.1 start succeeds when a startContainer hook fails (the user process does not run)")
		b := newBundle(t, "sh", "-c", "echo user-process-ran")
		b.edit(t, func(s *specs.Spec) { s.Hooks = hooksOf("startContainer", fail) })
		root := t.TempDir()
		c := create(t, root, b)
		_, stderr, code := rt(t, root, "start", c.id)
		if code == 0 {
			t.Errorf("start with a failing startContainer hook succeeded, want an error")
		}
		t.Logf("stderr: %s", strings.TrimSpace(stderr))
		time.Sleep(200 * time.Millisecond)
		if out := c.output(t); strings.Contains(out, "user-process-ran") {
			t.Errorf("the user process ran although its startContainer hook failed: %q", out)
		}
	})

	t.Run("poststart only warns", func(t *testing.T) {
		t.Parallel()
		skipIfRunc(t, "runc 1.1 runs poststart hooks at create and fails the container when one fails")
		b := newBundle(t, "sh", "-c", "echo user-process-ran; sleep 1000")
		b.edit(t, func(s *specs.Spec) { s.Hooks = hooksOf("poststart", fail) })
		root := t.TempDir()
		c := create(t, root, b)
		_, stderr, code := rt(t, root, "start", c.id)
		if code != 0 {
			t.Errorf("start with a failing poststart hook: exit code %d (stderr %q), want success with a warning", code, stderr)
		}
		if !strings.Contains(stderr, "poststart") {
			t.Errorf("start stderr %q, want a warning naming the poststart hook", stderr)
		}
		c.waitOutput(t, "user-process-ran\n")
		if st := c.state(t); st.Status != "running" {
			t.Errorf("status after a failing poststart hook = %q, want running", st.Status)
		}
	})

	t.Run("poststop only warns", func(t *testing.T) {
		t.Parallel()
		skipIfRunc(t, "runc 1.1 fails delete when a poststop hook fails")
		b := newBundle(t, "true")
		b.edit(t, func(s *specs.Spec) { s.Hooks = hooksOf("poststop", fail) })
		root := t.TempDir()
		c := create(t, root, b)
		c.start(t)
		c.waitStatus(t, "stopped")
		_, stderr, code := rt(t, root, "delete", c.id)
		if code != 0 {
			t.Errorf("delete with a failing poststop hook: exit code %d (stderr %q), want success with a warning", code, stderr)
		}
		if !strings.Contains(stderr, "poststop") {
			t.Errorf("delete stderr %q, want a warning naming the poststop hook", stderr)
		}
		assertNoLeftovers(t, root, b)
	})
}

// hooksOf returns Hooks with h as the only hook of the given kind.
func hooksOf(kind string, h specs.Hook) *specs.Hooks {
	hs := &specs.Hooks{}
	list := []specs.Hook{h}
	switch kind {
	case "prestart":
		hs.Prestart = list
	case "createRuntime":
		hs.CreateRuntime = list
	case "createContainer":
		hs.CreateContainer = list
	case "startContainer":
		hs.StartContainer = list
	case "poststart":
		hs.Poststart = list
	case "poststop":
		hs.Poststop = list
	}
	return hs
}

// chownTree shifts the ownership of every file under dir by offset (for a
// user namespace mapping container 0 to host offset).
func chownTree(t *testing.T, dir string, offset int) {
	t.Helper()
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := os.Lstat(path)
		if err != nil {
			return err
		}
		uid, gid := statOwner(info)
		return os.Lchown(path, offset+uid, offset+gid)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestUserNamespace maps container uid/gid 0-65535 to host 100000-165535.
func TestUserNamespace(t *testing.T) {
	requireRoot(t)
	t.Parallel()
	const hostID, size = 100000, 65536
	b := newBundle(t, "sh", "-c", "cat /proc/self/uid_map /proc/self/gid_map; id -u; id -g; stat -c '%u:%g' /bin/busybox; echo ready; sleep 1000")
	chownTree(t, b.rootfs, hostID)
	// The mapped root must be able to reach the rootfs.
	for dir := b.dir; dir != os.TempDir() && dir != "/"; dir = filepath.Dir(dir) {
		os.Chmod(dir, 0o755)
	}
	mapping := []specs.LinuxIDMapping{{ContainerID: 0, HostID: hostID, Size: size}}
	b.edit(t, withNamespace(specs.UserNamespace, ""), func(s *specs.Spec) {
		s.Linux.UIDMappings = mapping
		s.Linux.GIDMappings = mapping
	})
	c := startContainer(t, b)
	out := c.waitOutput(t, "ready\n")
	fields := strings.Fields(out)
	want := []string{"0", "100000", "65536", "0", "100000", "65536", "0", "0", "0:0", "ready"}
	if !slices.Equal(fields, want) {
		t.Errorf("uid_map, gid_map, id -u, id -g, owner of /bin/busybox = %q, want %q", fields, want)
	}
	pid := c.state(t).Pid
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		k, v, _ := strings.Cut(line, ":")
		if k == "Uid" || k == "Gid" {
			if got := strings.Fields(v); !slices.Equal(got, []string{"100000", "100000", "100000", "100000"}) {
				t.Errorf("host /proc/%d/status %s = %q, want 100000 everywhere", pid, k, got)
			}
		}
	}
	if nsLink(t, pid, "user") == nsLink(t, os.Getpid(), "user") {
		t.Errorf("container init is in the host's user namespace")
	}

	out = c.execOK(t, "sh", "-c", "id -u; cat /proc/self/uid_map")
	if got := strings.Fields(out); !slices.Equal(got, []string{"0", "0", "100000", "65536"}) {
		t.Errorf("exec'd id -u and uid_map = %q, want 0 and the mapping", got)
	}

	t.Run("joins a network namespace of the host's user namespace", func(t *testing.T) {
		// As berthd's bridge networking does: the namespace is made by the
		// host, the user namespace by the runtime. It is joined before
		// the user namespace is made, and sysfs shows its interfaces.
		name := newID(t)
		if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
			t.Fatalf("ip netns add: %v: %s", err, out)
		}
		t.Cleanup(func() { exec.Command("ip", "netns", "del", name).Run() })
		path := "/run/netns/" + name
		if out, err := exec.Command("ip", "netns", "exec", name, "ip", "link", "add", "berthv0", "type", "veth", "peer", "name", "berthv1").CombinedOutput(); err != nil {
			t.Fatalf("veth in %s: %v: %s", name, err, out)
		}
		var st syscall.Stat_t
		if err := syscall.Stat(path, &st); err != nil {
			t.Fatal(err)
		}
		b := newBundle(t, "sh", "-c", "readlink /proc/self/ns/net; ls /sys/class/net | tr '\\n' ' '; echo; id -u")
		chownTree(t, b.rootfs, hostID)
		for dir := b.dir; dir != os.TempDir() && dir != "/"; dir = filepath.Dir(dir) {
			os.Chmod(dir, 0o755)
		}
		b.edit(t, withNamespace(specs.UserNamespace, ""), withNamespace(specs.NetworkNamespace, path), func(s *specs.Spec) {
			s.Linux.UIDMappings = mapping
			s.Linux.GIDMappings = mapping
		})
		want := fmt.Sprintf("net:[%d]\nberthv0 berthv1 lo \n0\n", st.Ino)
		if got := runOK(t, b); got != want {
			t.Errorf("output %q, want %q (that namespace, its interfaces in /sys, root)", got, want)
		}
	})

	t.Run("idmapped bind mount", func(t *testing.T) {
		skipIfRunc(t, "runc 1.1 has no idmapped mounts")
		// A mount with the container's mappings shows the files' owners
		// as the container sees them, and files the container makes land
		// on disk with its own ids: host root's file is root's inside,
		// and the container root's new file is host root's on disk.
		host := t.TempDir()
		os.Chmod(host, 0o700) // not even reachable by the mapped root
		os.WriteFile(filepath.Join(host, "root-file"), nil, 0o644)
		os.WriteFile(filepath.Join(host, "user-file"), nil, 0o644)
		os.Chown(filepath.Join(host, "user-file"), 1000, 1000)
		b := newBundle(t, "sh", "-c", "stat -c %u:%g /data /data/root-file /data/user-file; touch /data/new && echo made")
		chownTree(t, b.rootfs, hostID)
		for dir := b.dir; dir != os.TempDir() && dir != "/"; dir = filepath.Dir(dir) {
			os.Chmod(dir, 0o755)
		}
		m := bindMount(host, "/data", "rw")
		m.UIDMappings, m.GIDMappings = mapping, mapping
		b.edit(t, withNamespace(specs.UserNamespace, ""), withMounts(m), func(s *specs.Spec) {
			s.Linux.UIDMappings = mapping
			s.Linux.GIDMappings = mapping
		})
		if got, want := runOK(t, b), "0:0\n0:0\n1000:1000\nmade\n"; got != want {
			t.Errorf("inside: %q, want %q", got, want)
		}
		var st syscall.Stat_t
		if err := syscall.Stat(filepath.Join(host, "new"), &st); err != nil || st.Uid != 0 || st.Gid != 0 {
			t.Errorf("the container root's new file on the host: %d:%d, %v; want 0:0 (not %d)", st.Uid, st.Gid, err, hostID)
		}

		// Without a user namespace of the container's own, refused.
		b2 := newBundle(t, "true")
		b2.edit(t, withMounts(m))
		if _, stderr, code := runContainer(t, b2); code == 0 || !strings.Contains(stderr, "uidMappings") {
			t.Errorf("idmapped mount without a user namespace: exit %d, %q; want an error naming uidMappings", code, stderr)
		}
	})

	t.Run("root of the container is not root of the host", func(t *testing.T) {
		// A host file owned by host root, bind mounted in: container root
		// cannot write it even though it is uid 0 inside.
		host := t.TempDir()
		os.Chmod(host, 0o755)
		secret := filepath.Join(host, "secret")
		if err := os.WriteFile(secret, []byte("host\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		b := newBundle(t, "sh", "-c", "echo evil > /data/secret 2>/dev/null && echo written || echo refused")
		chownTree(t, b.rootfs, hostID)
		for dir := b.dir; dir != os.TempDir() && dir != "/"; dir = filepath.Dir(dir) {
			os.Chmod(dir, 0o755)
		}
		b.edit(t, withNamespace(specs.UserNamespace, ""), withMounts(bindMount(host, "/data", "rw")), func(s *specs.Spec) {
			s.Linux.UIDMappings = mapping
			s.Linux.GIDMappings = mapping
		})
		if got := runOK(t, b); got != "refused\n" {
			t.Errorf("container root writing a host root file: %q, want refused", got)
		}
		if data, _ := os.ReadFile(secret); string(data) != "host\n" {
			t.Errorf("host file now %q", data)
		}
	})
}

// procState returns the state letter of /proc/PID/stat.
func procState(t *testing.T, pid int) string {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	i := strings.LastIndexByte(string(data), ')')
	return string(data[i+2])
}

func TestPauseResume(t *testing.T) {
	requireRoot(t)
	requireCgroupV1(t)
	t.Parallel()
	b := newBundle(t, "sh", "-c", "sleep 1000 & echo ready; wait")
	c := startContainer(t, b)
	c.waitOutput(t, "ready\n")
	pids := psJSON(t, c)
	if len(pids) != 2 {
		t.Fatalf("ps = %v, want init and its sleep", pids)
	}
	freezer := hostCgroupFile(b, "freezer", "freezer.state")

	rtOK(t, c.root, "pause", c.id)
	if st := c.state(t); st.Status != "paused" {
		t.Errorf("status after pause = %q, want paused", st.Status)
	}
	if got := readTrim(t, freezer); got != "FROZEN" {
		t.Errorf("%s = %q, want FROZEN", freezer, got)
	}
	for _, pid := range pids {
		// Frozen tasks show as D (uninterruptible) in recent kernels, T
		// (stopped) in some older ones.
		if s := procState(t, pid); s != "D" && s != "T" {
			t.Errorf("process %d state %q while paused, want D or T", pid, s)
		}
	}
	if out, _, code := rt(t, c.root, "list"); code != 0 || !strings.Contains(out, "paused") {
		t.Errorf("list while paused = %q, want a paused container", out)
	}
	if _, _, code := rt(t, c.root, "pause", c.id); code == 0 {
		t.Logf("pausing a paused container succeeded (runc allows it too)")
	}

	rtOK(t, c.root, "resume", c.id)
	if st := c.state(t); st.Status != "running" {
		t.Errorf("status after resume = %q, want running", st.Status)
	}
	if got := readTrim(t, freezer); got != "THAWED" {
		t.Errorf("%s = %q, want THAWED", freezer, got)
	}
	for _, pid := range pids {
		if s := procState(t, pid); s != "S" && s != "R" {
			t.Errorf("process %d state %q after resume, want S or R", pid, s)
		}
	}
	if out := c.execOK(t, "echo", "alive"); out != "alive\n" {
		t.Errorf("exec after resume = %q", out)
	}

	t.Run("resume running fails", func(t *testing.T) {
		if _, _, code := rt(t, c.root, "resume", c.id); code == 0 {
			t.Errorf("resume of a running container succeeded, want an error")
		}
	})
	t.Run("pause created fails", func(t *testing.T) {
		t.Parallel()
		skipIfRunc(t, "runc 1.1 freezes a created container")
		created := create(t, t.TempDir(), newBundle(t, "true"))
		if _, _, code := rt(t, created.root, "pause", created.id); code == 0 {
			t.Errorf("pause of a created container succeeded, want an error")
		}
	})
	t.Run("kill paused", func(t *testing.T) {
		rtOK(t, c.root, "pause", c.id)
		rtOK(t, c.root, "delete", "--force", c.id)
		for _, pid := range pids {
			waitGone(t, pid)
		}
		assertNoLeftovers(t, c.root, b)
	})
}

func TestUpdate(t *testing.T) {
	requireRoot(t)
	requireCgroupV1(t)
	t.Parallel()
	tests := []struct {
		name  string
		args  func(dir string) []string // update flags
		stdin string
		files map[string]string
	}{
		{
			name:  "resources from stdin",
			args:  func(string) []string { return []string{"--resources", "-"} },
			stdin: `{"memory":{"limit":134217728,"reservation":67108864},"cpu":{"shares":256,"quota":20000,"period":100000},"pids":{"limit":50}}`,
			files: map[string]string{
				"memory/memory.limit_in_bytes":      "134217728",
				"memory/memory.soft_limit_in_bytes": "67108864",
				"cpu/cpu.shares":                    "256",
				"cpu/cpu.cfs_quota_us":              "20000",
				"cpu/cpu.cfs_period_us":             "100000",
				"pids/pids.max":                     "50",
			},
		},
		{
			name: "resources from a file",
			args: func(dir string) []string {
				path := filepath.Join(dir, "resources.json")
				os.WriteFile(path, []byte(`{"pids":{"limit":42},"cpu":{"cpus":"0","mems":"0"}}`), 0o644)
				return []string{"--resources", path}
			},
			files: map[string]string{"pids/pids.max": "42", "cpuset/cpuset.cpus": "0"},
		},
		{
			name: "flags",
			args: func(string) []string {
				return []string{"--memory", "100663296", "--memory-reservation", "50331648", "--pids-limit", "30",
					"--cpu-share", "300", "--cpu-quota", "30000", "--cpu-period", "100000", "--cpuset-cpus", "0"}
			},
			files: map[string]string{
				"memory/memory.limit_in_bytes":      "100663296",
				"memory/memory.soft_limit_in_bytes": "50331648",
				"pids/pids.max":                     "30",
				"cpu/cpu.shares":                    "300",
				"cpu/cpu.cfs_quota_us":              "30000",
				"cpu/cpu.cfs_period_us":             "100000",
				"cpuset/cpuset.cpus":                "0",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := newBundle(t, "sleep", "1000")
			c := startContainer(t, b)
			args := append(append([]string{"update"}, tt.args(t.TempDir())...), c.id)
			if _, stderr, code := rtFull(t, c.root, strings.NewReader(tt.stdin), nil, args...); code != 0 {
				t.Fatalf("%s: exit code %d, stderr %q", strings.Join(args, " "), code, stderr)
			}
			for k, want := range tt.files {
				subsystem, file, _ := strings.Cut(k, "/")
				if got := readTrim(t, hostCgroupFile(b, subsystem, file)); got != want {
					t.Errorf("after update, %s = %q, want %q", k, got, want)
				}
			}
		})
	}

	t.Run("memory flags with units", func(t *testing.T) {
		// runc parses memory values with docker's RAMInBytes: 96m, 1g...
		t.Parallel()
		b := newBundle(t, "sleep", "1000")
		c := startContainer(t, b)
		rtOK(t, c.root, "update", "--memory", "96m", "--memory-reservation", "48M", c.id)
		for k, want := range map[string]string{"memory.limit_in_bytes": "100663296", "memory.soft_limit_in_bytes": "50331648"} {
			if got := readTrim(t, hostCgroupFile(b, "memory", k)); got != want {
				t.Errorf("after update --memory 96m --memory-reservation 48M, %s = %q, want %q", k, got, want)
			}
		}
	})

	t.Run("stopped fails", func(t *testing.T) {
		t.Parallel()
		c := startContainer(t, newBundle(t, "true"))
		c.waitStatus(t, "stopped")
		if _, _, code := rt(t, c.root, "update", "--pids-limit", "10", c.id); code == 0 {
			t.Errorf("update of a stopped container succeeded, want an error")
		}
	})
}

// event is one line of `events` output (runc's types.Event).
type event struct {
	Type string          `json:"type"`
	ID   string          `json:"id"`
	Data json.RawMessage `json:"data"`
}

type statsData struct {
	CPU struct {
		Usage struct {
			Total uint64 `json:"total"`
		} `json:"usage"`
	} `json:"cpu"`
	Memory struct {
		Usage struct {
			Usage uint64 `json:"usage"`
			Limit uint64 `json:"limit"`
		} `json:"usage"`
	} `json:"memory"`
	Pids struct {
		Current uint64 `json:"current"`
	} `json:"pids"`
}

func parseEvents(t *testing.T, out string) []event {
	t.Helper()
	var evs []event
	dec := json.NewDecoder(strings.NewReader(out))
	for {
		var ev event
		if err := dec.Decode(&ev); err == io.EOF {
			return evs
		} else if err != nil {
			t.Fatalf("events output %q: %v", out, err)
		}
		evs = append(evs, ev)
	}
}

func TestEvents(t *testing.T) {
	requireRoot(t)
	requireCgroupV1(t)
	t.Parallel()

	t.Run("stats", func(t *testing.T) {
		t.Parallel()
		b := newBundle(t, "sh", "-c", "sleep 1000 & echo ready; wait")
		b.edit(t, withResources(func(r *specs.LinuxResources) {
			r.Memory = &specs.LinuxMemory{Limit: ptr(int64(256 << 20))}
		}))
		c := startContainer(t, b)
		c.waitOutput(t, "ready\n")
		evs := parseEvents(t, rtOK(t, c.root, "events", "--stats", c.id))
		if len(evs) != 1 {
			t.Fatalf("events --stats printed %d events, want 1", len(evs))
		}
		ev := evs[0]
		if ev.Type != "stats" || ev.ID != c.id {
			t.Errorf("events --stats: type %q id %q, want stats %q", ev.Type, ev.ID, c.id)
		}
		var st statsData
		if err := json.Unmarshal(ev.Data, &st); err != nil {
			t.Fatalf("stats data %s: %v", ev.Data, err)
		}
		if st.Memory.Usage.Usage == 0 {
			t.Errorf("data.memory.usage.usage = 0, want > 0 (%s)", ev.Data)
		}
		if st.Memory.Usage.Limit != 256<<20 {
			t.Errorf("data.memory.usage.limit = %d, want %d", st.Memory.Usage.Limit, 256<<20)
		}
		if st.CPU.Usage.Total == 0 {
			t.Errorf("data.cpu.usage.total = 0, want > 0")
		}
		if st.Pids.Current != 2 {
			t.Errorf("data.pids.current = %d, want 2 (sh and sleep)", st.Pids.Current)
		}
	})

	t.Run("interval", func(t *testing.T) {
		t.Parallel()
		c := startContainer(t, newBundle(t, "sleep", "1000"))
		out := streamEvents(t, c, 1200*time.Millisecond, "--interval", "200ms")
		evs := parseEvents(t, out)
		stats := 0
		for _, ev := range evs {
			if ev.Type == "stats" {
				stats++
			}
		}
		if stats < 3 {
			t.Errorf("events --interval 200ms for 1.2s printed %d stats events, want at least 3: %q", stats, out)
		}
	})

	// The OOM killer kills the container's only process (the container
	// stops), or a child while init lives on.
	for _, tt := range []struct{ name, script string }{
		{"oom", "x=0123456789abcdef; while :; do x=$x$x; done"},
		{"oom in a child", `sh -c 'x=0123456789abcdef; while :; do x=$x$x; done'; echo survived; sleep 1000`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := newBundle(t, "sh", "-c", tt.script)
			b.edit(t, withResources(func(r *specs.LinuxResources) {
				r.Memory = &specs.LinuxMemory{Limit: ptr(int64(32 << 20)), Swap: ptr(int64(32 << 20))}
			}))
			root := t.TempDir()
			c := create(t, root, b)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			out := tempFile(t)
			defer out.Close()
			events := rtCmd(ctx, root, "events", c.id)
			events.Stdout, events.Stderr = out, out
			if err := events.Start(); err != nil {
				t.Fatal(err)
			}
			defer func() {
				events.Process.Kill()
				events.Wait()
			}()
			time.Sleep(300 * time.Millisecond) // let events register for OOM notifications
			c.start(t)
			deadline := time.Now().Add(20 * time.Second)
			for !strings.Contains(readBack(t, out), `"oom"`) && time.Now().Before(deadline) {
				time.Sleep(50 * time.Millisecond)
			}
			got := readBack(t, out)
			var oom bool
			for _, ev := range parseEvents(t, got) {
				if ev.Type == "oom" {
					oom = true
					if ev.ID != c.id {
						t.Errorf("oom event for id %q, want %q", ev.ID, c.id)
					}
				}
			}
			if !oom {
				t.Errorf("events printed no oom event within 20s: %q (memory.oom_control: %s)", got,
					strings.ReplaceAll(readTrim(t, hostCgroupFile(b, "memory", "memory.oom_control")), "\n", ", "))
			}
		})
	}
}

// streamEvents runs `events` for d and returns what it printed.
func streamEvents(t *testing.T, c *created, d time.Duration, flags ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	out := tempFile(t)
	defer out.Close()
	cmd := rtCmd(ctx, c.root, append(append([]string{"events"}, flags...), c.id)...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Run() // killed by the context
	return readBack(t, out)
}

func TestFeatures(t *testing.T) {
	requireRoot(t)
	t.Parallel()
	out := rtOK(t, t.TempDir(), "features")
	var f struct {
		OCIVersionMin string   `json:"ociVersionMin"`
		OCIVersionMax string   `json:"ociVersionMax"`
		Hooks         []string `json:"hooks"`
		MountOptions  []string `json:"mountOptions"`
		Linux         *struct {
			Namespaces   []string `json:"namespaces"`
			Capabilities []string `json:"capabilities"`
			Cgroup       *struct {
				V1 *bool `json:"v1"`
			} `json:"cgroup"`
			Seccomp *struct {
				Enabled   *bool    `json:"enabled"`
				Actions   []string `json:"actions"`
				Operators []string `json:"operators"`
				Archs     []string `json:"archs"`
			} `json:"seccomp"`
		} `json:"linux"`
	}
	if err := json.Unmarshal([]byte(out), &f); err != nil {
		t.Fatalf("features output is not JSON: %v\n%s", err, out)
	}
	var spec specs.Spec
	if err := json.Unmarshal(runtimeSpec(t), &spec); err != nil {
		t.Fatal(err)
	}
	if f.OCIVersionMin == "" || f.OCIVersionMax != spec.Version {
		t.Errorf("ociVersionMin %q, ociVersionMax %q; want a minimum and the maximum %q that `spec` writes", f.OCIVersionMin, f.OCIVersionMax, spec.Version)
	}
	if got := slices.Sorted(slices.Values(f.Hooks)); !slices.Equal(got, slices.Sorted(slices.Values(hookKinds))) {
		t.Errorf("hooks = %q, want the six kinds %q", f.Hooks, hookKinds)
	}
	for _, opt := range []string{"bind", "rbind", "ro", "nosuid", "nodev", "noexec", "rprivate", "rslave"} {
		if !slices.Contains(f.MountOptions, opt) {
			t.Errorf("mountOptions %q lack %q", f.MountOptions, opt)
		}
	}
	if f.Linux == nil {
		t.Fatalf("features has no linux section: %s", out)
	}
	for _, ns := range []string{"cgroup", "ipc", "mount", "network", "pid", "user", "uts"} {
		if !slices.Contains(f.Linux.Namespaces, ns) {
			t.Errorf("linux.namespaces %q lack %q", f.Linux.Namespaces, ns)
		}
	}
	for _, c := range []string{"CAP_SYS_ADMIN", "CAP_NET_BIND_SERVICE", "CAP_KILL"} {
		if !slices.Contains(f.Linux.Capabilities, c) {
			t.Errorf("linux.capabilities lack %q", c)
		}
	}
	sc := f.Linux.Seccomp
	if sc == nil || sc.Enabled == nil || !*sc.Enabled {
		t.Fatalf("linux.seccomp not enabled: %s", out)
	}
	for _, a := range []string{"SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_TRAP", "SCMP_ACT_TRACE", "SCMP_ACT_LOG"} {
		if !slices.Contains(sc.Actions, a) {
			t.Errorf("linux.seccomp.actions %q lack %q", sc.Actions, a)
		}
	}
	for _, op := range []string{"SCMP_CMP_EQ", "SCMP_CMP_NE", "SCMP_CMP_MASKED_EQ", "SCMP_CMP_GT"} {
		if !slices.Contains(sc.Operators, op) {
			t.Errorf("linux.seccomp.operators %q lack %q", sc.Operators, op)
		}
	}
	if !slices.Contains(sc.Archs, "SCMP_ARCH_X86_64") {
		t.Errorf("linux.seccomp.archs %q lack SCMP_ARCH_X86_64", sc.Archs)
	}
}

// preservedFile returns an open file holding content.
func preservedFile(t *testing.T, content string) *os.File {
	t.Helper()
	path := filepath.Join(t.TempDir(), "preserved")
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func TestPreserveFds(t *testing.T) {
	requireRoot(t)
	t.Parallel()
	script := "cat /proc/self/fd/3 2>/dev/null || echo no fd 3; cat /proc/self/fd/4 2>/dev/null || echo no fd 4; ls /proc/self/fd | tr '\\n' ' '"
	tests := []struct {
		name  string
		flags []string
		files []string
		want  string
	}{
		{"one", []string{"--preserve-fds", "1"}, []string{"three\n", "four\n"}, "three\nno fd 4\n0 1 2 3 4 "},
		{"two", []string{"--preserve-fds=2"}, []string{"three\n", "four\n"}, "three\nfour\n0 1 2 3 4 5 "},
		{"none", nil, []string{"three\n"}, "no fd 3\nno fd 4\n0 1 2 3 "},
	}
	for _, tt := range tests {
		t.Run("run "+tt.name, func(t *testing.T) {
			t.Parallel()
			b := newBundle(t, "sh", "-c", script)
			var files []*os.File
			for _, content := range tt.files {
				files = append(files, preservedFile(t, content))
			}
			root := t.TempDir()
			args := append(append([]string{"run", "--bundle", b.dir}, tt.flags...), b.id)
			t.Cleanup(func() { rt(t, root, "delete", "--force", b.id) })
			stdout, stderr, code := rtFull(t, root, nil, files, args...)
			if code != 0 {
				t.Fatalf("run %v: exit code %d, stderr %q", tt.flags, code, stderr)
			}
			// ls's own directory fd is the last one listed.
			if stdout != tt.want {
				t.Errorf("run %v: %q, want %q", tt.flags, stdout, tt.want)
			}
		})
	}

	t.Run("exec", func(t *testing.T) {
		t.Parallel()
		c := startContainer(t, newBundle(t, "sleep", "1000"))
		f := preservedFile(t, "exec three\n")
		stdout, stderr, code := rtFull(t, c.root, nil, []*os.File{f}, "exec", "--preserve-fds", "1", c.id, "sh", "-c", script)
		if code != 0 {
			t.Fatalf("exec --preserve-fds 1: exit code %d, stderr %q", code, stderr)
		}
		if want := "exec three\nno fd 4\n0 1 2 3 4 "; stdout != want {
			t.Errorf("exec --preserve-fds 1: %q, want %q", stdout, want)
		}
	})
}

// TestListenFds checks systemd socket activation passthrough: when the
// runtime's own pid is LISTEN_PID, it passes LISTEN_FDS fds from 3 on to
// the container and sets LISTEN_FDS and LISTEN_PID=1 (the container's
// process) in its environment, as runc does.
func TestListenFds(t *testing.T) {
	requireRoot(t)
	t.Parallel()
	script := `echo "fds=$LISTEN_FDS pid=$LISTEN_PID"; cat /proc/self/fd/3 2>/dev/null || echo no fd 3`
	tests := []struct {
		name      string
		listenPID string // shell expression
		want      string
	}{
		{"our pid", "$$", "fds=1 pid=1\nlistened\n"},
		{"another pid", "1", "fds= pid=\nno fd 3\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := newBundle(t, "sh", "-c", script)
			root := t.TempDir()
			t.Cleanup(func() { rt(t, root, "delete", "--force", b.id) })
			f := preservedFile(t, "listened\n")
			ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
			defer cancel()
			// exec keeps the shell's pid for env and the runtime.
			cmd := exec.CommandContext(ctx, "/bin/sh", "-c",
				`exec env LISTEN_PID=`+tt.listenPID+` LISTEN_FDS=1 "$0" --root "$1" run --bundle "$2" "$3"`,
				runtimeBin, root, b.dir, b.id)
			cmd.ExtraFiles = []*os.File{f}
			outF, errF := tempFile(t), tempFile(t)
			defer outF.Close()
			defer errF.Close()
			cmd.Stdout, cmd.Stderr = outF, errF
			if err := cmd.Run(); err != nil {
				t.Fatalf("run with LISTEN_FDS: %v, stderr %q", err, readBack(t, errF))
			}
			if got := readBack(t, outF); got != tt.want {
				t.Errorf("LISTEN_PID=%s LISTEN_FDS=1: container printed %q, want %q", tt.listenPID, got, tt.want)
			}
		})
	}
}

// statOwner returns the uid and gid of a file.
func statOwner(info os.FileInfo) (uid, gid int) {
	st := info.Sys().(*syscall.Stat_t)
	return int(st.Uid), int(st.Gid)
}
