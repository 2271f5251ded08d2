// Package server is berthd's ttrpc edge: it adapts the api services to the
// internal packages and maps their error categories to status codes, once.
// Each area of berthd is one ttrpc service registered here (Images now;
// Containers, Volumes, Networks beside it).
package server

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"

	"github.com/containerd/ttrpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/berth-project/berth/internal/chunkio"
	"github.com/berth-project/berth/supervisor/api"
	"github.com/berth-project/berth/supervisor/internal/content"
	"github.com/berth-project/berth/supervisor/internal/eventlog"
	"github.com/berth-project/berth/supervisor/internal/images"
	"github.com/berth-project/berth/supervisor/internal/reference"
)

// chunkSize bounds one DataChunk; ttrpc messages are limited to 4 MiB.
const chunkSize = 1 << 20

// Register adds every service to srv.
// Image events go to ev (nil: none kept).
func Register(srv *ttrpc.Server, img *images.Service, ev *eventlog.Log) {
	api.RegisterTTRPCImagesService(srv, &imagesServer{svc: img, ev: ev})
}

type imagesServer struct {
	svc *images.Service
	ev  *eventlog.Log
}

// emit records an image event: id is the image ID or, for pull and push,
// the reference, as in Docker.
func (s *imagesServer) emit(action, id, name string) {
	attrs := map[string]string{}
	if name != "" {
		attrs["name"] = name
	}
	s.ev.Emit("image", action, id, attrs)
}

// toStatus maps an internal error to a ttrpc status, keeping its message.
func toStatus(err error) error {
	if err == nil {
		return nil
	}
	code := codes.Unknown
	switch {
	case errors.Is(err, context.Canceled):
		code = codes.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		code = codes.DeadlineExceeded
	case errors.Is(err, images.ErrNotFound), errors.Is(err, content.ErrNotFound):
		code = codes.NotFound
	case errors.Is(err, images.ErrInvalidArgument), errors.Is(err, reference.ErrInvalid):
		code = codes.InvalidArgument
	case errors.Is(err, images.ErrConflict):
		code = codes.FailedPrecondition
	case errors.Is(err, images.ErrUnauthorized):
		code = codes.Unauthenticated
	case errors.Is(err, content.ErrDigestMismatch), errors.Is(err, content.ErrSizeMismatch):
		code = codes.DataLoss
	}
	return status.Error(code, err.Error())
}

func progressSink(send func(*api.Progress) error) images.ProgressFunc {
	return images.LockedProgress(send)
}

func (s *imagesServer) Pull(ctx context.Context, req *api.PullRequest, stream api.TTRPCImages_PullServer) error {
	final, err := s.svc.Pull(ctx, req, progressSink(stream.Send))
	if err == nil {
		s.emit("pull", req.GetReference(), req.GetReference())
	}
	if err != nil {
		return toStatus(err)
	}
	return stream.Send(final)
}

func (s *imagesServer) Push(ctx context.Context, req *api.PushRequest, stream api.TTRPCImages_PushServer) error {
	final, err := s.svc.Push(ctx, req, progressSink(stream.Send))
	if err == nil {
		s.emit("push", req.GetReference(), req.GetReference())
	}
	if err != nil {
		return toStatus(err)
	}
	return stream.Send(final)
}

func (s *imagesServer) List(ctx context.Context, req *api.ListImagesRequest) (*api.ListImagesResponse, error) {
	r, err := s.svc.List(ctx, req)
	return r, toStatus(err)
}

func (s *imagesServer) Inspect(ctx context.Context, req *api.InspectImagesRequest) (*api.InspectImagesResponse, error) {
	r, err := s.svc.Inspect(ctx, req)
	return r, toStatus(err)
}

func (s *imagesServer) History(ctx context.Context, req *api.HistoryRequest) (*api.HistoryResponse, error) {
	r, err := s.svc.History(ctx, req)
	return r, toStatus(err)
}

