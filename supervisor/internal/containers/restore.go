package containers

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"time"

	taskapi "github.com/containerd/containerd/api/runtime/task/v2"
	tasktypes "github.com/containerd/containerd/api/types/task"

	"github.com/berth-project/berth/supervisor/internal/bundle"
	"github.com/berth-project/berth/supervisor/internal/metadata"
	"github.com/berth-project/berth/supervisor/internal/shimclient"
)

// shimExit is the exit file the shim writes into the bundle (init.exit).
type shimExit struct {
	Pid        int       `json:"pid"`
	ExitStatus int       `json:"exit_status"`
	ExitedAt   time.Time `json:"exited_at"`
}

func readExitFile(bundleDir string) (*shimExit, error) {
	b, err := os.ReadFile(filepath.Join(bundleDir, "init.exit"))
	if err != nil {
		return nil, err
	}
	var e shimExit
	if err := json.Unmarshal(b, &e); err != nil {
		return nil, err
	}
	return &e, nil
}

// Restore brings berthd's view in line with the shims after a (re)start:
// containers whose shim still runs are reconnected (their stdio reopened,
// their exit watched again); those that ended while berthd was down get
// their real exit status from the shim or its exit file, are cleaned up,
// and their restart policy applies. Leftover bundles of unknown
// containers are cleaned up. Containers whose policy says so are started.
func (s *Service) Restore(ctx context.Context) {
	known := map[string]bool{}
	for _, c := range s.all() {
		known[c.id] = true
		s.restoreOne(ctx, c)
	}
	ents, _ := os.ReadDir(filepath.Join(s.opts.State, "bundles"))
	for _, e := range ents {
		if known[e.Name()] {
			continue
		}
		dir := filepath.Join(s.opts.State, "bundles", e.Name())
		s.log.Info("removing leftover bundle", "dir", dir)
		if sh, err := shimclient.ConnectBundle(ctx, dir); err == nil {
			sctx := shimclient.Context(ctx)
			sh.Task.Kill(sctx, &taskapi.KillRequest{ID: e.Name(), Signal: 9, All: true})
			sh.Task.Shutdown(sctx, &taskapi.ShutdownRequest{ID: e.Name(), Now: true})
			sh.Close()
		}
		shimclient.Delete(ctx, s.shim, e.Name(), dir)
		bundle.Unmount(filepath.Join(dir, "rootfs"))
		s.net.Detach(ctx, e.Name())
		os.RemoveAll(dir)
	}
}

// WasRunning reports whether id is a container recorded as running or
// paused: one whose network Restore may have to take back. It is meant
// for berthd's start, before Restore.
func (s *Service) WasRunning(id string) bool {
	s.mu.Lock()
	c := s.byID[id]
	s.mu.Unlock()
	if c == nil {
		return false
	}
	st := c.state().Status
	return st == "running" || st == "paused"
}

