package task

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	taskapi "github.com/berth-project/berth/shim/internal/api"
	"github.com/berth-project/berth/shim/internal/bundle"
	"github.com/berth-project/berth/shim/internal/cgroup"
	"github.com/berth-project/berth/shim/internal/errdefs"
	"github.com/berth-project/berth/shim/internal/events"
	"github.com/berth-project/berth/shim/internal/mount"
	"github.com/berth-project/berth/shim/internal/oci"
	"github.com/berth-project/berth/shim/internal/reaper"
	"github.com/berth-project/berth/shim/internal/stdio"
	"github.com/berth-project/berth/shim/internal/wire"
)

const (
	// ioWaitTimeout bounds how long Delete waits for output still being
	// copied (a background process may hold the pipes open forever).
	ioWaitTimeout = 2 * time.Second
	// execExitTimeout bounds how long an init exit waits for its execs'
	// exits, so that TaskExit of the execs goes out before the init's.
	execExitTimeout = 5 * time.Second
)

// DefaultRuntimeRoot is the runtime's --root unless options name one; the
// namespace is appended so that equal ids in two namespaces do not meet.
const DefaultRuntimeRoot = "/run/berth-runtime"

// container is one container the shim supervises.
type container struct {
	s        *Service
	id       string
	bundle   string
	rt       *oci.Runtime
	opts     *bundle.Options
	mounted  bool
	ownPidNS bool
	log      *stdio.JSONLog
	cg       *cgroup.Cgroup
	oom      *cgroup.OOMWatch
	init     *process

	mu    sync.Mutex
	execs map[string]*process
}

// runtimeOptions decodes the Create request's options: the runtime
// options containerd (and dockerd, CRI with runtime_path) send, with
// BinaryName, Root, SystemdCgroup. Unknown option types (such as CRI's
// runtimeoptions.v1.Options) leave the defaults.
func runtimeOptions(r *taskapi.CreateTaskRequest) (*taskapi.Options, error) {
	o := &taskapi.Options{}
	a := r.Options
	if a == nil || len(a.Value) == 0 {
		return o, nil
	}
	if a.Is(taskapi.OptionsURL) {
		if err := wire.Unmarshal(a.Value, o); err != nil {
			return nil, fmt.Errorf("runtime options: %v: %w", err, errdefs.ErrInvalidArgument)
		}
	}
	return o, nil
}

// create sets up a container: rootfs mounts, stdio, `runtime create`. On
// failure everything it did is undone.
func (s *Service) create(r *taskapi.CreateTaskRequest) (_ *container, err error) {
	if r.Checkpoint != "" {
		return nil, fmt.Errorf("create from checkpoint: %w", errdefs.ErrNotImplemented)
	}
	if !filepath.IsAbs(r.Bundle) {
		return nil, fmt.Errorf("bundle %q: not an absolute path: %w", r.Bundle, errdefs.ErrInvalidArgument)
	}
	spec, err := bundle.ReadSpec(r.Bundle)
	if err != nil {
		if bundle.IsNotExist(err) {
			return nil, fmt.Errorf("bundle %s: %w", r.Bundle, errdefs.ErrNotFound)
		}
		return nil, fmt.Errorf("bundle %s: %v: %w", r.Bundle, err, errdefs.ErrInvalidArgument)
	}
	ro, err := runtimeOptions(r)
	if err != nil {
		return nil, err
	}
	bin, err := oci.Resolve(ro.BinaryName)
	if err != nil {
		return nil, fmt.Errorf("runtime binary %q: %v: %w", ro.BinaryName, err, errdefs.ErrInvalidArgument)
	}
	root := ro.Root
	if root == "" {
		root = DefaultRuntimeRoot
	}
	root = filepath.Join(root, s.ns)
	if err := os.MkdirAll(root, 0o711); err != nil {
		return nil, fmt.Errorf("runtime root: %w", err)
	}
	c := &container{
		s:        s,
		id:       r.ID,
		bundle:   r.Bundle,
		ownPidNS: spec.OwnPidNamespace(),
		execs:    map[string]*process{},
		opts: &bundle.Options{
			Binary: bin, Root: root, SystemdCgroup: ro.SystemdCgroup,
			NoPivotRoot: ro.NoPivotRoot, NoNewKeyring: ro.NoNewKeyring,
			IoUID: int(ro.IoUid), IoGID: int(ro.IoGid),
		},
	}
	c.rt = &oci.Runtime{Binary: bin, Root: root, Log: bundle.RuntimeLog(c.bundle), SystemdCgroup: c.opts.SystemdCgroup, Reaper: s.reaper}
	defer func() {
		if err != nil {
			c.cleanup()
		}
	}()
	if err := bundle.WriteOptions(c.bundle, c.opts); err != nil {
		return nil, err
	}
	if len(r.Rootfs) > 0 {
		if err := c.mountRootfs(r); err != nil {
			return nil, err
		}
	}
	if c.log, err = openLog(spec); err != nil {
		return nil, err
	}
	p := newProcess(c, "", stdio.Config{
		Stdin: r.Stdin, Stdout: r.Stdout, Stderr: r.Stderr, Terminal: r.Terminal,
		UID: c.opts.IoUID, GID: c.opts.IoGID, Log: c.log, ContainerID: c.id, Namespace: s.ns,
	})
	c.init = p
	if p.io, err = stdio.New(p.stdio); err != nil {
		return nil, fmt.Errorf("stdio: %v: %w", err, errdefs.ErrInvalidArgument)
	}

	// Exits that happen before the pid is known are kept until Watch.
	s.reaper.Begin()
	defer s.reaper.End()
	pidFile := bundle.PidFile(c.bundle, "")
	err = c.rt.Create(c.id, c.bundle, &oci.CreateOpts{
		PidFile: pidFile, ConsoleSocket: p.io.ConsoleSocket(),
		NoPivot: c.opts.NoPivotRoot, NoNewKeyring: c.opts.NoNewKeyring, Stdio: p.io.Stdio(),
	})
	if err != nil {
		return nil, err
	}
	pid, err := bundle.ReadPid(pidFile)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pid = pid
	s.reaper.Watch(pid, func(e reaper.Exit) { go c.exited(p, e) })
	if err := p.io.Start(); err != nil {
		unix.Kill(pid, unix.SIGKILL)
		return nil, err
	}
	if cg, err := cgroup.Load(pid); err == nil {
		c.cg = cg
		if w, err := cg.WatchOOM(func() {
			s.pub.Publish(events.TopicOOM, &events.TaskOOM{ContainerID: c.id})
		}); err == nil {
			c.oom = w
		}
	}
	s.pub.Publish(events.TopicCreate, &events.TaskCreate{
		ContainerID: c.id, Bundle: c.bundle, Rootfs: r.Rootfs, Pid: uint32(pid),
		IO: &events.TaskIO{Stdin: r.Stdin, Stdout: r.Stdout, Stderr: r.Stderr, Terminal: r.Terminal},
	})
	return c, nil
}

