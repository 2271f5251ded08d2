package containers

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	taskapi "github.com/containerd/containerd/api/runtime/task/v2"
	rspec "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-project/berth/specs"
	"github.com/berth-project/berth/supervisor/api"
	"github.com/berth-project/berth/supervisor/internal/bundle"
	"github.com/berth-project/berth/supervisor/internal/metadata"
	"github.com/berth-project/berth/supervisor/internal/shimclient"
)

// task is one run of a container: its shim and stdio.
type task struct {
	shim *shimclient.Shim
	pid  int
	io   *stdio
	oom  atomic.Bool
	// done is closed once the exit has been handled.
	done chan struct{}

	mu    sync.Mutex
	execs map[string]*execProc
}

// startOptions tune a start: attach clients before the process runs, set
// the terminal size first.
type startOptions struct {
	attach        *ioClient
	width, height uint32
	// policy marks a restart policy's start: a stop or kill since it was
	// scheduled cancels it.
	policy bool
}

// Start starts a created or stopped container.
func (s *Service) Start(ctx context.Context, ref string) (*api.StartContainerResponse, error) {
	c, err := s.get(ref)
	if err != nil {
		return nil, err
	}
	already, err := s.start(ctx, c, startOptions{})
	if err != nil {
		return nil, err
	}
	return &api.StartContainerResponse{AlreadyRunning: already}, nil
}

// start runs the container. It reports already=true if it was running.
// A --rm container that cannot start is removed, as Docker does.
func (s *Service) start(ctx context.Context, c *container, o startOptions) (bool, error) {
	already, err := s.startLocked(ctx, c, o)
	if err != nil && c.cfg.Host.AutoRemove {
		if rerr := s.remove(context.WithoutCancel(ctx), c, true); rerr != nil {
			s.log.Warn("remove after a failed start", "id", c.id, "err", rerr)
		}
	}
	return already, err
}

func (s *Service) startLocked(ctx context.Context, c *container, o startOptions) (already bool, err error) {
	c.op.Lock()
	defer c.op.Unlock()
	c.mu.Lock()
	if c.removing {
		c.mu.Unlock()
		return false, fmt.Errorf("container %s is marked for removal and cannot be started: %w", shortID(c.id), ErrFailedPrecondition)
	}
	if c.task != nil {
		t := c.task
		c.mu.Unlock()
		if o.attach != nil {
			t.io.attach(o.attach)
		}
		return true, nil
	}
	if c.restart != nil {
		c.restart.Stop()
		c.restart = nil
	}
	if o.policy && c.rec.State.ManuallyStopped {
		c.mu.Unlock()
		return false, nil
	}
	c.starting = true
	c.mu.Unlock()
	// The start runs to its end even if the client goes away: a half-made
	// container is worse than an unwanted one.
	ctx = context.WithoutCancel(ctx)
	t, err := s.run(ctx, c, o)
	c.mu.Lock()
	c.starting = false
	c.mu.Unlock()
	if err != nil {
		code := exitCodeOf(err)
		s.update(c, func(r *metadata.Container) {
			r.State.Error = err.Error()
			r.State.ExitCode = code
		})
		return false, err
	}
	now := time.Now().UTC()
	c.mu.Lock()
	c.task = t
	c.mu.Unlock()
	s.update(c, func(r *metadata.Container) {
		r.State = metadata.ContainerState{
			Status: "running", Pid: t.pid, StartedAt: now, RestartCount: r.State.RestartCount,
		}
	})
	s.emit(c, "start", nil)
	go s.monitor(c, t)
	s.startHealth(c, t, nil)
	return false, nil
}

// exitCodeOf maps a start failure to Docker's exit codes: 127 for a
// command not found, 126 for one that cannot be run, 125 otherwise.
func exitCodeOf(err error) int {
	msg := strings.ToLower(err.Error())
	switch {
	case strings.Contains(msg, "executable file not found"), strings.Contains(msg, "no such file or directory") && strings.Contains(msg, "exec"):
		return 127
	case strings.Contains(msg, "permission denied") && strings.Contains(msg, "exec"), strings.Contains(msg, "is a directory"):
		return 126
	}
	return 125
}

