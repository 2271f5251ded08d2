package api_test

import (
	"testing"

	cg1 "github.com/containerd/cgroups/v3/cgroup1/stats"
	cg2 "github.com/containerd/cgroups/v3/cgroup2/stats"
	eventsapi "github.com/containerd/containerd/api/events"
	bootstrap "github.com/containerd/containerd/api/runtime/bootstrap/v1"
	taskapi "github.com/containerd/containerd/api/runtime/task/v2"
	evttrpc "github.com/containerd/containerd/api/services/ttrpc/events/v1"
	"github.com/containerd/containerd/api/types"
	runcopts "github.com/containerd/containerd/api/types/runc/options"
	tasktypes "github.com/containerd/containerd/api/types/task"
	"github.com/containerd/typeurl/v2"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/berth-project/berth/shim/internal/api"
	"github.com/berth-project/berth/shim/internal/api/apitest"
	"github.com/berth-project/berth/shim/internal/api/cgroupv1"
	"github.com/berth-project/berth/shim/internal/api/cgroupv2"
	"github.com/berth-project/berth/shim/internal/wire"
)

// messages pairs each of our messages with the official type.
var messages = []struct {
	ours     func() wire.Message
	official func() proto.Message
}{
	{func() wire.Message { return new(api.Any) }, func() proto.Message { return new(anypb.Any) }},
	{func() wire.Message { return new(api.Timestamp) }, func() proto.Message { return new(timestamppb.Timestamp) }},
	{func() wire.Message { return new(api.Empty) }, func() proto.Message { return new(emptypb.Empty) }},
	{func() wire.Message { return new(api.Mount) }, func() proto.Message { return new(types.Mount) }},
	{func() wire.Message { return new(api.ProcessInfo) }, func() proto.Message { return new(tasktypes.ProcessInfo) }},
	{func() wire.Message { return new(api.Options) }, func() proto.Message { return new(runcopts.Options) }},
	{func() wire.Message { return new(api.ProcessDetails) }, func() proto.Message { return new(runcopts.ProcessDetails) }},
	{func() wire.Message { return new(api.BootstrapParams) }, func() proto.Message { return new(bootstrap.BootstrapParams) }},
	{func() wire.Message { return new(api.Extension) }, func() proto.Message { return new(bootstrap.Extension) }},
	// Task API.
	{func() wire.Message { return new(api.CreateTaskRequest) }, func() proto.Message { return new(taskapi.CreateTaskRequest) }},
	{func() wire.Message { return new(api.CreateTaskResponse) }, func() proto.Message { return new(taskapi.CreateTaskResponse) }},
	{func() wire.Message { return new(api.StartRequest) }, func() proto.Message { return new(taskapi.StartRequest) }},
	{func() wire.Message { return new(api.StartResponse) }, func() proto.Message { return new(taskapi.StartResponse) }},
	{func() wire.Message { return new(api.DeleteRequest) }, func() proto.Message { return new(taskapi.DeleteRequest) }},
	{func() wire.Message { return new(api.DeleteResponse) }, func() proto.Message { return new(taskapi.DeleteResponse) }},
	{func() wire.Message { return new(api.ExecProcessRequest) }, func() proto.Message { return new(taskapi.ExecProcessRequest) }},
	{func() wire.Message { return new(api.ResizePtyRequest) }, func() proto.Message { return new(taskapi.ResizePtyRequest) }},
	{func() wire.Message { return new(api.StateRequest) }, func() proto.Message { return new(taskapi.StateRequest) }},
	{func() wire.Message { return new(api.StateResponse) }, func() proto.Message { return new(taskapi.StateResponse) }},
	{func() wire.Message { return new(api.KillRequest) }, func() proto.Message { return new(taskapi.KillRequest) }},
	{func() wire.Message { return new(api.CloseIORequest) }, func() proto.Message { return new(taskapi.CloseIORequest) }},
	{func() wire.Message { return new(api.PidsRequest) }, func() proto.Message { return new(taskapi.PidsRequest) }},
	{func() wire.Message { return new(api.PidsResponse) }, func() proto.Message { return new(taskapi.PidsResponse) }},
	{func() wire.Message { return new(api.CheckpointTaskRequest) }, func() proto.Message { return new(taskapi.CheckpointTaskRequest) }},
	{func() wire.Message { return new(api.UpdateTaskRequest) }, func() proto.Message { return new(taskapi.UpdateTaskRequest) }},
	{func() wire.Message { return new(api.WaitRequest) }, func() proto.Message { return new(taskapi.WaitRequest) }},
	{func() wire.Message { return new(api.WaitResponse) }, func() proto.Message { return new(taskapi.WaitResponse) }},
	{func() wire.Message { return new(api.StatsRequest) }, func() proto.Message { return new(taskapi.StatsRequest) }},
	{func() wire.Message { return new(api.StatsResponse) }, func() proto.Message { return new(taskapi.StatsResponse) }},
	{func() wire.Message { return new(api.ConnectRequest) }, func() proto.Message { return new(taskapi.ConnectRequest) }},
	{func() wire.Message { return new(api.ConnectResponse) }, func() proto.Message { return new(taskapi.ConnectResponse) }},
	{func() wire.Message { return new(api.ShutdownRequest) }, func() proto.Message { return new(taskapi.ShutdownRequest) }},
	{func() wire.Message { return new(api.PauseRequest) }, func() proto.Message { return new(taskapi.PauseRequest) }},
	{func() wire.Message { return new(api.ResumeRequest) }, func() proto.Message { return new(taskapi.ResumeRequest) }},
	// Events.
	{func() wire.Message { return new(api.Envelope) }, func() proto.Message { return new(types.Envelope) }},
	{func() wire.Message { return new(api.ForwardRequest) }, func() proto.Message { return new(evttrpc.ForwardRequest) }},
	{func() wire.Message { return new(api.TaskCreate) }, func() proto.Message { return new(eventsapi.TaskCreate) }},
	{func() wire.Message { return new(api.TaskIO) }, func() proto.Message { return new(eventsapi.TaskIO) }},
	{func() wire.Message { return new(api.TaskStart) }, func() proto.Message { return new(eventsapi.TaskStart) }},
	{func() wire.Message { return new(api.TaskDelete) }, func() proto.Message { return new(eventsapi.TaskDelete) }},
	{func() wire.Message { return new(api.TaskExit) }, func() proto.Message { return new(eventsapi.TaskExit) }},
	{func() wire.Message { return new(api.TaskExecAdded) }, func() proto.Message { return new(eventsapi.TaskExecAdded) }},
	{func() wire.Message { return new(api.TaskExecStarted) }, func() proto.Message { return new(eventsapi.TaskExecStarted) }},
	{func() wire.Message { return new(api.TaskOOM) }, func() proto.Message { return new(eventsapi.TaskOOM) }},
	{func() wire.Message { return new(api.TaskPaused) }, func() proto.Message { return new(eventsapi.TaskPaused) }},
	{func() wire.Message { return new(api.TaskResumed) }, func() proto.Message { return new(eventsapi.TaskResumed) }},
	// cgroup v1 metrics.
	{func() wire.Message { return new(cgroupv1.Metrics) }, func() proto.Message { return new(cg1.Metrics) }},
	{func() wire.Message { return new(cgroupv1.PidsStat) }, func() proto.Message { return new(cg1.PidsStat) }},
	{func() wire.Message { return new(cgroupv1.CPUStat) }, func() proto.Message { return new(cg1.CPUStat) }},
	{func() wire.Message { return new(cgroupv1.CPUUsage) }, func() proto.Message { return new(cg1.CPUUsage) }},
	{func() wire.Message { return new(cgroupv1.Throttle) }, func() proto.Message { return new(cg1.Throttle) }},
	{func() wire.Message { return new(cgroupv1.MemoryStat) }, func() proto.Message { return new(cg1.MemoryStat) }},
	{func() wire.Message { return new(cgroupv1.MemoryEntry) }, func() proto.Message { return new(cg1.MemoryEntry) }},
	{func() wire.Message { return new(cgroupv1.MemoryOomControl) }, func() proto.Message { return new(cg1.MemoryOomControl) }},
	{func() wire.Message { return new(cgroupv1.BlkIOStat) }, func() proto.Message { return new(cg1.BlkIOStat) }},
	{func() wire.Message { return new(cgroupv1.BlkIOEntry) }, func() proto.Message { return new(cg1.BlkIOEntry) }},
	// cgroup v2 metrics.
	{func() wire.Message { return new(cgroupv2.Metrics) }, func() proto.Message { return new(cg2.Metrics) }},
	{func() wire.Message { return new(cgroupv2.PidsStat) }, func() proto.Message { return new(cg2.PidsStat) }},
	{func() wire.Message { return new(cgroupv2.CPUStat) }, func() proto.Message { return new(cg2.CPUStat) }},
	{func() wire.Message { return new(cgroupv2.MemoryStat) }, func() proto.Message { return new(cg2.MemoryStat) }},
	{func() wire.Message { return new(cgroupv2.MemoryEvents) }, func() proto.Message { return new(cg2.MemoryEvents) }},
	{func() wire.Message { return new(cgroupv2.IOStat) }, func() proto.Message { return new(cg2.IOStat) }},
	{func() wire.Message { return new(cgroupv2.IOEntry) }, func() proto.Message { return new(cg2.IOEntry) }},
}

