package server

import (
	"context"
	"errors"
	"time"

	"github.com/containerd/ttrpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/berth-project/berth/supervisor/api"
	"github.com/berth-project/berth/supervisor/internal/eventlog"
	"github.com/berth-project/berth/supervisor/internal/network"
)

// RegisterNetworks adds the Networks service.
// Network events go to ev (nil: none kept).
func RegisterNetworks(srv *ttrpc.Server, m *network.Manager, ev *eventlog.Log) {
	api.RegisterTTRPCNetworksService(srv, &networksServer{m: m, ev: ev})
}

type networksServer struct {
	m  *network.Manager
	ev *eventlog.Log
}

// emit records a network event about the network named ref.
func (s *networksServer) emit(action, ref string, attrs map[string]string) {
	if attrs == nil {
		attrs = map[string]string{}
	}
	id := ref
	if n, err := s.m.Inspect(context.Background(), ref); err == nil {
		id, attrs["name"] = n.ID, n.Name
	} else {
		attrs["name"] = ref
	}
	attrs["type"] = "bridge"
	s.ev.Emit("network", action, id, attrs)
}

// netStatus maps network errors to status codes.
func netStatus(err error) error {
	if err == nil {
		return nil
	}
	code := codes.Unknown
	switch {
	case errors.Is(err, network.ErrNotFound):
		code = codes.NotFound
	case errors.Is(err, network.ErrInvalidArgument):
		code = codes.InvalidArgument
	case errors.Is(err, network.ErrConflict):
		code = codes.AlreadyExists
	case errors.Is(err, network.ErrInUse), errors.Is(err, network.ErrNotAttached):
		code = codes.FailedPrecondition
	default:
		return toStatus(err)
	}
	return status.Error(code, err.Error())
}

func (s *networksServer) Create(ctx context.Context, req *api.CreateNetworkRequest) (*api.CreateNetworkResponse, error) {
	n, err := s.m.Create(ctx, network.CreateRequest{
		Name: req.Name, Driver: req.Driver, Subnet: req.Subnet, Gateway: req.Gateway,
		Internal: req.Internal, Labels: req.Labels,
	})
	if err != nil {
		return nil, netStatus(err)
	}
	s.ev.Emit("network", "create", n.ID, map[string]string{"name": n.Name, "type": "bridge"})
	return &api.CreateNetworkResponse{Id: n.ID}, nil
}

func (s *networksServer) List(ctx context.Context, req *api.ListNetworksRequest) (*api.ListNetworksResponse, error) {
	nets, err := s.m.List(ctx)
	if err == nil {
		nets, err = network.Filter(nets, req.Filters)
	}
	if err != nil {
		return nil, netStatus(err)
	}
	resp := &api.ListNetworksResponse{}
	for _, n := range nets {
		resp.Networks = append(resp.Networks, &api.NetworkSummary{
			Id: n.ID, Name: n.Name, Driver: n.Driver, Scope: "local", Subnet: n.Subnet, Gateway: n.Gateway,
			Created: n.Created.Format(time.RFC3339Nano), Labels: n.Labels, Internal: n.Internal,
			Containers: int32(len(n.Endpoints)),
		})
	}
	return resp, nil
}

func (s *networksServer) Inspect(ctx context.Context, req *api.InspectNetworksRequest) (*api.InspectNetworksResponse, error) {
	resp := &api.InspectNetworksResponse{}
	for _, name := range req.Names {
		n, err := s.m.Inspect(ctx, name)
		if err != nil {
			return nil, netStatus(err)
		}
		js, err := n.DockerJSON()
		if err != nil {
			return nil, netStatus(err)
		}
		resp.Json = append(resp.Json, js)
	}
	return resp, nil
}

func (s *networksServer) Remove(ctx context.Context, req *api.RemoveNetworkRequest) (*api.RemoveNetworkResponse, error) {
	id := req.Name
	if n, err := s.m.Inspect(ctx, req.Name); err == nil {
		id = n.ID
	}
	err := s.m.Remove(ctx, req.Name)
	if err == nil {
		s.ev.Emit("network", "destroy", id, map[string]string{"name": req.Name, "type": "bridge"})
	}
	return &api.RemoveNetworkResponse{}, netStatus(err)
}

func (s *networksServer) Prune(ctx context.Context, req *api.PruneNetworksRequest) (*api.PruneNetworksResponse, error) {
	deleted, err := s.m.Prune(ctx)
	for _, n := range deleted {
		s.ev.Emit("network", "destroy", n, map[string]string{"name": n, "type": "bridge"})
	}
	return &api.PruneNetworksResponse{Deleted: deleted}, netStatus(err)
}

func (s *networksServer) Connect(ctx context.Context, req *api.ConnectNetworkRequest) (*api.ConnectNetworkResponse, error) {
	err := s.m.Connect(ctx, req.Network, req.Container, req.Aliases)
	if err == nil {
		s.emit("connect", req.Network, map[string]string{"container": req.Container})
	}
	return &api.ConnectNetworkResponse{}, netStatus(err)
}

func (s *networksServer) Disconnect(ctx context.Context, req *api.DisconnectNetworkRequest) (*api.DisconnectNetworkResponse, error) {
	err := s.m.Disconnect(ctx, req.Network, req.Container, req.Force)
	if err == nil {
		s.emit("disconnect", req.Network, map[string]string{"container": req.Container})
	}
	return &api.DisconnectNetworkResponse{}, netStatus(err)
}
