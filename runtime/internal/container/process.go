package container

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/moby/sys/capability"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/runtime/internal/seccomp"
)

const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// prepared is a process checked and compiled before the container is
// reported ready, so that a bad capability name, rlimit or seccomp rule
// fails `create` instead of killing the container after `start`.
type prepared struct {
	// announce, when set, is called right before the last steps (identity,
	// capabilities, seccomp, execve), so that the parent can tell a process
	// that died during set-up from one that exec'd (both close the socket).
	announce func()
	p        *specs.Process
	path     string
	env      []string // p.Env, with HOME from /etc/passwd if it had none
	caps     capability.Capabilities
	filter   *seccomp.Program
}

// prepareProcess checks p and decodes the seccomp filter the parent
// compiled (none when empty), before anything irreversible is done.
func prepareProcess(p *specs.Process, filter []byte) (*prepared, error) {
	for _, rl := range p.Rlimits {
		if _, ok := rlimitNames[rl.Type]; !ok {
			return nil, fmt.Errorf("unknown rlimit %q in config.json", rl.Type)
		}
	}
	caps, err := capabilities(p.Capabilities)
	if err != nil {
		return nil, err
	}
	path, err := lookPath(p)
	if err != nil {
		return nil, err
	}
	// HOME is looked up now, not after `start`: reading /etc/passwd is
	// no part of what start must wait for.
	env := p.Env
	if !hasEnv(env, "HOME") {
		env = append(env[:len(env):len(env)], "HOME="+homeDir(p.User.UID))
	}
	pp := &prepared{p: p, path: path, env: env, caps: caps}
	if len(filter) > 0 {
		// The parent compiled the spec's profile (compileAsync).
		if pp.filter, err = seccomp.Decode(filter); err != nil {
			return nil, err
		}
	}
	return pp, nil
}

// exec turns the current (init or exec) process into the prepared one:
// limits, identity, capabilities, seccomp, then execve. Every fd from
// 3+preserveFds up is closed on exec. It only returns on error.
func (pp *prepared) exec(preserveFds int) error {
	p := pp.p
	for _, rl := range p.Rlimits {
		lim := unix.Rlimit{Cur: rl.Soft, Max: rl.Hard}
		if err := unix.Prlimit(0, rlimitNames[rl.Type], &lim, nil); err != nil {
			return fmt.Errorf("set rlimit %s: %w", rl.Type, err)
		}
	}
	umask := 0o022
	if p.User.Umask != nil {
		umask = int(*p.User.Umask)
	}
	unix.Umask(umask)
	if pp.caps != nil {
		if err := pp.caps.Apply(capability.BOUNDS); err != nil {
			return fmt.Errorf("drop bounding capabilities: %w", err)
		}
	}
	if p.Cwd != "" {
		if err := unix.Chdir(p.Cwd); err != nil {
			return fmt.Errorf("chdir to cwd %q set in config.json: %w", p.Cwd, err)
		}
	}
	// CVE-2024-21626: never start the process with a cwd outside the
	// container (a leaked host fd as cwd shows up as "(unreachable)").
	if wd, err := unix.Getwd(); err != nil || !strings.HasPrefix(wd, "/") {
		return fmt.Errorf("current working directory is outside of the container")
	}
	if err := closeExtraFds(3 + preserveFds); err != nil {
		return err
	}
	if pp.announce != nil {
		pp.announce()
	}
	// Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: load it
	// while we still have it. Otherwise load it last, so that it applies
	// to as little of our own work as possible.
	if pp.filter != nil && !p.NoNewPrivileges {
		if err := pp.filter.Load(); err != nil {
			return err
		}
	}
	if err := setUser(p.User); err != nil {
		return err
	}
	if pp.caps != nil {
		if err := pp.caps.Apply(capability.CAPS); err != nil {
			return fmt.Errorf("set capabilities: %w", err)
		}
		raiseAmbient(pp.caps)
	}
	if p.NoNewPrivileges {
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			return fmt.Errorf("set no_new_privs: %w", err)
		}
		if pp.filter != nil {
			if err := pp.filter.Load(); err != nil {
				return err
			}
		}
	}
	if err := unix.Exec(pp.path, p.Args, pp.env); err != nil {
		return fmt.Errorf("exec %s: %w", p.Args[0], err)
	}
	return nil
}

