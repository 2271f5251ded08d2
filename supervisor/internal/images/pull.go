package images

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"golang.org/x/sync/errgroup"

	"github.com/berth-project/berth/supervisor/api"
	"github.com/berth-project/berth/supervisor/internal/metadata"
	"github.com/berth-project/berth/supervisor/internal/reference"
)

// Pull fetches req.Reference and unpacks it; the returned event is the last
// one (image ID, digest).
func (s *Service) Pull(ctx context.Context, req *api.PullRequest, prog ProgressFunc) (*api.Progress, error) {
	ref, err := reference.Parse(req.Reference)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidArgument, err)
	}
	plat, err := ParsePlatform(req.Platform)
	if err != nil {
		return nil, err
	}
	rref, err := ref.Remote(req.Insecure || s.insecure(ref))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidArgument, err)
	}
	opts := []remote.Option{remote.WithContext(ctx), authOption(req.Auth), remote.WithUserAgent("berth")}
	what := ref.Tag
	if ref.Digest != "" {
		what = ref.Digest
	}
	repoName := ref.Repository
	if ref.Registry != reference.DefaultRegistry {
		repoName = ref.Name()
	}
	prog(&api.Progress{Status: fmt.Sprintf("%s: Pulling from %s", what, repoName)})

	desc, err := remote.Get(rref, opts...)
	if err != nil {
		return nil, registryError("pull", ref, err)
	}
	top := desc.Digest
	var img v1.Image
	switch {
	case desc.MediaType.IsIndex():
		idx, err := desc.ImageIndex()
		if err != nil {
			return nil, registryError("pull", ref, err)
		}
		im, err := idx.IndexManifest()
		if err != nil {
			return nil, registryError("pull", ref, err)
		}
		chosen, err := choosePlatform(im.Manifests, plat)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", ref.Familiar(), err)
		}
		if img, err = idx.Image(chosen.Digest); err != nil {
			return nil, registryError("pull", ref, err)
		}
	case desc.MediaType.IsImage():
		if img, err = desc.Image(); err != nil {
			return nil, registryError("pull", ref, err)
		}
	default:
		return nil, fmt.Errorf("%s: unsupported manifest media type %q: %w", ref.Familiar(), desc.MediaType, ErrInvalidArgument)
	}
	rawManifest, err := img.RawManifest()
	if err != nil {
		return nil, registryError("pull", ref, err)
	}
	mt, err := img.MediaType()
	if err != nil {
		return nil, registryError("pull", ref, err)
	}
	cfgRaw, err := img.RawConfigFile()
	if err != nil {
		return nil, registryError("pull", ref, err)
	}
	if !desc.MediaType.IsIndex() && sha256Of(rawManifest) != top {
		return nil, fmt.Errorf("%s: manifest digest mismatch: got %s, want %s", ref.Familiar(), sha256Of(rawManifest), top)
	}
	tag := ""
	if ref.Tag != "" && ref.Digest == "" {
		tag = ref.String()
	}
	before := ""
	if tag != "" {
		s.db.View(func(tx *metadata.Tx) error { before, _ = tx.Tag(tag); return nil })
	}
	in := ingestInput{
		manifest:   rawManifest,
		mediaType:  string(mt),
		config:     cfgRaw,
		repoDigest: ref.Name() + "@" + top.String(),
		tags:       nonEmpty(tag),
		open: func(d v1.Hash) func(context.Context) (io.ReadCloser, error) {
			return func(context.Context) (io.ReadCloser, error) {
				l, err := img.LayerByDigest(d)
				if err != nil {
					return nil, registryError("pull", ref, err)
				}
				rc, err := l.Compressed()
				if err != nil {
					return nil, registryError("pull", ref, err)
				}
				return rc, nil
			}
		},
	}
	s.gc.RLock()
	rec, err := s.ingest(ctx, in, prog)
	s.gc.RUnlock()
	if err != nil {
		return nil, err
	}
	status := "Downloaded newer image for " + ref.Familiar()
	if before == rec.ID {
		status = "Image is up to date for " + ref.Familiar()
	}
	prog(&api.Progress{Status: "Digest: " + top.String()})
	prog(&api.Progress{Status: "Status: " + status})
	return &api.Progress{Done: true, ImageId: rec.ID, Digest: top.String(), Size: rec.Size, Status: ref.String()}, nil
}

