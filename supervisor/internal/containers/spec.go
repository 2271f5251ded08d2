package containers

import (
	"fmt"
	"os"
	"slices"

	rspec "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-project/berth/specs"
	"github.com/berth-project/berth/supervisor/api"
	"github.com/berth-project/berth/supervisor/internal/bundle"
	"github.com/berth-project/berth/supervisor/internal/images"
)

// annotationLogPath selects the shim's JSON-lines log of the init process
// (the shim's bundle.AnnotationLogPath).
const annotationLogPath = "io.berth.shim.log-path"

// runInputs is what a start adds to the container's configuration.
type runInputs struct {
	rootfs   string
	img      *images.ContainerImage
	net      *NetworkAttachment
	hostname string
	mounts   []rspec.Mount // resolved -v/--mount/--tmpfs
}

// buildSpec makes the container's config.json the way `docker run` would:
// Docker's defaults, the image config, then the run options.
func (s *Service) buildSpec(c *container, in runInputs) (*rspec.Spec, error) {
	cfg := c.cfg
	ic := in.img.Config
	opts := []specs.Opt{specs.WithImageConfig(in.rootfs, specs.ImageConfig{
		User: ic.User, ExposedPorts: ic.ExposedPorts, Env: ic.Env, Entrypoint: ic.Entrypoint, Cmd: ic.Cmd,
		Volumes: ic.Volumes, WorkingDir: ic.WorkingDir, StopSignal: ic.StopSignal,
	})}
	if cfg.EntrypointSet {
		opts = append(opts, specs.WithEntrypoint(cfg.Entrypoint...))
	}
	if len(cfg.Cmd) > 0 {
		opts = append(opts, specs.WithCmd(cfg.Cmd...))
	}
	if cfg.User != "" {
		opts = append(opts, specs.WithUser(in.rootfs, cfg.User))
	}
	host, err := hostOpts(cfg, in.mounts)
	if err != nil {
		return nil, err
	}
	opts = append(opts, host...)
	opts = append(opts, specs.WithHostname(in.hostname))
	if in.net.HostNetwork {
		opts = append(opts, specs.WithHostNetwork())
	} else if in.net.NetNS != "" {
		opts = append(opts, specs.WithNamespacePath(rspec.NetworkNamespace, in.net.NetNS))
	}
	opts = append(opts,
		specs.WithCgroupsPath("/berth/"+c.id),
		specs.WithAnnotations(map[string]string{annotationLogPath: c.paths.Log()}),
	)
	sp, err := specs.NewDocker(opts...)
	if err != nil {
		return nil, invalid(err)
	}
	// /etc/hosts, /etc/hostname and /etc/resolv.conf come from the
	// container's directory, unless the user mounted something there.
	for _, f := range []struct{ dst, src string }{
		{"/etc/hosts", c.paths.Hosts()}, {"/etc/hostname", c.paths.Hostname()}, {"/etc/resolv.conf", c.paths.ResolvConf()},
	} {
		if !slices.ContainsFunc(sp.Mounts, func(m rspec.Mount) bool { return m.Destination == f.dst }) {
			sp.Mounts = append(sp.Mounts, rspec.Mount{Destination: f.dst, Type: "bind", Source: f.src, Options: []string{"rbind", "rprivate"}})
		}
	}
	if cfg.Host.Init {
		if s.opts.InitBinary == "" {
			return nil, fmt.Errorf("--init: no init binary found (install tini): %w", ErrFailedPrecondition)
		}
		sp.Mounts = append(sp.Mounts, rspec.Mount{Destination: bundle.InitPath, Type: "bind", Source: s.opts.InitBinary, Options: []string{"bind", "ro"}})
		sp.Process.Args = append([]string{bundle.InitPath, "--"}, sp.Process.Args...)
	}
	return sp, nil
}

