// Package build is berthd's Dockerfile builder, Docker's classic one:
// every instruction makes an image from the previous one. RUN runs in a
// container on the default network and COPY/ADD extract into a container,
// whose layer is then committed; config-only instructions make an image
// without a layer. Steps are cached in the metadata database by parent
// image, instruction and what the instruction reads.
package build

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/berth-project/berth/supervisor/api"
	"github.com/berth-project/berth/supervisor/internal/containers"
	"github.com/berth-project/berth/supervisor/internal/dockerfile"
	"github.com/berth-project/berth/supervisor/internal/images"
	"github.com/berth-project/berth/supervisor/internal/metadata"
	"github.com/berth-project/berth/supervisor/internal/reference"
)

// ErrInvalidArgument marks errors in the request or the Dockerfile.
var ErrInvalidArgument = errors.New("invalid argument")

// Service builds images.
type Service struct {
	db   *metadata.DB
	imgs *images.Service
	ctrs *containers.Service
	tmp  string
	log  *slog.Logger
}

// New returns a builder that unpacks contexts under root/build.
func New(db *metadata.DB, imgs *images.Service, ctrs *containers.Service, root string, log *slog.Logger) *Service {
	return &Service{db: db, imgs: imgs, ctrs: ctrs, tmp: filepath.Join(root, "build"), log: log}
}

// StepError is a build step that failed: its message is what Docker
// prints (The command '...' returned a non-zero code: N).
type StepError struct{ Msg string }

func (e *StepError) Error() string { return e.Msg }

// Build unpacks the context tar, builds its Dockerfile, tags the result
// and returns the image ID. Output goes to out.
func (s *Service) Build(ctx context.Context, opts *api.BuildInput, contextTar io.Reader, out io.Writer) (string, error) {
	for _, t := range opts.GetTags() {
		if _, err := reference.Parse(t); err != nil {
			return "", fmt.Errorf("invalid tag %q: %w: %w", t, err, ErrInvalidArgument)
		}
	}
	if err := os.MkdirAll(s.tmp, 0o700); err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp(s.tmp, "ctx-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	if err := unpackContext(contextTar, dir); err != nil {
		return "", fmt.Errorf("read build context: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return "", err
	}
	defer root.Close()
	name := opts.GetDockerfile()
	if name == "" {
		name = "Dockerfile"
	}
	f, err := root.Open(filepath.Clean(name))
	if err != nil {
		return "", fmt.Errorf("Cannot locate specified Dockerfile: %s: %w", name, ErrInvalidArgument)
	}
	instrs, err := dockerfile.Parse(f)
	f.Close()
	if err != nil {
		return "", fmt.Errorf("%w: %w", err, ErrInvalidArgument)
	}
	b := &builder{s: s, ctx: ctx, out: out, root: root, noCache: opts.GetNoCache(), buildArgs: map[string]string{}, stages: map[string]string{}, auths: opts.GetAuths()}
	for _, kv := range opts.GetBuildArgs() {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			v, ok = os.LookupEnv(k) // never set in berthd: the CLI resolves it
		}
		if ok {
			b.buildArgs[k] = v
		}
	}
	if err := b.run(instrs); err != nil {
		return "", err
	}
	for _, t := range opts.GetTags() {
		ref, _ := reference.Parse(t)
		if _, err := s.imgs.Tag(ctx, &api.TagRequest{Source: b.image, Target: t}); err != nil {
			return "", fmt.Errorf("tag %s: %w", t, err)
		}
		fmt.Fprintf(out, "Successfully tagged %s\n", images.Familiar(withTag(ref.String())))
	}
	return b.image, nil
}

// withTag adds :latest to a reference without tag or digest.
func withTag(ref string) string {
	last := ref[strings.LastIndex(ref, "/")+1:]
	if strings.ContainsAny(last, ":@") {
		return ref
	}
	return ref + ":latest"
}

func shortID(id string) string {
	id = strings.TrimPrefix(id, "sha256:")
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// cacheKey digests what a step's result depends on.
func cacheKey(parent string, parts ...string) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00", parent)
	for _, p := range parts {
		fmt.Fprintf(h, "%s\x00", p)
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

// cached returns the image a step made before, if it still exists.
func (s *Service) cached(key string) (string, bool) {
	var id string
	if err := s.db.View(func(tx *metadata.Tx) error {
		var err error
		id, err = tx.BuildCache(key)
		return err
	}); err != nil {
		return "", false
	}
	if _, err := s.imgs.ByID(id); err != nil {
		return "", false
	}
	return id, true
}

func (s *Service) remember(key, id string) {
	if err := s.db.Update(func(tx *metadata.Tx) error { return tx.PutBuildCache(key, id) }); err != nil {
		s.log.Warn("build cache", "err", err)
	}
}

// imageConfig converts an image's config to the form the builder edits.
func imageConfig(img *images.ContainerImage) v1.Config {
	c := v1.Config{
		Env: img.Config.Env, Cmd: img.Config.Cmd, Entrypoint: img.Config.Entrypoint,
		WorkingDir: img.Config.WorkingDir, User: img.Config.User, StopSignal: img.Config.StopSignal,
		Labels: img.Config.Labels, ExposedPorts: img.Config.ExposedPorts, Volumes: img.Config.Volumes,
		Healthcheck: img.Healthcheck, Shell: img.Shell, OnBuild: img.OnBuild,
	}
	return c
}