func TestMessagesMatchOfficial(t *testing.T) {
	for _, m := range messages {
		ours, official := m.ours(), m.official()
		t.Run(string(official.ProtoReflect().Descriptor().FullName()), func(t *testing.T) {
			apitest.Check(t, ours, official)
		})
	}
}

// Every field of the official message is either ours or one the shim
// neither reads nor writes; dropping one silently would be a bug.
func TestUnknownFieldsSkipped(t *testing.T) {
	off := &taskapi.CreateTaskRequest{ID: "c1", Bundle: "/b"}
	b, _ := proto.Marshal(off)
	// Append fields 99 (varint), 98 (fixed64), 97 (bytes), 96 (fixed32)
	// and a known field with the wrong wire type (2 as varint).
	b = append(b, 0x98, 0x06, 0x01, 0x91, 0x06, 1, 2, 3, 4, 5, 6, 7, 8, 0x8a, 0x06, 2, 'x', 'y', 0x85, 0x06, 1, 2, 3, 4, 0x10, 0x05)
	var r api.CreateTaskRequest
	if err := wire.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	if r.ID != "c1" || r.Bundle != "/b" {
		t.Errorf("decoded %+v, want ID c1, Bundle /b", r)
	}
}

// Type URLs are what containerd's typeurl gives for the official types.
func TestTypeURLs(t *testing.T) {
	for _, tc := range []struct {
		ours     api.Typed
		official proto.Message
	}{
		{&api.TaskCreate{}, &eventsapi.TaskCreate{}},
		{&api.TaskStart{}, &eventsapi.TaskStart{}},
		{&api.TaskExit{}, &eventsapi.TaskExit{}},
		{&api.TaskDelete{}, &eventsapi.TaskDelete{}},
		{&api.TaskExecAdded{}, &eventsapi.TaskExecAdded{}},
		{&api.TaskExecStarted{}, &eventsapi.TaskExecStarted{}},
		{&api.TaskOOM{}, &eventsapi.TaskOOM{}},
		{&api.TaskPaused{}, &eventsapi.TaskPaused{}},
		{&api.TaskResumed{}, &eventsapi.TaskResumed{}},
		{&api.Options{}, &runcopts.Options{}},
		{&api.ProcessDetails{}, &runcopts.ProcessDetails{}},
		{&cgroupv1.Metrics{}, &cg1.Metrics{}},
		{&cgroupv2.Metrics{}, &cg2.Metrics{}},
	} {
		want, err := typeurl.TypeURL(tc.official)
		if err != nil {
			t.Fatal(err)
		}
		if got := tc.ours.TypeURL(); got != want {
			t.Errorf("%T.TypeURL() = %q, want %q", tc.ours, got, want)
		}
	}
}

func TestAnyIs(t *testing.T) {
	for _, tc := range []struct {
		url  string
		want bool
	}{
		{"containerd.runc.v1.Options", true},
		{"types.googleapis.com/containerd.runc.v1.Options", true},
		{"xcontainerd.runc.v1.Options", false},
		{"runtimeoptions.v1.Options", false},
		{"", false},
	} {
		if got := (&api.Any{TypeUrl: tc.url}).Is(api.OptionsURL); got != tc.want {
			t.Errorf("Any{%q}.Is = %v, want %v", tc.url, got, tc.want)
		}
	}
}
