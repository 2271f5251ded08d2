// Package task implements containerd's task service (containerd.task.v2.Task)
// for the containers of one shim: each RPC validates its request, finds the
// container and process, and makes one call into container.go; errors are
// mapped to gRPC codes here, at the edge, and nowhere else.
package task

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"

	taskapi "github.com/berth-project/berth/shim/internal/api"
	"github.com/berth-project/berth/shim/internal/bundle"
	"github.com/berth-project/berth/shim/internal/errdefs"
	"github.com/berth-project/berth/shim/internal/events"
	"github.com/berth-project/berth/shim/internal/reaper"
)

// Config wires a Service to the shim around it.
type Config struct {
	Namespace string
	Publisher *events.Publisher
	Reaper    *reaper.Reaper
	// Shutdown is called (once, and must not block) when the shim should
	// exit: a Shutdown request arrived and no container is left. It runs
	// before the reply, so it can remove the socket: a new `start` for the
	// same id must get a new shim, not this exiting one.
	Shutdown func()
	// Logf reports problems that do not fail a request (to the shim log).
	Logf func(format string, args ...any)
}

// Service serves the task API.
type Service struct {
	ns       string
	pub      *events.Publisher
	reaper   *reaper.Reaper
	shutdown func()
	logFn    func(string, ...any)

	mu         sync.Mutex
	containers map[string]*container
	creating   map[string]bool
	idle       *time.Timer // running while the shim has no container
	closing    sync.Once
}

// idleExit is how long a shim without containers waits for a Create (or
// a Shutdown) before it exits on its own: its caller may have failed, or
// died, between `start` and Create or between Delete and Shutdown.
const idleExit = time.Minute

// New returns an empty service.
func New(cfg Config) *Service {
	s := &Service{
		ns: cfg.Namespace, pub: cfg.Publisher, reaper: cfg.Reaper, shutdown: cfg.Shutdown, logFn: cfg.Logf,
		containers: map[string]*container{}, creating: map[string]bool{},
	}
	s.mu.Lock()
	s.idleLocked()
	s.mu.Unlock()
	return s
}

// idleLocked starts or stops the idle timer as the container count says.
// Caller holds s.mu.
func (s *Service) idleLocked() {
	empty := len(s.containers) == 0 && len(s.creating) == 0
	switch {
	case empty && s.idle == nil:
		s.idle = time.AfterFunc(idleExit, func() {
			s.mu.Lock()
			empty := len(s.containers) == 0 && len(s.creating) == 0
			s.mu.Unlock()
			if empty && s.shutdown != nil {
				s.logf("no container for %s: exiting", idleExit)
				s.closing.Do(s.shutdown)
			}
		})
	case !empty && s.idle != nil:
		s.idle.Stop()
		s.idle = nil
	}
}

func (s *Service) logf(format string, args ...any) {
	if s.logFn != nil {
		s.logFn(format, args...)
	}
}

func (s *Service) get(id string) (*container, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.containers[id]
	if !ok {
		return nil, fmt.Errorf("container %s: %w", id, errdefs.ErrNotFound)
	}
	return c, nil
}

func (s *Service) getProcess(id, execID string) (*container, *process, error) {
	c, err := s.get(id)
	if err != nil {
		return nil, nil, err
	}
	p, err := c.process(execID)
	if err != nil {
		return nil, nil, err
	}
	return c, p, nil
}

// Create creates the container's init process (parked until Start).
func (s *Service) Create(ctx context.Context, r *taskapi.CreateTaskRequest) (*taskapi.CreateTaskResponse, error) {
	if err := bundle.ValidID(r.ID); err != nil {
		return nil, errdefs.ToGRPC(fmt.Errorf("create: %v: %w", err, errdefs.ErrInvalidArgument))
	}
	s.mu.Lock()
	if s.containers[r.ID] != nil || s.creating[r.ID] {
		s.mu.Unlock()
		return nil, errdefs.ToGRPC(fmt.Errorf("container %s: %w", r.ID, errdefs.ErrAlreadyExists))
	}
	s.creating[r.ID] = true
	s.idleLocked()
	s.mu.Unlock()

	c, err := s.create(r)

	s.mu.Lock()
	delete(s.creating, r.ID)
	if err == nil {
		s.containers[c.id] = c
	}
	s.idleLocked()
	s.mu.Unlock()
	if err != nil {
		return nil, errdefs.ToGRPC(err)
	}
	return &taskapi.CreateTaskResponse{Pid: uint32(c.init.getPid())}, nil
}