func (c *container) mountRootfs(r *taskapi.CreateTaskRequest) error {
	rootfs := bundle.Rootfs(c.bundle)
	if err := os.Mkdir(rootfs, 0o711); err != nil && !errors.Is(err, os.ErrExist) {
		return err
	}
	ms := make([]mount.Mount, 0, len(r.Rootfs))
	for _, m := range r.Rootfs {
		ms = append(ms, mount.Mount{Type: m.Type, Source: m.Source, Target: m.Target, Options: m.Options})
	}
	if err := mount.All(ms, rootfs); err != nil {
		return fmt.Errorf("rootfs: %v: %w", err, errdefs.ErrInvalidArgument)
	}
	c.mounted = true
	return nil
}

// cleanup undoes a failed create: nothing of the container stays behind.
func (c *container) cleanup() {
	if c.init != nil {
		if c.init.pid > 0 {
			c.s.reaper.Unwatch(c.init.pid)
		}
		if c.init.io != nil {
			c.init.io.Close()
		}
	}
	if c.rt != nil {
		c.rt.Delete(c.id, true) // a create that failed half-way may leave state
	}
	if c.oom != nil {
		c.oom.Stop()
	}
	if c.log != nil {
		c.log.Close()
	}
	if c.mounted {
		mount.UnmountAll(bundle.Rootfs(c.bundle))
	}
	for _, f := range []string{bundle.OptionsPath(c.bundle), bundle.PidFile(c.bundle, ""), bundle.RuntimeLog(c.bundle)} {
		os.Remove(f)
	}
}

// openLog opens the JSON-lines log that the spec's annotations ask for.
func openLog(spec *bundle.Spec) (*stdio.JSONLog, error) {
	path := spec.Annotations[bundle.AnnotationLogPath]
	if path == "" {
		return nil, nil
	}
	if !filepath.IsAbs(path) {
		return nil, fmt.Errorf("annotation %s=%q: not absolute: %w", bundle.AnnotationLogPath, path, errdefs.ErrInvalidArgument)
	}
	cfg := stdio.LogConfig{Path: path, MaxFiles: 1}
	if v := spec.Annotations[bundle.AnnotationLogMaxSize]; v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("annotation %s=%q: %w", bundle.AnnotationLogMaxSize, v, errdefs.ErrInvalidArgument)
		}
		cfg.MaxSize = n
	}
	if v := spec.Annotations[bundle.AnnotationLogMaxFiles]; v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("annotation %s=%q: %w", bundle.AnnotationLogMaxFiles, v, errdefs.ErrInvalidArgument)
		}
		cfg.MaxFiles = n
	}
	l, err := stdio.OpenJSONLog(cfg)
	if err != nil {
		return nil, fmt.Errorf("log %s: %w", path, err)
	}
	return l, nil
}

