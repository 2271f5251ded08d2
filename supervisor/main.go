// Command berthd is berth's supervisor daemon: it owns the content store,
// snapshots and image metadata under --root, and serves the berth API
// (protobuf over ttrpc) on --address.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/containerd/ttrpc"
	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/supervisor/api"
	"github.com/berth-project/berth/supervisor/internal/build"
	"github.com/berth-project/berth/supervisor/internal/bundle"
	"github.com/berth-project/berth/supervisor/internal/config"
	"github.com/berth-project/berth/supervisor/internal/containers"
	"github.com/berth-project/berth/supervisor/internal/eventlog"
	"github.com/berth-project/berth/supervisor/internal/images"
	"github.com/berth-project/berth/supervisor/internal/metadata"
	"github.com/berth-project/berth/supervisor/internal/server"
	"github.com/berth-project/berth/supervisor/internal/system"
)

var (
	version    = "dev"
	cpuProfile string
)

func main() {
	if os.Getenv(bundle.HolderEnv) != "" {
		bundle.Hold() // a user namespace holder for an idmapped mount
	}
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "berthd: %v\n", err)
		os.Exit(1)
	}
}

func parseConfig(args []string) (config.Config, error) {
	cfg := config.Default()
	fs := flag.NewFlagSet("berthd", flag.ContinueOnError)
	cfgFile := fs.String("config", "", "JSON configuration `file` (flags override it)")
	root := fs.String("root", cfg.Root, "persistent state `dir`")
	state := fs.String("state", cfg.State, "runtime state `dir`")
	addr := fs.String("address", cfg.Address, "API unix `socket`")
	level := fs.String("log-level", cfg.LogLevel, "debug, info, warn or error")
	format := fs.String("log-format", cfg.LogFormat, "text or json")
	debug := fs.Bool("debug", false, "same as --log-level debug")
	insecure := fs.String("insecure-registry", "", "comma-separated registries reached over plain HTTP")
	showVersion := fs.Bool("version", false, "print the version and exit")
	fs.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile to `file` until exit (for benchmarks)")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if *showVersion {
		fmt.Println("berthd", version)
		os.Exit(0)
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if *cfgFile != "" {
		if err := cfg.Load(*cfgFile); err != nil {
			return cfg, err
		}
	}
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "root":
			cfg.Root = *root
		case "state":
			cfg.State = *state
		case "address":
			cfg.Address = *addr
		case "log-level":
			cfg.LogLevel = *level
		case "log-format":
			cfg.LogFormat = *format
		case "insecure-registry":
			cfg.InsecureRegistries = append(cfg.InsecureRegistries, strings.Split(*insecure, ",")...)
		}
	})
	if *debug {
		cfg.LogLevel = "debug"
	}
	return cfg, nil
}

func newLogger(cfg config.Config) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		return nil, fmt.Errorf("log level %q: %w", cfg.LogLevel, err)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	switch cfg.LogFormat {
	case "json":
		return slog.New(slog.NewJSONHandler(os.Stderr, opts)), nil
	case "text", "":
		return slog.New(slog.NewTextHandler(os.Stderr, opts)), nil
	}
	return nil, fmt.Errorf("log format %q: want text or json", cfg.LogFormat)
}

func run(args []string) error {
	cfg, err := parseConfig(args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	log, err := newLogger(cfg)
	if err != nil {
		return err
	}
	slog.SetDefault(log)
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return err
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	for _, d := range []string{cfg.Root, cfg.State, filepath.Dir(cfg.Address)} {
		if err := os.MkdirAll(d, 0o711); err != nil {
			return err
		}
	}
	unlock, err := lockRoot(cfg.Root)
	if err != nil {
		return err
	}
	defer unlock()

	db, err := metadata.Open(filepath.Join(cfg.Root, "meta.db"))
	if err != nil {
		return err
	}
	defer db.Close()
	img, err := images.New(db, images.Options{
		Root: cfg.Root, Insecure: cfg.InsecureRegistries,
		MaxConcurrentDownloads: cfg.MaxConcurrentDownloads, Log: log,
	})
	if err != nil {
		return err
	}

	l, err := listen(cfg.Address)
	if err != nil {
		return err
	}
	defer os.Remove(cfg.Address)
	srv, err := ttrpc.NewServer()
	if err != nil {
		return err
	}
	ev := eventlog.New()
	server.Register(srv, img, ev)
	netw, err := newNetworking(cfg, db, srv, ev, log) // volumes and networks (networking.go)
	if err != nil {
		return err
	}
	defer netw.close()

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	bins, err := findBinaries()
	if err != nil {
		return err
	}
	ctrs, err := newContainers(ctx, cfg, db, img, netw, bins, ev, log)
	if err != nil {
		return err
	}
	server.RegisterContainers(srv, ctrs)
	server.RegisterBuild(srv, build.New(db, img, ctrs, cfg.Root, log))
	server.RegisterSystem(srv, system.New(system.Options{
		Version: version, Root: cfg.Root, Debug: cfg.LogLevel == "debug",
		InsecureRegistries: cfg.InsecureRegistries,
		RuntimeBinary:      bins.runtime, ShimBinary: bins.shim,
		Counts: func(ctx context.Context) (system.Counts, error) { return countObjects(ctx, ctrs, img) },
		DB:     db, Events: ev,
	}))
	// Containers keep running while berthd is down; take them back
	// (their exits included) before serving requests about them. Their
	// networks come first: bridges and rules must exist before a
	// restart policy starts a container again.
	if err := netw.restore(ctx, ctrs.WasRunning); err != nil {
		return err
	}
	ctrs.Restore(ctx)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ctx, l) }()
	log.Info("berthd started", "version", version, "root", cfg.Root, "state", cfg.State, "address", cfg.Address, "pid", os.Getpid())

	select {
	case err := <-errc:
		if err != nil && !errors.Is(err, ttrpc.ErrServerClosed) {
			return fmt.Errorf("serve: %w", err)
		}
	case <-ctx.Done():
		log.Info("shutting down")
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := srv.Shutdown(sctx); err != nil {
			log.Warn("requests still running at shutdown, closing", "err", err)
			srv.Close()
		}
		cancel()
	}
	log.Info("berthd stopped")
	return nil
}