// Start starts the init process or an exec.
func (s *Service) Start(ctx context.Context, r *taskapi.StartRequest) (*taskapi.StartResponse, error) {
	c, p, err := s.getProcess(r.ID, r.ExecID)
	if err != nil {
		return nil, errdefs.ToGRPC(err)
	}
	var pid int
	if p == c.init {
		pid, err = c.start()
	} else {
		pid, err = c.startExec(p)
	}
	if err != nil {
		return nil, errdefs.ToGRPC(err)
	}
	return &taskapi.StartResponse{Pid: uint32(pid)}, nil
}

// Delete deletes a stopped exec, or the container once its init stopped.
func (s *Service) Delete(ctx context.Context, r *taskapi.DeleteRequest) (*taskapi.DeleteResponse, error) {
	c, p, err := s.getProcess(r.ID, r.ExecID)
	if err != nil {
		return nil, errdefs.ToGRPC(err)
	}
	if p != c.init {
		e, err := c.deleteExec(p)
		if err != nil {
			return nil, errdefs.ToGRPC(err)
		}
		return deleteResponse(e), nil
	}
	e, err := c.delete()
	if err != nil {
		return nil, errdefs.ToGRPC(err)
	}
	s.mu.Lock()
	delete(s.containers, c.id)
	s.idleLocked()
	s.mu.Unlock()
	s.pub.Publish(events.TopicDelete, &events.TaskDelete{
		ContainerID: c.id, ID: c.id, Pid: uint32(e.Pid), ExitStatus: uint32(e.ExitStatus), ExitedAt: taskapi.NewTimestamp(e.ExitedAt),
	})
	return deleteResponse(e), nil
}

func deleteResponse(e bundle.Exit) *taskapi.DeleteResponse {
	return &taskapi.DeleteResponse{Pid: uint32(e.Pid), ExitStatus: uint32(e.ExitStatus), ExitedAt: taskapi.NewTimestamp(e.ExitedAt)}
}

// Exec adds an exec process; Start runs it.
func (s *Service) Exec(ctx context.Context, r *taskapi.ExecProcessRequest) (*taskapi.Empty, error) {
	c, err := s.get(r.ID)
	if err != nil {
		return nil, errdefs.ToGRPC(err)
	}
	if err := c.addExec(r); err != nil {
		return nil, errdefs.ToGRPC(err)
	}
	return &taskapi.Empty{}, nil
}

// State reports a process's status, pid, stdio and exit.
func (s *Service) State(ctx context.Context, r *taskapi.StateRequest) (*taskapi.StateResponse, error) {
	c, p, err := s.getProcess(r.ID, r.ExecID)
	if err != nil {
		return nil, errdefs.ToGRPC(err)
	}
	p.mu.Lock()
	resp := &taskapi.StateResponse{
		ID: p.id(), Bundle: c.bundle, Pid: uint32(p.pid), Status: p.status.proto(),
		Stdin: p.stdio.Stdin, Stdout: p.stdio.Stdout, Stderr: p.stdio.Stderr, Terminal: p.stdio.Terminal,
		ExecID: p.execID,
	}
	p.mu.Unlock()
	if e, ok := p.exitInfo(); ok {
		resp.Status = taskapi.StatusStopped
		resp.ExitStatus = uint32(e.ExitStatus)
		resp.ExitedAt = taskapi.NewTimestamp(e.ExitedAt)
	} else if resp.Status == taskapi.StatusStopped {
		// Stopped, but the exit is still being published: report running
		// until Wait would return, so State and Wait agree.
		resp.Status = taskapi.StatusRunning
	}
	return resp, nil
}

