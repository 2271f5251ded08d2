package system

import (
	"context"
	"encoding/json"
	"path/filepath"

	"github.com/berth-project/berth/supervisor/api"
	"github.com/berth-project/berth/supervisor/internal/du"
	"github.com/berth-project/berth/supervisor/internal/metadata"
)

// usage is one row of `system df`, with Docker's keys.
type usage struct {
	Type        string `json:"Type"`
	TotalCount  int    `json:"TotalCount"`
	Active      int    `json:"Active"`
	Size        int64  `json:"Size"`
	Reclaimable int64  `json:"Reclaimable"`
}

// DiskUsage implements api.TTRPCSystemService: the space images,
// containers and volumes take under berthd's root. Layers shared by
// images count once; an image is active while a container uses it, a
// volume while a container mounts it.
func (s *Service) DiskUsage(ctx context.Context, _ *api.DiskUsageRequest) (*api.DiskUsageResponse, error) {
	if s.o.DB == nil {
		return nil, errNoDB
	}
	var (
		imgs  []metadata.Image
		snaps []metadata.Snapshot
		ctrs  []metadata.Container
		vols  []metadata.Volume
	)
	if err := s.o.DB.View(func(tx *metadata.Tx) (err error) {
		if imgs, err = tx.Images(); err != nil {
			return err
		}
		if snaps, err = tx.Snapshots(); err != nil {
			return err
		}
		if ctrs, err = tx.Containers(); err != nil {
			return err
		}
		vols, err = tx.Volumes()
		return err
	}); err != nil {
		return nil, err
	}
	rows := []usage{
		imageUsage(imgs, snaps, ctrs),
		s.containerUsage(ctrs),
		s.volumeUsage(vols),
		{Type: "Build Cache"},
	}
	b, err := json.Marshal(rows)
	if err != nil {
		return nil, err
	}
	return &api.DiskUsageResponse{Json: b}, nil
}

func imageUsage(imgs []metadata.Image, snaps []metadata.Snapshot, ctrs []metadata.Container) usage {
	size := map[string]int64{}
	for _, sn := range snaps {
		size[sn.ChainID] = sn.Size
	}
	used := map[string]bool{}
	for _, c := range ctrs {
		used[c.ImageID] = true
	}
	u := usage{Type: "Images", TotalCount: len(imgs)}
	all, active := map[string]bool{}, map[string]bool{}
	for _, img := range imgs {
		if used[img.ID] {
			u.Active++
		}
		for _, ch := range img.ChainIDs {
			all[ch] = true
			if used[img.ID] {
				active[ch] = true
			}
		}
	}
	for ch := range all {
		u.Size += size[ch]
		if !active[ch] {
			u.Reclaimable += size[ch]
		}
	}
	return u
}

func (s *Service) containerUsage(ctrs []metadata.Container) usage {
	u := usage{Type: "Containers", TotalCount: len(ctrs)}
	for _, c := range ctrs {
		n := du.Size(filepath.Join(s.o.Root, "containers", c.ID, "diff"))
		u.Size += n
		switch c.State.Status {
		case "running", "paused", "restarting":
			u.Active++
		default:
			u.Reclaimable += n
		}
	}
	return u
}

func (s *Service) volumeUsage(vols []metadata.Volume) usage {
	u := usage{Type: "Local Volumes", TotalCount: len(vols)}
	for _, v := range vols {
		n := du.Size(filepath.Join(s.o.Root, "volumes", v.Name, "_data"))
		u.Size += n
		if len(v.Users) > 0 {
			u.Active++
		} else {
			u.Reclaimable += n
		}
	}
	return u
}
