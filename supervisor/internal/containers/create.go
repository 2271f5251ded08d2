package containers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/berth-project/berth/specs"
	"github.com/berth-project/berth/supervisor/api"
	"github.com/berth-project/berth/supervisor/internal/images"
	"github.com/berth-project/berth/supervisor/internal/metadata"
)

// Create records a container: it validates the configuration, resolves
// the image, reserves the name and makes the container layer. On failure
// nothing is left behind.
func (s *Service) Create(ctx context.Context, req *api.CreateContainerRequest) (_ *api.CreateContainerResponse, err error) {
	defer func(t0 time.Time) { s.log.Debug("create", "took", time.Since(t0), "err", err) }(time.Now())
	cfg := proto.Clone(req.GetConfig()).(*api.ContainerConfig)
	if cfg == nil || cfg.Image == "" {
		return nil, fmt.Errorf("no image given: %w", ErrInvalidArgument)
	}
	if cfg.Host == nil {
		cfg.Host = &api.HostConfig{}
	}
	if err := validateUserns(cfg.Host); err != nil {
		return nil, err
	}
	if err := validate(cfg); err != nil {
		return nil, err
	}
	// The network is checked now so that a wrong --network or -p fails
	// the create, not a later start, as with Docker.
	mode, err := s.net.Validate(NetworkRequest{
		Name: req.GetName(), Mode: cfg.Host.NetworkMode, Publish: cfg.Host.Publish, Aliases: cfg.Host.NetworkAliases,
	})
	if err != nil {
		return nil, err
	}
	cfg.Host.NetworkMode = mode
	img, err := s.images.ForContainer(cfg.Image)
	if err != nil {
		if errors.Is(err, images.ErrNotFound) {
			return nil, fmt.Errorf("No such image: %s: %w", normalizedName(cfg.Image), ErrNotFound)
		}
		return nil, err
	}

	cfg.Healthcheck = mergeHealth(cfg.Healthcheck, img.Healthcheck)
	if err := validateHealth(cfg.Healthcheck); err != nil {
		return nil, err
	}
	args := command(cfg, img.Config.Entrypoint, img.Config.Cmd)
	if len(args) == 0 || args[0] == "" {
		return nil, fmt.Errorf("no command specified: %w", ErrInvalidArgument)
	}

	id := newID()
	name, err := s.reserveName(req.GetName(), id)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			s.releaseName(name, id)
		}
	}()
	if cfg.Host.UsernsMode == usernsPrivate {
		base, err := s.allocUserns(id)
		if err != nil {
			return nil, err
		}
		defer s.releaseUserns(base)
		cfg.Host.UsernsHostId = base
	}
	raw, err := protojson.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	rec := metadata.Container{
		ID: id, Name: name, Created: time.Now().UTC(),
		Image: cfg.Image, ImageID: img.ID, ChainID: img.ChainID, Config: raw,
		Path: args[0], Args: args[1:],
		State: metadata.ContainerState{Status: "created"},
	}
	c, err := s.newContainer(rec)
	if err != nil {
		return nil, err
	}
	if err := c.paths.Create(); err != nil {
		c.paths.RemoveAll()
		return nil, fmt.Errorf("create container layer: %w", err)
	}
	if err := s.db.Update(func(tx *metadata.Tx) error { return tx.PutContainer(&rec) }); err != nil {
		c.paths.RemoveAll()
		return nil, err
	}
	s.mu.Lock()
	s.byID[id] = c
	s.mu.Unlock()
	s.emit(c, "create", nil)
	resp := &api.CreateContainerResponse{Id: id}
	if cfg.Host.Memory > 0 && !swapAccounted() {
		resp.Warnings = append(resp.Warnings, "Your kernel does not support swap limit capabilities or the cgroup is not mounted. Memory limited without swap.")
	}
	return resp, nil
}

