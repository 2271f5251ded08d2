package containers

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	taskapi "github.com/containerd/containerd/api/runtime/task/v2"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/berth-project/berth/supervisor/api"
	"github.com/berth-project/berth/supervisor/internal/metadata"
	"github.com/berth-project/berth/supervisor/internal/shimclient"
)

// Docker's health check defaults and limits.
const (
	defaultHealthInterval      = 30 * time.Second
	defaultHealthTimeout       = 30 * time.Second
	defaultHealthStartInterval = 5 * time.Second
	defaultHealthRetries       = 3
	minHealthDuration          = time.Millisecond
	healthLogEntries           = 5    // results kept
	healthOutputMax            = 4096 // bytes of output kept per result
)

// Health statuses, as Docker names them.
const (
	healthStarting  = "starting"
	healthHealthy   = "healthy"
	healthUnhealthy = "unhealthy"
)

// healthState is a container's health (Docker's State.Health), and
// healthResult one probe: kept in meta.db with the container's state.
type (
	healthState  = metadata.Health
	healthResult = metadata.HealthResult
)

// mergeHealth is the container's health check: the flags' fields, and the
// image's HEALTHCHECK for those they leave unset, as Docker merges them
// at create. nil when neither has one.
func mergeHealth(user *api.HealthConfig, image *v1.HealthConfig) *api.HealthConfig {
	if image == nil {
		return user
	}
	out := &api.HealthConfig{}
	if user != nil {
		*out = api.HealthConfig{Test: user.Test, Interval: user.Interval, Timeout: user.Timeout,
			StartPeriod: user.StartPeriod, StartInterval: user.StartInterval, Retries: user.Retries}
	}
	if len(out.Test) == 0 {
		out.Test = image.Test
	}
	if out.Interval == 0 {
		out.Interval = int64(image.Interval)
	}
	if out.Timeout == 0 {
		out.Timeout = int64(image.Timeout)
	}
	if out.StartPeriod == 0 {
		out.StartPeriod = int64(image.StartPeriod)
	}
	if out.Retries == 0 {
		out.Retries = int32(image.Retries)
	}
	return out
}

// validateHealth checks a health check as Docker's daemon does.
func validateHealth(h *api.HealthConfig) error {
	if h == nil {
		return nil
	}
	for _, d := range []struct {
		name string
		v    int64
	}{{"Interval", h.Interval}, {"Timeout", h.Timeout}, {"StartPeriod", h.StartPeriod}, {"StartInterval", h.StartInterval}} {
		if d.v != 0 && time.Duration(d.v) < minHealthDuration {
			return fmt.Errorf("%s in Healthcheck cannot be less than %s: %w", d.name, minHealthDuration, ErrInvalidArgument)
		}
	}
	if h.Retries < 0 {
		return fmt.Errorf("Retries in Healthcheck cannot be negative: %w", ErrInvalidArgument)
	}
	if _, err := healthArgv(h.Test); err != nil {
		return err
	}
	return nil
}

// healthArgv is the probe's command line, nil for no check (no test, or
// NONE).
func healthArgv(test []string) ([]string, error) {
	if len(test) == 0 {
		return nil, nil
	}
	switch test[0] {
	case "NONE":
		return nil, nil
	case "CMD":
		if len(test) < 2 {
			return nil, fmt.Errorf("Healthcheck CMD needs a command: %w", ErrInvalidArgument)
		}
		return test[1:], nil
	case "CMD-SHELL":
		if len(test) != 2 || test[1] == "" {
			return nil, fmt.Errorf("Healthcheck CMD-SHELL needs one command string: %w", ErrInvalidArgument)
		}
		return []string{"/bin/sh", "-c", test[1]}, nil
	}
	return nil, fmt.Errorf("unknown Healthcheck type %q (want NONE, CMD or CMD-SHELL): %w", test[0], ErrInvalidArgument)
}

func orDefault[T ~int64 | ~int32](v, def T) T {
	if v == 0 {
		return def
	}
	return v
}

// startHealth begins the health checks of a run: the status is
// "starting" until the first probe that succeeds or until retries fail
// after the start period. They end with the run. from is the health to
// go on from (berthd restarted while the container ran), nil for a new
// run.
func (s *Service) startHealth(c *container, t *task, from *healthState) {
	h := c.cfg.GetHealthcheck()
	argv, _ := healthArgv(h.GetTest())
	c.mu.Lock()
	defer c.mu.Unlock()
	if argv == nil {
		c.health = nil
		return
	}
	hs := &healthState{Status: healthStarting, Log: []healthResult{}}
	if from != nil {
		hs = copyHealth(from)
	}
	c.health = hs
	go s.healthLoop(c, t, h, argv, hs)
}

// copyHealth copies h, its results too: the loop appends to its own.
func copyHealth(h *healthState) *healthState {
	out := *h
	out.Log = append([]healthResult{}, h.Log...)
	return &out
}

