// Package oci runs the OCI runtime binary (berth-runtime, runc, crun) with
// runc's command line, as containerd-shim-runc-v2 does through go-runc.
//
// Runtime invocations are children of the shim like the containers, so their
// exits come from the reaper (the shim's only wait4 caller). Output that the
// shim reads (ps, error text) goes to a memfd, never a pipe: a pipe would
// only see EOF once every descendant that inherited it had closed it.
package oci

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/forkexec"
	"github.com/berth-project/berth/internal/runstate"
	"github.com/berth-project/berth/shim/internal/bundle"
	"github.com/berth-project/berth/shim/internal/reaper"
)

// Runtime is one OCI runtime binary with its global flags.
type Runtime struct {
	Binary        string // absolute path
	Root          string // --root: the runtime's state directory
	Log           string // --log: JSON lines; the last error message explains a failure
	SystemdCgroup bool
	Reaper        *reaper.Reaper
}

// Stdio are the files a container process gets as fds 0-2; nil is /dev/null.
type Stdio struct{ In, Out, Err *os.File }

// CreateOpts are create's flags.
type CreateOpts struct {
	PidFile       string
	ConsoleSocket string
	NoPivot       bool
	NoNewKeyring  bool
	Stdio         Stdio
}

// ExecOpts are exec's flags; ProcessFile holds the OCI process JSON.
type ExecOpts struct {
	ProcessFile   string
	PidFile       string
	ConsoleSocket string
	Stdio         Stdio
}

// Error is a failed runtime invocation.
type Error struct {
	Command string // create, start, ...
	Status  int    // exit status of the runtime
	Msg     string // the runtime's own explanation, if it gave one
}

func (e *Error) Error() string {
	if e.Msg == "" {
		return fmt.Sprintf("runtime %s: exit status %d", e.Command, e.Status)
	}
	return fmt.Sprintf("runtime %s: %s", e.Command, e.Msg)
}

// NotRunning reports whether err says the container or process is gone or
// stopped, in the words runc and berth-runtime both use.
func NotRunning(err error) bool {
	var re *Error
	if !errors.As(err, &re) {
		return false
	}
	m := strings.ToLower(re.Msg)
	for _, s := range []string{"does not exist", "not running", "no such process", "container not found", "process already finished"} {
		if strings.Contains(m, s) {
			return true
		}
	}
	return false
}

// Create runs `create --bundle B --pid-file P [--console-socket S] ID`.
func (r *Runtime) Create(id, bundle string, o *CreateOpts) error {
	args := []string{"create", "--bundle", bundle, "--pid-file", o.PidFile}
	if o.ConsoleSocket != "" {
		args = append(args, "--console-socket", o.ConsoleSocket)
	}
	if o.NoPivot {
		args = append(args, "--no-pivot")
	}
	if o.NoNewKeyring {
		args = append(args, "--no-new-keyring")
	}
	_, err := r.runOpts(runOpts{stdio: &o.Stdio, created: r.isBerth()}, append(args, id)...)
	return err
}

// Start runs `start ID`. A berth-runtime container is started by the
// shim itself (see startInProcess).
func (r *Runtime) Start(id string) error {
	if done, err := r.startInProcess(id); done {
		return err
	}
	_, err := r.run(nil, nil, "start", id)
	return err
}

// Exec runs `exec --process F --detach --pid-file P [--console-socket S] ID`.
func (r *Runtime) Exec(id string, o *ExecOpts) error {
	args := []string{"exec", "--process", o.ProcessFile, "--detach", "--pid-file", o.PidFile}
	if o.ConsoleSocket != "" {
		args = append(args, "--console-socket", o.ConsoleSocket)
	}
	_, err := r.run(&o.Stdio, nil, append(args, id)...)
	return err
}

// Kill runs `kill [--all] ID SIGNUM`.
func (r *Runtime) Kill(id string, sig int, all bool) error {
	args := []string{"kill"}
	if all {
		args = append(args, "--all")
	}
	_, err := r.run(nil, nil, append(args, id, strconv.Itoa(sig))...)
	return err
}

// Delete runs `delete [--force] ID`. A stopped berth-runtime container is
// deleted by the shim itself (see deleteInProcess).
func (r *Runtime) Delete(id string, force bool) error {
	if done, err := r.deleteInProcess(id); done {
		return err
	}
	args := []string{"delete"}
	if force {
		args = append(args, "--force")
	}
	_, err := r.run(nil, nil, append(args, id)...)
	return err
}

// Pause runs `pause ID`.
func (r *Runtime) Pause(id string) error {
	_, err := r.run(nil, nil, "pause", id)
	return err
}

