package images

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/berth-project/berth/supervisor/api"
	"github.com/berth-project/berth/supervisor/internal/metadata"
	"github.com/berth-project/berth/supervisor/internal/reference"
)

// Push uploads the image named req.Reference from the content store. The
// manifest goes up byte for byte, so its digest is the one pulled; blobs the
// registry has are skipped (go-containerregistry checks with HEAD first).
func (s *Service) Push(ctx context.Context, req *api.PushRequest, prog ProgressFunc) (*api.Progress, error) {
	ref, err := reference.Parse(req.Reference)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidArgument, err)
	}
	if ref.Digest != "" {
		return nil, fmt.Errorf("push by digest is not supported, push a tag: %w", ErrInvalidArgument)
	}
	var img *metadata.Image
	err = s.db.View(func(tx *metadata.Tx) error {
		var err error
		img, _, err = s.resolve(tx, ref.String())
		if err != nil {
			return fmt.Errorf("an image does not exist locally with the tag: %s: %w", ref.Familiar(), ErrNotFound)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	// Keep the blobs from a concurrent rmi's collection while pushing.
	s.gc.RLock()
	defer s.gc.RUnlock()
	m, _, raw, err := s.imageParts(img)
	if err != nil {
		return nil, err
	}
	cfgRaw, err := s.content.ReadBlob(m.Config.Digest)
	if err != nil {
		return nil, err
	}
	prog(&api.Progress{Status: fmt.Sprintf("The push refers to repository [%s]", ref.FamiliarName())})
	core := &storeImage{s: s, raw: raw, mt: types.MediaType(img.Manifest.MediaType), cfg: cfgRaw, m: m, prog: prog, opened: map[string]bool{}}
	for i := len(m.Layers) - 1; i >= 0; i-- {
		prog(&api.Progress{Id: shortID(m.Layers[i].Digest.String()), Status: "Preparing"})
	}
	vimg, err := partial.CompressedToImage(core)
	if err != nil {
		return nil, err
	}
	rref, err := ref.Remote(req.Insecure || s.insecure(ref))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidArgument, err)
	}
	if err := remote.Write(rref, vimg, remote.WithContext(ctx), authOption(req.Auth), remote.WithUserAgent("berth"), remote.WithJobs(4)); err != nil {
		return nil, registryError("push", ref, err)
	}
	for i := len(m.Layers) - 1; i >= 0; i-- {
		d := m.Layers[i].Digest.String()
		core.mu.Lock()
		opened := core.opened[d]
		core.mu.Unlock()
		if opened {
			prog(&api.Progress{Id: shortID(d), Status: "Pushed"})
		} else {
			prog(&api.Progress{Id: shortID(d), Status: "Layer already exists"})
		}
	}
	dg := sha256Of(raw)
	err = s.db.Update(func(tx *metadata.Tx) error {
		cur, err := tx.Image(img.ID)
		if err != nil {
			return err
		}
		_, err = recordImage(tx, cur, ref.Name()+"@"+dg.String(), nil)
		return err
	})
	if err != nil {
		return nil, err
	}
	prog(&api.Progress{Status: fmt.Sprintf("%s: digest: %s size: %d", ref.Tag, dg, len(raw))})
	return &api.Progress{Done: true, ImageId: img.ID, Digest: dg.String(), Size: int64(len(raw))}, nil
}

// storeImage is an image in the content store, as go-containerregistry's
// partial.CompressedImageCore.
type storeImage struct {
	s    *Service
	raw  []byte
	mt   types.MediaType
	cfg  []byte
	m    *v1.Manifest
	prog ProgressFunc

	mu     sync.Mutex
	opened map[string]bool
}

func (i *storeImage) RawConfigFile() ([]byte, error)      { return i.cfg, nil }
func (i *storeImage) MediaType() (types.MediaType, error) { return i.mt, nil }
func (i *storeImage) RawManifest() ([]byte, error)        { return i.raw, nil }
func (i *storeImage) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	if h == i.m.Config.Digest {
		return &storeLayer{img: i, desc: i.m.Config, config: true}, nil
	}
	for _, l := range i.m.Layers {
		if l.Digest == h {
			return &storeLayer{img: i, desc: l}, nil
		}
	}
	return nil, fmt.Errorf("blob %s is not part of the image: %w", h, ErrNotFound)
}

type storeLayer struct {
	img    *storeImage
	desc   v1.Descriptor
	config bool
}

func (l *storeLayer) Digest() (v1.Hash, error)            { return l.desc.Digest, nil }
func (l *storeLayer) Size() (int64, error)                { return l.desc.Size, nil }
func (l *storeLayer) MediaType() (types.MediaType, error) { return l.desc.MediaType, nil }

// Compressed is called only for blobs the registry lacks.
func (l *storeLayer) Compressed() (io.ReadCloser, error) {
	f, err := l.img.s.content.Open(l.desc.Digest)
	if err != nil {
		return nil, err
	}
	if l.config {
		return f, nil
	}
	d := l.desc.Digest.String()
	l.img.mu.Lock()
	l.img.opened[d] = true
	l.img.mu.Unlock()
	cr := &countingReader{r: f, id: shortID(d), total: l.desc.Size, prog: func(p *api.Progress) {
		p.Status = strings.Replace(p.Status, "Downloading", "Pushing", 1)
		l.img.prog(p)
	}}
	return struct {
		io.Reader
		io.Closer
	}{cr, f}, nil
}
