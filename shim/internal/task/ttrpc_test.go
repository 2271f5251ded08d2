package task

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"testing"

	taskapi "github.com/containerd/containerd/api/runtime/task/v2"
	official "github.com/containerd/ttrpc"
	"google.golang.org/grpc/codes"
	grpcstatus "google.golang.org/grpc/status"

	"github.com/berth-project/berth/shim/internal/events"
	"github.com/berth-project/berth/shim/internal/reaper"
	"github.com/berth-project/berth/shim/internal/ttrpc"
)

// The official task client (as containerd uses it) against our server.
func TestOfficialTaskClient(t *testing.T) {
	rp, err := reaper.New()
	if err != nil {
		t.Fatal(err)
	}
	shut := make(chan struct{})
	svc := New(Config{Namespace: "ns", Publisher: events.New("", "ns"), Reaper: rp, Shutdown: func() { close(shut) }})
	srv := ttrpc.NewServer(ttrpc.Config{SameUser: true})
	svc.Register(srv)
	path := filepath.Join(t.TempDir(), "s")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	defer srv.Shutdown(context.Background())
	conn, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	oc := official.NewClient(conn)
	defer oc.Close()
	c := taskapi.NewTTRPCTaskClient(oc)
	ctx := context.Background()

	for _, tc := range []struct {
		name string
		call func() error
		want codes.Code
	}{
		{"Create missing bundle", func() error {
			_, err := c.Create(ctx, &taskapi.CreateTaskRequest{ID: "c1", Bundle: filepath.Join(t.TempDir(), "none")})
			return err
		}, codes.NotFound},
		{"Create relative bundle", func() error {
			_, err := c.Create(ctx, &taskapi.CreateTaskRequest{ID: "c1", Bundle: "rel"})
			return err
		}, codes.InvalidArgument},
		{"Create bad id", func() error {
			_, err := c.Create(ctx, &taskapi.CreateTaskRequest{ID: "../x", Bundle: "/b"})
			return err
		}, codes.InvalidArgument},
		{"State unknown", func() error { _, err := c.State(ctx, &taskapi.StateRequest{ID: "nope"}); return err }, codes.NotFound},
		{"Kill unknown", func() error { _, err := c.Kill(ctx, &taskapi.KillRequest{ID: "nope", Signal: 9}); return err }, codes.NotFound},
		{"Wait unknown", func() error { _, err := c.Wait(ctx, &taskapi.WaitRequest{ID: "nope"}); return err }, codes.NotFound},
		{"Stats unknown", func() error { _, err := c.Stats(ctx, &taskapi.StatsRequest{ID: "nope"}); return err }, codes.NotFound},
		{"Checkpoint", func() error { _, err := c.Checkpoint(ctx, &taskapi.CheckpointTaskRequest{ID: "c1"}); return err }, codes.Unimplemented},
	} {
		err := tc.call()
		if got := grpcstatus.Code(err); got != tc.want {
			t.Errorf("%s: %v (code %v), want %v", tc.name, err, got, tc.want)
		}
	}

	cr, err := c.Connect(ctx, &taskapi.ConnectRequest{ID: "c1"})
	if err != nil {
		t.Fatal(err)
	}
	if cr.GetShimPid() != uint32(os.Getpid()) || cr.GetVersion() != "2" {
		t.Errorf("Connect = %v", cr)
	}
	if _, err := c.Shutdown(ctx, &taskapi.ShutdownRequest{ID: "c1"}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-shut:
	default:
		t.Errorf("Shutdown with no container did not shut the shim down")
	}
}
