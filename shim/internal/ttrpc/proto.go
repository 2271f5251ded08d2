// Package ttrpc is a minimal ttrpc server and client over unix sockets,
// wire-compatible with github.com/containerd/ttrpc 1.x for unary calls
// (the only kind containerd's task and events APIs use). It exists so the
// shim does not link the protobuf reflection runtime: the official package
// decodes its Request with it.
//
// The protocol: every message is a frame of a 10-byte header (uint32
// big-endian payload length, uint32 stream id, one byte type, one byte
// flags) and at most 4 MiB of payload. A call is a Request frame on a new
// odd stream id, answered by a Response frame on the same id.
package ttrpc

import (
	"encoding/binary"
	"fmt"
	"io"

	"github.com/berth-project/berth/shim/internal/api"
	"github.com/berth-project/berth/shim/internal/wire"
)

const (
	headerLen  = 10
	maxMessage = 4 << 20
)

// Frame types.
const (
	typeRequest  = 1
	typeResponse = 2
	typeData     = 3
)

// Request is ttrpc.Request.
type Request struct {
	Service     string
	Method      string
	Payload     []byte
	TimeoutNano int64
	Metadata    []*KeyValue
}

func (m *Request) Fields() []wire.Field {
	return []wire.Field{
		wire.String(1, &m.Service), wire.String(2, &m.Method), wire.BytesField(3, &m.Payload),
		wire.Int64(4, &m.TimeoutNano), wire.Msgs(5, &m.Metadata),
	}
}

// KeyValue is one metadata entry (ttrpc.KeyValue).
type KeyValue struct {
	Key   string
	Value string
}

func (m *KeyValue) Fields() []wire.Field {
	return []wire.Field{wire.String(1, &m.Key), wire.String(2, &m.Value)}
}

// Response is ttrpc.Response.
type Response struct {
	Status  *RPCStatus
	Payload []byte
}

func (m *Response) Fields() []wire.Field {
	return []wire.Field{wire.Msg(1, &m.Status), wire.BytesField(2, &m.Payload)}
}

// RPCStatus is google.rpc.Status; its details are never sent.
type RPCStatus struct {
	Code    int32
	Message string
	Details []*api.Any
}

func (m *RPCStatus) Fields() []wire.Field {
	return []wire.Field{wire.Int32(1, &m.Code), wire.String(2, &m.Message), wire.Msgs(3, &m.Details)}
}

type header struct {
	length   uint32
	streamID uint32
	typ      byte
	flags    byte
}

// appendFrame appends a frame with payload p.
func appendFrame(b []byte, streamID uint32, typ byte, p []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(p)))
	b = binary.BigEndian.AppendUint32(b, streamID)
	b = append(b, typ, 0)
	return append(b, p...)
}

// readFrame reads one frame. An oversized payload is discarded and
// reported with errTooLarge, its header valid: the stream gets an error
// and the connection goes on.
func readFrame(r io.Reader) (header, []byte, error) {
	var hb [headerLen]byte
	if _, err := io.ReadFull(r, hb[:]); err != nil {
		return header{}, nil, err
	}
	h := header{
		length:   binary.BigEndian.Uint32(hb[0:4]),
		streamID: binary.BigEndian.Uint32(hb[4:8]),
		typ:      hb[8],
		flags:    hb[9],
	}
	if h.length > maxMessage {
		if _, err := io.CopyN(io.Discard, r, int64(h.length)); err != nil {
			return header{}, nil, fmt.Errorf("discard oversized message: %w", err)
		}
		return h, nil, errTooLarge{h.length}
	}
	p := make([]byte, h.length)
	if _, err := io.ReadFull(r, p); err != nil {
		return header{}, nil, fmt.Errorf("read message: %w", err)
	}
	return h, p, nil
}

type errTooLarge struct{ n uint32 }

func (e errTooLarge) Error() string {
	return fmt.Sprintf("message length %d exceeds maximum message size of %d", e.n, maxMessage)
}