// Resume runs `resume ID`.
func (r *Runtime) Resume(id string) error {
	_, err := r.run(nil, nil, "resume", id)
	return err
}

// Update runs `update --resources - ID` with LinuxResources JSON on stdin.
func (r *Runtime) Update(id string, resources []byte) error {
	_, err := r.run(nil, resources, "update", "--resources", "-", id)
	return err
}

// Ps runs `ps --format json ID` and returns the container's pids.
func (r *Runtime) Ps(id string) ([]int, error) {
	out, err := r.run(nil, nil, "ps", "--format", "json", id)
	if err != nil {
		return nil, err
	}
	var pids []int
	if err := json.Unmarshal(out, &pids); err != nil {
		return nil, fmt.Errorf("runtime ps: parse %q: %w", bytes.TrimSpace(out), err)
	}
	return pids, nil
}

// stateDir returns the container's berth-runtime state dir, if the shim may
// act on it itself: the runtime is berth-runtime (runc's state.json has
// fields of the same names and other meanings), with a known --root and
// cgroupfs cgroups (a systemd scope must be stopped through systemd).
func (r *Runtime) stateDir(id string) (string, bool) {
	if r.Root == "" || r.SystemdCgroup || !r.isBerth() || bundle.ValidID(id) != nil {
		return "", false
	}
	return filepath.Join(r.Root, id), true
}

// startInProcess does berth-runtime's `start` without running it: open the
// exec fifo the parked init waits on (runstate.Release). The runtime
// process would cost a Go start-up on every container's way to running.
// It is done only in the plain case (a created container of this state
// format, no poststart hooks to run); done=false leaves everything else,
// errors included, to the runtime binary.
func (r *Runtime) startInProcess(id string) (done bool, err error) {
	dir, ok := r.stateDir(id)
	if !ok {
		return false, nil
	}
	rec, err := runstate.Read(dir)
	if err != nil || rec.Format != runstate.Format || rec.HasHooks("poststart") || !runstate.Created(dir, rec) {
		return false, nil
	}
	if err := runstate.Release(dir, rec.InitAlive); err != nil {
		return true, &Error{Command: "start", Status: 1, Msg: fmt.Sprintf("start %s: %v", id, err)}
	}
	return true, nil
}

// deleteInProcess does berth-runtime's `delete` of a stopped container
// without running it: remove its cgroups and state dir (runstate.Destroy,
// the runtime's own code). As for start, only the plain case: a stopped
// container of this state format with no poststop hooks.
func (r *Runtime) deleteInProcess(id string) (done bool, err error) {
	dir, ok := r.stateDir(id)
	if !ok {
		return false, nil
	}
	rec, err := runstate.Read(dir)
	if err != nil || rec.Format != runstate.Format || rec.HasHooks("poststop") || rec.InitAlive() {
		return false, nil
	}
	if err := runstate.Destroy(dir, rec); err != nil {
		return true, &Error{Command: "delete", Status: 1, Msg: err.Error()}
	}
	return true, nil
}

func (r *Runtime) globalArgs() []string {
	args := []string{}
	if r.Root != "" {
		args = append(args, "--root", r.Root)
	}
	if r.Log != "" {
		args = append(args, "--log", r.Log, "--log-format", "json")
	}
	if r.SystemdCgroup {
		args = append(args, "--systemd-cgroup")
	}
	return args
}

// isBerth reports whether the runtime is berth-runtime, which knows
// runstate.CreatedFDEnv and runstate's state format.
func (r *Runtime) isBerth() bool { return filepath.Base(r.Binary) == "berth-runtime" }

// runOpts are run's options: the container's stdio (nil: the output is
// captured and returned), bytes for stdin, and created (see
// runstate.CreatedFDEnv).
type runOpts struct {
	stdio   *Stdio
	stdin   []byte
	created bool
}

// run starts the runtime, waits for it through the reaper and returns what
// it printed when stdio is nil (otherwise its stdio is the container's).
func (r *Runtime) run(stdio *Stdio, stdin []byte, args ...string) ([]byte, error) {
	return r.runOpts(runOpts{stdio: stdio, stdin: stdin}, args...)
}