// command is the container's argv: the image's entrypoint and command,
// overridden as `docker run` does (a new entrypoint drops the image's
// command; --entrypoint "" clears the entrypoint).
func command(cfg *api.ContainerConfig, entrypoint, cmd []string) []string {
	if cfg.EntrypointSet {
		entrypoint = cfg.Entrypoint
		if len(entrypoint) == 1 && entrypoint[0] == "" {
			entrypoint = nil
		} else {
			cmd = nil
		}
	}
	if len(cfg.Cmd) > 0 {
		cmd = cfg.Cmd
	}
	return append(append([]string(nil), entrypoint...), cmd...)
}

// normalizedName is how Docker quotes a missing image: with its tag.
func normalizedName(name string) string {
	last := name[strings.LastIndex(name, "/")+1:]
	if !strings.ContainsAny(last, ":@") {
		return name + ":latest"
	}
	return name
}

// reserveName checks name (or generates one) and reserves it for id.
func (s *Service) reserveName(name, id string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if name == "" {
		name = randomName(func(n string) bool { _, taken := s.names[n]; return taken })
	} else {
		var err error
		if name, err = checkName(name); err != nil {
			return "", err
		}
		if other, taken := s.names[name]; taken {
			return "", fmt.Errorf("Conflict. The container name \"/%s\" is already in use by container \"%s\". You have to remove (or rename) that container to be able to reuse that name: %w", name, other, ErrConflict)
		}
	}
	s.names[name] = id
	return name, nil
}

func (s *Service) releaseName(name, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.names[name] == id {
		delete(s.names, name)
	}
}

// validate checks everything in cfg that does not need the image, by
// applying the run options to a default spec.
func validate(cfg *api.ContainerConfig) error {
	h := cfg.Host
	if _, err := parseRestartPolicy(h.RestartPolicy); err != nil {
		return err
	}
	if h.AutoRemove && h.RestartPolicy != nil && h.RestartPolicy.Name != "" && h.RestartPolicy.Name != "no" {
		return fmt.Errorf("conflicting options: cannot specify both --restart and --rm: %w", ErrInvalidArgument)
	}
	if cfg.StopSignal != "" {
		if _, err := ParseSignal(cfg.StopSignal); err != nil {
			return err
		}
	}
	opts, err := hostOpts(cfg, nil)
	if err != nil {
		return err
	}
	s := specs.DockerDefault()
	for _, o := range opts {
		if err := o(s); err != nil {
			return invalid(err)
		}
	}
	return nil
}

// invalid marks errors from specs as invalid arguments.
func invalid(err error) error {
	if errors.Is(err, specs.ErrInvalid) || errors.Is(err, specs.ErrNoCommand) {
		return fmt.Errorf("%w: %w", ErrInvalidArgument, err)
	}
	return err
}

// restartPolicy is a parsed --restart.
type restartPolicy struct {
	name     string // no, always, unless-stopped, on-failure
	maxRetry int
}

func parseRestartPolicy(p *api.RestartPolicy) (restartPolicy, error) {
	if p == nil || p.Name == "" {
		return restartPolicy{name: "no"}, nil
	}
	switch p.Name {
	case "no", "always", "unless-stopped":
		if p.MaxRetry != 0 {
			return restartPolicy{}, fmt.Errorf("invalid restart policy: maximum retry count can only be used with 'on-failure': %w", ErrInvalidArgument)
		}
		return restartPolicy{name: p.Name}, nil
	case "on-failure":
		if p.MaxRetry < 0 {
			return restartPolicy{}, fmt.Errorf("invalid restart policy: maximum retry count cannot be negative: %w", ErrInvalidArgument)
		}
		return restartPolicy{name: p.Name, maxRetry: int(p.MaxRetry)}, nil
	}
	return restartPolicy{}, fmt.Errorf("invalid restart policy %q: want no, always, unless-stopped or on-failure[:N]: %w", p.Name, ErrInvalidArgument)
}
