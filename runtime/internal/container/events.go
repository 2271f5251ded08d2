package container

import (
	"time"

	"github.com/berth-project/berth/runtime/internal/cgroups"
)

// Event is one line of `events`, in runc's JSON shape.
type Event struct {
	Type string      `json:"type"` // "stats" or "oom"
	ID   string      `json:"id"`
	Data *EventStats `json:"data,omitempty"`
}

// EventStats is the subset of runc's stats document berth fills in.
type EventStats struct {
	CPU    eventCPU    `json:"cpu"`
	Memory eventMemory `json:"memory"`
	Pids   eventPids   `json:"pids"`
}

type eventCPU struct {
	Usage struct {
		Total  uint64 `json:"total"`
		Kernel uint64 `json:"kernel"`
		User   uint64 `json:"user"`
	} `json:"usage"`
}

type eventMemory struct {
	Usage struct {
		Limit uint64 `json:"limit"`
		Usage uint64 `json:"usage"`
		Max   uint64 `json:"max"`
	} `json:"usage"`
}

type eventPids struct {
	Current uint64 `json:"current"`
	Limit   uint64 `json:"limit,omitempty"`
}

// Stats returns the container's current resource use as a stats event.
func (c *Container) Stats() (*Event, error) {
	if c.Status() == Stopped {
		return nil, ErrNotRunning
	}
	m, err := c.cgroup()
	if err != nil {
		return nil, err
	}
	s, err := m.Stats()
	if err != nil {
		return nil, err
	}
	return &Event{Type: "stats", ID: c.ID, Data: toEventStats(s)}, nil
}

func toEventStats(s *cgroups.Stats) *EventStats {
	var e EventStats
	e.CPU.Usage.Total = s.CPU.Total
	e.CPU.Usage.Kernel = s.CPU.System
	e.CPU.Usage.User = s.CPU.User
	e.Memory.Usage.Limit = s.Memory.Limit
	e.Memory.Usage.Usage = s.Memory.Usage
	e.Memory.Usage.Max = s.Memory.MaxUsage
	e.Pids.Current = s.Pids.Current
	e.Pids.Limit = s.Pids.Limit
	return &e
}

// Events calls emit with a stats event every interval and an "oom" event
// as soon as the OOM killer strikes in the container, until it stops.
func (c *Container) Events(interval time.Duration, emit func(*Event) error) error {
	m, err := c.cgroup()
	if err != nil {
		return err
	}
	ooms, _ := m.OOMKillCount()
	// OOM kills are checked often; stats only every interval.
	const tick = 200 * time.Millisecond
	next := time.Now()
	for c.Status() != Stopped {
		if n, err := m.OOMKillCount(); err == nil && n > ooms {
			ooms = n
			if err := emit(&Event{Type: "oom", ID: c.ID}); err != nil {
				return err
			}
		}
		if !time.Now().Before(next) {
			if s, err := m.Stats(); err == nil {
				if err := emit(&Event{Type: "stats", ID: c.ID, Data: toEventStats(s)}); err != nil {
					return err
				}
			}
			next = time.Now().Add(interval)
		}
		time.Sleep(min(tick, interval))
	}
	// The OOM kill may be what stopped the container.
	if n, err := m.OOMKillCount(); err == nil && n > ooms {
		return emit(&Event{Type: "oom", ID: c.ID})
	}
	return nil
}
