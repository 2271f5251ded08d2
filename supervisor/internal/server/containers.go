package server

import (
	"context"
	"errors"
	"io"

	evttrpc "github.com/containerd/containerd/api/services/ttrpc/events/v1"
	"github.com/containerd/ttrpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/berth-project/berth/internal/chunkio"
	"github.com/berth-project/berth/supervisor/api"
	"github.com/berth-project/berth/supervisor/internal/containers"
)

// RegisterContainers adds the Containers service, and the events service
// that containers' shims forward their task events to.
func RegisterContainers(srv *ttrpc.Server, svc *containers.Service) {
	api.RegisterTTRPCContainersService(srv, &containersServer{svc: svc})
	evttrpc.RegisterTTRPCEventsService(srv, &eventsServer{svc: svc})
}

type eventsServer struct{ svc *containers.Service }

func (e *eventsServer) Forward(ctx context.Context, req *evttrpc.ForwardRequest) (*emptypb.Empty, error) {
	env := req.GetEnvelope()
	e.svc.Event(env.GetTopic(), env.GetEvent())
	return &emptypb.Empty{}, nil
}

type containersServer struct{ svc *containers.Service }

// ctrStatus maps container errors to status codes, then as toStatus does.
func ctrStatus(err error) error {
	if err == nil {
		return nil
	}
	code := codes.Code(0)
	switch {
	case errors.Is(err, containers.ErrNotFound):
		code = codes.NotFound
	case errors.Is(err, containers.ErrInvalidArgument):
		code = codes.InvalidArgument
	case errors.Is(err, containers.ErrConflict):
		code = codes.AlreadyExists
	case errors.Is(err, containers.ErrFailedPrecondition):
		code = codes.FailedPrecondition
	}
	if code == 0 {
		return toStatus(err)
	}
	return status.Error(code, trimCategory(err.Error()))
}

// trimCategory drops the category suffix (": not found") of a message.
func trimCategory(msg string) string {
	for _, e := range []error{containers.ErrNotFound, containers.ErrInvalidArgument, containers.ErrConflict, containers.ErrFailedPrecondition} {
		if s := ": " + e.Error(); len(msg) > len(s) && msg[len(msg)-len(s):] == s {
			return msg[:len(msg)-len(s)]
		}
	}
	return msg
}

func (s *containersServer) Create(ctx context.Context, req *api.CreateContainerRequest) (*api.CreateContainerResponse, error) {
	r, err := s.svc.Create(ctx, req)
	return r, ctrStatus(err)
}

func (s *containersServer) Start(ctx context.Context, req *api.StartContainerRequest) (*api.StartContainerResponse, error) {
	r, err := s.svc.Start(ctx, req.GetId())
	return r, ctrStatus(err)
}

func (s *containersServer) Stop(ctx context.Context, req *api.StopContainerRequest) (*api.StopContainerResponse, error) {
	return &api.StopContainerResponse{}, ctrStatus(s.svc.Stop(ctx, req))
}

func (s *containersServer) Restart(ctx context.Context, req *api.StopContainerRequest) (*api.StopContainerResponse, error) {
	return &api.StopContainerResponse{}, ctrStatus(s.svc.Restart(ctx, req))
}

func (s *containersServer) Kill(ctx context.Context, req *api.KillContainerRequest) (*api.KillContainerResponse, error) {
	return &api.KillContainerResponse{}, ctrStatus(s.svc.Kill(ctx, req))
}

func (s *containersServer) Remove(ctx context.Context, req *api.RemoveContainerRequest) (*api.RemoveContainerResponse, error) {
	return &api.RemoveContainerResponse{}, ctrStatus(s.svc.Remove(ctx, req))
}

func (s *containersServer) Pause(ctx context.Context, req *api.PauseContainerRequest) (*api.PauseContainerResponse, error) {
	return &api.PauseContainerResponse{}, ctrStatus(s.svc.Pause(ctx, req.GetId()))
}

func (s *containersServer) Unpause(ctx context.Context, req *api.PauseContainerRequest) (*api.PauseContainerResponse, error) {
	return &api.PauseContainerResponse{}, ctrStatus(s.svc.Unpause(ctx, req.GetId()))
}

func (s *containersServer) Wait(ctx context.Context, req *api.WaitContainerRequest) (*api.WaitContainerResponse, error) {
	r, err := s.svc.Wait(ctx, req)
	return r, ctrStatus(err)
}

