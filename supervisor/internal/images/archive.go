package images

import (
	"archive/tar"
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/berth-project/berth/supervisor/api"
	"github.com/berth-project/berth/supervisor/internal/metadata"
	"github.com/berth-project/berth/supervisor/internal/reference"
	"github.com/berth-project/berth/supervisor/internal/unpack"
)

// dockerManifest is one entry of a Docker archive's manifest.json.
type dockerManifest struct {
	Config   string   `json:"Config"`
	RepoTags []string `json:"RepoTags"`
	Layers   []string `json:"Layers"`
}

type savedImage struct {
	img  *metadata.Image
	tags []string // full references
}

// Save writes images as a Docker archive (docker save's format: layers as
// uncompressed tars, manifest.json) or, with format "oci-archive", as a tar
// of an OCI image layout holding the blobs exactly as stored.
func (s *Service) Save(ctx context.Context, req *api.SaveRequest, w io.Writer) error {
	if len(req.Names) == 0 {
		return fmt.Errorf("no images to save: %w", ErrInvalidArgument)
	}
	var imgs []savedImage
	err := s.db.View(func(tx *metadata.Tx) error {
		seen := map[string]int{}
		for _, n := range req.Names {
			img, tag, err := s.resolve(tx, n)
			if err != nil {
				return err
			}
			i, ok := seen[img.ID]
			if !ok {
				i = len(imgs)
				seen[img.ID] = i
				imgs = append(imgs, savedImage{img: img})
			}
			if tag != "" && !contains(imgs[i].tags, tag) {
				imgs[i].tags = append(imgs[i].tags, tag)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.gc.RLock()
	defer s.gc.RUnlock()
	bw := bufio.NewWriterSize(w, 1<<20)
	tw := tar.NewWriter(bw)
	switch req.Format {
	case "", "docker-archive", "docker":
		err = s.saveDocker(ctx, tw, imgs)
	case "oci-archive", "oci":
		err = s.saveOCI(ctx, tw, imgs)
	default:
		err = fmt.Errorf("unknown archive format %q (docker-archive, oci-archive): %w", req.Format, ErrInvalidArgument)
	}
	if err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return bw.Flush()
}

func tarFile(tw *tar.Writer, name string, data []byte) error {
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg, Format: tar.FormatPAX}); err != nil {
		return err
	}
	_, err := tw.Write(data)
	return err
}

func (s *Service) saveDocker(ctx context.Context, tw *tar.Writer, imgs []savedImage) error {
	written := map[string]bool{}
	var manifest []dockerManifest
	for _, si := range imgs {
		m, cfg, _, err := s.imageParts(si.img)
		if err != nil {
			return err
		}
		cfgRaw, err := s.content.ReadBlob(m.Config.Digest)
		if err != nil {
			return err
		}
		dm := dockerManifest{Config: "blobs/sha256/" + m.Config.Digest.Hex, RepoTags: familiarAll(si.tags)}
		if !written[dm.Config] {
			if err := tarFile(tw, dm.Config, cfgRaw); err != nil {
				return err
			}
			written[dm.Config] = true
		}
		for i, l := range m.Layers {
			if err := ctx.Err(); err != nil {
				return err
			}
			name := "blobs/sha256/" + cfg.RootFS.DiffIDs[i].Hex
			dm.Layers = append(dm.Layers, name)
			if written[name] {
				continue
			}
			written[name] = true
			if err := s.writeUncompressed(tw, name, l, si.img.ChainIDs[i]); err != nil {
				return err
			}
		}
		manifest = append(manifest, dm)
	}
	b, _ := json.Marshal(manifest)
	return tarFile(tw, "manifest.json", b)
}

// writeUncompressed writes layer blob l, decompressed, as tar entry name.
func (s *Service) writeUncompressed(tw *tar.Writer, name string, l v1.Descriptor, chainID string) error {
	var size int64 = -1
	if snap := s.snaps.Get(chainID); snap != nil && snap.TarSize > 0 {
		size = snap.TarSize
	}
	open := func() (io.Reader, func(), error) {
		f, err := s.content.Open(l.Digest)
		if err != nil {
			return nil, nil, err
		}
		dec, closeDec, err := decompress(bufio.NewReaderSize(f, 256<<10))
		if err != nil {
			f.Close()
			return nil, nil, err
		}
		return dec, func() { closeDec(); f.Close() }, nil
	}
	if size < 0 {
		r, done, err := open()
		if err != nil {
			return err
		}
		size, err = io.Copy(io.Discard, r)
		done()
		if err != nil {
			return err
		}
	}
	r, done, err := open()
	if err != nil {
		return err
	}
	defer done()
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: size, Typeflag: tar.TypeReg, Format: tar.FormatPAX}); err != nil {
		return err
	}
	if _, err := io.CopyN(tw, r, size); err != nil {
		return fmt.Errorf("save layer %s: %w", shortID(l.Digest.String()), err)
	}
	return nil
}

