package system

import (
	"context"
	"encoding/json"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/berth-project/berth/supervisor/api"
	"github.com/berth-project/berth/supervisor/internal/eventlog"
)

// Events implements api.TTRPCSystemService: the kept events from since
// on, then live ones, until `until` passes or the client goes.
func (s *Service) Events(ctx context.Context, req *api.EventsRequest, stream api.TTRPCSystem_EventsServer) error {
	f, err := eventlog.ParseFilter(req.GetFilters())
	if err != nil {
		return status.Error(codes.InvalidArgument, err.Error())
	}
	if s.o.Events == nil {
		return status.Error(codes.Unavailable, "this berthd keeps no events")
	}
	var since time.Time
	if n := req.GetSinceNano(); n > 0 {
		since = time.Unix(0, n)
	}
	until := req.GetUntilNano()
	past, ch, cancel := s.o.Events.Subscribe(since)
	defer cancel()
	// send reports whether the stream is over (an event after until).
	send := func(e eventlog.Event) (bool, error) {
		if until > 0 && e.TimeNano > until {
			return true, nil
		}
		if !f.Match(e) {
			return false, nil
		}
		b, err := json.Marshal(e)
		if err != nil {
			return false, err
		}
		return false, stream.Send(&api.EventMessage{Json: b})
	}
	for _, e := range past {
		if done, err := send(e); done || err != nil {
			return err
		}
	}
	var deadline <-chan time.Time
	if until > 0 {
		wait := time.Until(time.Unix(0, until))
		if wait <= 0 {
			return nil
		}
		t := time.NewTimer(wait)
		defer t.Stop()
		deadline = t.C
	}
	for {
		select {
		case e := <-ch:
			if done, err := send(e); done || err != nil {
				return err
			}
		case <-deadline:
			return nil
		case <-ctx.Done():
			return nil
		}
	}
}
