// Package wire encodes and decodes protocol buffer messages without
// reflection or descriptors: each message lists its fields once (Fields),
// and that one table drives both directions. The shim speaks a handful of
// containerd's messages; generated code and google.golang.org/protobuf's
// runtime registered thousands of descriptors and built reflection tables
// on the first request, most of the shim's heap.
//
// Semantics follow proto3 as Go's protobuf runtime implements them: zero
// scalars and nil messages are not encoded, repeated scalars are packed,
// decoding skips unknown fields and fields whose wire type does not match
// (as the official runtime keeps those as unknown fields), a message field
// seen twice is merged, and a scalar seen twice keeps the last value.
package wire

import (
	"errors"
	"fmt"
	"math/bits"
)

// Type is a field's wire type.
type Type uint8

// Wire types.
const (
	Varint     Type = 0
	Fixed64    Type = 1
	Bytes      Type = 2
	StartGroup Type = 3
	EndGroup   Type = 4
	Fixed32    Type = 5
)

// Message is a protobuf message: Fields returns its fields, each bound to
// where the value lives in the receiver.
type Message interface {
	Fields() []Field
}

// ErrTruncated reports input that ends inside a field.
var ErrTruncated = errors.New("wire: truncated message")

// Marshal encodes m.
func Marshal(m Message) []byte {
	return Append(nil, m)
}

// Append appends m's encoding to b.
func Append(b []byte, m Message) []byte {
	for _, f := range m.Fields() {
		b = f.v.append(b, f.num)
	}
	return b
}

// Unmarshal decodes b into m, merging into what m holds.
func Unmarshal(b []byte, m Message) error {
	fields := m.Fields()
	for len(b) > 0 {
		num, typ, n := ConsumeTag(b)
		if n < 0 {
			return ErrTruncated
		}
		b = b[n:]
		vlen := fieldLen(typ, num, b)
		if vlen < 0 {
			return fmt.Errorf("wire: field %d: %w", num, ErrTruncated)
		}
		for _, f := range fields {
			if f.num == num {
				if err := f.v.decode(typ, b[:vlen]); err != nil {
					return fmt.Errorf("wire: field %d: %w", num, err)
				}
				break
			}
		}
		b = b[vlen:]
	}
	return nil
}

// AppendVarint appends v as a base-128 varint.
func AppendVarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

// SizeVarint is the length of v's varint encoding.
func SizeVarint(v uint64) int {
	return 1 + (bits.Len64(v|1)-1)/7
}

// ConsumeVarint decodes a varint; n < 0 when b is truncated or malformed.
func ConsumeVarint(b []byte) (v uint64, n int) {
	for i := 0; i < len(b) && i < 10; i++ {
		v |= uint64(b[i]&0x7f) << (7 * i)
		if b[i] < 0x80 {
			return v, i + 1
		}
	}
	return 0, -1
}

// AppendTag appends a field's key.
func AppendTag(b []byte, num int, typ Type) []byte {
	return AppendVarint(b, uint64(num)<<3|uint64(typ))
}

// ConsumeTag decodes a field's key; n < 0 when malformed.
func ConsumeTag(b []byte) (num int, typ Type, n int) {
	v, n := ConsumeVarint(b)
	if n < 0 || v>>3 == 0 || v>>3 > 1<<29-1 {
		return 0, 0, -1
	}
	return int(v >> 3), Type(v & 7), n
}

// AppendBytes appends a length-delimited field.
func AppendBytes(b []byte, num int, v []byte) []byte {
	b = AppendTag(b, num, Bytes)
	b = AppendVarint(b, uint64(len(v)))
	return append(b, v...)
}

// fieldLen is the length of the value of a field of type typ at the start
// of b (for Bytes, including its length prefix); -1 if b is too short.
func fieldLen(typ Type, num int, b []byte) int {
	switch typ {
	case Varint:
		_, n := ConsumeVarint(b)
		return n
	case Fixed64:
		if len(b) < 8 {
			return -1
		}
		return 8
	case Fixed32:
		if len(b) < 4 {
			return -1
		}
		return 4
	case Bytes:
		l, n := ConsumeVarint(b)
		if n < 0 || l > uint64(len(b)-n) {
			return -1
		}
		return n + int(l)
	case StartGroup:
		// Groups are obsolete; skip one whole, with its end tag.
		total := 0
		for {
			gnum, gtyp, n := ConsumeTag(b[total:])
			if n < 0 {
				return -1
			}
			total += n
			if gtyp == EndGroup {
				if gnum != num {
					return -1
				}
				return total
			}
			vl := fieldLen(gtyp, gnum, b[total:])
			if vl < 0 {
				return -1
			}
			total += vl
		}
	}
	return -1
}

// payload strips a Bytes field's length prefix (validated by fieldLen).
func payload(b []byte) []byte {
	_, n := ConsumeVarint(b)
	return b[n:]
}
