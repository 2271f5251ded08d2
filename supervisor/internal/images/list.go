package images

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/berth-project/berth/supervisor/api"
	"github.com/berth-project/berth/supervisor/internal/metadata"
	"github.com/berth-project/berth/supervisor/internal/reference"
)

func familiar(full string) string {
	r, err := reference.ParseAny(full)
	if err != nil {
		return full
	}
	return r.Familiar()
}

func familiarAll(full []string) []string {
	out := make([]string, 0, len(full))
	for _, f := range full {
		out = append(out, familiar(f))
	}
	return out
}

// List returns the images, newest first.
func (s *Service) List(ctx context.Context, req *api.ListImagesRequest) (*api.ListImagesResponse, error) {
	resp := &api.ListImagesResponse{}
	err := s.db.View(func(tx *metadata.Tx) error {
		imgs, err := tx.Images()
		if err != nil {
			return err
		}
		tags, err := tagsOf(tx)
		if err != nil {
			return err
		}
		parents := parentsOf(imgs)
		for _, img := range imgs {
			t := tags[img.ID]
			if req.Dangling && len(t) > 0 {
				continue
			}
			// An untagged image that others were built on is an
			// intermediate one, shown only with all (`images -a`), as
			// in Docker; dangling means untagged without children.
			if len(t) == 0 && parents[img.ID] && (!req.All || req.Dangling) {
				continue
			}
			resp.Images = append(resp.Images, &api.ImageSummary{
				Id: img.ID, RepoTags: familiarAll(t), RepoDigests: familiarAll(img.RepoDigests),
				Created: img.Created.Unix(), Size: img.Size,
			})
		}
		return nil
	})
	sort.SliceStable(resp.Images, func(i, j int) bool { return resp.Images[i].Created > resp.Images[j].Created })
	return resp, err
}

// inspectJSON is the shape of `docker image inspect`.
type inspectJSON struct {
	ID            string          `json:"Id"`
	RepoTags      []string        `json:"RepoTags"`
	RepoDigests   []string        `json:"RepoDigests"`
	Parent        string          `json:"Parent"`
	Comment       string          `json:"Comment"`
	Created       string          `json:"Created"`
	DockerVersion string          `json:"DockerVersion"`
	Author        string          `json:"Author"`
	Config        json.RawMessage `json:"Config"`
	Architecture  string          `json:"Architecture"`
	Variant       string          `json:"Variant,omitempty"`
	Os            string          `json:"Os"`
	Size          int64           `json:"Size"`
	GraphDriver   graphDriver     `json:"GraphDriver"`
	RootFS        rootFS          `json:"RootFS"`
	Metadata      struct {
		LastTagTime string `json:"LastTagTime,omitempty"`
	} `json:"Metadata"`
	Descriptor metadata.Descriptor `json:"Descriptor"`
}

type graphDriver struct {
	Name string            `json:"Name"`
	Data map[string]string `json:"Data"`
}

type rootFS struct {
	Type   string   `json:"Type"`
	Layers []string `json:"Layers"`
}

