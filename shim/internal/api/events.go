package api

import "github.com/berth-project/berth/shim/internal/wire"

// The task events (containerd.events, api/events/task.proto) and their
// envelope as Events/Forward carries it.

// Envelope is containerd.types.Envelope.
type Envelope struct {
	Timestamp *Timestamp
	Namespace string
	Topic     string
	Event     *Any
}

func (m *Envelope) Fields() []wire.Field {
	return []wire.Field{wire.Msg(1, &m.Timestamp), wire.String(2, &m.Namespace), wire.String(3, &m.Topic), wire.Msg(4, &m.Event)}
}

// ForwardRequest is containerd.services.events.ttrpc.v1.ForwardRequest.
type ForwardRequest struct {
	Envelope *Envelope
}

func (m *ForwardRequest) Fields() []wire.Field { return []wire.Field{wire.Msg(1, &m.Envelope)} }

// TaskCreate is containerd.events.TaskCreate.
type TaskCreate struct {
	ContainerID string
	Bundle      string
	Rootfs      []*Mount
	IO          *TaskIO
	Checkpoint  string
	Pid         uint32
}

func (*TaskCreate) TypeURL() string { return "containerd.events.TaskCreate" }

func (m *TaskCreate) Fields() []wire.Field {
	return []wire.Field{
		wire.String(1, &m.ContainerID), wire.String(2, &m.Bundle), wire.Msgs(3, &m.Rootfs),
		wire.Msg(4, &m.IO), wire.String(5, &m.Checkpoint), wire.Uint32(6, &m.Pid),
	}
}

// TaskIO is containerd.events.TaskIO.
type TaskIO struct {
	Stdin    string
	Stdout   string
	Stderr   string
	Terminal bool
}

func (m *TaskIO) Fields() []wire.Field {
	return []wire.Field{wire.String(1, &m.Stdin), wire.String(2, &m.Stdout), wire.String(3, &m.Stderr), wire.Bool(4, &m.Terminal)}
}

// TaskStart is containerd.events.TaskStart.
type TaskStart struct {
	ContainerID string
	Pid         uint32
}

func (*TaskStart) TypeURL() string { return "containerd.events.TaskStart" }

func (m *TaskStart) Fields() []wire.Field {
	return []wire.Field{wire.String(1, &m.ContainerID), wire.Uint32(2, &m.Pid)}
}

// TaskDelete is containerd.events.TaskDelete.
type TaskDelete struct {
	ContainerID string
	Pid         uint32
	ExitStatus  uint32
	ExitedAt    *Timestamp
	ID          string
}

func (*TaskDelete) TypeURL() string { return "containerd.events.TaskDelete" }

func (m *TaskDelete) Fields() []wire.Field {
	return []wire.Field{
		wire.String(1, &m.ContainerID), wire.Uint32(2, &m.Pid), wire.Uint32(3, &m.ExitStatus),
		wire.Msg(4, &m.ExitedAt), wire.String(5, &m.ID),
	}
}

// TaskExit is containerd.events.TaskExit.
type TaskExit struct {
	ContainerID string
	ID          string
	Pid         uint32
	ExitStatus  uint32
	ExitedAt    *Timestamp
}

func (*TaskExit) TypeURL() string { return "containerd.events.TaskExit" }

func (m *TaskExit) Fields() []wire.Field {
	return []wire.Field{
		wire.String(1, &m.ContainerID), wire.String(2, &m.ID), wire.Uint32(3, &m.Pid),
		wire.Uint32(4, &m.ExitStatus), wire.Msg(5, &m.ExitedAt),
	}
}

// TaskExecAdded is containerd.events.TaskExecAdded.
type TaskExecAdded struct {
	ContainerID string
	ExecID      string
}

func (*TaskExecAdded) TypeURL() string { return "containerd.events.TaskExecAdded" }

func (m *TaskExecAdded) Fields() []wire.Field {
	return []wire.Field{wire.String(1, &m.ContainerID), wire.String(2, &m.ExecID)}
}

// TaskExecStarted is containerd.events.TaskExecStarted.
type TaskExecStarted struct {
	ContainerID string
	ExecID      string
	Pid         uint32
}

func (*TaskExecStarted) TypeURL() string { return "containerd.events.TaskExecStarted" }

func (m *TaskExecStarted) Fields() []wire.Field {
	return []wire.Field{wire.String(1, &m.ContainerID), wire.String(2, &m.ExecID), wire.Uint32(3, &m.Pid)}
}

// TaskOOM is containerd.events.TaskOOM.
type TaskOOM struct {
	ContainerID string
}

func (*TaskOOM) TypeURL() string { return "containerd.events.TaskOOM" }

func (m *TaskOOM) Fields() []wire.Field { return []wire.Field{wire.String(1, &m.ContainerID)} }

// TaskPaused is containerd.events.TaskPaused.
type TaskPaused struct {
	ContainerID string
}

func (*TaskPaused) TypeURL() string { return "containerd.events.TaskPaused" }

func (m *TaskPaused) Fields() []wire.Field { return []wire.Field{wire.String(1, &m.ContainerID)} }

// TaskResumed is containerd.events.TaskResumed.
type TaskResumed struct {
	ContainerID string
}

func (*TaskResumed) TypeURL() string { return "containerd.events.TaskResumed" }

func (m *TaskResumed) Fields() []wire.Field { return []wire.Field{wire.String(1, &m.ContainerID)} }
