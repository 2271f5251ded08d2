package containers

import (
	"context"
	"strconv"
	"time"

	taskapi "github.com/containerd/containerd/api/runtime/task/v2"

	"github.com/berth-project/berth/supervisor/internal/bundle"
	"github.com/berth-project/berth/supervisor/internal/metadata"
	"github.com/berth-project/berth/supervisor/internal/shimclient"
)

// outputTimeout bounds how long an exit waits for the last output: a
// process whose children still hold its stdout would hold it forever.
const outputTimeout = 2 * time.Second

// monitor waits for the task's init to exit and handles the exit.
func (s *Service) monitor(c *container, t *task) {
	ctx := shimclient.Context(context.Background())
	status, at := 255, time.Now().UTC()
	resp, err := t.shim.Task.Wait(ctx, &taskapi.WaitRequest{ID: c.id})
	if err == nil {
		status, at = int(resp.GetExitStatus()), resp.GetExitedAt().AsTime()
	} else if e, ok := readExit(c.paths); ok {
		// The shim died; it may have recorded the exit first.
		status, at = e.status, e.at
	} else {
		s.log.Warn("lost the shim of a container", "id", c.id, "err", err)
		status = 137
	}
	s.handleExit(c, t, status, at)
}

// handleExit cleans up after a run and records how it ended, then applies
// --rm or the restart policy.
func (s *Service) handleExit(c *container, t *task, status int, at time.Time) {
	t0 := time.Now()
	t.io.wait(outputTimeout)
	c.op.Lock()
	t1 := time.Now()
	s.cleanupTask(c, t)
	s.log.Debug("cleaned up", "id", c.id, "io", t1.Sub(t0), "cleanup", time.Since(t1))
	c.mu.Lock()
	c.task = nil
	c.exits++
	removing, stopped := c.removing, c.rec.State.ManuallyStopped
	c.mu.Unlock()
	exited := func(r *metadata.Container) {
		r.State.Status = "exited"
		r.State.Pid = 0
		r.State.ExitCode = status
		r.State.FinishedAt = at
		r.State.OOMKilled = t.oom.Load()
	}
	// A --rm container's record is deleted next: writing the exit to disk
	// first would cost a synced metadata transaction on the way out of
	// every `run --rm`. If berthd dies in between, the restore finds the
	// shim gone and removes the container as it would have been.
	autoRemove := c.cfg.Host.AutoRemove && !removing
	if autoRemove {
		s.change(c, exited)
	} else {
		s.update(c, exited)
	}
	if t.oom.Load() {
		s.emit(c, "oom", nil)
	}
	s.emit(c, "die", map[string]string{"exitCode": strconv.Itoa(status)})
	close(t.done)
	c.op.Unlock()
	s.log.Debug("container exited", "id", c.id, "status", status)
	if removing {
		return
	}
	if autoRemove {
		go func() {
			if err := s.remove(context.Background(), c, true); err != nil {
				s.log.Warn("auto-remove", "id", c.id, "err", err)
				// It stays: record how it ended.
				s.update(c, func(*metadata.Container) {})
			}
		}()
		return
	}
	s.maybeRestart(c, status, stopped)
}