// run does the work of a start: rootfs, network, spec, shim, task. On
// failure everything it did is undone.
func (s *Service) run(ctx context.Context, c *container, o startOptions) (_ *task, err error) {
	tStart := time.Now()
	img, err := s.images.ByID(c.rec.ImageID)
	if err != nil {
		return nil, err
	}
	lowers, err := s.images.Lowers(c.rec.ChainID)
	if err != nil {
		return nil, fmt.Errorf("image layers: %w", err)
	}
	p := c.paths
	var (
		netUp bool
		shim  *shimclient.Shim
		x     *stdio
	)
	hostname := c.cfg.Hostname
	if hostname == "" {
		hostname = shortID(c.id)
		if c.cfg.Host.NetworkMode == "host" {
			hostname, _ = os.Hostname()
		}
	}
	// The network (a namespace, addresses, a metadata write) is made while
	// the rootfs is mounted and the bundle, shim and mounts are prepared:
	// it needs none of them, and they take about as long.
	type netResult struct {
		att *NetworkAttachment
		d   time.Duration
		err error
	}
	netReady := make(chan netResult, 1)
	netJoined := false
	go func() {
		t := time.Now()
		att, err := s.net.Attach(ctx, NetworkRequest{
			ContainerID: c.id, Name: c.rec.Name, Hostname: hostname,
			Mode: c.cfg.Host.NetworkMode, Publish: c.cfg.Host.Publish, Aliases: c.cfg.Host.NetworkAliases,
		})
		netReady <- netResult{att, time.Since(t), err}
	}()
	joinNet := func() netResult {
		netJoined = true
		r := <-netReady
		netUp = r.err == nil
		return r
	}
	// The shim daemon starts while the rootfs, network and spec are
	// made: its start-up is as long as all of those.
	var (
		shimReady             = make(chan error, 1)
		shimSpawned, shimDone bool
	)
	joinShim := func() error {
		if !shimSpawned || shimDone {
			return nil
		}
		shimDone = true
		return <-shimReady
	}
	// netDone is closed once the network's Finish has returned.
	var netDone chan struct{}
	defer func() {
		if err == nil {
			return
		}
		joinShim()
		if !netJoined {
			joinNet()
		}
		if netDone != nil {
			<-netDone
		}
		if shim != nil {
			s.teardownShim(c, shim)
		}
		if x != nil {
			x.close()
		}
		if netUp {
			s.net.Detach(context.WithoutCancel(ctx), c.id)
		}
		s.releaseRootfs(c)
		p.RemoveBundle()
	}()
	if err := s.acquireRootfs(c, lowers); err != nil {
		return nil, err
	}
	if err := p.MakeBundle(); err != nil {
		return nil, err
	}
	shimSpawned = true
	go func() {
		var err error
		shim, err = shimclient.Spawn(ctx, s.shim, c.id, p.Bundle)
		shimReady <- err
	}()
	mounts, err := s.resolveMounts(ctx, c, img.Config.Volumes)
	if err != nil {
		return nil, err
	}
	s.recordVolumes(c, mounts)
	idmapVolumes(c.cfg.Host, mounts, filepath.Join(s.opts.Root, "volumes"))
	nr := joinNet()
	if nr.err != nil {
		return nil, nr.err
	}
	att, dNet := nr.att, nr.d
	if err := writeNetworkFiles(p, hostname, att, usernsRoot(c.cfg.Host)); err != nil {
		return nil, err
	}
	if err := makeWorkdir(c.cfg.Host, p.Rootfs(), c.cfg.WorkingDir, img.Config.WorkingDir); err != nil {
		return nil, err
	}
	sp, err := s.buildSpec(c, runInputs{rootfs: p.Rootfs(), img: img, net: att, hostname: hostname, mounts: mounts})
	if err != nil {
		return nil, err
	}
	if err := p.WriteSpec(sp); err != nil {
		return nil, err
	}
	fifos, err := makeFIFOs(p, "", c.cfg.OpenStdin, c.cfg.Tty)
	if err != nil {
		return nil, err
	}
	if x, err = openStdio(fifos); err != nil {
		return nil, err
	}
	if o.attach != nil {
		x.attach(o.attach)
	}
	t0 := time.Now()
	if err := joinShim(); err != nil {
		return nil, err
	}
	t1 := time.Now()
	opts, err := shimclient.RuntimeOptions(s.shim)
	if err != nil {
		return nil, err
	}
	tctx := shimclient.Context(ctx)
	// The interfaces are set up while the runtime creates the task; the
	// process runs only after both.
	var netErr error
	netDone = make(chan struct{})
	if att.Finish != nil {
		go func() { netErr = att.Finish(); close(netDone) }()
	} else {
		close(netDone)
	}
	created, err := shim.Task.Create(tctx, &taskapi.CreateTaskRequest{
		ID: c.id, Bundle: p.Bundle, Terminal: c.cfg.Tty,
		Stdin: fifos.stdin, Stdout: fifos.stdout, Stderr: fifos.stderr, Options: opts,
	})
	if err != nil {
		return nil, shimError(err)
	}
	x.start()
	if err := x.openStdin(fifos.stdin); err != nil {
		return nil, err
	}
	if <-netDone; netErr != nil {
		return nil, netErr
	}
	if c.cfg.Tty && o.width > 0 && o.height > 0 {
		shim.Task.ResizePty(tctx, &taskapi.ResizePtyRequest{ID: c.id, Width: o.width, Height: o.height})
	}
	t2 := time.Now()
	if _, err := shim.Task.Start(tctx, &taskapi.StartRequest{ID: c.id}); err != nil {
		return nil, shimError(err)
	}
	s.log.Debug("started", "id", c.id, "prepare", t0.Sub(tStart), "network", dNet, "shim", t1.Sub(t0), "create", t2.Sub(t1), "start", time.Since(t2))
	return &task{shim: shim, pid: int(created.GetPid()), io: x, done: make(chan struct{}), execs: map[string]*execProc{}}, nil
}

