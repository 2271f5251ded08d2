package task

import (
	"context"

	"github.com/berth-project/berth/shim/internal/ttrpc"
	"github.com/berth-project/berth/shim/internal/wire"
)

// ServiceName is the task API's ttrpc service.
const ServiceName = "containerd.task.v2.Task"

// Register serves s on srv as containerd.task.v2.Task.
func (s *Service) Register(srv *ttrpc.Server) {
	srv.Register(ServiceName, map[string]ttrpc.Method{
		"State":      method(s.State),
		"Create":     method(s.Create),
		"Start":      method(s.Start),
		"Delete":     method(s.Delete),
		"Pids":       method(s.Pids),
		"Pause":      method(s.Pause),
		"Resume":     method(s.Resume),
		"Checkpoint": method(s.Checkpoint),
		"Kill":       method(s.Kill),
		"Exec":       method(s.Exec),
		"ResizePty":  method(s.ResizePty),
		"CloseIO":    method(s.CloseIO),
		"Update":     method(s.Update),
		"Wait":       method(s.Wait),
		"Stats":      method(s.Stats),
		"Connect":    method(s.Connect),
		"Shutdown":   method(s.Shutdown),
	})
}

// method adapts a typed handler: it decodes the request into a new Req.
func method[Req any, Resp wire.Message, P wire.Ptr[Req]](h func(context.Context, P) (Resp, error)) ttrpc.Method {
	return func(ctx context.Context, decode func(wire.Message) error) (wire.Message, error) {
		req := P(new(Req))
		if err := decode(req); err != nil {
			return nil, err
		}
		resp, err := h(ctx, req)
		if err != nil {
			return nil, err
		}
		return resp, nil
	}
}
