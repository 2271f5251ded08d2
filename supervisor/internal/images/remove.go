package images

import (
	"context"
	"fmt"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/berth-project/berth/supervisor/api"
	"github.com/berth-project/berth/supervisor/internal/metadata"
)

// Remove untags and deletes images as `docker rmi` does: a tag is removed,
// and the image with it once no tag is left; an ID removes the image, which
// needs force when several repositories reference it.
func (s *Service) Remove(ctx context.Context, req *api.RemoveImageRequest) (*api.RemoveImageResponse, error) {
	resp := &api.RemoveImageResponse{}
	var deleteID string
	err := s.db.Update(func(tx *metadata.Tx) error {
		img, tag, err := s.resolve(tx, req.Name)
		if err != nil {
			return err
		}
		all, err := tagsOf(tx)
		if err != nil {
			return err
		}
		tags := all[img.ID]
		if s.InUse != nil && s.InUse(img.ID) && !req.Force && (tag == "" || len(tags) <= 1) {
			return fmt.Errorf("conflict: unable to remove %s (cannot be forced) - image is being used by a container: %w", req.Name, ErrConflict)
		}
		if tag != "" && len(tags) > 1 {
			resp.Untagged = append(resp.Untagged, familiar(tag))
			return tx.DeleteTag(tag)
		}
		if tag == "" && len(tags) > 1 && !req.Force {
			return fmt.Errorf("conflict: unable to delete %s (must be forced) - image is referenced in multiple repositories: %w", shortID(img.ID), ErrConflict)
		}
		for _, t := range tags {
			if err := tx.DeleteTag(t); err != nil {
				return err
			}
			resp.Untagged = append(resp.Untagged, familiar(t))
		}
		if s.InUse != nil && s.InUse(img.ID) {
			// Forced, but a container still runs on its layers: as
			// Docker does, the image loses its tags and stays.
			return nil
		}
		for _, d := range img.RepoDigests {
			resp.Untagged = append(resp.Untagged, familiar(d))
		}
		resp.Deleted = append(resp.Deleted, img.ID)
		deleteID = img.ID
		return tx.DeleteImage(img.ID)
	})
	if err != nil {
		return nil, err
	}
	if deleteID != "" {
		if _, err := s.collect(); err != nil {
			s.log.Warn("garbage collection", "err", err)
		}
	}
	return resp, nil
}

// Prune removes dangling images (all unused ones with all=true).
func (s *Service) Prune(ctx context.Context, req *api.PruneImagesRequest) (*api.PruneImagesResponse, error) {
	resp := &api.PruneImagesResponse{}
	err := s.db.Update(func(tx *metadata.Tx) error {
		imgs, err := tx.Images()
		if err != nil {
			return err
		}
		all, err := tagsOf(tx)
		if err != nil {
			return err
		}
		parents := parentsOf(imgs)
		for _, img := range imgs {
			if s.InUse != nil && s.InUse(img.ID) {
				continue
			}
			if len(all[img.ID]) > 0 && !req.All {
				continue
			}
			// An intermediate image is not dangling: it holds the build
			// cache of the images made on it.
			if parents[img.ID] && !req.All {
				continue
			}
			for _, t := range all[img.ID] {
				if err := tx.DeleteTag(t); err != nil {
					return err
				}
				resp.Deleted = append(resp.Deleted, "untagged: "+familiar(t))
			}
			if err := tx.DeleteImage(img.ID); err != nil {
				return err
			}
			resp.Deleted = append(resp.Deleted, "deleted: "+img.ID)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	resp.SpaceReclaimed, err = s.collect()
	return resp, err
}

// collect deletes the blobs and snapshots no image references, returning
// the bytes freed. Operations that add unreferenced data (pulls, loads)
// hold s.gc shared, so they never lose their data to a collection.
func (s *Service) collect() (int64, error) {
	s.gc.Lock()
	defer s.gc.Unlock()
	blobs := map[string]bool{}
	chains := map[string]bool{}
	err := s.db.View(func(tx *metadata.Tx) error {
		imgs, err := tx.Images()
		if err != nil {
			return err
		}
		for i := range imgs {
			img := &imgs[i]
			for _, c := range img.ChainIDs {
				chains[c] = true
			}
			blobs[img.Manifest.Digest] = true
			blobs[img.ID] = true
			m, _, _, err := s.imageParts(img)
			if err != nil {
				return fmt.Errorf("collect: %w", err)
			}
			for _, l := range m.Layers {
				blobs[l.Digest.String()] = true
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	var freed int64
	snaps, err := s.snaps.All()
	if err != nil {
		return 0, err
	}
	// Children before parents, so a parent is never gone under a child.
	for removed := true; removed; {
		removed = false
		parents := map[string]bool{}
		for _, sn := range snaps {
			parents[sn.Parent] = true
		}
		var keep []metadata.Snapshot
		for _, sn := range snaps {
			if chains[sn.ChainID] || parents[sn.ChainID] {
				keep = append(keep, sn)
				continue
			}
			if err := s.snaps.Remove(sn.ChainID); err != nil {
				return freed, err
			}
			freed += sn.Size
			removed = true
		}
		snaps = keep
	}
	err = s.content.Walk(func(d v1.Hash, size int64) error {
		if blobs[d.String()] || strings.HasPrefix(d.Hex, ".") {
			return nil
		}
		freed += size
		return s.content.Delete(d)
	})
	return freed, err
}
