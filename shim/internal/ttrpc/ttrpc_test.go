package ttrpc_test

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"testing"
	"time"

	evttrpc "github.com/containerd/containerd/api/services/ttrpc/events/v1"
	official "github.com/containerd/ttrpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/berth-project/berth/shim/internal/api"
	"github.com/berth-project/berth/shim/internal/api/apitest"
	"github.com/berth-project/berth/shim/internal/ttrpc"
	"github.com/berth-project/berth/shim/internal/wire"
)

func TestProtocolMessagesMatchOfficial(t *testing.T) {
	apitest.Check(t, new(ttrpc.Request), new(official.Request))
	apitest.Check(t, new(ttrpc.Response), new(official.Response))
	apitest.Check(t, new(ttrpc.KeyValue), new(official.KeyValue))
}

func listen(t *testing.T) (net.Listener, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "s")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	return l, path
}

// echoServer serves "test.Echo": Echo returns the request's Any, Block
// waits for release (or its context), Fail returns NotFound.
func echoServer(t *testing.T, release chan struct{}) (*ttrpc.Server, string) {
	srv := ttrpc.NewServer(ttrpc.Config{SameUser: true})
	srv.Register("test.Echo", map[string]ttrpc.Method{
		"Echo": func(ctx context.Context, decode func(wire.Message) error) (wire.Message, error) {
			var a api.Any
			if err := decode(&a); err != nil {
				return nil, err
			}
			return &a, nil
		},
		"Block": func(ctx context.Context, decode func(wire.Message) error) (wire.Message, error) {
			select {
			case <-release:
				return &api.Empty{}, nil
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		},
		"Fail": func(ctx context.Context, decode func(wire.Message) error) (wire.Message, error) {
			return nil, ttrpc.Errorf(ttrpc.NotFound, "no such thing")
		},
	})
	l, path := listen(t)
	go srv.Serve(l)
	t.Cleanup(func() { srv.Shutdown(context.Background()) })
	return srv, path
}

func dial(t *testing.T, path string) *ttrpc.Client {
	t.Helper()
	conn, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	c := ttrpc.NewClient(conn)
	t.Cleanup(func() { c.Close() })
	return c
}

func TestCallsAndCodes(t *testing.T) {
	_, path := echoServer(t, make(chan struct{}))
	c := dial(t, path)
	ctx := context.Background()
	var got api.Any
	if err := c.Call(ctx, "test.Echo", "Echo", &api.Any{TypeUrl: "u", Value: []byte("v")}, &got); err != nil {
		t.Fatal(err)
	}
	if got.TypeUrl != "u" || string(got.Value) != "v" {
		t.Errorf("Echo = %+v", got)
	}
	for _, tc := range []struct {
		service, method string
		want            ttrpc.Code
	}{
		{"test.Echo", "Fail", ttrpc.NotFound},
		{"test.Echo", "Nope", ttrpc.Unimplemented},
		{"test.Nope", "Echo", ttrpc.Unimplemented},
	} {
		err := c.Call(ctx, tc.service, tc.method, &api.Empty{}, &api.Empty{})
		if got := ttrpc.CodeOf(err); got != tc.want {
			t.Errorf("%s/%s: code %v (%v), want %v", tc.service, tc.method, got, err, tc.want)
		}
	}
}

// A blocked call must not hold up others on the same connection or on
// another one, and its timeout reaches the server.
func TestConcurrentCallsAndTimeout(t *testing.T) {
	release := make(chan struct{})
	_, path := echoServer(t, release)
	blocked := make(chan error, 1)
	go func() {
		blocked <- dial(t, path).Call(context.Background(), "test.Echo", "Block", &api.Empty{}, &api.Empty{})
	}()
	c := dial(t, path)
	if err := c.Call(context.Background(), "test.Echo", "Echo", &api.Any{}, &api.Any{}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := c.Call(ctx, "test.Echo", "Block", &api.Empty{}, &api.Empty{}); !errors.Is(err, context.DeadlineExceeded) && ttrpc.CodeOf(err) != ttrpc.DeadlineExceeded {
		t.Errorf("Block with timeout = %v, want deadline exceeded", err)
	}
	close(release)
	if err := <-blocked; err != nil {
		t.Errorf("released Block = %v", err)
	}
}

// Shutdown waits for the call in flight, whose reply still arrives.
func TestShutdownWaitsForCalls(t *testing.T) {
	release := make(chan struct{})
	srv, path := echoServer(t, release)
	c := dial(t, path)
	done := make(chan error, 1)
	go func() { done <- c.Call(context.Background(), "test.Echo", "Block", &api.Empty{}, &api.Empty{}) }()
	time.Sleep(50 * time.Millisecond)
	shut := make(chan error, 1)
	go func() { shut <- srv.Shutdown(context.Background()) }()
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned %v with a call in flight", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	if err := <-done; err != nil {
		t.Errorf("call across Shutdown = %v", err)
	}
	if err := <-shut; err != nil {
		t.Errorf("Shutdown = %v", err)
	}
	if _, err := net.Dial("unix", path); err == nil {
		t.Errorf("dial after Shutdown succeeded")
	}
}

// The official client against our server.
func TestOfficialClient(t *testing.T) {
	_, path := echoServer(t, make(chan struct{}))
	conn, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	c := official.NewClient(conn)
	defer c.Close()
	var resp emptypb.Empty
	err = c.Call(context.Background(), "test.Echo", "Fail", &emptypb.Empty{}, &resp)
	if s, _ := status.FromError(err); s.Code() != codes.NotFound || s.Message() != "no such thing" {
		t.Errorf("official client: Fail = %v, want NotFound: no such thing", err)
	}
	err = c.Call(context.Background(), "test.Echo", "Nope", &emptypb.Empty{}, &resp)
	if status.Code(err) != codes.Unimplemented {
		t.Errorf("official client: unknown method = %v, want Unimplemented", err)
	}
}

type forwarder struct {
	got chan *evttrpc.ForwardRequest
	ns  chan string
}

func (f *forwarder) Forward(ctx context.Context, r *evttrpc.ForwardRequest) (*emptypb.Empty, error) {
	ns, _ := official.GetMetadataValue(ctx, ttrpc.NamespaceKey)
	if r.Envelope.GetTopic() == "/refuse" {
		return nil, status.Error(codes.InvalidArgument, "refused")
	}
	f.ns <- ns
	f.got <- r
	return &emptypb.Empty{}, nil
}

// Our client against the official server: Events/Forward with metadata.
func TestOfficialServer(t *testing.T) {
	srv, err := official.NewServer()
	if err != nil {
		t.Fatal(err)
	}
	f := &forwarder{got: make(chan *evttrpc.ForwardRequest, 1), ns: make(chan string, 1)}
	evttrpc.RegisterTTRPCEventsService(srv, f)
	l, path := listen(t)
	go srv.Serve(context.Background(), l)
	defer srv.Close()

	c := dial(t, path)
	env := &api.Envelope{Timestamp: &api.Timestamp{Seconds: 5, Nanos: 6}, Namespace: "ns1", Topic: "/tasks/oom",
		Event: api.MarshalAny(&api.TaskOOM{ContainerID: "c1"})}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	kv := ttrpc.KeyValue{Key: ttrpc.NamespaceKey, Value: "ns1"}
	if err := c.Call(ctx, "containerd.services.events.ttrpc.v1.Events", "Forward", &api.ForwardRequest{Envelope: env}, &api.Empty{}, kv); err != nil {
		t.Fatal(err)
	}
	if ns := <-f.ns; ns != "ns1" {
		t.Errorf("namespace metadata = %q, want ns1", ns)
	}
	got := (<-f.got).GetEnvelope()
	if got.GetTopic() != "/tasks/oom" || got.GetNamespace() != "ns1" || got.GetEvent().GetTypeUrl() != "containerd.events.TaskOOM" || got.GetTimestamp().GetNanos() != 6 {
		t.Errorf("envelope = %v", got)
	}
	env.Topic = "/refuse"
	err = c.Call(ctx, "containerd.services.events.ttrpc.v1.Events", "Forward", &api.ForwardRequest{Envelope: env}, &api.Empty{}, kv)
	if s, ok := ttrpc.FromError(err); !ok || s.Code != ttrpc.InvalidArgument || s.Message != "refused" {
		t.Errorf("refused Forward = %v, want InvalidArgument status", err)
	}
}