func (s *Service) copyBlob(tw *tar.Writer, d v1.Hash, written map[string]bool) error {
	name := "blobs/sha256/" + d.Hex
	if written[name] {
		return nil
	}
	written[name] = true
	f, err := s.content.Open(d)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o444, Size: st.Size(), Typeflag: tar.TypeReg, Format: tar.FormatPAX}); err != nil {
		return err
	}
	_, err = io.Copy(tw, f)
	return err
}

func (s *Service) saveOCI(ctx context.Context, tw *tar.Writer, imgs []savedImage) error {
	if err := tarFile(tw, "oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`)); err != nil {
		return err
	}
	index := v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex}
	written := map[string]bool{}
	for _, si := range imgs {
		m, _, _, err := s.imageParts(si.img)
		if err != nil {
			return err
		}
		md, err := v1.NewHash(si.img.Manifest.Digest)
		if err != nil {
			return err
		}
		for _, d := range append([]v1.Hash{md, m.Config.Digest}, layerDigests(m)...) {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := s.copyBlob(tw, d, written); err != nil {
				return err
			}
		}
		desc := v1.Descriptor{MediaType: types.MediaType(si.img.Manifest.MediaType), Digest: md, Size: si.img.Manifest.Size}
		if len(si.tags) == 0 {
			index.Manifests = append(index.Manifests, desc)
		}
		for _, t := range si.tags {
			d := desc
			r, _ := reference.Parse(t)
			d.Annotations = map[string]string{
				"io.containerd.image.name":          t,
				"org.opencontainers.image.ref.name": r.Tag,
			}
			index.Manifests = append(index.Manifests, d)
		}
	}
	b, _ := json.Marshal(index)
	return tarFile(tw, "index.json", b)
}

func layerDigests(m *v1.Manifest) []v1.Hash {
	var out []v1.Hash
	for _, l := range m.Layers {
		out = append(out, l.Digest)
	}
	return out
}

// Load reads a Docker archive or an OCI archive (as docker save, skopeo
// copy docker-archive:/oci-archive: and podman save write them) from r.
func (s *Service) Load(ctx context.Context, r io.Reader, prog ProgressFunc) (*api.LoadResponse, error) {
	dir, err := os.MkdirTemp(s.tmp, "load-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	if err := extractArchive(ctx, r, dir); err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	s.gc.RLock()
	defer s.gc.RUnlock()
	if _, err := os.Stat(filepath.Join(dir, "manifest.json")); err == nil {
		return s.loadDocker(ctx, dir, prog)
	}
	if _, err := os.Stat(filepath.Join(dir, "index.json")); err == nil {
		return s.loadOCI(ctx, dir, prog)
	}
	return nil, fmt.Errorf("load: neither a Docker archive (manifest.json) nor an OCI layout (index.json): %w", ErrInvalidArgument)
}

// extractArchive unpacks the archive's regular files into dir, refusing
// names that climb out of it.
func extractArchive(ctx context.Context, r io.Reader, dir string) error {
	tr := tar.NewReader(bufio.NewReaderSize(r, 1<<20))
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read archive: %w (%w)", err, ErrInvalidArgument)
		}
		name, err := unpack.CleanName(hdr.Name)
		if err != nil {
			return fmt.Errorf("%w: %w", err, ErrInvalidArgument)
		}
		if name == "" || hdr.Typeflag == tar.TypeDir {
			continue
		}
		if hdr.Typeflag == tar.TypeSymlink || hdr.Typeflag == tar.TypeLink {
			// Old Docker archives link identical layer.tar files.
			target := hdr.Linkname
			if hdr.Typeflag == tar.TypeSymlink {
				target = path.Join(path.Dir(name), target)
			}
			t, err := unpack.CleanName(target)
			if err != nil || t == "" {
				return fmt.Errorf("archive link %s: %w", hdr.Name, ErrInvalidArgument)
			}
			p := filepath.Join(dir, name)
			os.MkdirAll(filepath.Dir(p), 0o700)
			if err := os.Link(filepath.Join(dir, t), p); err != nil {
				return fmt.Errorf("archive link %s: %w", hdr.Name, err)
			}
			continue
		}
		if hdr.Typeflag != tar.TypeReg && hdr.Typeflag != tar.TypeRegA {
			continue
		}
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			return err
		}
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return err
		}
		_, err = io.Copy(f, tr)
		f.Close()
		if err != nil {
			return fmt.Errorf("read archive: %w", err)
		}
	}
}