// Pids lists the container's processes; execs carry their exec id.
func (s *Service) Pids(ctx context.Context, r *taskapi.PidsRequest) (*taskapi.PidsResponse, error) {
	c, err := s.get(r.ID)
	if err != nil {
		return nil, errdefs.ToGRPC(err)
	}
	pids, err := c.rt.Ps(c.id)
	if err != nil {
		return nil, errdefs.ToGRPC(err)
	}
	byPid := map[int]string{}
	for _, x := range c.execList() {
		if pid := x.getPid(); pid > 0 {
			byPid[pid] = x.execID
		}
	}
	resp := &taskapi.PidsResponse{}
	for _, pid := range pids {
		info := &taskapi.ProcessInfo{Pid: uint32(pid)}
		if execID, ok := byPid[pid]; ok {
			info.Info = taskapi.MarshalAny(&taskapi.ProcessDetails{ExecID: execID})
		}
		resp.Processes = append(resp.Processes, info)
	}
	return resp, nil
}

// Pause freezes the container.
func (s *Service) Pause(ctx context.Context, r *taskapi.PauseRequest) (*taskapi.Empty, error) {
	return s.freeze(r.ID, true)
}

// Resume thaws the container.
func (s *Service) Resume(ctx context.Context, r *taskapi.ResumeRequest) (*taskapi.Empty, error) {
	return s.freeze(r.ID, false)
}

func (s *Service) freeze(id string, pause bool) (*taskapi.Empty, error) {
	c, err := s.get(id)
	if err != nil {
		return nil, errdefs.ToGRPC(err)
	}
	p := c.init
	p.mu.Lock()
	defer p.mu.Unlock()
	from, to := running, paused
	if !pause {
		from, to = paused, running
	}
	if p.status != from {
		return nil, errdefs.ToGRPC(fmt.Errorf("container %s is %s: %w", id, p.status, errdefs.ErrFailedPrecondition))
	}
	if pause {
		err = c.rt.Pause(id)
	} else {
		err = c.rt.Resume(id)
	}
	if err != nil {
		return nil, errdefs.ToGRPC(err)
	}
	p.setStatus(to)
	if pause {
		s.pub.Publish(events.TopicPaused, &events.TaskPaused{ContainerID: id})
	} else {
		s.pub.Publish(events.TopicResumed, &events.TaskResumed{ContainerID: id})
	}
	return &taskapi.Empty{}, nil
}

// Checkpoint is not supported.
func (s *Service) Checkpoint(ctx context.Context, r *taskapi.CheckpointTaskRequest) (*taskapi.Empty, error) {
	return nil, errdefs.ToGRPC(fmt.Errorf("checkpoint: %w", errdefs.ErrNotImplemented))
}

// Kill signals a process (all of the container's with All).
func (s *Service) Kill(ctx context.Context, r *taskapi.KillRequest) (*taskapi.Empty, error) {
	c, p, err := s.getProcess(r.ID, r.ExecID)
	if err != nil {
		return nil, errdefs.ToGRPC(err)
	}
	if err := c.kill(p, int(r.Signal), r.All); err != nil {
		return nil, errdefs.ToGRPC(err)
	}
	return &taskapi.Empty{}, nil
}

// ResizePty sets a process's terminal size.
func (s *Service) ResizePty(ctx context.Context, r *taskapi.ResizePtyRequest) (*taskapi.Empty, error) {
	_, p, err := s.getProcess(r.ID, r.ExecID)
	if err != nil {
		return nil, errdefs.ToGRPC(err)
	}
	p.mu.Lock()
	x := p.io
	p.mu.Unlock()
	if x == nil {
		return nil, errdefs.ToGRPC(fmt.Errorf("resize %s: not started: %w", p.id(), errdefs.ErrFailedPrecondition))
	}
	if err := x.Resize(r.Width, r.Height); err != nil {
		return nil, errdefs.ToGRPC(fmt.Errorf("%v: %w", err, errdefs.ErrFailedPrecondition))
	}
	return &taskapi.Empty{}, nil
}