func nonEmpty(s ...string) []string {
	var out []string
	for _, x := range s {
		if x != "" {
			out = append(out, x)
		}
	}
	return out
}

func sha256Of(b []byte) v1.Hash {
	return v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", sha256.Sum256(b))}
}

// ingestInput is an image on its way into the stores: from a registry, an
// archive or an import.
type ingestInput struct {
	manifest   []byte
	mediaType  string
	config     []byte
	repoDigest string   // registry/repo@digest, or ""
	tags       []string // full references to point at the image
	// open returns the fetcher of a layer blob not yet in the store.
	open func(v1.Hash) func(context.Context) (io.ReadCloser, error)
}

// ingest verifies the config against the manifest, brings every layer in
// (all at once), then stores manifest and config and records the image.
// The caller holds s.gc shared.
func (s *Service) ingest(ctx context.Context, in ingestInput, prog ProgressFunc) (*metadata.Image, error) {
	m, err := v1.ParseManifest(strings.NewReader(string(in.manifest)))
	if err != nil {
		return nil, fmt.Errorf("parse manifest: %w", err)
	}
	if got := sha256Of(in.config); got != m.Config.Digest {
		return nil, fmt.Errorf("config digest mismatch: got %s, want %s", got, m.Config.Digest)
	}
	cfg, err := v1.ParseConfigFile(strings.NewReader(string(in.config)))
	if err != nil {
		return nil, fmt.Errorf("parse config: %w", err)
	}
	if len(cfg.RootFS.DiffIDs) != len(m.Layers) {
		return nil, fmt.Errorf("manifest has %d layers but config has %d diff IDs", len(m.Layers), len(cfg.RootFS.DiffIDs))
	}
	chains := chainIDs(cfg.RootFS.DiffIDs)
	sem := make(chan struct{}, s.opts.MaxConcurrentDownloads)
	g, gctx := errgroup.WithContext(ctx)
	for i, l := range m.Layers {
		j := layerJob{blob: l, diffID: cfg.RootFS.DiffIDs[i], chainID: chains[i]}
		if i > 0 {
			j.parent = chains[i-1]
		}
		if in.open != nil {
			j.open = in.open(l.Digest)
		}
		prog(&api.Progress{Id: shortID(l.Digest.String()), Status: "Pulling fs layer", Total: l.Size})
		g.Go(func() error { return s.ensureLayer(gctx, j, sem, prog) })
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	md, err := s.content.PutBytes(in.manifest)
	if err != nil {
		return nil, err
	}
	if _, err := s.content.PutBytes(in.config); err != nil {
		return nil, err
	}
	var size int64
	for _, c := range chains {
		if snap := s.snaps.Get(c); snap != nil {
			size += snap.Size
		}
	}
	mt := in.mediaType
	if mt == "" {
		mt = string(m.MediaType)
	}
	var rec *metadata.Image
	err = s.db.Update(func(tx *metadata.Tx) error {
		var err error
		rec, err = recordImage(tx, &metadata.Image{
			ID:       m.Config.Digest.String(),
			Manifest: metadata.Descriptor{MediaType: mt, Digest: md.String(), Size: int64(len(in.manifest))},
			ChainIDs: chains,
			Created:  cfg.Created.Time,
			Size:     size,
		}, in.repoDigest, in.tags)
		return err
	})
	return rec, err
}

// recordImage creates or updates the image record and points tags at it.
func recordImage(tx *metadata.Tx, img *metadata.Image, repoDigest string, tags []string) (*metadata.Image, error) {
	now := time.Now().UTC()
	old, err := tx.Image(img.ID)
	if err == nil {
		if repoDigest == "" && old.Manifest.Digest != "" {
			// A load or tag of a known image keeps the manifest it
			// came with from its registry (the digest users know).
			img.Manifest, img.ChainIDs, img.Size, img.Created = old.Manifest, old.ChainIDs, old.Size, old.Created
		}
		img.RepoDigests = old.RepoDigests
		img.Added = old.Added
		img.LastTagged = old.LastTagged
	} else {
		img.Added = now
	}
	if repoDigest != "" && !contains(img.RepoDigests, repoDigest) {
		img.RepoDigests = append(img.RepoDigests, repoDigest)
	}
	for _, t := range tags {
		if err := tx.SetTag(t, img.ID); err != nil {
			return nil, err
		}
		img.LastTagged = now
	}
	return img, tx.PutImage(img)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// ParsePlatform parses os/arch[/variant]; "" is the host's platform.
func ParsePlatform(s string) (v1.Platform, error) {
	if s == "" {
		p := v1.Platform{OS: "linux", Architecture: runtime.GOARCH}
		if p.Architecture == "arm64" {
			p.Variant = "v8"
		}
		return p, nil
	}
	parts := strings.Split(s, "/")
	if len(parts) == 1 {
		parts = []string{"linux", parts[0]}
	}
	if len(parts) > 3 || parts[0] == "" || parts[1] == "" {
		return v1.Platform{}, fmt.Errorf("invalid platform %q (want os/arch[/variant]): %w", s, ErrInvalidArgument)
	}
	p := v1.Platform{OS: strings.ToLower(parts[0]), Architecture: strings.ToLower(parts[1])}
	if len(parts) == 3 {
		p.Variant = strings.ToLower(parts[2])
	}
	return p, nil
}

// choosePlatform picks the index entry for want: same OS and architecture,
// the same variant if one is wanted (arm64's "v8" matches no variant).
func choosePlatform(ms []v1.Descriptor, want v1.Platform) (v1.Descriptor, error) {
	var fallback *v1.Descriptor
	for i, m := range ms {
		p := m.Platform
		if p == nil || p.OS != want.OS || p.Architecture != want.Architecture {
			continue
		}
		if p.Variant == want.Variant {
			return m, nil
		}
		if fallback == nil && (want.Variant == "" || (want.Architecture == "arm64" && p.Variant == "")) {
			fallback = &ms[i]
		}
	}
	if fallback != nil {
		return *fallback, nil
	}
	w := want.OS + "/" + want.Architecture
	if want.Variant != "" {
		w += "/" + want.Variant
	}
	return v1.Descriptor{}, fmt.Errorf("no matching manifest for %s in the manifest list entries: %w", w, ErrNotFound)
}

func authOption(a *api.RegistryAuth) remote.Option {
	if a == nil || (a.Username == "" && a.Password == "" && a.IdentityToken == "" && a.RegistryToken == "") {
		return remote.WithAuthFromKeychain(authn.DefaultKeychain)
	}
	return remote.WithAuth(authenticator(a))
}

// authenticator is the client's credentials, or anonymous.
func authenticator(a *api.RegistryAuth) authn.Authenticator {
	if a == nil || (a.Username == "" && a.Password == "" && a.IdentityToken == "" && a.RegistryToken == "") {
		return authn.Anonymous
	}
	return authn.FromConfig(authn.AuthConfig{
		Username: a.Username, Password: a.Password,
		IdentityToken: a.IdentityToken, RegistryToken: a.RegistryToken,
	})
}

// registryError turns a registry client error into one line with a
// category: 401/403 unauthorized, 404 not found.
func registryError(op string, ref reference.Ref, err error) error {
	var te *transport.Error
	if errors.As(err, &te) {
		switch {
		case te.StatusCode == http.StatusUnauthorized || hasCode(te, transport.UnauthorizedErrorCode):
			return fmt.Errorf("%s %s: authentication failed (check the credentials or run berth login %s): %s: %w",
				op, ref.Familiar(), ref.Registry, strings.TrimSpace(te.Error()), ErrUnauthorized)
		case te.StatusCode == http.StatusForbidden || hasCode(te, transport.DeniedErrorCode):
			return fmt.Errorf("%s %s: access denied: %s: %w", op, ref.Familiar(), strings.TrimSpace(te.Error()), ErrUnauthorized)
		case te.StatusCode == http.StatusNotFound || hasCode(te, transport.ManifestUnknownErrorCode) || hasCode(te, transport.NameUnknownErrorCode):
			what := "manifest for " + ref.Familiar()
			return fmt.Errorf("%s not found: %s: %w", what, strings.TrimSpace(te.Error()), ErrNotFound)
		}
	}
	return fmt.Errorf("%s %s: %w", op, ref.Familiar(), err)
}

func hasCode(te *transport.Error, code transport.ErrorCode) bool {
	for _, d := range te.Errors {
		if d.Code == code {
			return true
		}
	}
	return false
}