// shimError keeps the shim's message (which carries the runtime's).
func shimError(err error) error {
	msg := err.Error()
	if i := strings.Index(msg, "desc = "); i >= 0 {
		msg = msg[i+len("desc = "):]
	}
	return fmt.Errorf("failed to create task for container: %s", msg)
}

// teardownShim ends a task that failed half-way: kill, delete, shutdown.
func (s *Service) teardownShim(c *container, shim *shimclient.Shim) {
	ctx, cancel := context.WithTimeout(shimclient.Context(context.Background()), 10*time.Second)
	defer cancel()
	shim.Task.Kill(ctx, &taskapi.KillRequest{ID: c.id, Signal: 9, All: true})
	if _, err := shim.Task.Delete(ctx, &taskapi.DeleteRequest{ID: c.id}); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		// A running init cannot be deleted until its exit is reaped.
		w, wcancel := context.WithTimeout(ctx, 5*time.Second)
		shim.Task.Wait(w, &taskapi.WaitRequest{ID: c.id})
		wcancel()
		shim.Task.Delete(ctx, &taskapi.DeleteRequest{ID: c.id})
	}
	shim.Task.Shutdown(ctx, &taskapi.ShutdownRequest{ID: c.id, Now: true})
	shim.Close()
}

// resolveMounts turns -v, --mount and --tmpfs into config.json mounts:
// through the volume resolver if berthd has one, else binds and tmpfs
// only (creating missing bind sources of -v, as Docker does).
func (s *Service) resolveMounts(ctx context.Context, c *container, imageVolumes map[string]struct{}) ([]rspec.Mount, error) {
	h := c.cfg.Host
	if s.opts.Volumes != nil {
		req := VolumeRequest{Binds: h.Binds, Mounts: h.Mounts, Tmpfs: h.Tmpfs, Rootfs: c.paths.Rootfs()}
		for v := range imageVolumes {
			req.ImageVolumes = append(req.ImageVolumes, v)
		}
		sort.Strings(req.ImageVolumes)
		out, err := s.opts.Volumes.Resolve(ctx, c.id, req)
		if err != nil {
			return nil, err
		}
		if out == nil {
			out = []rspec.Mount{}
		}
		return out, nil
	}
	mps, err := parseMounts(h)
	if err != nil {
		return nil, err
	}
	out := []rspec.Mount{}
	for _, mp := range mps {
		switch mp.Type {
		case specs.MountVolume:
			return nil, fmt.Errorf("volume %q: named and anonymous volumes are not supported by this berthd: %w", mp.Source+":"+mp.Destination, ErrInvalidArgument)
		case specs.MountBind:
			if mp.CreateSource {
				if err := os.MkdirAll(mp.Source, 0o755); err != nil {
					return nil, fmt.Errorf("bind source %s: %w", mp.Source, err)
				}
			}
		}
		m, err := mp.Spec()
		if err != nil {
			return nil, invalid(err)
		}
		out = append(out, m)
	}
	return out, nil
}

