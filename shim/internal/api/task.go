package api

import "github.com/berth-project/berth/shim/internal/wire"

// The messages of containerd.task.v2.Task (runtime/task/v2/shim.proto).

// CreateTaskRequest creates a container's init process.
type CreateTaskRequest struct {
	ID               string
	Bundle           string
	Rootfs           []*Mount
	Terminal         bool
	Stdin            string
	Stdout           string
	Stderr           string
	Checkpoint       string
	ParentCheckpoint string
	Options          *Any
}

func (m *CreateTaskRequest) Fields() []wire.Field {
	return []wire.Field{
		wire.String(1, &m.ID), wire.String(2, &m.Bundle), wire.Msgs(3, &m.Rootfs), wire.Bool(4, &m.Terminal),
		wire.String(5, &m.Stdin), wire.String(6, &m.Stdout), wire.String(7, &m.Stderr),
		wire.String(8, &m.Checkpoint), wire.String(9, &m.ParentCheckpoint), wire.Msg(10, &m.Options),
	}
}

// PidResponse is the reply carrying one pid: CreateTaskResponse and
// StartResponse.
type PidResponse struct {
	Pid uint32
}

func (m *PidResponse) Fields() []wire.Field { return []wire.Field{wire.Uint32(1, &m.Pid)} }

type (
	CreateTaskResponse = PidResponse
	StartResponse      = PidResponse
)

// ProcessRequest names a container's init process (ExecID "") or an exec:
// StartRequest, DeleteRequest, StateRequest and WaitRequest.
type ProcessRequest struct {
	ID     string
	ExecID string
}

func (m *ProcessRequest) Fields() []wire.Field {
	return []wire.Field{wire.String(1, &m.ID), wire.String(2, &m.ExecID)}
}

type (
	StartRequest  = ProcessRequest
	DeleteRequest = ProcessRequest
	StateRequest  = ProcessRequest
	WaitRequest   = ProcessRequest
)

// IDRequest names a container: PidsRequest, StatsRequest, ConnectRequest,
// PauseRequest and ResumeRequest.
type IDRequest struct {
	ID string
}

func (m *IDRequest) Fields() []wire.Field { return []wire.Field{wire.String(1, &m.ID)} }

type (
	PidsRequest    = IDRequest
	StatsRequest   = IDRequest
	ConnectRequest = IDRequest
	PauseRequest   = IDRequest
	ResumeRequest  = IDRequest
)

// DeleteResponse is also what the `delete` action prints.
type DeleteResponse struct {
	Pid        uint32
	ExitStatus uint32
	ExitedAt   *Timestamp
}

func (m *DeleteResponse) Fields() []wire.Field {
	return []wire.Field{wire.Uint32(1, &m.Pid), wire.Uint32(2, &m.ExitStatus), wire.Msg(3, &m.ExitedAt)}
}

// ExecProcessRequest adds an exec; Spec is the OCI process as JSON.
type ExecProcessRequest struct {
	ID       string
	ExecID   string
	Terminal bool
	Stdin    string
	Stdout   string
	Stderr   string
	Spec     *Any
}

func (m *ExecProcessRequest) Fields() []wire.Field {
	return []wire.Field{
		wire.String(1, &m.ID), wire.String(2, &m.ExecID), wire.Bool(3, &m.Terminal), wire.String(4, &m.Stdin),
		wire.String(5, &m.Stdout), wire.String(6, &m.Stderr), wire.Msg(7, &m.Spec),
	}
}

// ResizePtyRequest sets a process's terminal size.
type ResizePtyRequest struct {
	ID     string
	ExecID string
	Width  uint32
	Height uint32
}

func (m *ResizePtyRequest) Fields() []wire.Field {
	return []wire.Field{wire.String(1, &m.ID), wire.String(2, &m.ExecID), wire.Uint32(3, &m.Width), wire.Uint32(4, &m.Height)}
}

// StateResponse describes a process.
type StateResponse struct {
	ID         string
	Bundle     string
	Pid        uint32
	Status     Status
	Stdin      string
	Stdout     string
	Stderr     string
	Terminal   bool
	ExitStatus uint32
	ExitedAt   *Timestamp
	ExecID     string
}

func (m *StateResponse) Fields() []wire.Field {
	return []wire.Field{
		wire.String(1, &m.ID), wire.String(2, &m.Bundle), wire.Uint32(3, &m.Pid), wire.Int32(4, (*int32)(&m.Status)),
		wire.String(5, &m.Stdin), wire.String(6, &m.Stdout), wire.String(7, &m.Stderr), wire.Bool(8, &m.Terminal),
		wire.Uint32(9, &m.ExitStatus), wire.Msg(10, &m.ExitedAt), wire.String(11, &m.ExecID),
	}
}

// KillRequest signals a process.
type KillRequest struct {
	ID     string
	ExecID string
	Signal uint32
	All    bool
}

func (m *KillRequest) Fields() []wire.Field {
	return []wire.Field{wire.String(1, &m.ID), wire.String(2, &m.ExecID), wire.Uint32(3, &m.Signal), wire.Bool(4, &m.All)}
}

// CloseIORequest closes a process's stdin.
type CloseIORequest struct {
	ID     string
	ExecID string
	Stdin  bool
}

func (m *CloseIORequest) Fields() []wire.Field {
	return []wire.Field{wire.String(1, &m.ID), wire.String(2, &m.ExecID), wire.Bool(3, &m.Stdin)}
}

// PidsResponse lists a container's processes.
type PidsResponse struct {
	Processes []*ProcessInfo
}

func (m *PidsResponse) Fields() []wire.Field { return []wire.Field{wire.Msgs(1, &m.Processes)} }

// CheckpointTaskRequest is decoded only to be refused.
type CheckpointTaskRequest struct {
	ID      string
	Path    string
	Options *Any
}

func (m *CheckpointTaskRequest) Fields() []wire.Field {
	return []wire.Field{wire.String(1, &m.ID), wire.String(2, &m.Path), wire.Msg(3, &m.Options)}
}

// UpdateTaskRequest changes resources; Resources is LinuxResources JSON.
type UpdateTaskRequest struct {
	ID          string
	Resources   *Any
	Annotations map[string]string
}

func (m *UpdateTaskRequest) Fields() []wire.Field {
	return []wire.Field{wire.String(1, &m.ID), wire.Msg(2, &m.Resources), wire.StringMap(3, &m.Annotations)}
}

// WaitResponse is a process's exit.
type WaitResponse struct {
	ExitStatus uint32
	ExitedAt   *Timestamp
}

func (m *WaitResponse) Fields() []wire.Field {
	return []wire.Field{wire.Uint32(1, &m.ExitStatus), wire.Msg(2, &m.ExitedAt)}
}

// StatsResponse carries the cgroup metrics as an Any.
type StatsResponse struct {
	Stats *Any
}

func (m *StatsResponse) Fields() []wire.Field { return []wire.Field{wire.Msg(1, &m.Stats)} }

// ConnectResponse tells the caller the shim's and the task's pids.
type ConnectResponse struct {
	ShimPid uint32
	TaskPid uint32
	Version string
}

func (m *ConnectResponse) Fields() []wire.Field {
	return []wire.Field{wire.Uint32(1, &m.ShimPid), wire.Uint32(2, &m.TaskPid), wire.String(3, &m.Version)}
}

// ShutdownRequest asks the shim to exit (Now: even with containers).
type ShutdownRequest struct {
	ID  string
	Now bool
}

func (m *ShutdownRequest) Fields() []wire.Field {
	return []wire.Field{wire.String(1, &m.ID), wire.Bool(2, &m.Now)}
}