func (s *imagesServer) Tag(ctx context.Context, req *api.TagRequest) (*api.TagResponse, error) {
	r, err := s.svc.Tag(ctx, req)
	if err == nil {
		s.emit("tag", s.imageID(ctx, req.GetTarget()), req.GetTarget())
	}
	return r, toStatus(err)
}

func (s *imagesServer) Remove(ctx context.Context, req *api.RemoveImageRequest) (*api.RemoveImageResponse, error) {
	r, err := s.svc.Remove(ctx, req)
	if err == nil {
		s.removed(r.GetUntagged(), r.GetDeleted())
	}
	return r, toStatus(err)
}

func (s *imagesServer) Prune(ctx context.Context, req *api.PruneImagesRequest) (*api.PruneImagesResponse, error) {
	r, err := s.svc.Prune(ctx, req)
	if err == nil {
		s.removed(nil, r.GetDeleted())
	}
	return r, toStatus(err)
}

func (s *imagesServer) Login(ctx context.Context, req *api.LoginRequest) (*api.LoginResponse, error) {
	r, err := s.svc.Login(ctx, req)
	return r, toStatus(err)
}

// chunkWriter sends what is written as DataChunks.
type chunkWriter struct {
	send func(*api.DataChunk) error
}

func (w chunkWriter) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		c := min(len(p), chunkSize)
		if err := w.send(&api.DataChunk{Data: p[:c]}); err != nil {
			return n, err
		}
		n += c
		p = p[c:]
	}
	return n, nil
}

func (s *imagesServer) Save(ctx context.Context, req *api.SaveRequest, stream api.TTRPCImages_SaveServer) error {
	return toStatus(s.svc.Save(ctx, req, chunkWriter{stream.Send}))
}

func (s *imagesServer) Load(ctx context.Context, stream api.TTRPCImages_LoadServer) (*api.LoadResponse, error) {
	r := &chunkio.Reader{Recv: func() ([]byte, error) {
		c, err := stream.Recv()
		if err != nil {
			return nil, err
		}
		return c.Data, nil
	}}
	resp, err := s.svc.Load(ctx, r, func(*api.Progress) {})
	if err == nil {
		for _, l := range resp.GetLoaded() {
			name := l[strings.LastIndex(l, ": ")+2:]
			s.emit("load", name, name)
		}
	}
	return resp, toStatus(err)
}

func (s *imagesServer) Import(ctx context.Context, stream api.TTRPCImages_ImportServer) (*api.ImportResponse, error) {
	first, err := stream.Recv()
	if err == io.EOF {
		return nil, status.Error(codes.InvalidArgument, "import: no data")
	}
	if err != nil {
		return nil, err
	}
	r := &chunkio.Reader{Buf: first.Data, Recv: func() ([]byte, error) {
		c, err := stream.Recv()
		if err != nil {
			return nil, err
		}
		return c.Data, nil
	}}
	id, err := s.svc.Import(ctx, first.Reference, first.Message, r)
	if err != nil {
		return nil, toStatus(err)
	}
	s.emit("import", id, first.Reference)
	return &api.ImportResponse{ImageId: id}, nil
}

// imageID is the ID of the image ref names, for events ("" if unknown:
// the ref is then used).
func (s *imagesServer) imageID(ctx context.Context, ref string) string {
	r, err := s.svc.Inspect(ctx, &api.InspectImagesRequest{Names: []string{ref}})
	if err == nil && len(r.GetJson()) == 1 {
		var v struct{ Id string }
		if json.Unmarshal(r.GetJson()[0], &v) == nil && v.Id != "" {
			return v.Id
		}
	}
	return ref
}

// removed records untag and delete events from a remove's report.
func (s *imagesServer) removed(untagged, deleted []string) {
	for _, u := range untagged {
		s.emit("untag", u, u)
	}
	for _, d := range deleted {
		d = strings.TrimPrefix(d, "deleted: ")
		if strings.HasPrefix(d, "untagged: ") {
			u := strings.TrimPrefix(d, "untagged: ")
			s.emit("untag", u, u)
			continue
		}
		s.emit("delete", d, "")
	}
}
