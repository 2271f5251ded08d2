package containers

import (
	"context"
	"encoding/json"
	"fmt"

	taskapi "github.com/containerd/containerd/api/runtime/task/v2"
	rspec "github.com/opencontainers/runtime-spec/specs-go"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/berth-project/berth/specs"
	"github.com/berth-project/berth/supervisor/api"
	"github.com/berth-project/berth/supervisor/internal/metadata"
	"github.com/berth-project/berth/supervisor/internal/shimclient"
)

// resourcesURL is the type containerd gives an update's resources.
const resourcesURL = "types.containerd.io/opencontainers/runtime-spec/1/LinuxResources"

// Update changes a container's limits and restart policy, as `docker
// update` does: the limits apply at once to a running container (through
// its shim and runtime) and to its later runs. Nothing is recorded when
// the running container refuses them.
func (s *Service) Update(ctx context.Context, req *api.UpdateContainerRequest) (*api.UpdateContainerResponse, error) {
	c, err := s.get(req.GetId())
	if err != nil {
		return nil, err
	}
	c.op.Lock()
	defer c.op.Unlock()
	c.mu.Lock()
	cfg := proto.Clone(c.cfg).(*api.ContainerConfig)
	t := c.task
	c.mu.Unlock()
	h := cfg.Host
	var res rspec.LinuxResources
	limits := false
	if req.GetSetMemory() {
		if req.GetMemory() < specs.MinMemory {
			return nil, fmt.Errorf("Minimum memory limit allowed is 6MB: %w", ErrInvalidArgument)
		}
		h.Memory = req.GetMemory()
		sp := &rspec.Spec{}
		if err := specs.WithMemoryLimit(h.Memory)(sp); err != nil {
			return nil, invalid(err)
		}
		res.Memory = sp.Linux.Resources.Memory
		if !swapAccounted() {
			res.Memory.Swap = nil
		}
		limits = true
	}
	if req.GetSetNanoCpus() {
		sp := &rspec.Spec{}
		if err := specs.WithCPUs(float64(req.GetNanoCpus()) / 1e9)(sp); err != nil || req.GetNanoCpus() <= 0 {
			return nil, fmt.Errorf("cpus %v: want a number from 0.01 up: %w", float64(req.GetNanoCpus())/1e9, ErrInvalidArgument)
		}
		h.NanoCpus = req.GetNanoCpus()
		res.CPU = sp.Linux.Resources.CPU
		limits = true
	}
	if req.GetSetPidsLimit() {
		n := req.GetPidsLimit()
		if n < -1 {
			return nil, fmt.Errorf("pids limit %d: want a positive number, or 0 or -1 for none: %w", n, ErrInvalidArgument)
		}
		if n == 0 {
			n = -1
		}
		h.PidsLimit = n
		res.Pids = &rspec.LinuxPids{Limit: &n}
		limits = true
	}
	if rp := req.GetRestartPolicy(); rp != nil {
		if _, err := parseRestartPolicy(rp); err != nil {
			return nil, err
		}
		if h.AutoRemove && rp.Name != "" && rp.Name != "no" {
			return nil, fmt.Errorf("Restart policy cannot be updated because AutoRemove is enabled for the container: %w", ErrInvalidArgument)
		}
		h.RestartPolicy = rp
	}
	if t != nil && limits {
		raw, err := json.Marshal(&res)
		if err != nil {
			return nil, err
		}
		_, err = t.shim.Task.Update(shimclient.Context(ctx), &taskapi.UpdateTaskRequest{
			ID: c.id, Resources: &anypb.Any{TypeUrl: resourcesURL, Value: raw},
		})
		if err != nil {
			return nil, fmt.Errorf("Cannot update container %s: %s: %w", shortID(c.id), shimMessage(err), ErrFailedPrecondition)
		}
	}
	raw, err := protojson.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	if err := s.update(c, func(r *metadata.Container) { r.Config = raw }); err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.cfg = cfg
	c.mu.Unlock()
	s.emit(c, "update", nil)
	resp := &api.UpdateContainerResponse{}
	if req.GetSetMemory() && !swapAccounted() {
		resp.Warnings = append(resp.Warnings, "Your kernel does not support swap limit capabilities or the cgroup is not mounted. Memory limited without swap.")
	}
	return resp, nil
}