// setUser switches to the process's uid and gids, keeping the permitted
// capabilities across the uid change (they are applied afterwards).
func setUser(u specs.User) error {
	if err := unix.Prctl(unix.PR_SET_KEEPCAPS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("set keepcaps: %w", err)
	}
	gids := make([]int, 0, len(u.AdditionalGids))
	for _, g := range u.AdditionalGids {
		gids = append(gids, int(g))
	}
	if err := unix.Setgroups(gids); err != nil && !(errors.Is(err, unix.EPERM) && len(gids) == 0) {
		return fmt.Errorf("setgroups %v: %w", gids, err)
	}
	// Raw, per-thread set*id calls: the init is locked to the thread that
	// execs, and execve ends the others. (unix.Setresuid and Setresgid go
	// through the Go runtime's all-threads mechanism, which stops the
	// world and signals every thread: half a millisecond each here.)
	if _, _, e := unix.RawSyscall(unix.SYS_SETRESGID, uintptr(u.GID), uintptr(u.GID), uintptr(u.GID)); e != 0 {
		return fmt.Errorf("setgid %d: %w", u.GID, e)
	}
	if _, _, e := unix.RawSyscall(unix.SYS_SETRESUID, uintptr(u.UID), uintptr(u.UID), uintptr(u.UID)); e != 0 {
		return fmt.Errorf("setuid %d: %w", u.UID, e)
	}
	if err := unix.Prctl(unix.PR_SET_KEEPCAPS, 0, 0, 0, 0); err != nil {
		return fmt.Errorf("clear keepcaps: %w", err)
	}
	return nil
}

// raiseAmbient raises the ambient capabilities one by one. A capability
// that is not also inheritable and permitted cannot be ambient; the kernel
// refuses it and, like runc, we carry on without it (runc's default config
// lists ambient capabilities but no inheritable ones).
func raiseAmbient(caps capability.Capabilities) {
	for _, c := range capability.ListKnown() {
		if caps.Get(capability.AMBIENT, c) {
			unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_RAISE, uintptr(c), 0, 0)
		}
	}
}

var capByName = func() map[string]capability.Cap {
	m := map[string]capability.Cap{}
	for _, c := range capability.ListKnown() {
		m["CAP_"+strings.ToUpper(c.String())] = c
	}
	return m
}()

// capabilities builds the five sets of pc; nil pc means "leave as is".
func capabilities(pc *specs.LinuxCapabilities) (capability.Capabilities, error) {
	if pc == nil {
		return nil, nil
	}
	caps, err := capability.NewPid2(0)
	if err != nil {
		return nil, fmt.Errorf("capabilities: %w", err)
	}
	caps.Clear(capability.CAPS | capability.BOUNDS | capability.AMBS)
	sets := []struct {
		which capability.CapType
		names []string
	}{
		{capability.BOUNDING, pc.Bounding},
		{capability.EFFECTIVE, pc.Effective},
		{capability.PERMITTED, pc.Permitted},
		{capability.INHERITABLE, pc.Inheritable},
		{capability.AMBIENT, pc.Ambient},
	}
	for _, s := range sets {
		for _, n := range s.names {
			c, ok := capByName[strings.ToUpper(n)]
			if !ok {
				return nil, fmt.Errorf("unknown capability %q in config.json", n)
			}
			caps.Set(s.which, c)
		}
	}
	return caps, nil
}

