package main

import (
	"bytes"
	"testing"

	bootstrap "github.com/containerd/containerd/api/runtime/bootstrap/v1"
	runcopts "github.com/containerd/containerd/api/types/runc/options"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// start's stdin as containerd 2.3+ (BootstrapParams) and older ones (the
// runtime options as an Any) write it, encoded by the official runtime.
func TestReadStartInput(t *testing.T) {
	opts, _ := proto.Marshal(&runcopts.Options{ShimCgroup: "/shim", BinaryName: "runc"})
	anyOpts := &anypb.Any{TypeUrl: "containerd.runc.v1.Options", Value: opts}
	dir := "/run/sockets"
	o := &options{id: "c1", namespace: "ns"}
	for _, tc := range []struct {
		name string
		msg  proto.Message
		want startParams
	}{
		{"bootstrap", &bootstrap.BootstrapParams{InstanceID: "c1", Namespace: "ns", SocketDir: &dir,
			Extensions: []*bootstrap.Extension{{Value: anyOpts}}}, startParams{shimCgroup: "/shim", socketDir: dir}},
		{"bootstrap for another id", &bootstrap.BootstrapParams{InstanceID: "c2", Namespace: "ns", SocketDir: &dir}, startParams{}},
		{"options any", anyOpts, startParams{shimCgroup: "/shim"}},
		{"prefixed options any", &anypb.Any{TypeUrl: "types.googleapis.com/containerd.runc.v1.Options", Value: opts}, startParams{shimCgroup: "/shim"}},
		{"other any", &anypb.Any{TypeUrl: "runtimeoptions.v1.Options", Value: opts}, startParams{}},
	} {
		b, err := proto.Marshal(tc.msg)
		if err != nil {
			t.Fatal(err)
		}
		if got := readStartInput(bytes.NewReader(b), o); got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
	if got := readStartInput(bytes.NewReader(nil), o); got != (startParams{}) {
		t.Errorf("empty stdin: %+v", got)
	}
}