// Inspect returns Docker-shaped JSON per name.
func (s *Service) Inspect(ctx context.Context, req *api.InspectImagesRequest) (*api.InspectImagesResponse, error) {
	resp := &api.InspectImagesResponse{}
	for _, name := range req.Names {
		var img *metadata.Image
		var tags []string
		err := s.db.View(func(tx *metadata.Tx) error {
			var err error
			if img, _, err = s.resolve(tx, name); err != nil {
				return err
			}
			all, err := tagsOf(tx)
			tags = all[img.ID]
			return err
		})
		if err != nil {
			return nil, err
		}
		_, cfg, _, err := s.imageParts(img)
		if err != nil {
			return nil, err
		}
		out := inspectJSON{
			ID: img.ID, RepoTags: familiarAll(tags), RepoDigests: familiarAll(img.RepoDigests), Parent: img.Parent,
			Comment: "", Created: cfg.Created.Time.UTC().Format(time.RFC3339Nano),
			DockerVersion: cfg.DockerVersion, Author: cfg.Author,
			Config: mustJSON(cfg.Config), Architecture: cfg.Architecture, Variant: cfg.Variant,
			Os: cfg.OS, Size: img.Size, Descriptor: img.Manifest,
			GraphDriver: graphDriver{Name: "overlay", Data: map[string]string{}},
			RootFS:      rootFS{Type: "layers"},
		}
		for _, h := range cfg.History {
			if h.Comment != "" {
				out.Comment = h.Comment
			}
		}
		for _, d := range cfg.RootFS.DiffIDs {
			out.RootFS.Layers = append(out.RootFS.Layers, d.String())
		}
		if n := len(img.ChainIDs); n > 0 {
			if lowers, err := s.snaps.Lowers(img.ChainIDs[n-1]); err == nil {
				out.GraphDriver.Data["LowerDir"] = strings.Join(lowers, ":")
			}
		}
		if !img.LastTagged.IsZero() {
			out.Metadata.LastTagTime = img.LastTagged.Format(time.RFC3339Nano)
		}
		b, err := json.MarshalIndent(out, "", "    ")
		if err != nil {
			return nil, err
		}
		resp.Json = append(resp.Json, b)
	}
	return resp, nil
}

// History returns the image's history, newest first, as `docker history`.
func (s *Service) History(ctx context.Context, req *api.HistoryRequest) (*api.HistoryResponse, error) {
	var img *metadata.Image
	err := s.db.View(func(tx *metadata.Tx) error {
		var err error
		img, _, err = s.resolve(tx, req.Name)
		return err
	})
	if err != nil {
		return nil, err
	}
	_, cfg, _, err := s.imageParts(img)
	if err != nil {
		return nil, err
	}
	var sizes []int64
	for _, c := range img.ChainIDs {
		var n int64
		if snap := s.snaps.Get(c); snap != nil {
			n = snap.Size
		}
		sizes = append(sizes, n)
	}
	resp := &api.HistoryResponse{}
	layer := 0
	for _, h := range cfg.History {
		e := &api.HistoryEntry{Id: "<missing>", Created: h.Created.Unix(), CreatedBy: h.CreatedBy, Comment: h.Comment, EmptyLayer: h.EmptyLayer}
		if !h.EmptyLayer {
			if layer < len(sizes) {
				e.Size = sizes[layer]
			}
			layer++
		}
		resp.Entries = append(resp.Entries, e)
	}
	// Images without history (rare) still have layers worth listing.
	if len(cfg.History) == 0 {
		for i := range img.ChainIDs {
			resp.Entries = append(resp.Entries, &api.HistoryEntry{Id: "<missing>", Created: img.Created.Unix(), Size: sizes[i]})
		}
	}
	for i, j := 0, len(resp.Entries)-1; i < j; i, j = i+1, j-1 {
		resp.Entries[i], resp.Entries[j] = resp.Entries[j], resp.Entries[i]
	}
	if len(resp.Entries) > 0 {
		resp.Entries[0].Id = img.ID
	}
	return resp, nil
}

// Tag points target at the image source names.
func (s *Service) Tag(ctx context.Context, req *api.TagRequest) (*api.TagResponse, error) {
	ref, err := reference.Parse(req.Target)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidArgument, err)
	}
	if ref.Digest != "" {
		return nil, fmt.Errorf("refusing to create a tag with a digest reference: %w", ErrInvalidArgument)
	}
	err = s.db.Update(func(tx *metadata.Tx) error {
		img, _, err := s.resolve(tx, req.Source)
		if err != nil {
			return err
		}
		_, err = recordImage(tx, img, "", []string{ref.String()})
		return err
	})
	return &api.TagResponse{}, err
}

// parentsOf is the set of images some other image was made on.
func parentsOf(imgs []metadata.Image) map[string]bool {
	p := map[string]bool{}
	for _, img := range imgs {
		if img.Parent != "" {
			p[img.Parent] = true
		}
	}
	return p
}
