package images

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/gzip"

	"github.com/berth-project/berth/supervisor/api"
	"github.com/berth-project/berth/supervisor/internal/reference"
)

// Import makes a one-layer image from a rootfs tar (plain, gzip or zstd):
// the layer is stored gzip-compressed, a config and an OCI manifest are
// written, and the image is tagged as ref (if not empty).
func (s *Service) Import(ctx context.Context, ref, message string, r io.Reader) (string, error) {
	var tags []string
	if ref != "" {
		rr, err := reference.Parse(ref)
		if err != nil {
			return "", fmt.Errorf("%w: %w", ErrInvalidArgument, err)
		}
		if rr.Digest != "" {
			return "", fmt.Errorf("import: cannot tag with a digest: %w", ErrInvalidArgument)
		}
		tags = []string{rr.String()}
	}
	s.gc.RLock()
	defer s.gc.RUnlock()
	dec, closeDec, err := decompress(bufio.NewReaderSize(r, 1<<20))
	if err != nil {
		return "", fmt.Errorf("import: %w", err)
	}
	defer closeDec()
	w, err := s.content.NewWriter(v1.Hash{}, -1)
	if err != nil {
		return "", err
	}
	defer w.Close()
	zw, _ := gzip.NewWriterLevel(w, gzip.BestSpeed)
	diff := sha256.New()
	if _, err := io.Copy(io.MultiWriter(zw, diff), dec); err != nil {
		return "", fmt.Errorf("import: %w", err)
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
	cfg := v1.ConfigFile{
		Architecture: runtime.GOARCH,
		OS:           "linux",
		Created:      v1.Time{Time: now},
		RootFS:       v1.RootFS{Type: "layers", DiffIDs: []v1.Hash{diffID}},
		History:      []v1.History{{Created: v1.Time{Time: now}, CreatedBy: "berth import", Comment: message}},
	}
	cfgRaw, err := json.Marshal(cfg)
	if err != nil {
		return "", err
	}
	m := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		Config:        v1.Descriptor{MediaType: types.OCIConfigJSON, Digest: sha256Of(cfgRaw), Size: int64(len(cfgRaw))},
		Layers:        []v1.Descriptor{{MediaType: types.OCILayer, Digest: blob, Size: size}},
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return "", err
	}
	rec, err := s.ingest(ctx, ingestInput{manifest: raw, mediaType: string(types.OCIManifestSchema1), config: cfgRaw, tags: tags}, func(*api.Progress) {})
	if err != nil {
		return "", fmt.Errorf("import: %w", err)
	}
	return rec.ID, nil
}