// safeJoin joins an archive-relative path to dir, refusing escapes.
func safeJoin(dir, rel string) (string, error) {
	n, err := unpack.CleanName(rel)
	if err != nil || n == "" {
		return "", fmt.Errorf("archive path %q: %w", rel, ErrInvalidArgument)
	}
	return filepath.Join(dir, n), nil
}

func fileOpener(p string) func(context.Context) (io.ReadCloser, error) {
	return func(context.Context) (io.ReadCloser, error) { return os.Open(p) }
}

func (s *Service) loadDocker(ctx context.Context, dir string, prog ProgressFunc) (*api.LoadResponse, error) {
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return nil, err
	}
	var entries []dockerManifest
	if err := json.Unmarshal(b, &entries); err != nil {
		return nil, fmt.Errorf("load: manifest.json: %w (%w)", err, ErrInvalidArgument)
	}
	resp := &api.LoadResponse{}
	for _, e := range entries {
		cfgPath, err := safeJoin(dir, e.Config)
		if err != nil {
			return nil, err
		}
		cfgRaw, err := os.ReadFile(cfgPath)
		if err != nil {
			return nil, fmt.Errorf("load: config: %w", err)
		}
		m := v1.Manifest{
			SchemaVersion: 2,
			MediaType:     types.OCIManifestSchema1,
			Config:        v1.Descriptor{MediaType: types.OCIConfigJSON, Digest: sha256Of(cfgRaw), Size: int64(len(cfgRaw))},
		}
		paths := map[v1.Hash]string{}
		for _, lp := range e.Layers {
			p, err := safeJoin(dir, lp)
			if err != nil {
				return nil, err
			}
			desc, err := describeLayerFile(p)
			if err != nil {
				return nil, fmt.Errorf("load: layer %s: %w", lp, err)
			}
			m.Layers = append(m.Layers, desc)
			paths[desc.Digest] = p
		}
		raw, err := json.Marshal(m)
		if err != nil {
			return nil, err
		}
		var tags []string
		for _, t := range e.RepoTags {
			r, err := reference.Parse(t)
			if err != nil {
				return nil, fmt.Errorf("load: %w (%w)", err, ErrInvalidArgument)
			}
			tags = append(tags, r.String())
		}
		rec, err := s.ingest(ctx, ingestInput{
			manifest: raw, mediaType: string(types.OCIManifestSchema1), config: cfgRaw, tags: tags,
			open: func(d v1.Hash) func(context.Context) (io.ReadCloser, error) { return fileOpener(paths[d]) },
		}, prog)
		if err != nil {
			return nil, fmt.Errorf("load: %w", err)
		}
		resp.Loaded = append(resp.Loaded, loadedLines(rec.ID, tags)...)
	}
	return resp, nil
}

func loadedLines(id string, tags []string) []string {
	if len(tags) == 0 {
		return []string{"Loaded image ID: " + id}
	}
	var out []string
	for _, t := range tags {
		out = append(out, "Loaded image: "+familiar(t))
	}
	return out
}