// start starts the init process.
func (c *container) start() (int, error) {
	p := c.init
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.status != created {
		return 0, fmt.Errorf("container %s is %s: %w", c.id, p.status, errdefs.ErrFailedPrecondition)
	}
	if err := c.rt.Start(c.id); err != nil {
		return 0, err
	}
	p.setStatus(running)
	c.s.pub.Publish(events.TopicStart, &events.TaskStart{ContainerID: c.id, Pid: uint32(p.pid)})
	return p.pid, nil
}

// addExec registers an exec process (not started yet).
func (c *container) addExec(r *taskapi.ExecProcessRequest) error {
	if err := bundle.ValidID(r.ExecID); err != nil {
		return fmt.Errorf("exec: %v: %w", err, errdefs.ErrInvalidArgument)
	}
	if len(r.Spec.GetValue()) == 0 {
		return fmt.Errorf("exec %s: no process spec: %w", r.ExecID, errdefs.ErrInvalidArgument)
	}
	if st := c.init.getStatus(); st != running {
		return fmt.Errorf("exec in container %s: container is %s: %w", c.id, st, errdefs.ErrFailedPrecondition)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.execs[r.ExecID]; ok {
		return fmt.Errorf("exec %s: %w", r.ExecID, errdefs.ErrAlreadyExists)
	}
	p := newProcess(c, r.ExecID, stdio.Config{
		Stdin: r.Stdin, Stdout: r.Stdout, Stderr: r.Stderr, Terminal: r.Terminal,
		UID: c.opts.IoUID, GID: c.opts.IoGID, ContainerID: c.id, Namespace: c.s.ns,
	})
	p.spec = r.Spec.Value
	c.execs[p.execID] = p
	c.s.pub.Publish(events.TopicExecAdded, &events.TaskExecAdded{ContainerID: c.id, ExecID: p.execID})
	return nil
}

// startExec runs `runtime exec --detach` for an added exec.
func (c *container) startExec(p *process) (pid int, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.status != created {
		return 0, fmt.Errorf("exec %s is %s: %w", p.execID, p.status, errdefs.ErrFailedPrecondition)
	}
	if st := c.init.getStatus(); st != running {
		return 0, fmt.Errorf("exec in container %s: container is %s: %w", c.id, st, errdefs.ErrFailedPrecondition)
	}
	defer func() {
		if err != nil {
			// A failed start ends the exec: Wait returns, Delete works.
			p.status = stopped
			p.exit = bundle.Exit{ExitStatus: 255, ExitedAt: time.Now()}
			close(p.exited)
		}
	}()
	if p.io, err = stdio.New(p.stdio); err != nil {
		return 0, fmt.Errorf("stdio: %v: %w", err, errdefs.ErrInvalidArgument)
	}
	specFile := filepath.Join(c.bundle, ".exec-"+p.execID+".json")
	if err := os.WriteFile(specFile, p.spec, 0o600); err != nil {
		p.io.Close()
		return 0, err
	}
	defer os.Remove(specFile)
	pidFile := bundle.PidFile(c.bundle, p.execID)
	c.s.reaper.Begin()
	defer c.s.reaper.End()
	err = c.rt.Exec(c.id, &oci.ExecOpts{ProcessFile: specFile, PidFile: pidFile, ConsoleSocket: p.io.ConsoleSocket(), Stdio: p.io.Stdio()})
	if err == nil {
		pid, err = bundle.ReadPid(pidFile)
	}
	if err != nil {
		p.io.Close()
		return 0, err
	}
	p.pid = pid
	c.s.reaper.Watch(pid, func(e reaper.Exit) { go c.exited(p, e) })
	if err := p.io.Start(); err != nil {
		unix.Kill(pid, unix.SIGKILL)
		return 0, err
	}
	p.status = running
	c.s.pub.Publish(events.TopicExecStarted, &events.TaskExecStarted{ContainerID: c.id, ExecID: p.execID, Pid: uint32(pid)})
	return pid, nil
}

// exited records a process's exit, writes its exit file and publishes
// TaskExit. It runs on its own goroutine: it waits for a start that is still
// publishing, and for an init it first waits for the execs' exits.
func (c *container) exited(p *process, e reaper.Exit) {
	p.mu.Lock()
	p.status = stopped
	p.exit = bundle.Exit{Pid: e.Pid, ExitStatus: e.Status, ExitedAt: e.At}
	bundle.WriteExit(c.bundle, p.execID, p.exit)
	p.mu.Unlock()

	if p == c.init {
		if !c.ownPidNS {
			// Sharing a pid namespace, the other processes outlive init;
			// the container ends with its init all the same.
			c.rt.Kill(c.id, int(unix.SIGKILL), true)
		}
		for _, x := range c.execList() {
			if x.getStatus() == running {
				x.waitExited(execExitTimeout)
			}
		}
	}
	if p == c.init && c.oom != nil {
		// An OOM kill of the init is reported before its exit.
		c.oom.Flush()
	}
	c.s.pub.Publish(events.TopicExit, &events.TaskExit{
		ContainerID: c.id, ID: p.id(), Pid: uint32(e.Pid), ExitStatus: uint32(e.Status), ExitedAt: taskapi.NewTimestamp(e.At),
	})
	close(p.exited)
}

func (c *container) execList() []*process {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]*process, 0, len(c.execs))
	for _, p := range c.execs {
		out = append(out, p)
	}
	return out
}

