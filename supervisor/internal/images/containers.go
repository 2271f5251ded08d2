package images

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/gzip"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/berth-project/berth/supervisor/api"
	"github.com/berth-project/berth/supervisor/internal/metadata"
	"github.com/berth-project/berth/supervisor/internal/reference"
)

// What the container side needs from images: resolving a name to an image
// with its config and layer directories, and committing a container layer
// as a new image.

// ContainerImage is an image resolved for a container.
type ContainerImage struct {
	ID string
	// ChainID of the top layer ("" for an image without layers).
	ChainID string
	Config  ocispec.ImageConfig
	// Healthcheck, Shell and OnBuild are the image's HEALTHCHECK, SHELL
	// and ONBUILD triggers: Docker's config has them, the OCI image spec
	// does not.
	Healthcheck *v1.HealthConfig
	Shell       []string
	OnBuild     []string
}

// ForContainer resolves name as `run` does: a tag (docker.io/library and
// :latest implied), a repo digest, or an image ID or unique ID prefix.
func (s *Service) ForContainer(name string) (*ContainerImage, error) {
	var img *metadata.Image
	err := s.db.View(func(tx *metadata.Tx) error {
		var err error
		img, _, err = s.resolve(tx, name)
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.containerImage(img)
}

// ByID returns the image with exactly this ID.
func (s *Service) ByID(id string) (*ContainerImage, error) {
	var img *metadata.Image
	err := s.db.View(func(tx *metadata.Tx) error {
		var err error
		img, err = tx.Image(id)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("no such image: %s: %w", shortID(id), ErrNotFound)
	}
	return s.containerImage(img)
}

func (s *Service) containerImage(img *metadata.Image) (*ContainerImage, error) {
	_, cfg, _, err := s.imageParts(img)
	if err != nil {
		return nil, err
	}
	out := &ContainerImage{ID: img.ID}
	if n := len(img.ChainIDs); n > 0 {
		out.ChainID = img.ChainIDs[n-1]
	}
	// go-containerregistry's Config and the image spec's ImageConfig
	// share their JSON names.
	b, err := json.Marshal(cfg.Config)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &out.Config); err != nil {
		return nil, fmt.Errorf("image %s: config: %w", shortID(img.ID), err)
	}
	out.Healthcheck, out.Shell, out.OnBuild = cfg.Config.Healthcheck, cfg.Config.Shell, cfg.Config.OnBuild
	return out, nil
}

// Lowers returns the layer directories of chainID, nearest first: the
// lowerdir list of an overlay mount.
func (s *Service) Lowers(chainID string) ([]string, error) {
	if chainID == "" {
		return nil, nil
	}
	return s.snaps.Lowers(chainID)
}

// Familiar shortens a full reference as Docker prints it.
func Familiar(ref string) string { return familiar(ref) }

// CommitInput describes a container layer to commit.
type CommitInput struct {
	// ParentID is the container's image; "" starts a new image whose
	// only layer is Layer.
	ParentID string
	// Layer is an uncompressed tar of the container layer with OCI
	// whiteouts.
	Layer io.Reader
	// Change edits the new image's config (commit --change, the
	// container's command and environment).
	Change    func(*v1.Config) error
	Reference string
	Comment   string
	Author    string
	CreatedBy string
}

// Commit stores in.Layer gzip-compressed as a new layer on top of the
// parent image's, writes the config and manifest, and records (and tags)
// the image. It returns the new image's ID.
func (s *Service) Commit(ctx context.Context, in CommitInput) (string, error) {
	var tags []string
	if in.Reference != "" {
		r, err := reference.Parse(in.Reference)
		if err != nil {
			return "", fmt.Errorf("%w: %w", ErrInvalidArgument, err)
		}
		if r.Digest != "" {
			return "", fmt.Errorf("cannot tag with a digest: %w", ErrInvalidArgument)
		}
		tags = []string{r.String()}
	}
	s.gc.RLock()
	defer s.gc.RUnlock()
	pm, pcfg := emptyImage() // no parent: the layer starts an image (FROM scratch)
	if in.ParentID != "" {
		var parent *metadata.Image
		err := s.db.View(func(tx *metadata.Tx) error {
			var err error
			parent, err = tx.Image(in.ParentID)
			return err
		})
		if err != nil {
			return "", fmt.Errorf("commit: image %s: %w", shortID(in.ParentID), ErrNotFound)
		}
		if pm, pcfg, _, err = s.imageParts(parent); err != nil {
			return "", err
		}
	}

	w, err := s.content.NewWriter(v1.Hash{}, -1)
	if err != nil {
		return "", err
	}
	defer w.Close()
	zw, _ := gzip.NewWriterLevel(w, gzip.BestSpeed)
	diff := sha256.New()
	bw := bufio.NewWriterSize(io.MultiWriter(zw, diff), 1<<20)
	if _, err := io.Copy(bw, in.Layer); err != nil {
		return "", fmt.Errorf("store layer: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return "", err
	}
	if err := zw.Close(); err != nil {
		return "", err
	}
	size := w.Size()
	blob, err := w.Commit()
	if err != nil {
		return "", err
	}
	diffID := v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", diff.Sum(nil))}

	now := time.Now().UTC()
	cfg := pcfg.DeepCopy()
	cfg.Created = v1.Time{Time: now}
	if in.Author != "" {
		cfg.Author = in.Author
	}
	if in.Change != nil {
		if err := in.Change(&cfg.Config); err != nil {
			return "", fmt.Errorf("%w: %w", ErrInvalidArgument, err)
		}
	}
	cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, diffID)
	cfg.History = append(cfg.History, v1.History{Created: v1.Time{Time: now}, CreatedBy: in.CreatedBy, Comment: in.Comment, Author: in.Author})
	cfgRaw, err := json.Marshal(cfg)
	if err != nil {
		return "", err
	}

	m := pm.DeepCopy()
	layerType, cfgType := types.OCILayer, types.OCIConfigJSON
	if m.MediaType == types.DockerManifestSchema2 {
		layerType, cfgType = types.DockerLayer, types.DockerConfigJSON
	} else {
		m.MediaType = types.OCIManifestSchema1
	}
	m.Config = v1.Descriptor{MediaType: cfgType, Digest: sha256Of(cfgRaw), Size: int64(len(cfgRaw))}
	m.Layers = append(m.Layers, v1.Descriptor{MediaType: layerType, Digest: blob, Size: size})
	m.Annotations = nil
	raw, err := json.Marshal(m)
	if err != nil {
		return "", err
	}
	rec, err := s.ingest(ctx, ingestInput{manifest: raw, mediaType: string(m.MediaType), config: cfgRaw, tags: tags}, func(*api.Progress) {})
	if err != nil {
		return "", fmt.Errorf("record image: %w", err)
	}
	return rec.ID, s.setParent(rec.ID, in.ParentID)
}

// setParent records that image id was made on parent.
func (s *Service) setParent(id, parent string) error {
	if parent == "" || parent == id {
		return nil
	}
	return s.db.Update(func(tx *metadata.Tx) error {
		img, err := tx.Image(id)
		if err != nil {
			return err
		}
		if img.Parent == parent {
			return nil
		}
		img.Parent = parent
		return tx.PutImage(img)
	})
}