// CloseIO closes a process's stdin.
func (s *Service) CloseIO(ctx context.Context, r *taskapi.CloseIORequest) (*taskapi.Empty, error) {
	_, p, err := s.getProcess(r.ID, r.ExecID)
	if err != nil {
		return nil, errdefs.ToGRPC(err)
	}
	p.mu.Lock()
	x := p.io
	p.mu.Unlock()
	if r.Stdin && x != nil {
		x.CloseStdin()
	}
	return &taskapi.Empty{}, nil
}

// Update changes the container's resources (LinuxResources JSON).
func (s *Service) Update(ctx context.Context, r *taskapi.UpdateTaskRequest) (*taskapi.Empty, error) {
	c, err := s.get(r.ID)
	if err != nil {
		return nil, errdefs.ToGRPC(err)
	}
	if st := c.init.getStatus(); st == stopped || st == deleted {
		return nil, errdefs.ToGRPC(fmt.Errorf("container %s is %s: %w", c.id, st, errdefs.ErrFailedPrecondition))
	}
	if len(r.Resources.GetValue()) == 0 {
		return nil, errdefs.ToGRPC(fmt.Errorf("update %s: no resources: %w", c.id, errdefs.ErrInvalidArgument))
	}
	if err := c.rt.Update(c.id, r.Resources.GetValue()); err != nil {
		return nil, errdefs.ToGRPC(err)
	}
	return &taskapi.Empty{}, nil
}

// Wait blocks until the process exited.
func (s *Service) Wait(ctx context.Context, r *taskapi.WaitRequest) (*taskapi.WaitResponse, error) {
	_, p, err := s.getProcess(r.ID, r.ExecID)
	if err != nil {
		return nil, errdefs.ToGRPC(err)
	}
	select {
	case <-p.exited:
	case <-ctx.Done():
		return nil, errdefs.ToGRPC(ctx.Err())
	}
	e, _ := p.exitInfo()
	return &taskapi.WaitResponse{ExitStatus: uint32(e.ExitStatus), ExitedAt: taskapi.NewTimestamp(e.ExitedAt)}, nil
}

// Stats returns the container's cgroup metrics.
func (s *Service) Stats(ctx context.Context, r *taskapi.StatsRequest) (*taskapi.StatsResponse, error) {
	c, err := s.get(r.ID)
	if err != nil {
		return nil, errdefs.ToGRPC(err)
	}
	if c.cg == nil {
		return nil, errdefs.ToGRPC(fmt.Errorf("stats %s: no cgroup: %w", c.id, errdefs.ErrNotFound))
	}
	m, err := c.cg.Metrics()
	if err != nil {
		if os.IsNotExist(err) {
			err = fmt.Errorf("stats %s: cgroup gone: %w", c.id, errdefs.ErrNotFound)
		}
		return nil, errdefs.ToGRPC(err)
	}
	return &taskapi.StatsResponse{Stats: taskapi.MarshalAny(m)}, nil
}

// Connect tells the caller the shim's and the task's pids.
func (s *Service) Connect(ctx context.Context, r *taskapi.ConnectRequest) (*taskapi.ConnectResponse, error) {
	resp := &taskapi.ConnectResponse{ShimPid: uint32(os.Getpid()), Version: "2"}
	if c, err := s.get(r.ID); err == nil {
		resp.TaskPid = uint32(c.init.getPid())
	}
	return resp, nil
}

// Shutdown ends the shim once it has no container left.
func (s *Service) Shutdown(ctx context.Context, r *taskapi.ShutdownRequest) (*taskapi.Empty, error) {
	s.mu.Lock()
	busy := len(s.containers) > 0 || len(s.creating) > 0
	s.mu.Unlock()
	if busy && !r.Now {
		return &taskapi.Empty{}, nil
	}
	if s.shutdown != nil {
		s.closing.Do(s.shutdown)
	}
	return &taskapi.Empty{}, nil
}
