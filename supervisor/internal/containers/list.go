package containers

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/berth-project/berth/internal/format"
	"github.com/berth-project/berth/supervisor/api"
	"github.com/berth-project/berth/supervisor/internal/images"
	"github.com/berth-project/berth/supervisor/internal/metadata"
)

// List returns the running containers (all with req.All), newest first,
// filtered as `docker ps -f` does.
func (s *Service) List(ctx context.Context, req *api.ListContainersRequest) (*api.ListContainersResponse, error) {
	f, err := s.parseFilters(req.GetFilters())
	if err != nil {
		return nil, err
	}
	all := req.GetAll() || len(f["status"]) > 0 || len(f["exited"]) > 0
	resp := &api.ListContainersResponse{}
	now := time.Now()
	for _, c := range s.all() {
		r := c.record()
		if !all && r.State.Status != "running" && r.State.Status != "paused" && r.State.Status != "restarting" {
			continue
		}
		if !f.match(c, &r) {
			continue
		}
		sum := summary(c, &r, now)
		s.addNetworks(ctx, sum, c, &r)
		resp.Containers = append(resp.Containers, sum)
	}
	return resp, nil
}

func summary(c *container, r *metadata.Container, now time.Time) *api.ContainerSummary {
	sum := &api.ContainerSummary{
		Id: r.ID, Name: r.Name, Image: r.Image, ImageId: r.ImageID,
		Command: strings.Join(append([]string{r.Path}, r.Args...), " "),
		Created: r.Created.Unix(), State: r.State.Status, Status: statusText(r.State, now),
		Labels: c.cfg.Labels, ExitCode: int32(r.State.ExitCode), RestartCount: int32(r.State.RestartCount),
	}
	if r.State.Status == "running" {
		if h := c.healthSnapshot(); h != nil {
			sum.Status += " (" + healthLabel(h.Status) + ")"
		}
	}
	if !r.State.StartedAt.IsZero() {
		sum.StartedAt = r.State.StartedAt.UnixNano()
	}
	if !r.State.FinishedAt.IsZero() {
		sum.FinishedAt = r.State.FinishedAt.UnixNano()
	}
	for _, m := range c.cfg.Host.Binds {
		sum.Mounts = append(sum.Mounts, m)
	}
	return sum
}

// addNetworks fills in the networks and the published ports: those of
// the attachment while the container runs, as `docker ps` shows them.
func (s *Service) addNetworks(ctx context.Context, sum *api.ContainerSummary, c *container, r *metadata.Container) {
	var att *NetworkAttachment
	if st := r.State.Status; st == "running" || st == "paused" {
		att, _ = s.net.Get(ctx, c.id)
	}
	if att == nil {
		if mode := c.cfg.Host.NetworkMode; mode != "" {
			sum.Networks = []string{mode}
		}
		return
	}
	if att.Mode != "bridge" {
		sum.Networks = append(sum.Networks, att.Mode)
	}
	for _, in := range att.Interfaces {
		sum.Networks = append(sum.Networks, in.Network)
	}
	for _, p := range att.Ports {
		sum.Ports = append(sum.Ports, p.String())
	}
}

// statusText is Docker's STATUS column: "Up 2 minutes", "Exited (0) 5
// seconds ago".
func statusText(st metadata.ContainerState, now time.Time) string {
	switch st.Status {
	case "running":
		return "Up " + format.Duration(now.Sub(st.StartedAt))
	case "paused":
		return "Up " + format.Duration(now.Sub(st.StartedAt)) + " (Paused)"
	case "restarting":
		return fmt.Sprintf("Restarting (%d) %s ago", st.ExitCode, format.Duration(now.Sub(st.FinishedAt)))
	case "exited":
		if st.FinishedAt.IsZero() {
			return "Created"
		}
		return fmt.Sprintf("Exited (%d) %s ago", st.ExitCode, format.Duration(now.Sub(st.FinishedAt)))
	case "removing":
		return "Removal In Progress"
	case "dead":
		return "Dead"
	}
	return "Created"
}

// filters are `ps -f` filters: key -> accepted values (any may match).
type filters map[string][]string

var filterKeys = map[string]bool{"id": true, "name": true, "status": true, "ancestor": true, "label": true, "exited": true, "health": true}

func (s *Service) parseFilters(in []string) (filters, error) {
	f := filters{}
	for _, kv := range in {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || !filterKeys[k] {
			return nil, fmt.Errorf("invalid filter '%s': %w", kv, ErrInvalidArgument)
		}
		switch k {
		case "status":
			switch v {
			case "created", "restarting", "running", "removing", "paused", "exited", "dead":
			default:
				return nil, fmt.Errorf("invalid filter 'status=%s': %w", v, ErrInvalidArgument)
			}
		case "health":
			switch v {
			case healthStarting, healthHealthy, healthUnhealthy, "none":
			default:
				return nil, fmt.Errorf("invalid filter 'health=%s': %w", v, ErrInvalidArgument)
			}
		case "exited":
			if _, err := strconv.Atoi(v); err != nil {
				return nil, fmt.Errorf("invalid filter 'exited=%s': %w", v, ErrInvalidArgument)
			}
		case "ancestor":
			// An image name resolves to its ID; an unknown one matches
			// nothing (Docker's behaviour), not an error.
			if img, err := s.images.ForContainer(v); err == nil {
				v = img.ID
			} else {
				v = "unknown:" + v
			}
		}
		f[k] = append(f[k], v)
	}
	return f, nil
}

func (f filters) match(c *container, r *metadata.Container) bool {
	any := func(key string, ok func(v string) bool) bool {
		vals := f[key]
		if len(vals) == 0 {
			return true
		}
		for _, v := range vals {
			if ok(v) {
				return true
			}
		}
		return false
	}
	return any("id", func(v string) bool { return strings.HasPrefix(r.ID, v) }) &&
		any("name", func(v string) bool { return strings.Contains(r.Name, strings.TrimPrefix(v, "/")) }) &&
		any("status", func(v string) bool { return r.State.Status == v }) &&
		any("exited", func(v string) bool {
			n, _ := strconv.Atoi(v)
			return r.State.Status == "exited" && r.State.ExitCode == n
		}) &&
		any("ancestor", func(v string) bool {
			return r.ImageID == v || images.Familiar(r.Image) == images.Familiar(v)
		}) &&
		any("label", func(v string) bool {
			k, val, hasVal := strings.Cut(v, "=")
			have, ok := c.cfg.Labels[k]
			return ok && (!hasVal || have == val)
		}) &&
		any("health", func(v string) bool {
			// As Docker: a stopped container's last health still counts;
			// "none" is a container without a health check.
			h := c.healthSnapshot()
			if h == nil {
				return v == "none"
			}
			return h.Status == v
		})
}

// healthLabel is how `docker ps` shows a health status.
func healthLabel(status string) string {
	if status == healthStarting {
		return "health: starting"
	}
	return status
}
