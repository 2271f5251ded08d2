package containers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/supervisor/api"
	"github.com/berth-project/berth/supervisor/internal/dockerfile"
	"github.com/berth-project/berth/supervisor/internal/images"
	"github.com/berth-project/berth/supervisor/internal/rootfs"
)

// withRoot runs fn on the container's mounted root filesystem.
func (s *Service) withRoot(ref string, fn func(c *container, r *rootfs.Root) error) error {
	c, err := s.get(ref)
	if err != nil {
		return err
	}
	return s.withRootfs(c, func(dir string) error {
		r, err := openRoot(c.cfg.Host, dir)
		if err != nil {
			return err
		}
		defer r.Close()
		return fn(c, r)
	})
}

// StatPath describes a path in the container (cp's first step).
func (s *Service) StatPath(ctx context.Context, req *api.StatPathRequest) (*api.StatPathResponse, error) {
	var resp *api.StatPathResponse
	err := s.withRoot(req.GetId(), func(c *container, r *rootfs.Root) error {
		info, err := r.Stat(req.GetPath())
		if err != nil {
			if errors.Is(err, os.ErrNotExist) || errors.Is(err, unix.ENOTDIR) {
				return fmt.Errorf("Could not find the file %s in container %s: %w", req.GetPath(), req.GetId(), ErrNotFound)
			}
			return err
		}
		resp = &api.StatPathResponse{
			Name: info.Name, Size: info.Size, Mode: uint32(info.Mode), Mtime: info.ModTime.Unix(),
			LinkTarget: info.LinkTarget, IsDir: info.Mode.IsDir(),
		}
		return nil
	})
	return resp, err
}

// CopyFrom writes a tar of a path in the container, its top entry named
// after the path's last element.
func (s *Service) CopyFrom(ctx context.Context, req *api.CopyFromRequest, w io.Writer) error {
	return s.withRoot(req.GetId(), func(c *container, r *rootfs.Root) error {
		p := req.GetPath()
		if _, err := r.Stat(p); err != nil {
			return fmt.Errorf("Could not find the file %s in container %s: %w", p, req.GetId(), ErrNotFound)
		}
		name := filepath.Base(filepath.Clean("/" + p))
		if name == "/" {
			name = "."
		}
		return r.Tar(p, w, rootfs.TarOptions{Name: name, FollowLink: req.GetFollowLink()})
	})
}

// CopyTo extracts a tar into a directory of the container.
func (s *Service) CopyTo(ctx context.Context, first *api.CopyToRequest, rd io.Reader) error {
	return s.withRoot(first.GetId(), func(c *container, r *rootfs.Root) error {
		if c.cfg.Host.ReadOnly && c.running() {
			return fmt.Errorf("container rootfs is marked read-only: %w", ErrFailedPrecondition)
		}
		if !r.IsDir(first.GetPath()) {
			return fmt.Errorf("Could not find the file %s in container %s: %w", first.GetPath(), first.GetId(), ErrNotFound)
		}
		return r.Extract(first.GetPath(), rd, rootfs.ExtractOptions{KeepOwners: first.GetCopyUidGid()})
	})
}

// Export writes the container's whole filesystem as a tar.
func (s *Service) Export(ctx context.Context, req *api.ExportRequest, w io.Writer) error {
	return s.withRoot(req.GetId(), func(c *container, r *rootfs.Root) error {
		return r.Tar("/", w, rootfs.TarOptions{})
	})
}

// Diff lists what the container layer changed: every entry of the upper
// directory is A (new), C (it shadows a lower entry) or D (a whiteout).
func (s *Service) Diff(ctx context.Context, req *api.DiffRequest) (*api.DiffResponse, error) {
	c, err := s.get(req.GetId())
	if err != nil {
		return nil, err
	}
	lowers, err := s.images.Lowers(c.record().ChainID)
	if err != nil {
		return nil, err
	}
	upper := c.paths.Upper()
	resp := &api.DiffResponse{}
	err = filepath.Walk(upper, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return nil
		}
		rel := strings.TrimPrefix(p, upper)
		if rel == "" {
			return nil
		}
		kind := int32(1)
		if fi.Mode()&os.ModeCharDevice != 0 {
			if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Rdev == 0 {
				resp.Changes = append(resp.Changes, &api.Change{Kind: 2, Path: rel})
				return nil
			}
		}
		for _, l := range lowers {
			if _, err := os.Lstat(filepath.Join(l, rel)); err == nil {
				kind = 0
				break
			}
		}
		resp.Changes = append(resp.Changes, &api.Change{Kind: kind, Path: rel})
		return nil
	})
	sort.Slice(resp.Changes, func(i, j int) bool { return resp.Changes[i].Path < resp.Changes[j].Path })
	return resp, err
}