// cleanupTask deletes the task, ends the shim and undoes the run's
// mounts, network and bundle. The caller holds c.op. The network is torn
// down alongside the rest: deleting a veth waits for an RCU grace period
// (10-20 ms), about as long as everything else together, and the init
// has exited, so nothing uses the namespace (or the rootfs) any more.
func (s *Service) cleanupTask(c *container, t *task) {
	ctx, cancel := context.WithTimeout(shimclient.Context(context.Background()), 10*time.Second)
	defer cancel()
	t0 := time.Now()
	// The rootfs goes too: nothing runs in the container any more, and
	// the runtime's delete does not need it.
	netDone := make(chan [2]time.Duration, 1)
	go func() {
		if err := s.net.Detach(ctx, c.id); err != nil {
			s.log.Warn("detach network", "id", c.id, "err", err)
		}
		tn := time.Since(t0)
		s.releaseRootfs(c)
		netDone <- [2]time.Duration{tn, time.Since(t0) - tn}
	}()
	if _, err := t.shim.Task.Delete(ctx, &taskapi.DeleteRequest{ID: c.id}); err != nil {
		if !shimclient.IsGone(err) {
			s.log.Warn("delete task", "id", c.id, "err", err)
		}
		// The shim is gone or broken: its delete action cleans up.
		if _, err := shimclient.Delete(ctx, s.shim, c.id, c.paths.Bundle); err != nil {
			s.log.Warn("shim delete", "id", c.id, "err", err)
		}
	}
	t1 := time.Now()
	t.shim.Task.Shutdown(ctx, &taskapi.ShutdownRequest{ID: c.id})
	t.shim.Close()
	t.io.close()
	s.closeExecs(t)
	t2 := time.Now()
	side := <-netDone
	if err := c.paths.RemoveBundle(); err != nil {
		s.log.Warn("remove bundle", "id", c.id, "err", err)
	}
	s.log.Debug("cleanup", "id", c.id, "delete", t1.Sub(t0), "shutdown", t2.Sub(t1), "network", side[0], "rootfs", side[1], "total", time.Since(t0))
}

// maybeRestart applies the restart policy to an exit, with Docker's
// back-off: 100ms doubling per quick restart, at most a minute, back to
// 100ms after a run of 10s or more.
func (s *Service) maybeRestart(c *container, status int, manuallyStopped bool) {
	pol, _ := parseRestartPolicy(c.cfg.Host.RestartPolicy)
	st := c.state()
	restart := false
	switch pol.name {
	case "always", "unless-stopped":
		restart = !manuallyStopped
	case "on-failure":
		restart = !manuallyStopped && status != 0 && (pol.maxRetry == 0 || st.RestartCount < pol.maxRetry)
	}
	if !restart || s.ctx.Err() != nil {
		return
	}
	c.mu.Lock()
	if st.FinishedAt.Sub(st.StartedAt) >= 10*time.Second || c.restartDelay == 0 {
		c.restartDelay = 100 * time.Millisecond
	} else {
		c.restartDelay = min(2*c.restartDelay, time.Minute)
	}
	delay := c.restartDelay
	c.mu.Unlock()
	s.update(c, func(r *metadata.Container) { r.State.Status = "restarting" })
	c.mu.Lock()
	c.restart = time.AfterFunc(delay, func() { s.doRestart(c) })
	c.mu.Unlock()
}

func (s *Service) doRestart(c *container) {
	c.mu.Lock()
	if c.restart == nil || c.removing {
		c.mu.Unlock()
		return
	}
	c.restart = nil
	c.mu.Unlock()
	s.update(c, func(r *metadata.Container) { r.State.RestartCount++ })
	if _, err := s.start(s.ctx, c, startOptions{policy: true}); err != nil {
		s.log.Warn("restart", "id", c.id, "err", err)
		s.update(c, func(r *metadata.Container) { r.State.Status = "exited" })
	}
}

// cancelRestart stops a pending restart; it reports whether there was
// one (the container then counts as exited).
func (s *Service) cancelRestart(c *container) bool {
	c.mu.Lock()
	t := c.restart
	c.restart = nil
	c.mu.Unlock()
	if t == nil {
		return false
	}
	t.Stop()
	s.update(c, func(r *metadata.Container) {
		if r.State.Status == "restarting" {
			r.State.Status = "exited"
		}
	})
	return true
}

// exitRecord is an exit the shim wrote to the bundle.
type exitRecord struct {
	status int
	at     time.Time
}

func readExit(p bundle.Paths) (exitRecord, bool) {
	e, err := readExitFile(p.Bundle)
	if err != nil {
		return exitRecord{}, false
	}
	return exitRecord{status: e.ExitStatus, at: e.ExitedAt}, true
}