var rlimitNames = map[string]int{
	"RLIMIT_AS": unix.RLIMIT_AS, "RLIMIT_CORE": unix.RLIMIT_CORE, "RLIMIT_CPU": unix.RLIMIT_CPU,
	"RLIMIT_DATA": unix.RLIMIT_DATA, "RLIMIT_FSIZE": unix.RLIMIT_FSIZE, "RLIMIT_LOCKS": unix.RLIMIT_LOCKS,
	"RLIMIT_MEMLOCK": unix.RLIMIT_MEMLOCK, "RLIMIT_MSGQUEUE": unix.RLIMIT_MSGQUEUE, "RLIMIT_NICE": unix.RLIMIT_NICE,
	"RLIMIT_NOFILE": unix.RLIMIT_NOFILE, "RLIMIT_NPROC": unix.RLIMIT_NPROC, "RLIMIT_RSS": unix.RLIMIT_RSS,
	"RLIMIT_RTPRIO": unix.RLIMIT_RTPRIO, "RLIMIT_RTTIME": unix.RLIMIT_RTTIME, "RLIMIT_SIGPENDING": unix.RLIMIT_SIGPENDING,
	"RLIMIT_STACK": unix.RLIMIT_STACK,
}

// closeExtraFds marks every fd from first up close-on-exec, so no runtime
// or host fd reaches the container process (CVE-2024-21626).
func closeExtraFds(first int) error {
	d := procFdDir
	if d == nil {
		var err error
		if d, err = os.Open("/proc/self/fd"); err != nil {
			return fmt.Errorf("list fds: %w", err)
		}
		defer d.Close()
	} else if _, err := d.Seek(0, 0); err != nil {
		return fmt.Errorf("list fds: %w", err)
	}
	names, err := d.Readdirnames(-1)
	if err != nil {
		return fmt.Errorf("list fds: %w", err)
	}
	for _, n := range names {
		fd, err := strconv.Atoi(n)
		if err != nil || fd < first {
			continue
		}
		unix.CloseOnExec(fd)
	}
	return nil
}

// lookPath resolves args[0] with the process's own PATH, inside the
// container, so a missing binary fails at create rather than after start.
func lookPath(p *specs.Process) (string, error) {
	name := p.Args[0]
	if strings.Contains(name, "/") {
		if err := executable(name); err != nil {
			return "", fmt.Errorf("exec %q: %w", name, err)
		}
		return name, nil
	}
	path := defaultPath
	for _, e := range p.Env {
		if v, ok := strings.CutPrefix(e, "PATH="); ok {
			path = v
		}
	}
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			dir = "."
		}
		cand := filepath.Join(dir, name)
		if executable(cand) == nil {
			return cand, nil
		}
	}
	return "", fmt.Errorf("exec %q: executable file not found in $PATH", name)
}

func executable(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if fi.IsDir() {
		return fmt.Errorf("is a directory")
	}
	if fi.Mode()&0o111 == 0 {
		return os.ErrPermission
	}
	return nil
}

func hasEnv(env []string, key string) bool {
	for _, e := range env {
		if strings.HasPrefix(e, key+"=") {
			return true
		}
	}
	return false
}

// homeDir finds uid's home in the container's /etc/passwd, "/" if none.
func homeDir(uid uint32) string {
	f, err := os.Open("/etc/passwd")
	if err != nil {
		return "/"
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	want := strconv.FormatUint(uint64(uid), 10)
	for s.Scan() {
		parts := strings.Split(s.Text(), ":")
		if len(parts) >= 6 && parts[2] == want {
			return parts[5]
		}
	}
	return "/"
}

// seccompCacheDir is where compiled filters are kept under the state
// root. No container id can contain "@", so it never meets a state dir.
func seccompCacheDir(root string) string { return filepath.Join(root, "@seccomp") }

// compileAsync starts compiling raw, the JSON of linux.seccomp (empty or
// null: no filter), while the caller spawns the child, and returns the
// function that waits for the encoded program.
func compileAsync(root string, raw json.RawMessage) func() ([]byte, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return func() ([]byte, error) { return nil, nil }
	}
	type result struct {
		b   []byte
		err error
	}
	ch := make(chan result, 1)
	go func() {
		p, err := seccomp.Cached(seccompCacheDir(root), raw)
		if err != nil {
			ch <- result{err: err}
			return
		}
		ch <- result{b: p.Encode()}
	}()
	return func() ([]byte, error) {
		r := <-ch
		return r.b, r.err
	}
}