// healthLoop probes every interval (every start interval while the start
// period lasts and the status is still starting) and updates hs, until
// the run ends.
func (s *Service) healthLoop(c *container, t *task, h *api.HealthConfig, argv []string, hs *healthState) {
	interval := time.Duration(orDefault(h.Interval, int64(defaultHealthInterval)))
	timeout := time.Duration(orDefault(h.Timeout, int64(defaultHealthTimeout)))
	startInterval := time.Duration(orDefault(h.StartInterval, int64(defaultHealthStartInterval)))
	startPeriod := time.Duration(h.StartPeriod)
	retries := int(orDefault(h.Retries, defaultHealthRetries))
	started := time.Now()
	inStart := func() bool { return time.Since(started) < startPeriod }
	for {
		wait := interval
		c.mu.Lock()
		if inStart() && hs.Status == healthStarting {
			wait = startInterval
		}
		c.mu.Unlock()
		timer := time.NewTimer(wait)
		select {
		case <-t.done:
			timer.Stop()
			return
		case <-s.ctx.Done():
			timer.Stop()
			return
		case <-timer.C:
		}
		if c.state().Status == "paused" {
			continue // as Docker: no probes while paused
		}
		res := s.probe(c, t, argv, timeout)
		select {
		case <-t.done:
			return // the run ended meanwhile: not the container's health
		default:
		}
		c.mu.Lock()
		old := hs.Status
		hs.Log = append(hs.Log, res)
		if len(hs.Log) > healthLogEntries {
			hs.Log = hs.Log[len(hs.Log)-healthLogEntries:]
		}
		switch {
		case res.ExitCode == 0:
			hs.Status, hs.FailingStreak = healthHealthy, 0
		case inStart() && hs.Status == healthStarting:
			// Failures in the start period do not count.
		default:
			hs.FailingStreak++
			if hs.FailingStreak >= retries {
				hs.Status = healthUnhealthy
			}
		}
		now := hs.Status
		snap := copyHealth(hs)
		c.mu.Unlock()
		if now != old {
			// Written on changes only: a probe's result alone is not
			// worth a synced metadata write every interval. Under c.op,
			// and only while the run lasts: a write racing the exit's
			// handling could put back the record of a removed container.
			c.op.Lock()
			select {
			case <-t.done:
				c.op.Unlock()
				return
			default:
			}
			s.update(c, func(r *metadata.Container) { r.State.Health = snap })
			c.op.Unlock()
			s.emit(c, "health_status: "+now, nil)
		}
	}
}

// probe runs argv in the container, as an exec, for at most timeout.
func (s *Service) probe(c *container, t *task, argv []string, timeout time.Duration) healthResult {
	res := healthResult{Start: time.Now().UTC(), ExitCode: -1}
	out := &probeOutput{}
	done := make(chan error, 1)
	go func() {
		done <- s.Exec(s.ctx, &api.ExecInput{Id: c.id, Cmd: argv}, func() (*api.AttachInput, error) { return nil, io.EOF }, out)
	}()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	var err error
	select {
	case err = <-done:
	case <-timer.C:
		if id := out.execID(); id != "" {
			ctx, cancel := context.WithTimeout(shimclient.Context(context.Background()), 5*time.Second)
			t.shim.Task.Kill(ctx, &taskapi.KillRequest{ID: c.id, ExecID: id, Signal: 9})
			cancel()
		}
		<-done
		res.End = time.Now().UTC()
		res.Output = fmt.Sprintf("Health check exceeded timeout (%s)", timeout)
		return res
	}
	res.End = time.Now().UTC()
	code, output := out.result()
	switch {
	case err != nil:
		res.Output = err.Error()
	case code < 0:
		res.Output = "the check's process did not report an exit"
	default:
		res.ExitCode, res.Output = code, output
	}
	return res
}

// probeOutput is the AttachStream of a probe's exec: it keeps the first
// healthOutputMax bytes of output, the exec's ID and its exit.
type probeOutput struct {
	mu     sync.Mutex
	id     string
	buf    strings.Builder
	code   int
	exited bool
}

func (p *probeOutput) Send(m *api.AttachOutput) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if m.GetStarted() {
		p.id = m.GetExecId()
	}
	if d := m.GetData(); len(d) > 0 && p.buf.Len() < healthOutputMax {
		p.buf.Write(d[:min(len(d), healthOutputMax-p.buf.Len())])
	}
	if m.GetExited() {
		p.exited, p.code = true, int(m.GetExitCode())
		if e := m.GetError(); e != "" && p.buf.Len() == 0 {
			p.buf.WriteString(e)
		}
	}
	return nil
}

func (p *probeOutput) execID() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.id
}

func (p *probeOutput) result() (int, string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.exited {
		return -1, p.buf.String()
	}
	return p.code, p.buf.String()
}

// healthSnapshot copies a container's health for inspect and ps.
func (c *container) healthSnapshot() *healthState {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.health == nil {
		return nil
	}
	return copyHealth(c.health)
}