func (s *containersServer) Rename(ctx context.Context, req *api.RenameContainerRequest) (*api.RenameContainerResponse, error) {
	return &api.RenameContainerResponse{}, ctrStatus(s.svc.Rename(ctx, req.GetId(), req.GetNewName()))
}

func (s *containersServer) Update(ctx context.Context, req *api.UpdateContainerRequest) (*api.UpdateContainerResponse, error) {
	r, err := s.svc.Update(ctx, req)
	return r, ctrStatus(err)
}

func (s *containersServer) List(ctx context.Context, req *api.ListContainersRequest) (*api.ListContainersResponse, error) {
	r, err := s.svc.List(ctx, req)
	return r, ctrStatus(err)
}

func (s *containersServer) Inspect(ctx context.Context, req *api.InspectContainersRequest) (*api.InspectContainersResponse, error) {
	r, err := s.svc.Inspect(ctx, req)
	return r, ctrStatus(err)
}

func (s *containersServer) Logs(ctx context.Context, req *api.LogsRequest, stream api.TTRPCContainers_LogsServer) error {
	return ctrStatus(s.svc.Logs(ctx, req, stream.Send))
}

func (s *containersServer) Attach(ctx context.Context, stream api.TTRPCContainers_AttachServer) error {
	first, err := stream.Recv()
	if err != nil {
		return status.Error(codes.InvalidArgument, "attach: no request")
	}
	return ctrStatus(s.svc.Attach(ctx, first, stream.Recv, stream))
}

func (s *containersServer) Exec(ctx context.Context, stream api.TTRPCContainers_ExecServer) error {
	first, err := stream.Recv()
	if err != nil {
		return status.Error(codes.InvalidArgument, "exec: no request")
	}
	recv := func() (*api.AttachInput, error) {
		m, err := stream.Recv()
		if err != nil {
			return nil, err
		}
		return &api.AttachInput{
			Data: m.GetData(), CloseStdin: m.GetCloseStdin(), Resize: m.GetResize(),
			Width: m.GetWidth(), Height: m.GetHeight(), Signal: m.GetSignal(),
		}, nil
	}
	return ctrStatus(s.svc.Exec(ctx, first, recv, stream))
}

func (s *containersServer) Top(ctx context.Context, req *api.TopRequest) (*api.TopResponse, error) {
	r, err := s.svc.Top(ctx, req)
	return r, ctrStatus(err)
}

func (s *containersServer) Stats(ctx context.Context, req *api.StatsRequest, stream api.TTRPCContainers_StatsServer) error {
	return ctrStatus(s.svc.Stats(ctx, req, stream.Send))
}

func (s *containersServer) StatPath(ctx context.Context, req *api.StatPathRequest) (*api.StatPathResponse, error) {
	r, err := s.svc.StatPath(ctx, req)
	return r, ctrStatus(err)
}

func (s *containersServer) CopyFrom(ctx context.Context, req *api.CopyFromRequest, stream api.TTRPCContainers_CopyFromServer) error {
	return ctrStatus(s.svc.CopyFrom(ctx, req, chunkWriter{stream.Send}))
}

func (s *containersServer) CopyTo(ctx context.Context, stream api.TTRPCContainers_CopyToServer) (*api.CopyToResponse, error) {
	first, err := stream.Recv()
	if err == io.EOF {
		return nil, status.Error(codes.InvalidArgument, "copy: no request")
	}
	if err != nil {
		return nil, err
	}
	r := &chunkio.Reader{Buf: first.GetData(), Recv: func() ([]byte, error) {
		m, err := stream.Recv()
		if err != nil {
			return nil, err
		}
		return m.GetData(), nil
	}}
	return &api.CopyToResponse{}, ctrStatus(s.svc.CopyTo(ctx, first, r))
}

func (s *containersServer) Diff(ctx context.Context, req *api.DiffRequest) (*api.DiffResponse, error) {
	r, err := s.svc.Diff(ctx, req)
	return r, ctrStatus(err)
}

func (s *containersServer) Commit(ctx context.Context, req *api.CommitRequest) (*api.CommitResponse, error) {
	r, err := s.svc.Commit(ctx, req)
	return r, ctrStatus(err)
}

func (s *containersServer) Export(ctx context.Context, req *api.ExportRequest, stream api.TTRPCContainers_ExportServer) error {
	return ctrStatus(s.svc.Export(ctx, req, chunkWriter{stream.Send}))
}

func (s *containersServer) Prune(ctx context.Context, req *api.PruneContainersRequest) (*api.PruneContainersResponse, error) {
	r, err := s.svc.Prune(ctx, req)
	return r, ctrStatus(err)
}