// Commit makes an image of the container: its image's layers plus the
// container layer (overlay whiteouts turned into OCI ones), with the
// container's command, environment, working directory, user and labels,
// and the --change instructions.
func (s *Service) Commit(ctx context.Context, req *api.CommitRequest) (*api.CommitResponse, error) {
	c, err := s.get(req.GetId())
	if err != nil {
		return nil, err
	}
	changes, err := parseChanges(req.GetChanges())
	if err != nil {
		return nil, err
	}
	if req.GetPause() && c.state().Status == "running" {
		if err := s.Pause(ctx, c.id); err == nil {
			defer s.Unpause(context.WithoutCancel(ctx), c.id)
		}
	}
	r, err := rootfs.Open(c.paths.Upper())
	if err != nil {
		return nil, err
	}
	defer r.Close()
	pr, pw := io.Pipe()
	go func() {
		pw.CloseWithError(r.Tar("/", pw, rootfs.TarOptions{Whiteouts: true}))
	}()
	rec, cfg := c.record(), c.cfg
	id, err := s.images.Commit(ctx, images.CommitInput{
		ParentID: rec.ImageID, Layer: pr, Reference: req.GetReference(), Comment: req.GetComment(),
		Author: req.GetAuthor(), CreatedBy: strings.Join(append([]string{rec.Path}, rec.Args...), " "),
		Change: func(ic *v1.Config) error {
			if len(cfg.Cmd) > 0 {
				ic.Cmd = cfg.Cmd
			}
			if cfg.EntrypointSet {
				ic.Entrypoint = cfg.Entrypoint
				if len(ic.Entrypoint) == 1 && ic.Entrypoint[0] == "" {
					ic.Entrypoint = nil
				}
			}
			ic.Env = mergeEnv(ic.Env, cfg.Env)
			if cfg.WorkingDir != "" {
				ic.WorkingDir = cfg.WorkingDir
			}
			if cfg.User != "" {
				ic.User = cfg.User
			}
			for k, v := range cfg.Labels {
				if ic.Labels == nil {
					ic.Labels = map[string]string{}
				}
				ic.Labels[k] = v
			}
			for _, ch := range changes {
				if err := dockerfile.ApplyConfig(ch, ic, nil); err != nil {
					return fmt.Errorf("change %s: %w", ch.Cmd, err)
				}
			}
			return nil
		},
	})
	pr.CloseWithError(io.ErrClosedPipe)
	if err != nil {
		if errors.Is(err, images.ErrInvalidArgument) {
			return nil, fmt.Errorf("%w: %w", ErrInvalidArgument, err)
		}
		return nil, err
	}
	return &api.CommitResponse{ImageId: id}, nil
}

// parseChanges parses commit --change instructions: the Dockerfile
// instructions that only change the config (CMD, ENTRYPOINT, ENV,
// WORKDIR, USER, LABEL, EXPOSE, VOLUME, STOPSIGNAL), applied with the
// builder's rules (dockerfile.ApplyConfig).
func parseChanges(in []string) ([]dockerfile.Instruction, error) {
	var out []dockerfile.Instruction
	for _, line := range in {
		parsed, err := dockerfile.Parse(strings.NewReader(line))
		if err != nil || len(parsed) != 1 {
			return nil, fmt.Errorf("invalid change %q: %w", line, ErrInvalidArgument)
		}
		switch in := parsed[0]; in.Cmd {
		case "CMD", "ENTRYPOINT", "ENV", "WORKDIR", "USER", "LABEL", "EXPOSE", "VOLUME", "STOPSIGNAL":
			out = append(out, in)
		default:
			return nil, fmt.Errorf("invalid change %q: %s is not a supported instruction: %w", line, in.Cmd, ErrInvalidArgument)
		}
	}
	return out, nil
}
