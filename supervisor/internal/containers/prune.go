package containers

import (
	"context"

	"github.com/berth-project/berth/supervisor/api"
	"github.com/berth-project/berth/supervisor/internal/du"
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
		size := du.Size(c.paths.Upper())
		if err := s.remove(ctx, c, false); err != nil {
			continue
		}
		resp.Deleted = append(resp.Deleted, c.id)
		resp.SpaceReclaimed += size
	}
	return resp, nil
}
