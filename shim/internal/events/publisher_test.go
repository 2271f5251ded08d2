package events

import (
	"context"
	"net"
	"path/filepath"
	"testing"
	"time"

	eventsapi "github.com/containerd/containerd/api/events"
	evttrpc "github.com/containerd/containerd/api/services/ttrpc/events/v1"
	official "github.com/containerd/ttrpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/berth-project/berth/shim/internal/api"
)

type sink struct {
	got chan *evttrpc.ForwardRequest
	ns  chan string
}

func (s *sink) Forward(ctx context.Context, r *evttrpc.ForwardRequest) (*emptypb.Empty, error) {
	ns, _ := official.GetMetadataValue(ctx, "containerd-namespace-ttrpc")
	s.ns <- ns
	s.got <- r
	return &emptypb.Empty{}, nil
}

// Events reach an official ttrpc events server in order, with the
// namespace metadata and the bare type URL containerd 1.6 decodes.
func TestPublishToOfficialServer(t *testing.T) {
	srv, err := official.NewServer()
	if err != nil {
		t.Fatal(err)
	}
	s := &sink{got: make(chan *evttrpc.ForwardRequest, 2), ns: make(chan string, 2)}
	evttrpc.RegisterTTRPCEventsService(srv, s)
	path := filepath.Join(t.TempDir(), "ttrpc")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(context.Background(), l)
	defer srv.Close()

	p := New(path, "ns1")
	at := time.Unix(1700000000, 42)
	p.Publish(TopicExit, &TaskExit{ContainerID: "c1", ID: "c1", Pid: 7, ExitStatus: 3, ExitedAt: api.NewTimestamp(at)})
	p.Publish(TopicOOM, &TaskOOM{ContainerID: "c1"})
	for i, want := range []struct {
		topic, url string
		event      proto.Message
		decoded    proto.Message
	}{
		{TopicExit, "containerd.events.TaskExit", &eventsapi.TaskExit{ContainerID: "c1", ID: "c1", Pid: 7, ExitStatus: 3, ExitedAt: nil}, &eventsapi.TaskExit{}},
		{TopicOOM, "containerd.events.TaskOOM", &eventsapi.TaskOOM{ContainerID: "c1"}, &eventsapi.TaskOOM{}},
	} {
		var r *evttrpc.ForwardRequest
		select {
		case r = <-s.got:
		case <-time.After(5 * time.Second):
			t.Fatalf("event %d not forwarded", i)
		}
		if ns := <-s.ns; ns != "ns1" {
			t.Errorf("event %d: namespace metadata %q", i, ns)
		}
		env := r.GetEnvelope()
		if env.GetTopic() != want.topic || env.GetNamespace() != "ns1" || env.GetEvent().GetTypeUrl() != want.url || env.GetTimestamp() == nil {
			t.Errorf("event %d: envelope %v", i, env)
		}
		if err := proto.Unmarshal(env.GetEvent().GetValue(), want.decoded); err != nil {
			t.Fatal(err)
		}
		if e, ok := want.decoded.(*eventsapi.TaskExit); ok {
			if !e.GetExitedAt().AsTime().Equal(at) {
				t.Errorf("ExitedAt = %v, want %v", e.GetExitedAt().AsTime(), at)
			}
			e.ExitedAt = nil
		}
		if !proto.Equal(want.decoded, want.event) {
			t.Errorf("event %d = %v, want %v", i, want.decoded, want.event)
		}
	}
	p.Close()
}