// process returns init ("") or an exec.
func (c *container) process(execID string) (*process, error) {
	if execID == "" {
		return c.init, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	p, ok := c.execs[execID]
	if !ok {
		return nil, fmt.Errorf("exec %s in container %s: %w", execID, c.id, errdefs.ErrNotFound)
	}
	return p, nil
}

// kill signals init (through the runtime) or an exec (directly).
func (c *container) kill(p *process, sig int, all bool) error {
	st := p.getStatus()
	if p == c.init {
		if (st == stopped && !all) || st == deleted {
			return fmt.Errorf("container %s: process already finished: %w", c.id, errdefs.ErrNotFound)
		}
		if err := c.rt.Kill(c.id, sig, all); err != nil {
			if oci.NotRunning(err) {
				return fmt.Errorf("container %s: %v: %w", c.id, err, errdefs.ErrNotFound)
			}
			return err
		}
		return nil
	}
	switch st {
	case created:
		return fmt.Errorf("exec %s not started: %w", p.execID, errdefs.ErrFailedPrecondition)
	case running:
		if err := unix.Kill(p.getPid(), unix.Signal(sig)); err != nil {
			if err == unix.ESRCH {
				return fmt.Errorf("exec %s: process already finished: %w", p.execID, errdefs.ErrNotFound)
			}
			return fmt.Errorf("kill exec %s: %w", p.execID, err)
		}
		return nil
	}
	return fmt.Errorf("exec %s: process already finished: %w", p.execID, errdefs.ErrNotFound)
}

// deleteExec removes a finished (or never started) exec.
func (c *container) deleteExec(p *process) (bundle.Exit, error) {
	p.mu.Lock()
	st := p.status
	if st == running {
		p.mu.Unlock()
		return bundle.Exit{}, fmt.Errorf("exec %s is running: %w", p.execID, errdefs.ErrFailedPrecondition)
	}
	p.status = deleted
	p.mu.Unlock()
	c.mu.Lock()
	delete(c.execs, p.execID)
	c.mu.Unlock()
	if p.io != nil {
		p.io.Wait(ioWaitTimeout)
		p.io.Close()
	}
	if st == stopped {
		<-p.exited
	}
	e, _ := p.exitInfo()
	return e, nil
}

// delete removes a stopped (or never started) container: runtime state,
// stdio, rootfs mounts. The exit files stay in the bundle.
func (c *container) delete() (bundle.Exit, error) {
	p := c.init
	p.mu.Lock()
	st := p.status
	if st == running || st == paused {
		p.mu.Unlock()
		return bundle.Exit{}, fmt.Errorf("container %s is %s: %w", c.id, st, errdefs.ErrFailedPrecondition)
	}
	if st == deleted {
		p.mu.Unlock()
		return bundle.Exit{}, fmt.Errorf("container %s: %w", c.id, errdefs.ErrNotFound)
	}
	p.status = deleted
	p.mu.Unlock()

	if st == stopped {
		<-p.exited // the exit (and its event) is complete
		p.io.Wait(ioWaitTimeout)
	}
	if err := c.rt.Delete(c.id, true); err != nil && !oci.NotRunning(err) {
		c.s.logf("delete %s: %v", c.id, err)
	}
	if st == created {
		// delete --force killed the parked init; its exit is reaped.
		p.waitExited(execExitTimeout)
	}
	p.io.Close()
	for _, x := range c.execList() {
		if x.io != nil {
			x.io.Close()
		}
	}
	if c.oom != nil {
		c.oom.Stop()
	}
	if c.log != nil {
		c.log.Close()
	}
	if c.mounted {
		if err := mount.UnmountAll(bundle.Rootfs(c.bundle)); err != nil {
			c.s.logf("unmount %s: %v", c.id, err)
		}
	}
	e, ok := p.exitInfo()
	if !ok {
		e = bundle.Exit{Pid: p.pid, ExitStatus: 137, ExitedAt: time.Now()}
	}
	return e, nil
}