// hostOpts are the run options that do not depend on the image, in
// Docker's order: capabilities before seccomp, --privileged last.
// mounts are the resolved mounts (nil when only validating: then the
// raw values are parsed and checked).
func hostOpts(cfg *api.ContainerConfig, mounts []rspec.Mount) ([]specs.Opt, error) {
	h := cfg.Host
	var opts []specs.Opt
	if cfg.WorkingDir != "" {
		opts = append(opts, specs.WithWorkdir(cfg.WorkingDir))
	}
	if len(cfg.Env) > 0 {
		opts = append(opts, specs.WithEnv(cfg.Env...))
	}
	if cfg.Hostname != "" {
		opts = append(opts, specs.WithHostname(cfg.Hostname))
	}
	opts = append(opts, specs.WithTTY(cfg.Tty))
	if mounts == nil {
		mps, err := parseMounts(h)
		if err != nil {
			return nil, err
		}
		for _, mp := range mps {
			if mp.Type == specs.MountVolume {
				mp.Source = "/validation-only"
			}
			m, err := mp.Spec()
			if err != nil {
				return nil, invalid(err)
			}
			mounts = append(mounts, m)
		}
	}
	if len(mounts) > 0 {
		opts = append(opts, specs.WithMounts(mounts...))
	}
	if h.Memory != 0 {
		opts = append(opts, specs.WithMemoryLimit(h.Memory))
		if !swapAccounted() {
			opts = append(opts, func(s *rspec.Spec) error {
				s.Linux.Resources.Memory.Swap = nil
				return nil
			})
		}
	}
	if h.NanoCpus != 0 {
		opts = append(opts, specs.WithCPUs(float64(h.NanoCpus)/1e9))
	}
	if h.PidsLimit != 0 {
		opts = append(opts, specs.WithPidsLimit(h.PidsLimit))
	}
	if h.ReadOnly {
		opts = append(opts, specs.WithReadonlyRootfs())
	}
	if len(h.CapAdd) > 0 || len(h.CapDrop) > 0 {
		opts = append(opts, specs.WithCapabilities(h.CapAdd, h.CapDrop))
	}
	for _, so := range h.SecurityOpt {
		o, err := specs.ParseSecurityOpt(so)
		if err != nil {
			return nil, invalid(err)
		}
		opts = append(opts, o)
	}
	if h.Privileged {
		opts = append(opts, specs.WithPrivileged())
	}
	if h.UsernsMode == usernsPrivate {
		m := []rspec.LinuxIDMapping{{ContainerID: 0, HostID: h.UsernsHostId, Size: bundle.IDMapSize}}
		opts = append(opts, specs.WithUserNamespace(m, m))
	}
	return opts, nil
}

// parseMounts parses -v, --mount and --tmpfs.
func parseMounts(h *api.HostConfig) ([]specs.MountPoint, error) {
	var out []specs.MountPoint
	for _, v := range h.Binds {
		mp, err := specs.ParseVolume(v)
		if err != nil {
			return nil, invalid(err)
		}
		out = append(out, mp)
	}
	for _, v := range h.Mounts {
		mp, err := specs.ParseMount(v)
		if err != nil {
			return nil, invalid(err)
		}
		if mp.Type == specs.MountBind {
			if _, err := os.Stat(mp.Source); err != nil {
				return nil, fmt.Errorf("invalid mount config for type \"bind\": bind source path does not exist: %s: %w", mp.Source, ErrInvalidArgument)
			}
		}
		out = append(out, mp)
	}
	for _, v := range h.Tmpfs {
		mp, err := specs.ParseTmpfs(v)
		if err != nil {
			return nil, invalid(err)
		}
		out = append(out, mp)
	}
	seen := map[string]bool{}
	for _, mp := range out {
		if seen[mp.Destination] {
			return nil, fmt.Errorf("duplicate mount point: %s: %w", mp.Destination, ErrInvalidArgument)
		}
		seen[mp.Destination] = true
	}
	return out, nil
}

// swapAccounted reports whether the memory cgroup limits swap (cgroup v1
// needs swapaccount=1; v2 always has memory.swap.max).
func swapAccounted() bool {
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil {
		return true
	}
	_, err := os.Stat("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes")
	return err == nil
}