// describeLayerFile hashes a layer file and names its media type by its
// compression.
func describeLayerFile(p string) (v1.Descriptor, error) {
	f, err := os.Open(p)
	if err != nil {
		return v1.Descriptor{}, err
	}
	defer f.Close()
	magic := make([]byte, 4)
	n, _ := io.ReadFull(f, magic)
	mt := types.OCILayer
	switch {
	case n >= 2 && magic[0] == gzipMagic[0] && magic[1] == gzipMagic[1]:
		mt = types.OCILayer
	case n == 4 && string(magic) == string(zstdMagic):
		mt = types.OCILayerZStd
	default:
		mt = types.OCIUncompressedLayer
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return v1.Descriptor{}, err
	}
	h, size, err := v1.SHA256(f)
	if err != nil {
		return v1.Descriptor{}, err
	}
	return v1.Descriptor{MediaType: mt, Digest: h, Size: size}, nil
}

func (s *Service) loadOCI(ctx context.Context, dir string, prog ProgressFunc) (*api.LoadResponse, error) {
	b, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		return nil, err
	}
	idx, err := v1.ParseIndexManifest(strings.NewReader(string(b)))
	if err != nil {
		return nil, fmt.Errorf("load: index.json: %w (%w)", err, ErrInvalidArgument)
	}
	blob := func(d v1.Hash) (string, []byte, error) {
		if checkHash(d) != nil {
			return "", nil, fmt.Errorf("load: invalid digest %s: %w", d, ErrInvalidArgument)
		}
		p := filepath.Join(dir, "blobs", d.Algorithm, d.Hex)
		data, err := os.ReadFile(p)
		if err != nil {
			return "", nil, fmt.Errorf("load: blob %s: %w", d, err)
		}
		if got := sha256Of(data); got != d {
			return "", nil, fmt.Errorf("load: blob %s: digest mismatch (got %s)", d, got)
		}
		return p, data, nil
	}
	plat, _ := ParsePlatform("")
	resp := &api.LoadResponse{}
	for _, desc := range idx.Manifests {
		var tags []string
		if n := desc.Annotations["io.containerd.image.name"]; n != "" {
			tags = append(tags, n)
		} else if n := desc.Annotations["org.opencontainers.image.ref.name"]; strings.ContainsAny(n, ":/") {
			tags = append(tags, n)
		}
		for i, t := range tags {
			r, err := reference.Parse(t)
			if err != nil {
				return nil, fmt.Errorf("load: %w (%w)", err, ErrInvalidArgument)
			}
			tags[i] = r.String()
		}
		if desc.MediaType.IsIndex() {
			_, raw, err := blob(desc.Digest)
			if err != nil {
				return nil, err
			}
			inner, err := v1.ParseIndexManifest(strings.NewReader(string(raw)))
			if err != nil {
				return nil, err
			}
			if desc, err = choosePlatform(inner.Manifests, plat); err != nil {
				return nil, fmt.Errorf("load: %w", err)
			}
		}
		_, raw, err := blob(desc.Digest)
		if err != nil {
			return nil, err
		}
		m, err := v1.ParseManifest(strings.NewReader(string(raw)))
		if err != nil {
			return nil, fmt.Errorf("load: manifest: %w (%w)", err, ErrInvalidArgument)
		}
		_, cfgRaw, err := blob(m.Config.Digest)
		if err != nil {
			return nil, err
		}
		mt := string(desc.MediaType)
		if mt == "" {
			mt = string(m.MediaType)
		}
		rec, err := s.ingest(ctx, ingestInput{
			manifest: raw, mediaType: mt, config: cfgRaw, tags: tags,
			open: func(d v1.Hash) func(context.Context) (io.ReadCloser, error) {
				if checkHash(d) != nil {
					return func(context.Context) (io.ReadCloser, error) { return nil, errors.New("invalid digest") }
				}
				return fileOpener(filepath.Join(dir, "blobs", d.Algorithm, d.Hex))
			},
		}, prog)
		if err != nil {
			return nil, fmt.Errorf("load: %w", err)
		}
		resp.Loaded = append(resp.Loaded, loadedLines(rec.ID, tags)...)
	}
	return resp, nil
}

func checkHash(d v1.Hash) error {
	if d.Algorithm != "sha256" || len(d.Hex) != 64 || !isHex(d.Hex) {
		return fmt.Errorf("invalid digest %s", d)
	}
	return nil
}
