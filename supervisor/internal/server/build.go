package server

import (
	"context"
	"errors"
	"io"
	"sync"

	"github.com/containerd/ttrpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/berth-project/berth/internal/chunkio"
	"github.com/berth-project/berth/supervisor/api"
	"github.com/berth-project/berth/supervisor/internal/build"
	"github.com/berth-project/berth/supervisor/internal/containers"
)

// RegisterBuild adds the Build service.
func RegisterBuild(srv *ttrpc.Server, svc *build.Service) {
	api.RegisterTTRPCBuildService(srv, &buildServer{svc: svc})
}

type buildServer struct{ svc *build.Service }

// outputWriter sends what is written as build output; RUN output comes
// from the container's output pumps, so sends are serialised.
type outputWriter struct {
	mu   sync.Mutex
	send func(*api.BuildOutput) error
}

func (w *outputWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.send(&api.BuildOutput{Output: append([]byte(nil), p...)}); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (s *buildServer) Build(ctx context.Context, stream api.TTRPCBuild_BuildServer) error {
	first, err := stream.Recv()
	if err != nil {
		return status.Error(codes.InvalidArgument, "build: no request")
	}
	ended := first.GetEnd()
	r := &chunkio.Reader{Buf: first.GetData(), Recv: func() ([]byte, error) {
		if ended {
			return nil, io.EOF
		}
		m, err := stream.Recv()
		if err != nil {
			return nil, err
		}
		ended = m.GetEnd()
		return m.GetData(), nil
	}}
	out := &outputWriter{send: stream.Send}
	id, err := s.svc.Build(ctx, first, r, out)
	out.mu.Lock()
	defer out.mu.Unlock()
	var se *build.StepError
	switch {
	case err == nil:
		return stream.Send(&api.BuildOutput{Done: true, ImageId: id})
	case errors.As(err, &se):
		return stream.Send(&api.BuildOutput{Done: true, Error: se.Msg})
	case errors.Is(err, build.ErrInvalidArgument):
		return stream.Send(&api.BuildOutput{Done: true, Error: trimInvalid(err.Error())})
	}
	return ctrStatus(err)
}

// trimInvalid drops the ": invalid argument" marker from a message.
func trimInvalid(msg string) string {
	for _, e := range []error{build.ErrInvalidArgument, containers.ErrInvalidArgument} {
		s := ": " + e.Error()
		if len(msg) > len(s) && msg[len(msg)-len(s):] == s {
			msg = msg[:len(msg)-len(s)]
		}
	}
	return msg
}