// binaries are the programs berthd runs: the shim, the runtime and the
// static init that --init mounts (Docker's docker-init, or tini-static),
// looked for next to berthd's binary first, then in PATH.
type binaries struct {
	shim, runtime, init string
}

func findBinaries() (binaries, error) {
	var b binaries
	var err error
	if b.shim, err = findBinary("containerd-shim-berth-v2"); err != nil {
		return b, err
	}
	if b.runtime, err = findBinary("berth-runtime"); err != nil {
		return b, err
	}
	b.init, _ = findBinary("docker-init", "tini-static")
	return b, nil
}

// newContainers sets up the container side, with netw's networks and
// volumes.
func newContainers(ctx context.Context, cfg config.Config, db *metadata.DB, img *images.Service, netw *networking, bins binaries, ev *eventlog.Log, log *slog.Logger) (*containers.Service, error) {
	return containers.New(ctx, db, img, containers.Options{
		Root: cfg.Root, State: cfg.State, Address: cfg.Address,
		ShimBinary: bins.shim, RuntimeBinary: bins.runtime, InitBinary: bins.init, Log: log, Events: ev,
		Network: netw.attacher(), Volumes: netw.resolver(),
	})
}

// countObjects counts containers by state and images, for `berth info`.
func countObjects(ctx context.Context, ctrs *containers.Service, img *images.Service) (system.Counts, error) {
	var c system.Counts
	cl, err := ctrs.List(ctx, &api.ListContainersRequest{All: true})
	if err != nil {
		return c, err
	}
	for _, ct := range cl.GetContainers() {
		switch ct.GetState() {
		case "running", "restarting":
			c.Running++
		case "paused":
			c.Paused++
		default:
			c.Stopped++
		}
	}
	il, err := img.List(ctx, &api.ListImagesRequest{})
	if err != nil {
		return c, err
	}
	c.Images = len(il.GetImages())
	return c, nil
}

// findBinary returns the first of names found beside berthd or in PATH.
func findBinary(names ...string) (string, error) {
	self, _ := os.Executable()
	for _, n := range names {
		if self != "" {
			p := filepath.Join(filepath.Dir(self), n)
			if fi, err := os.Stat(p); err == nil && fi.Mode()&0o111 != 0 {
				return p, nil
			}
		}
		if p, err := exec.LookPath(n); err == nil {
			return filepath.Abs(p)
		}
	}
	return "", fmt.Errorf("%s not found beside berthd or in PATH", names[0])
}

// lockRoot takes an exclusive flock on ROOT/berthd.lock so that a second
// berthd on the same root refuses to start instead of corrupting it.
func lockRoot(root string) (func(), error) {
	p := filepath.Join(root, "berthd.lock")
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("another berthd is already running on root %s", root)
		}
		return nil, fmt.Errorf("lock %s: %w", p, err)
	}
	f.Truncate(0)
	fmt.Fprintf(f, "%d\n", os.Getpid())
	return func() { f.Close() }, nil
}

// listen opens the API socket (mode 0660). A stale socket file is
// replaced, a live one (another berthd with another root) is not.
func listen(addr string) (net.Listener, error) {
	if c, err := net.DialTimeout("unix", addr, time.Second); err == nil {
		c.Close()
		return nil, fmt.Errorf("listen %s: address in use by another process", addr)
	}
	os.Remove(addr)
	old := unix.Umask(0o117)
	l, err := net.Listen("unix", addr)
	unix.Umask(old)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	if err := os.Chmod(addr, 0o660); err != nil {
		l.Close()
		return nil, err
	}
	return l, nil
}
