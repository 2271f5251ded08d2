package container

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/runtime/internal/nsenter"
)

// ExecOpts are the inputs of `exec`.
type ExecOpts struct {
	Process       *specs.Process
	PidFile       string
	ConsoleSocket string
	Detach        bool
	PreserveFds   int
	Stdin         *os.File
	Stdout        *os.File
	Stderr        *os.File
	consoleConn   *os.File
}

// Exec starts a process in the container's namespaces and cgroup and
// returns its pid once it has exec'd. The caller waits for it (it must be
// a subreaper: the process is a grandchild when the container has a pid
// namespace).
func (c *Container) Exec(o ExecOpts) (pid int, err error) {
	if err := check("exec", c.Status()); err != nil {
		return 0, err
	}
	p := o.Process
	if len(p.Args) == 0 {
		return 0, fmt.Errorf("exec: no command given")
	}
	if p.Terminal && o.ConsoleSocket == "" && o.consoleConn == nil {
		return 0, fmt.Errorf("exec: a terminal needs a --console-socket")
	}
	mgr, err := c.cgroup()
	if err != nil {
		return 0, err
	}
	spec, err := c.Spec()
	if err != nil {
		return 0, err
	}
	rawConfig, err := c.rawConfig()
	if err != nil {
		return 0, err
	}
	extra := preservedFiles(o.PreserveFds)
	rawProcess, err := json.Marshal(p)
	if err != nil {
		return 0, err
	}
	cfg := &initConfig{
		Exec:        true,
		ID:          c.ID,
		Spec:        rawConfig,
		Process:     rawProcess,
		PreserveFds: o.PreserveFds,
		FifoFd:      -1,
		ConsoleFd:   -1,
	}
	join := joinNamespaces(c.InitPid, spec)
	if !hasNamespace(spec.Linux.Namespaces, specs.MountNamespace) {
		// No mount namespace of its own: the container shares the host's,
		// and its root is reached through its init.
		cfg.Chroot = "/proc/" + strconv.Itoa(c.InitPid) + "/root"
		if p := nsenter.HostMountNS(); p != "" {
			join = append(join, nsJoin{typ: "mnt", path: p})
		}
	}
	if p.Terminal {
		console := o.consoleConn
		if console == nil {
			if console, err = dialConsole(o.ConsoleSocket); err != nil {
				return 0, err
			}
			defer console.Close()
		}
		cfg.ConsoleFd = 3 + len(extra)
		extra = append(extra, console)
	}
	// The profile's bytes as create saw them: the same cache entry.
	var sc struct {
		Linux *struct {
			Seccomp json.RawMessage `json:"seccomp"`
		} `json:"linux"`
	}
	if err := json.Unmarshal(rawConfig, &sc); err != nil {
		return 0, fmt.Errorf("parse saved config of %s: %w", c.ID, err)
	}
	var raw json.RawMessage
	if sc.Linux != nil {
		raw = sc.Linux.Seccomp
	}
	filter := compileAsync(filepath.Dir(c.dir), raw)
	ch, err := spawn(spawnOpts{
		mode:   "exec",
		join:   join,
		stdin:  orStd(o.Stdin, os.Stdin),
		stdout: orStd(o.Stdout, os.Stdout),
		stderr: orStd(o.Stderr, os.Stderr),
		extra:  extra,
		stage1: func(pid int) error {
			if err := mgr.Apply(pid); err != nil {
				return fmt.Errorf("join the container's cgroup: %w", err)
			}
			return nil
		},
	})
	if err != nil {
		if ch != nil {
			ch.kill()
		}
		return 0, err
	}
	defer ch.sock.Close()
	if cfg.Seccomp, err = filter(); err != nil {
		ch.kill()
		return 0, err
	}
	if err := ch.send(cfg); err != nil {
		ch.kill()
		return 0, err
	}
	if err := ch.wait(true, nil); err != nil {
		ch.kill()
		return 0, err
	}
	if o.PidFile != "" {
		if err := writePidFile(o.PidFile, ch.pid); err != nil {
			unix.Kill(ch.pid, unix.SIGKILL)
			return 0, err
		}
	}
	return ch.pid, nil
}

// joinNamespaces lists the init's namespaces to join: those the config
// asked for (new or by path).
func joinNamespaces(pid int, spec *specs.Spec) []nsJoin {
	var join []nsJoin
	proc := "/proc/" + strconv.Itoa(pid) + "/ns/"
	// The user namespace first (nsenter handles the order anyway).
	for _, ns := range spec.Linux.Namespaces {
		f, ok := nsFlag[string(ns.Type)]
		if !ok {
			continue
		}
		join = append(join, nsJoin{typ: f.name, path: proc + f.name})
	}
	return join
}