func (r *Runtime) runOpts(o runOpts, args ...string) ([]byte, error) {
	stdio, stdin := o.stdio, o.stdin
	argv := append([]string{r.Binary}, append(r.globalArgs(), args...)...)
	attr := forkexec.Attr{
		Env:   runtimeEnv(),
		Files: make([]*os.File, 3),
		// If the shim dies, the runtime must not finish setting up a
		// container that nobody supervises.
		Sys: &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL},
	}
	var out *os.File
	if stdio != nil {
		attr.Files[0], attr.Files[1], attr.Files[2] = stdio.In, stdio.Out, stdio.Err
	} else {
		f, err := memfd("runtime-output", nil)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		out = f
		attr.Files[1], attr.Files[2] = f, f
	}
	if stdin != nil {
		f, err := memfd("runtime-input", stdin)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		attr.Files[0] = f
	}
	logOff := fileSize(r.Log)

	var created, createdW *os.File
	if o.created {
		pr, pw, err := os.Pipe()
		if err != nil {
			return nil, fmt.Errorf("runtime %s: %w", args[0], err)
		}
		defer pr.Close()
		defer pw.Close()
		created, createdW = pr, pw
		attr.Files = append(attr.Files, pw)
		attr.Env = append(attr.Env, runstate.CreatedFDEnv+"=3")
	}

	r.Reaper.Begin()
	defer r.Reaper.End()
	// The reaper waits for it: no exec.Cmd, whose start would also cost a
	// pidfd check (see internal/forkexec).
	pid, err := forkexec.Start(r.Binary, argv, attr)
	if err != nil {
		return nil, fmt.Errorf("runtime %s: %w", args[0], err)
	}
	exited := make(chan reaper.Exit, 1)
	r.Reaper.Watch(pid, func(e reaper.Exit) { exited <- e })
	var e reaper.Exit
	gotExit := false
	if created != nil {
		createdW.Close() // the runtime holds the only write end now
		done := make(chan bool, 1)
		go func() {
			b := make([]byte, 1)
			n, _ := created.Read(b)
			done <- n == 1
		}()
		select {
		case ok := <-done:
			if ok {
				// Created. The process ends on its own; the reaper
				// collects it.
				return nil, nil
			}
			// End of file without the byte: it failed; its exit says how.
		case e = <-exited:
			gotExit = true
		}
	}
	if !gotExit {
		e = <-exited
	}

	var output []byte
	if out != nil {
		// The runtime shared the file offset; read from the start.
		if _, err := out.Seek(0, io.SeekStart); err == nil {
			output, _ = io.ReadAll(out)
		}
	}
	if e.Status == 0 {
		return output, nil
	}
	msg := lastLogError(r.Log, logOff)
	if msg == "" {
		msg = lastLine(output)
	}
	return output, &Error{Command: args[0], Status: e.Status, Msg: msg}
}

// runtimeEnv is the shim's environment without NOTIFY_SOCKET, which would
// make runc talk to systemd on the shim's behalf.
func runtimeEnv() []string {
	env := os.Environ()
	out := env[:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, "NOTIFY_SOCKET=") {
			out = append(out, kv)
		}
	}
	return out
}

func memfd(name string, data []byte) (*os.File, error) {
	fd, err := unix.MemfdCreate(name, unix.MFD_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("memfd_create", err)
	}
	f := os.NewFile(uintptr(fd), name)
	if len(data) > 0 {
		if _, err := f.Write(data); err != nil {
			f.Close()
			return nil, err
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			f.Close()
			return nil, err
		}
	}
	return f, nil
}

func fileSize(path string) int64 {
	if path == "" {
		return 0
	}
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// lastLogError returns the message of the last "error" record the runtime
// appended to its JSON log after offset.
func lastLogError(path string, offset int64) string {
	if path == "" {
		return ""
	}
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return ""
	}
	var msg string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var rec struct {
			Level string `json:"level"`
			Msg   string `json:"msg"`
		}
		if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Level == "error" && rec.Msg != "" {
			msg = rec.Msg
		}
	}
	return msg
}

func lastLine(b []byte) string {
	b = bytes.TrimSpace(b)
	if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
		b = b[i+1:]
	}
	if len(b) > 512 {
		b = b[:512]
	}
	return string(b)
}

// DefaultBinary is the runtime the shim runs unless options name another.
const DefaultBinary = "berth-runtime"

// Resolve finds the runtime binary: name when it is a path, else the binary
// called name next to the shim's own executable, else name in PATH.
func Resolve(name string) (string, error) {
	if name == "" {
		name = DefaultBinary
	}
	if strings.ContainsRune(name, '/') {
		if err := executable(name); err != nil {
			return "", err
		}
		return name, nil
	}
	if self, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(self), name)
		if executable(p) == nil {
			return p, nil
		}
	}
	return exec.LookPath(name)
}

func executable(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if fi.IsDir() || fi.Mode()&0o111 == 0 {
		return &os.PathError{Op: "exec", Path: path, Err: syscall.EACCES}
	}
	return nil
}
