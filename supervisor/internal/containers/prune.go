package containers

import (
	"context"
	"io/fs"
	"path/filepath"

	"github.com/berth-project/berth/supervisor/api"
)

// Prune removes every container that is not running (created, exited,
// dead), with `ps -f` filters; it returns their IDs and the bytes their
// container layers held.
func (s *Service) Prune(ctx context.Context, req *api.PruneContainersRequest) (*api.PruneContainersResponse, error) {
	f, err := s.parseFilters(req.GetFilters())
	if err != nil {
		return nil, err
	}
	resp := &api.PruneContainersResponse{}
	for _, c := range s.all() {
		r := c.record()
		switch r.State.Status {
		case "created", "exited", "dead":
		default:
			continue
		}
		if !f.match(c, &r) {
			continue
		}
		size := dirSize(c.paths.Upper())
		if err := s.remove(ctx, c, false); err != nil {
			continue
		}
		resp.Deleted = append(resp.Deleted, c.id)
		resp.SpaceReclaimed += size
	}
	return resp, nil
}

// dirSize adds up the sizes of the regular files under dir.
func dirSize(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}
