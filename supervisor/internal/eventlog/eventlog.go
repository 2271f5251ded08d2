// Package eventlog is berthd's record of what happened to its objects
// (containers, images, networks, volumes), for `berth events`: the last
// events in memory, replayed for --since, and a live feed to subscribers.
// A slow subscriber loses events rather than holding berthd up.
package eventlog

import (
	"strings"
	"sync"
	"time"
)

// Keep is how many past events are kept for --since (Docker keeps 256).
const Keep = 1024

// Event is one happening, with Docker's message fields.
type Event struct {
	Type   string `json:"Type"`
	Action string `json:"Action"`
	Actor  Actor  `json:"Actor"`
	Scope  string `json:"scope"`
	// Time is in seconds and TimeNano in nanoseconds since the epoch.
	Time     int64 `json:"time"`
	TimeNano int64 `json:"timeNano"`
}

// Actor is the object an event is about.
type Actor struct {
	ID         string            `json:"ID"`
	Attributes map[string]string `json:"Attributes"`
}

// Log holds the recent events and the subscribers.
type Log struct {
	mu   sync.Mutex
	past []Event // a ring of Keep events, oldest at next once full
	next int
	subs map[chan Event]struct{}
	now  func() time.Time
}

// New returns an empty log.
func New() *Log { return &Log{subs: map[chan Event]struct{}{}, now: time.Now} }

// Emit records an event now and hands it to every subscriber. It is safe
// on a nil Log (no events kept).
func (l *Log) Emit(typ, action, id string, attrs map[string]string) {
	if l == nil {
		return
	}
	if attrs == nil {
		attrs = map[string]string{}
	}
	t := l.now()
	e := Event{Type: typ, Action: action, Actor: Actor{ID: id, Attributes: attrs}, Scope: "local", Time: t.Unix(), TimeNano: t.UnixNano()}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.past) < Keep {
		l.past = append(l.past, e)
	} else {
		l.past[l.next] = e
		l.next = (l.next + 1) % Keep
	}
	for ch := range l.subs {
		select {
		case ch <- e:
		default: // the subscriber is not keeping up
		}
	}
}

// Subscribe returns the kept events from since on (none for a zero
// since), then delivers new ones on the channel until cancel.
func (l *Log) Subscribe(since time.Time) (past []Event, ch <-chan Event, cancel func()) {
	c := make(chan Event, 256)
	l.mu.Lock()
	defer l.mu.Unlock()
	if !since.IsZero() {
		n := since.UnixNano()
		for i := range l.past {
			e := l.past[(l.next+i)%len(l.past)]
			if e.TimeNano >= n {
				past = append(past, e)
			}
		}
	}
	l.subs[c] = struct{}{}
	return past, c, func() {
		l.mu.Lock()
		delete(l.subs, c)
		l.mu.Unlock()
	}
}

// Filter selects events by Docker's --filter keys: type, event (action),
// container, image, network and volume (an ID or name attribute), label
// (KEY or KEY=VALUE). Values of one key are alternatives; keys must all
// match.
type Filter map[string][]string

// ParseFilter parses KEY=VALUE arguments.
func ParseFilter(args []string) (Filter, error) {
	f := Filter{}
	for _, a := range args {
		k, v, ok := strings.Cut(a, "=")
		switch {
		case !ok || v == "":
			return nil, &FilterError{a}
		case k == "type", k == "event", k == "container", k == "image", k == "network", k == "volume", k == "label":
			f[k] = append(f[k], v)
		default:
			return nil, &FilterError{a}
		}
	}
	return f, nil
}

// FilterError is a malformed or unknown --filter.
type FilterError struct{ Arg string }

func (e *FilterError) Error() string {
	return "invalid filter '" + e.Arg + "': want type, event, container, image, network, volume or label=VALUE"
}

// Match reports whether e passes f.
func (f Filter) Match(e Event) bool {
	for k, vs := range f {
		ok := false
		for _, v := range vs {
			if f.matchOne(k, v, e) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

func (Filter) matchOne(k, v string, e Event) bool {
	a := e.Actor.Attributes
	switch k {
	case "type":
		return e.Type == v
	case "event":
		// As Docker: these name a family of actions ("health_status:
		// healthy", "exec_start: sh -c ...") unless given whole.
		switch v {
		case "health_status", "exec_create", "exec_start":
			return e.Action == v || strings.HasPrefix(e.Action, v+":")
		}
		return e.Action == v
	case "image":
		if e.Type == "image" {
			return e.Actor.ID == v || strings.HasPrefix(e.Actor.ID, "sha256:"+v) || a["name"] == v
		}
		return a["image"] == v
	case "label":
		lk, lv, hasV := strings.Cut(v, "=")
		got, ok := a[lk]
		return ok && (!hasV || got == lv)
	default: // container, network, volume
		if e.Type != k {
			return k == "container" && a["container"] != "" && (strings.HasPrefix(a["container"], v))
		}
		return strings.HasPrefix(e.Actor.ID, v) || a["name"] == v
	}
}