// idmapVolumes makes the named and anonymous volumes of a container with
// a user namespace idmapped mounts (the OCI mount's uidMappings and
// gidMappings, the container's own): the container's root owns what
// root owns on disk, and a volume keeps the ids the container gave its
// files, so it can be shared with any other container. Host directories
// bound in are left as they are, as Docker leaves them: their files keep
// host ownership (root's show as nobody).
func idmapVolumes(h *api.HostConfig, mounts []rspec.Mount, volumesDir string) {
	root := usernsRoot(h)
	if root < 0 {
		return
	}
	m := []rspec.LinuxIDMapping{{ContainerID: 0, HostID: uint32(root), Size: bundle.IDMapSize}}
	for i := range mounts {
		if isVolumeSource(mounts[i].Source, volumesDir) {
			mounts[i].UIDMappings, mounts[i].GIDMappings = m, m
		}
	}
}

// isVolumeSource reports whether source is a volume's data directory,
// ROOT/volumes/NAME/_data in the volume package's layout.
func isVolumeSource(source, volumesDir string) bool {
	return filepath.Dir(filepath.Dir(source)) == volumesDir && filepath.Base(source) == "_data"
}

// recordVolumes notes which volume each mount is, by its source:
// ROOT/volumes/NAME/_data in the volume package's layout.
func (s *Service) recordVolumes(c *container, mounts []rspec.Mount) {
	dir := filepath.Join(s.opts.Root, "volumes")
	vols := map[string]string{}
	for _, m := range mounts {
		if isVolumeSource(m.Source, dir) {
			vols[m.Destination] = filepath.Base(filepath.Dir(m.Source))
		}
	}
	if len(vols) > 0 || len(c.record().Volumes) > 0 {
		s.update(c, func(r *metadata.Container) { r.Volumes = vols })
	}
}

// makeWorkdir creates the working directory in the rootfs if the image
// lacks it, as Docker does for -w and WORKDIR.
func makeWorkdir(h *api.HostConfig, rootfsDir string, dirs ...string) error {
	for _, d := range dirs {
		if d == "" || !strings.HasPrefix(d, "/") {
			continue
		}
		r, err := openRoot(h, rootfsDir)
		if err != nil {
			return err
		}
		err = r.MkdirAll(d)
		r.Close()
		if err != nil {
			return fmt.Errorf("working directory %s: %w", d, err)
		}
		return nil
	}
	return nil
}

// writeNetworkFiles writes hosts, hostname and resolv.conf. With a user
// namespace (rootID >= 0) they belong to the container's root, who may
// edit them as in any container.
func writeNetworkFiles(p bundle.Paths, hostname string, att *NetworkAttachment, rootID int) error {
	for path, data := range map[string][]byte{
		p.Hosts(): att.Hosts, p.Hostname(): []byte(hostname + "\n"), p.ResolvConf(): att.ResolvConf,
	} {
		if err := os.WriteFile(path, data, 0o644); err != nil {
			return err
		}
		if rootID >= 0 {
			if err := os.Chown(path, rootID, rootID); err != nil {
				return err
			}
		}
	}
	return nil
}

// acquireRootfs mounts the rootfs for its first user (creating the
// bundle directory it lives in).
func (s *Service) acquireRootfs(c *container, lowers []string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.rootfsRefs == 0 {
		if err := os.MkdirAll(c.paths.Rootfs(), 0o711); err != nil {
			return err
		}
		if !bundle.Mounted(c.paths.Rootfs()) {
			mount := c.paths.MountRootfs
			if h := c.cfg.Host; h.UsernsMode == usernsPrivate {
				mount = func(lowers []string) error { return c.paths.MountRootfsIDMapped(lowers, h.UsernsHostId) }
			}
			if err := mount(lowers); err != nil {
				return err
			}
		}
	}
	c.rootfsRefs++
	return nil
}

// releaseRootfs unmounts the rootfs when its last user is done, and
// removes the bundle directory unless a run owns it.
func (s *Service) releaseRootfs(c *container) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.rootfsRefs > 0 {
		c.rootfsRefs--
	}
	if c.rootfsRefs > 0 {
		return
	}
	if err := c.paths.UnmountRootfs(); err != nil {
		s.log.Warn("unmount rootfs", "id", c.id, "err", err)
		return
	}
	if c.task == nil && !c.starting {
		c.paths.RemoveBundle()
	}
}

// withRootfs runs fn with the container's rootfs mounted (for cp,
// export, diff of a stopped container).
func (s *Service) withRootfs(c *container, fn func(rootfs string) error) error {
	lowers, err := s.images.Lowers(c.record().ChainID)
	if err != nil {
		return err
	}
	if err := s.acquireRootfs(c, lowers); err != nil {
		return err
	}
	defer s.releaseRootfs(c)
	return fn(c.paths.Rootfs())
}
