// Package runstate is berth-runtime's on-disk container state: the files
// in <root>/<id>/ that one runtime command leaves for the next.
//
// containerd-shim-berth-v2 reads it too. Starting a created container and
// deleting a stopped one are small steps (open a fifo; remove cgroups and a
// directory), but running `berth-runtime start` and `delete` for them puts
// two process start-ups on every container's critical path. The shim does
// both steps itself through this package, for berth-runtime containers
// only, and leaves every other case (hooks to run, a live init to kill, a
// state it cannot read) to the runtime binary.
package runstate

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/cgroupfs"
)

// The files of a container's state dir.
const (
	StateFile = "state.json"
	// FifoName is the exec fifo: the init blocks opening it for writing
	// until `start` opens it for reading. It is removed once the init was
	// released, so its presence marks a created container.
	FifoName = "exec.fifo"
	// ConfigFile is config.json as it was at create, kept as bytes next to
	// state.json: decoded only by the commands that need all of it (exec,
	// update), and never encoded again by the ones that rewrite the state.
	ConfigFile = "config.json"
)

// CreatedFDEnv names the fd on which `berth-runtime create` writes one
// byte once the container is created, if its caller (the shim) set it:
// the caller then goes on without waiting for the runtime process to end.
// Its exit (the teardown of its threads, memory and private mount
// namespace) took a millisecond here, on the way of every container's
// start.
const CreatedFDEnv = "_BERTH_CREATED_FD"

// Format marks a state.json written in this package's format. The shim
// goes by it: runc's state.json has fields of the same names.
const Format = "berth-runtime/1"

// Record is state.json.
type Record struct {
	Format    string    `json:"format"`
	ID        string    `json:"id"`
	Bundle    string    `json:"bundle"`
	Rootfs    string    `json:"rootfs"`
	InitPid   int       `json:"init_pid"`
	InitStart uint64    `json:"init_start"` // /proc/PID/stat starttime: guards against pid reuse
	Created   time.Time `json:"created"`
	Owner     string    `json:"owner"`
	// CgroupPaths maps a v1 controller, or "" for the unified hierarchy, to
	// the container's cgroup directory.
	CgroupPaths map[string]string `json:"cgroup_paths,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Hooks       json.RawMessage   `json:"hooks,omitempty"`
	// RawConfig is config.json inside state.json, as older berth-runtimes
	// kept it; newer ones write ConfigFile instead (see Config).
	RawConfig json.RawMessage `json:"config,omitempty"`
}

// Config returns config.json as it was at create: from state.json if an
// older berth-runtime kept it there, else from dir's ConfigFile.
func (r *Record) Config(dir string) ([]byte, error) {
	if len(r.RawConfig) > 0 {
		return r.RawConfig, nil
	}
	b, err := os.ReadFile(filepath.Join(dir, ConfigFile))
	if err != nil {
		return nil, fmt.Errorf("read saved config of %s: %w", r.ID, err)
	}
	return b, nil
}

// Read reads dir/state.json. A missing file is an error matching
// os.ErrNotExist.
func Read(dir string) (*Record, error) {
	data, err := os.ReadFile(filepath.Join(dir, StateFile))
	if err != nil {
		return nil, err
	}
	var r Record
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("parse %s: %w", filepath.Join(dir, StateFile), err)
	}
	return &r, nil
}

// InitAlive reports whether the init process is still the one that was
// started and has not exited (a zombie counts as exited).
func (r *Record) InitAlive() bool {
	st, state, err := ProcStart(r.InitPid)
	if err != nil || st != r.InitStart {
		return false
	}
	return state != 'Z' && state != 'X'
}

// HasHooks reports whether the recorded hooks include any of the named
// kinds ("poststart", "poststop", ...). Hooks that cannot be parsed count
// as present: the runtime binary then reports the problem.
func (r *Record) HasHooks(kinds ...string) bool {
	if len(r.Hooks) == 0 || string(r.Hooks) == "null" {
		return false
	}
	var h map[string][]json.RawMessage
	if err := json.Unmarshal(r.Hooks, &h); err != nil {
		return true
	}
	for _, k := range kinds {
		if len(h[k]) > 0 {
			return true
		}
	}
	return false
}

// ProcStart returns the start time (in clock ticks since boot) and the state
// letter of pid, from /proc/PID/stat.
func ProcStart(pid int) (uint64, byte, error) {
	if pid <= 0 {
		return 0, 0, os.ErrNotExist
	}
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, err
	}
	// The command name may contain spaces and parentheses: split after the last ')'.
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 >= len(s) {
		return 0, 0, fmt.Errorf("parse /proc/%d/stat", pid)
	}
	fields := strings.Fields(s[i+2:])
	// fields[0] is field 3 (state); starttime is field 22.
	if len(fields) < 20 {
		return 0, 0, fmt.Errorf("parse /proc/%d/stat", pid)
	}
	st, err := strconv.ParseUint(fields[19], 10, 64)
	if err != nil {
		return 0, 0, fmt.Errorf("parse /proc/%d/stat: %w", pid, err)
	}
	return st, fields[0][0], nil
}

// Errors of Release.
var (
	ErrAlreadyStarted = errors.New("container was already started")
	ErrInitExited     = errors.New("init process exited before it was started")
)

// Release lets a created container's init run the user process: opening
// dir's exec fifo for reading releases the init, which then writes one byte
// and keeps the fifo open until execve closes it. Anything more it writes
// is its error message, returned as an error. alive reports whether the
// init is still there, so that an init that dies first does not leave
// Release waiting.
func Release(dir string, alive func() bool) error {
	path := filepath.Join(dir, FifoName)
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return ErrAlreadyStarted
		}
		return fmt.Errorf("open %s: %w", path, err)
	}
	defer unix.Close(fd)
	var got []byte
	buf := make([]byte, 4096)
	for {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, 100)
		if err != nil && err != unix.EINTR {
			return fmt.Errorf("wait for init: %w", err)
		}
		if n > 0 {
			r, err := unix.Read(fd, buf)
			if r > 0 {
				got = append(got, buf[:r]...)
				continue
			}
			if r == 0 && err == nil && len(got) > 0 {
				break // end of file: the init exec'd or died
			}
		}
		if len(got) == 0 && !alive() {
			os.Remove(path)
			return ErrInitExited
		}
	}
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("remove %s: %w", path, err)
	}
	if len(got) > 1 {
		return errors.New(string(got[1:]))
	}
	return nil
}

// Created reports whether the container of r (in dir) was created and not
// started: its init is alive and waits on the exec fifo.
func Created(dir string, r *Record) bool {
	if !r.InitAlive() {
		return false
	}
	_, err := os.Lstat(filepath.Join(dir, FifoName))
	return err == nil
}

// Destroy removes a stopped container's cgroups and then its state dir.
// Recorded cgroup paths that cannot name a cgroup are left alone.
// Poststop hooks are the caller's (the runtime runs them after this).
func Destroy(dir string, r *Record) error {
	valid := len(r.CgroupPaths) > 0
	for _, p := range r.CgroupPaths {
		valid = valid && cgroupfs.ValidPath(p)
	}
	if valid {
		if err := cgroupfs.RemovePaths(r.CgroupPaths); err != nil {
			return fmt.Errorf("remove cgroup of %s: %w", r.ID, err)
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("remove state of %s: %w", r.ID, err)
	}
	return nil
}
