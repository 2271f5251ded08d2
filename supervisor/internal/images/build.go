package images

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/berth-project/berth/supervisor/api"
	"github.com/berth-project/berth/supervisor/internal/metadata"
)

// CommitConfig records a new image that has the parent's layers and the
// given config: the builder's steps that change only the config (ENV,
// CMD, LABEL...) make an image each, as Docker's do, without a layer.
// An empty parentID starts from nothing (FROM scratch). createdBy goes
// into the image history as an empty layer.
func (s *Service) CommitConfig(ctx context.Context, parentID string, c v1.Config, createdBy string) (string, error) {
	s.gc.RLock()
	defer s.gc.RUnlock()
	now := time.Now().UTC()
	var m *v1.Manifest
	var cfg *v1.ConfigFile
	if parentID == "" {
		m, cfg = emptyImage()
	} else {
		var parent *metadata.Image
		err := s.db.View(func(tx *metadata.Tx) error {
			var err error
			parent, err = tx.Image(parentID)
			return err
		})
		if err != nil {
			return "", fmt.Errorf("commit config: image %s: %w", shortID(parentID), ErrNotFound)
		}
		pm, pcfg, _, err := s.imageParts(parent)
		if err != nil {
			return "", err
		}
		m, cfg = pm.DeepCopy(), pcfg.DeepCopy()
	}
	cfg.Created = v1.Time{Time: now}
	cfg.Config = c
	cfg.History = append(cfg.History, v1.History{Created: v1.Time{Time: now}, CreatedBy: createdBy, EmptyLayer: true})
	cfgRaw, err := json.Marshal(cfg)
	if err != nil {
		return "", err
	}
	cfgType := types.OCIConfigJSON
	if m.MediaType == types.DockerManifestSchema2 {
		cfgType = types.DockerConfigJSON
	}
	m.Config = v1.Descriptor{MediaType: cfgType, Digest: sha256Of(cfgRaw), Size: int64(len(cfgRaw))}
	m.Annotations = nil
	raw, err := json.Marshal(m)
	if err != nil {
		return "", err
	}
	rec, err := s.ingest(ctx, ingestInput{manifest: raw, mediaType: string(m.MediaType), config: cfgRaw}, func(*api.Progress) {})
	if err != nil {
		return "", fmt.Errorf("commit config: %w", err)
	}
	return rec.ID, s.setParent(rec.ID, parentID)
}

// emptyImage is the manifest and config of an image with no layer (FROM
// scratch), for this host's platform.
func emptyImage() (*v1.Manifest, *v1.ConfigFile) {
	return &v1.Manifest{SchemaVersion: 2, MediaType: types.OCIManifestSchema1},
		&v1.ConfigFile{OS: "linux", Architecture: runtime.GOARCH, RootFS: v1.RootFS{Type: "layers"}}
}
