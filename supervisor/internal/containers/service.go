// Package containers is berthd's container side: the records in the
// metadata database, each container's bundle and rootfs (package bundle),
// one shim per running container (package shimclient), the stdio between
// shims and attached clients, exit handling and restart policies, and the
// reconnection to running shims when berthd starts again.
//
// Locking: Service.mu guards the maps of containers and names; each
// container has op, held by whole lifecycle operations (start, exit
// handling, remove), and mu, which guards its fields and is held briefly.
// Order: Service.mu, then op, then mu.
package containers

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"google.golang.org/protobuf/encoding/protojson"

	"github.com/berth-project/berth/supervisor/api"
	"github.com/berth-project/berth/supervisor/internal/bundle"
	"github.com/berth-project/berth/supervisor/internal/eventlog"
	"github.com/berth-project/berth/supervisor/internal/images"
	"github.com/berth-project/berth/supervisor/internal/metadata"
	"github.com/berth-project/berth/supervisor/internal/shimclient"
)

// Options configure a Service.
type Options struct {
	Root, State string
	// Address is berthd's API socket; shims send their events there.
	Address string
	// ShimBinary and RuntimeBinary are absolute paths.
	ShimBinary, RuntimeBinary string
	// InitBinary is the static init --init mounts (tini-static); "" if
	// none was found.
	InitBinary string
	Network    NetworkAttacher
	// Volumes resolves volumes; nil allows binds and tmpfs only.
	Volumes VolumeResolver
	Log     *slog.Logger
	// Events records what happens to containers (nil: nothing kept).
	Events *eventlog.Log
}

// Service implements the container operations.
type Service struct {
	opts   Options
	db     *metadata.DB
	images *images.Service
	shim   shimclient.Config
	net    NetworkAttacher
	log    *slog.Logger

	mu    sync.Mutex
	byID  map[string]*container
	names map[string]string // name -> id
	// usernsHeld are id ranges reserved by creates in progress
	// (--user-namespace): base host id -> container id.
	usernsHeld map[uint32]string

	// ctx ends with berthd; restart timers and monitors use it.
	ctx context.Context
}

// New loads the container records. Restore must be called next, once
// the API serves (shims forward their events to it).
func New(ctx context.Context, db *metadata.DB, img *images.Service, opts Options) (*Service, error) {
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.Network == nil {
		opts.Network = &DefaultNetwork{NetNSDir: filepath.Join(opts.State, "netns")}
	}
	s := &Service{
		opts: opts, db: db, images: img, net: opts.Network, log: opts.Log,
		byID: map[string]*container{}, names: map[string]string{}, ctx: ctx,
		shim: shimclient.Config{
			Binary: opts.ShimBinary, Address: opts.Address,
			Runtime: opts.RuntimeBinary, RuntimeRoot: filepath.Join(opts.State, "runtime"),
		},
	}
	bundle.SweepTrash(opts.Root, opts.State)
	var recs []metadata.Container
	if err := db.View(func(tx *metadata.Tx) error {
		var err error
		recs, err = tx.Containers()
		return err
	}); err != nil {
		return nil, err
	}
	for _, r := range recs {
		c, err := s.newContainer(r)
		if err != nil {
			s.log.Warn("container record unreadable, skipped", "id", r.ID, "err", err)
			continue
		}
		s.byID[c.id] = c
		s.names[r.Name] = c.id
	}
	img.InUse = s.imageInUse
	return s, nil
}

// container is one container in memory.
type container struct {
	id    string
	paths bundle.Paths

	// op serialises lifecycle operations.
	op sync.Mutex

	mu   sync.Mutex
	rec  metadata.Container
	cfg  *api.ContainerConfig
	task *task // nil unless running or paused
	// rootfsRefs counts users of the rootfs mount: a run, cp, export.
	rootfsRefs int
	// starting is set while a start prepares the bundle.
	starting bool
	// changed is closed (and replaced) on every state change.
	changed chan struct{}
	// removed is closed when the container is gone.
	removed  chan struct{}
	removing bool
	// restart is the pending restart of a restart policy.
	restart      *time.Timer
	restartDelay time.Duration
	// exits counts exits, for wait --condition next-exit.
	exits int
	// health is the current run's health, nil without a health check.
	health *healthState
}

