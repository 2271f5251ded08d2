// Package images is berthd's image side: pull and push through
// go-containerregistry, the verified content store, snapshots, and the
// image records (tags, repo digests) in the metadata database. The API
// server calls it; it knows nothing of ttrpc beyond the api message types.
package images

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/berth-project/berth/supervisor/api"
	"github.com/berth-project/berth/supervisor/internal/content"
	"github.com/berth-project/berth/supervisor/internal/keyedlock"
	"github.com/berth-project/berth/supervisor/internal/metadata"
	"github.com/berth-project/berth/supervisor/internal/reference"
	"github.com/berth-project/berth/supervisor/internal/snapshot"
)

// Options configure a Service.
type Options struct {
	// Root is berthd's --root.
	Root string
	// Insecure lists registries (host[:port]) reached over plain HTTP.
	Insecure []string
	// MaxConcurrentDownloads bounds parallel layer downloads per pull.
	MaxConcurrentDownloads int
	Log                    *slog.Logger
}

// InUseFunc reports whether an image is used (by a container) and must not
// be removed without force. The container side sets it.
type InUseFunc func(imageID string) bool

// Service implements the image operations.
type Service struct {
	opts    Options
	db      *metadata.DB
	content *content.Store
	snaps   *snapshot.Store
	locks   keyedlock.Locks
	log     *slog.Logger
	tmp     string

	// gc serialises garbage collection against operations that create
	// blobs and snapshots not yet referenced by an image record: those
	// hold it shared.
	gc sync.RWMutex

	InUse InUseFunc
}

// New opens the stores under opts.Root.
func New(db *metadata.DB, opts Options) (*Service, error) {
	cs, err := content.Open(filepath.Join(opts.Root, "content"))
	if err != nil {
		return nil, err
	}
	ss, err := snapshot.Open(filepath.Join(opts.Root, "snapshots"), db)
	if err != nil {
		return nil, err
	}
	tmp := filepath.Join(opts.Root, "tmp")
	os.RemoveAll(tmp)
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		return nil, err
	}
	if opts.MaxConcurrentDownloads <= 0 {
		opts.MaxConcurrentDownloads = 4
	}
	log := opts.Log
	if log == nil {
		log = slog.Default()
	}
	return &Service{opts: opts, db: db, content: cs, snaps: ss, log: log, tmp: tmp}, nil
}

// Snapshots exposes the snapshot store to the container side.
func (s *Service) Snapshots() *snapshot.Store { return s.snaps }

// ProgressFunc receives progress events; it must be safe for concurrent use.
type ProgressFunc func(*api.Progress)

func chainIDs(diffIDs []v1.Hash) []string {
	out := make([]string, len(diffIDs))
	for i, d := range diffIDs {
		if i == 0 {
			out[i] = d.String()
			continue
		}
		out[i] = fmt.Sprintf("sha256:%x", sha256.Sum256([]byte(out[i-1]+" "+d.String())))
	}
	return out
}

func shortID(d string) string {
	d = strings.TrimPrefix(d, "sha256:")
	if len(d) > 12 {
		return d[:12]
	}
	return d
}

func (s *Service) insecure(r reference.Ref) bool {
	for _, h := range s.opts.Insecure {
		if h == r.Registry {
			return true
		}
	}
	return false
}

// resolve finds the image a user's name means: a tag ("busybox" =
// docker.io/library/busybox:latest), a repo digest, a full or short
// image ID. It returns the image and the tag it was found by (if any).
func (s *Service) resolve(tx *metadata.Tx, name string) (*metadata.Image, string, error) {
	if id := strings.TrimPrefix(name, "sha256:"); len(id) >= 4 && isHex(id) {
		img, err := s.byIDPrefix(tx, id)
		if err == nil {
			return img, "", nil
		}
		if strings.HasPrefix(name, "sha256:") || len(id) == 64 {
			return nil, "", err
		}
	}
	ref, err := reference.ParseAny(name)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %w", ErrInvalidArgument, err)
	}
	if ref.Digest != "" {
		imgs, err := tx.Images()
		if err != nil {
			return nil, "", err
		}
		want := ref.Name() + "@" + ref.Digest
		for i := range imgs {
			for _, rd := range imgs[i].RepoDigests {
				if rd == want {
					return &imgs[i], "", nil
				}
			}
		}
		return nil, "", fmt.Errorf("no such image: %s: %w", name, ErrNotFound)
	}
	if ref.Tag == "" {
		ref.Tag = "latest"
	}
	id, err := tx.Tag(ref.String())
	if err != nil {
		return nil, "", fmt.Errorf("no such image: %s: %w", name, ErrNotFound)
	}
	img, err := tx.Image(id)
	if err != nil {
		return nil, "", fmt.Errorf("no such image: %s: %w", name, ErrNotFound)
	}
	return img, ref.String(), nil
}

func (s *Service) byIDPrefix(tx *metadata.Tx, prefix string) (*metadata.Image, error) {
	imgs, err := tx.Images()
	if err != nil {
		return nil, err
	}
	var found *metadata.Image
	for i := range imgs {
		if strings.HasPrefix(strings.TrimPrefix(imgs[i].ID, "sha256:"), prefix) {
			if found != nil {
				return nil, fmt.Errorf("image ID prefix %s is ambiguous: %w", prefix, ErrInvalidArgument)
			}
			found = &imgs[i]
		}
	}
	if found == nil {
		return nil, fmt.Errorf("no such image: %s: %w", prefix, ErrNotFound)
	}
	return found, nil
}

func isHex(s string) bool {
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// tagsOf returns the tags of every image ID, sorted.
func tagsOf(tx *metadata.Tx) (map[string][]string, error) {
	tags, err := tx.Tags()
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	for ref, id := range tags {
		out[id] = append(out[id], ref)
	}
	for _, v := range out {
		sort.Strings(v)
	}
	return out, nil
}

// imageParts reads an image's manifest and config from the content store.
func (s *Service) imageParts(img *metadata.Image) (*v1.Manifest, *v1.ConfigFile, []byte, error) {
	md, err := v1.NewHash(img.Manifest.Digest)
	if err != nil {
		return nil, nil, nil, err
	}
	raw, err := s.content.ReadBlob(md)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("image %s: manifest: %w", shortID(img.ID), err)
	}
	m, err := v1.ParseManifest(strings.NewReader(string(raw)))
	if err != nil {
		return nil, nil, nil, fmt.Errorf("image %s: manifest: %w", shortID(img.ID), err)
	}
	cfgRaw, err := s.content.ReadBlob(m.Config.Digest)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("image %s: config: %w", shortID(img.ID), err)
	}
	cfg, err := v1.ParseConfigFile(strings.NewReader(string(cfgRaw)))
	if err != nil {
		return nil, nil, nil, fmt.Errorf("image %s: config: %w", shortID(img.ID), err)
	}
	return m, cfg, raw, nil
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}