func (s *Service) restoreOne(ctx context.Context, c *container) {
	st := c.state()
	switch st.Status {
	case "running", "paused", "removing":
	case "restarting":
		// berthd stopped during a restart's back-off: restart now.
		s.update(c, func(r *metadata.Container) { r.State.Status = "exited" })
		s.maybeRestart(c, st.ExitCode, st.ManuallyStopped)
		return
	default:
		// Not running: nothing of a run may be left.
		if bundle.Mounted(c.paths.Rootfs()) || dirExists(c.paths.Bundle) {
			s.log.Info("cleaning up an interrupted start", "id", c.id)
			shimclient.Delete(ctx, s.shim, c.id, c.paths.Bundle)
			c.paths.UnmountRootfs()
			s.net.Detach(ctx, c.id)
			os.RemoveAll(c.paths.Bundle)
		}
		s.startOnBoot(c, st)
		return
	}
	sh, err := shimclient.ConnectBundle(ctx, c.paths.Bundle)
	if err == nil {
		sctx, cancel := context.WithTimeout(shimclient.Context(ctx), 10*time.Second)
		resp, err := sh.Task.State(sctx, &taskapi.StateRequest{ID: c.id})
		cancel()
		if err == nil && resp.GetStatus() != tasktypes.Status_STOPPED && resp.GetStatus() != tasktypes.Status_UNKNOWN {
			if s.reattach(c, sh, int(resp.GetPid()), resp.GetStatus() == tasktypes.Status_PAUSED) == nil {
				return
			}
		}
		if err == nil && resp.GetStatus() == tasktypes.Status_STOPPED {
			s.log.Info("container exited while berthd was down", "id", c.id, "status", resp.GetExitStatus())
			t := &task{shim: sh, io: &stdio{done: closedChan()}, done: make(chan struct{}), execs: map[string]*execProc{}}
			c.mu.Lock()
			c.rootfsRefs = 1
			c.task = t
			c.mu.Unlock()
			s.handleExit(c, t, int(resp.GetExitStatus()), resp.GetExitedAt().AsTime())
			return
		}
		sh.Close()
	}
	// The shim is gone: its exit file has the status, if it got that far.
	status, at := 255, time.Now().UTC()
	if e, err := readExitFile(c.paths.Bundle); err == nil {
		status, at = e.ExitStatus, e.ExitedAt
	}
	s.log.Info("container's shim is gone", "id", c.id, "status", status)
	shimclient.Delete(ctx, s.shim, c.id, c.paths.Bundle)
	t := &task{shim: nil, io: &stdio{done: closedChan()}, done: make(chan struct{}), execs: map[string]*execProc{}}
	c.op.Lock()
	c.paths.UnmountRootfs()
	s.net.Detach(ctx, c.id)
	os.RemoveAll(c.paths.Bundle)
	c.op.Unlock()
	s.recordExit(c, t, status, at)
}

// recordExit records an exit whose run is already cleaned up.
func (s *Service) recordExit(c *container, t *task, status int, at time.Time) {
	c.mu.Lock()
	c.task = nil
	c.exits++
	stopped := c.rec.State.ManuallyStopped
	c.mu.Unlock()
	s.update(c, func(r *metadata.Container) {
		r.State.Status = "exited"
		r.State.Pid = 0
		r.State.ExitCode = status
		r.State.FinishedAt = at
	})
	close(t.done)
	if c.cfg.Host.AutoRemove {
		go s.remove(context.Background(), c, true)
		return
	}
	s.maybeRestart(c, status, stopped)
}

// reattach takes a running container's shim back: stdio, exit watch.
func (s *Service) reattach(c *container, sh *shimclient.Shim, pid int, paused bool) error {
	f := fifoPaths{stdout: c.paths.FIFO("", "stdout")}
	if !c.cfg.Tty {
		f.stderr = c.paths.FIFO("", "stderr")
	}
	x, err := openStdio(f)
	if err != nil {
		s.log.Warn("reopen stdio", "id", c.id, "err", err)
		x = &stdio{clients: map[*ioClient]struct{}{}, done: closedChan()}
	} else {
		x.start()
	}
	t := &task{shim: sh, pid: pid, io: x, done: make(chan struct{}), execs: map[string]*execProc{}}
	c.mu.Lock()
	c.task = t
	c.rootfsRefs = 1
	c.mu.Unlock()
	status := "running"
	if paused {
		status = "paused"
	}
	s.update(c, func(r *metadata.Container) { r.State.Status, r.State.Pid = status, pid })
	s.log.Info("reconnected to container", "id", c.id, "pid", pid)
	go s.monitor(c, t)
	// The checks go on from the health recorded before the restart.
	s.startHealth(c, t, c.record().State.Health)
	return nil
}

// startOnBoot starts a stopped container whose restart policy says it
// runs whenever berthd does: always, and unless-stopped if it was not
// stopped by hand.
func (s *Service) startOnBoot(c *container, st metadata.ContainerState) {
	if st.StartedAt.IsZero() {
		return // never started: created only
	}
	pol, _ := parseRestartPolicy(c.cfg.Host.RestartPolicy)
	if pol.name == "always" || pol.name == "unless-stopped" && !st.ManuallyStopped {
		go func() {
			if _, err := s.start(s.ctx, c, startOptions{}); err != nil {
				s.log.Warn("start on boot", "id", c.id, "err", err)
			}
		}()
	}
}

func closedChan() chan struct{} {
	ch := make(chan struct{})
	close(ch)
	return ch
}

func dirExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}