func (s *Service) newContainer(r metadata.Container) (*container, error) {
	cfg := &api.ContainerConfig{}
	if err := protojson.Unmarshal(r.Config, cfg); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if cfg.Host == nil {
		cfg.Host = &api.HostConfig{}
	}
	c := &container{
		id: r.ID, paths: bundle.New(s.opts.Root, s.opts.State, r.ID),
		rec: r, cfg: cfg, changed: make(chan struct{}), removed: make(chan struct{}),
	}
	if r.State.Health != nil {
		c.health = copyHealth(r.State.Health)
	}
	return c, nil
}

// state returns a copy of the recorded state.
func (c *container) state() metadata.ContainerState {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rec.State
}

// record returns a copy of the record.
func (c *container) record() metadata.Container {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rec
}

func (c *container) running() bool {
	st := c.state().Status
	return st == "running" || st == "paused"
}

// update changes the record under c.mu, persists it and wakes waiters.
func (s *Service) update(c *container, fn func(r *metadata.Container)) error {
	rec := s.change(c, fn)
	return s.db.Update(func(tx *metadata.Tx) error { return tx.PutContainer(&rec) })
}

// change applies fn to the container's record in memory only, wakes the
// waiters, and returns the new record.
func (s *Service) change(c *container, fn func(r *metadata.Container)) metadata.Container {
	c.mu.Lock()
	defer c.mu.Unlock()
	fn(&c.rec)
	close(c.changed)
	c.changed = make(chan struct{})
	return c.rec
}

// waitChange returns the channel closed at the next state change.
func (c *container) waitChange() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.changed
}

// get finds a container by full ID, name or unique ID prefix, as Docker
// does.
func (s *Service) get(ref string) (*container, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ref == "" {
		return nil, fmt.Errorf("no container given: %w", ErrInvalidArgument)
	}
	if c, ok := s.byID[ref]; ok {
		return c, nil
	}
	if id, ok := s.names[strings.TrimPrefix(ref, "/")]; ok && s.byID[id] != nil {
		return s.byID[id], nil
	}
	var found *container
	for id, c := range s.byID {
		if strings.HasPrefix(id, ref) {
			if found != nil {
				return nil, fmt.Errorf("multiple IDs found with provided prefix: %s: %w", ref, ErrInvalidArgument)
			}
			found = c
		}
	}
	if found == nil {
		return nil, fmt.Errorf("No such container: %s: %w", ref, ErrNotFound)
	}
	return found, nil
}

// all returns the containers, newest first.
func (s *Service) all() []*container {
	s.mu.Lock()
	out := make([]*container, 0, len(s.byID))
	for _, c := range s.byID {
		out = append(out, c)
	}
	s.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i].record(), out[j].record()
		if !a.Created.Equal(b.Created) {
			return a.Created.After(b.Created)
		}
		return a.ID < b.ID
	})
	return out
}

// imageInUse tells the image side which images containers use. It runs
// inside an image transaction, so it only reads memory.
func (s *Service) imageInUse(imageID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.byID {
		c.mu.Lock()
		used := c.rec.ImageID == imageID
		c.mu.Unlock()
		if used {
			return true
		}
	}
	return false
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// emit records a container event with Docker's attributes: name, image,
// the container's labels, and extra.
func (s *Service) emit(c *container, action string, extra map[string]string) {
	if s.opts.Events == nil {
		return
	}
	r := c.record()
	attrs := map[string]string{}
	for k, v := range c.cfg.Labels {
		attrs[k] = v
	}
	attrs["name"], attrs["image"] = r.Name, r.Image
	for k, v := range extra {
		attrs[k] = v
	}
	s.opts.Events.Emit("container", action, c.id, attrs)
}
