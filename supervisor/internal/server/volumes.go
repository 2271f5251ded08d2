package server

import (
	"context"
	"errors"
	"time"

	"github.com/containerd/ttrpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/berth-project/berth/specs"
	"github.com/berth-project/berth/supervisor/api"
	"github.com/berth-project/berth/supervisor/internal/eventlog"
	"github.com/berth-project/berth/supervisor/internal/volume"
)

// RegisterVolumes adds the Volumes service.
// Volume events go to ev (nil: none kept).
func RegisterVolumes(srv *ttrpc.Server, m *volume.Manager, ev *eventlog.Log) {
	api.RegisterTTRPCVolumesService(srv, &volumesServer{m: m, ev: ev})
}

type volumesServer struct {
	m  *volume.Manager
	ev *eventlog.Log
}

func (s *volumesServer) emit(action, name string) {
	s.ev.Emit("volume", action, name, map[string]string{"driver": volume.Driver})
}

// volStatus maps volume errors to status codes.
func volStatus(err error) error {
	if err == nil {
		return nil
	}
	code := codes.Unknown
	switch {
	case errors.Is(err, volume.ErrNotFound):
		code = codes.NotFound
	case errors.Is(err, volume.ErrInvalidArgument), errors.Is(err, specs.ErrInvalid):
		code = codes.InvalidArgument
	case errors.Is(err, volume.ErrInUse):
		code = codes.FailedPrecondition
	default:
		return toStatus(err)
	}
	return status.Error(code, err.Error())
}

func volumeSummary(v *volume.Volume) *api.VolumeSummary {
	return &api.VolumeSummary{
		Name: v.Name, Driver: volume.Driver, Mountpoint: v.Mountpoint,
		CreatedAt: v.CreatedAt.Format(time.RFC3339), Labels: v.Labels,
		Anonymous: v.Anonymous, Users: v.Users,
	}
}

func (s *volumesServer) Create(ctx context.Context, req *api.CreateVolumeRequest) (*api.CreateVolumeResponse, error) {
	v, err := s.m.Create(ctx, volume.CreateRequest{Name: req.Name, Driver: req.Driver, Labels: req.Labels, Options: req.Options})
	if err != nil {
		return nil, volStatus(err)
	}
	s.emit("create", v.Name)
	return &api.CreateVolumeResponse{Volume: volumeSummary(v)}, nil
}

func (s *volumesServer) List(ctx context.Context, req *api.ListVolumesRequest) (*api.ListVolumesResponse, error) {
	vols, err := s.m.List(ctx, req.Filters)
	if err != nil {
		return nil, volStatus(err)
	}
	resp := &api.ListVolumesResponse{}
	for _, v := range vols {
		resp.Volumes = append(resp.Volumes, volumeSummary(v))
	}
	return resp, nil
}

func (s *volumesServer) Inspect(ctx context.Context, req *api.InspectVolumesRequest) (*api.InspectVolumesResponse, error) {
	resp := &api.InspectVolumesResponse{}
	for _, n := range req.Names {
		v, err := s.m.Get(ctx, n)
		if err != nil {
			return nil, volStatus(err)
		}
		js, err := v.DockerJSON()
		if err != nil {
			return nil, volStatus(err)
		}
		resp.Json = append(resp.Json, js)
	}
	return resp, nil
}

func (s *volumesServer) Remove(ctx context.Context, req *api.RemoveVolumeRequest) (*api.RemoveVolumeResponse, error) {
	err := s.m.Remove(ctx, req.Name, req.Force)
	if err == nil {
		s.emit("destroy", req.Name)
	}
	return &api.RemoveVolumeResponse{}, volStatus(err)
}

func (s *volumesServer) Prune(ctx context.Context, req *api.PruneVolumesRequest) (*api.PruneVolumesResponse, error) {
	names, size, err := s.m.Prune(ctx, req.All, req.Filters)
	if err != nil {
		return nil, volStatus(err)
	}
	for _, n := range names {
		s.emit("destroy", n)
	}
	return &api.PruneVolumesResponse{Deleted: names, SpaceReclaimed: size}, nil
}
