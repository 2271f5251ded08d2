// Package api holds the containerd messages the shim sends and receives,
// as small structs encoded by package wire. Field numbers, types and Go
// names are those of containerd's .proto files and generated code (the
// tests check them against the official types), so that the wire format is
// identical; only the messages and fields the shim uses are here.
package api

import (
	"time"

	"github.com/berth-project/berth/shim/internal/wire"
)

// Any is google.protobuf.Any.
type Any struct {
	TypeUrl string
	Value   []byte
}

func (m *Any) Fields() []wire.Field {
	return []wire.Field{wire.String(1, &m.TypeUrl), wire.BytesField(2, &m.Value)}
}

// Typed is a message that travels in an Any: TypeURL is its name as
// containerd's typeurl produces it for generated types (the bare full name,
// such as containerd.events.TaskExit: the only form containerd 1.6's
// event decoding accepts).
type Typed interface {
	wire.Message
	TypeURL() string
}

// MarshalAny wraps m in an Any.
func MarshalAny(m Typed) *Any {
	return &Any{TypeUrl: m.TypeURL(), Value: wire.Marshal(m)}
}

// Is reports whether a carries type name (bare, or after a '/' as in
// "types.googleapis.com/name").
func (m *Any) Is(name string) bool {
	u := m.GetTypeUrl()
	return u == name || len(u) > len(name) && u[len(u)-len(name)-1] == '/' && u[len(u)-len(name):] == name
}

// GetTypeUrl returns the type URL; "" for a nil Any.
func (m *Any) GetTypeUrl() string {
	if m == nil {
		return ""
	}
	return m.TypeUrl
}

// GetValue returns the value; nil for a nil Any.
func (m *Any) GetValue() []byte {
	if m == nil {
		return nil
	}
	return m.Value
}

// Timestamp is google.protobuf.Timestamp.
type Timestamp struct {
	Seconds int64
	Nanos   int32
}

func (m *Timestamp) Fields() []wire.Field {
	return []wire.Field{wire.Int64(1, &m.Seconds), wire.Int32(2, &m.Nanos)}
}

// NewTimestamp converts t, as timestamppb.New does (the zero time too).
func NewTimestamp(t time.Time) *Timestamp {
	return &Timestamp{Seconds: t.Unix(), Nanos: int32(t.Nanosecond())}
}

// AsTime returns the time in UTC; the Unix epoch for a nil Timestamp.
func (m *Timestamp) AsTime() time.Time {
	if m == nil {
		return time.Unix(0, 0).UTC()
	}
	return time.Unix(m.Seconds, int64(m.Nanos)).UTC()
}

// Empty is google.protobuf.Empty.
type Empty struct{}

func (*Empty) Fields() []wire.Field { return nil }

// Mount is containerd.types.Mount.
type Mount struct {
	Type    string
	Source  string
	Target  string
	Options []string
}

func (m *Mount) Fields() []wire.Field {
	return []wire.Field{
		wire.String(1, &m.Type), wire.String(2, &m.Source), wire.String(3, &m.Target), wire.Strings(4, &m.Options),
	}
}

// Status is containerd.v1.types.Status, a task's state.
type Status int32

// Statuses.
const (
	StatusUnknown Status = iota
	StatusCreated
	StatusRunning
	StatusStopped
	StatusPaused
	StatusPausing
)

// ProcessInfo is containerd.v1.types.ProcessInfo.
type ProcessInfo struct {
	Pid  uint32
	Info *Any
}

func (m *ProcessInfo) Fields() []wire.Field {
	return []wire.Field{wire.Uint32(1, &m.Pid), wire.Msg(2, &m.Info)}
}

// Options is containerd.runc.v1.Options, the runtime options containerd
// (and dockerd, and CRI with runtime_path) send with Create.
type Options struct {
	NoPivotRoot    bool
	NoNewKeyring   bool
	ShimCgroup     string
	IoUid          uint32
	IoGid          uint32
	BinaryName     string
	Root           string
	SystemdCgroup  bool
	CriuImagePath  string
	CriuWorkPath   string
	TaskApiAddress string
	TaskApiVersion uint32
}

// OptionsURL is the type name of Options.
const OptionsURL = "containerd.runc.v1.Options"

func (*Options) TypeURL() string { return OptionsURL }

func (m *Options) Fields() []wire.Field {
	return []wire.Field{
		wire.Bool(1, &m.NoPivotRoot), wire.Bool(2, &m.NoNewKeyring), wire.String(3, &m.ShimCgroup),
		wire.Uint32(4, &m.IoUid), wire.Uint32(5, &m.IoGid), wire.String(6, &m.BinaryName),
		wire.String(7, &m.Root), wire.Bool(9, &m.SystemdCgroup), wire.String(10, &m.CriuImagePath),
		wire.String(11, &m.CriuWorkPath), wire.String(12, &m.TaskApiAddress), wire.Uint32(13, &m.TaskApiVersion),
	}
}

// ProcessDetails is containerd.runc.v1.ProcessDetails (Pids' per-exec info).
type ProcessDetails struct {
	ExecID string
}

func (*ProcessDetails) TypeURL() string { return "containerd.runc.v1.ProcessDetails" }

func (m *ProcessDetails) Fields() []wire.Field { return []wire.Field{wire.String(1, &m.ExecID)} }

// BootstrapParams is containerd.runtime.bootstrap.v1.BootstrapParams,
// what containerd 2.3+ writes to `start`'s stdin.
type BootstrapParams struct {
	InstanceID             string
	Namespace              string
	LogLevel               int32
	ContainerdVersion      string
	ContainerdTtrpcAddress string
	ContainerdGrpcAddress  string
	ContainerdBinary       string
	Extensions             []*Extension
	SocketDir              *string // proto3 optional
}

func (m *BootstrapParams) Fields() []wire.Field {
	return []wire.Field{
		wire.String(1, &m.InstanceID), wire.String(2, &m.Namespace), wire.Int32(3, &m.LogLevel),
		wire.String(4, &m.ContainerdVersion), wire.String(5, &m.ContainerdTtrpcAddress),
		wire.String(6, &m.ContainerdGrpcAddress), wire.String(7, &m.ContainerdBinary),
		wire.Msgs(8, &m.Extensions), wire.OptString(9, &m.SocketDir),
	}
}

// Extension is containerd.runtime.bootstrap.v1.Extension.
type Extension struct {
	Value *Any
}

func (m *Extension) Fields() []wire.Field { return []wire.Field{wire.Msg(1, &m.Value)} }
