package wire

import (
	"errors"
	"math"
	"testing"
)

func TestVarint(t *testing.T) {
	for _, v := range []uint64{0, 1, 127, 128, 300, 1<<32 - 1, math.MaxInt64, math.MaxUint64} {
		b := AppendVarint(nil, v)
		if len(b) != SizeVarint(v) {
			t.Errorf("SizeVarint(%d) = %d, encoded %d bytes", v, SizeVarint(v), len(b))
		}
		got, n := ConsumeVarint(b)
		if got != v || n != len(b) {
			t.Errorf("ConsumeVarint(AppendVarint(%d)) = %d, %d", v, got, n)
		}
	}
	if _, n := ConsumeVarint([]byte{0x80, 0x80}); n >= 0 {
		t.Errorf("truncated varint accepted")
	}
}

type sample struct {
	s  string
	n  int32
	xs []uint64
	m  map[string]string
	o  *string
}

func (m *sample) Fields() []Field {
	return []Field{String(1, &m.s), Int32(2, &m.n), Uint64s(3, &m.xs), StringMap(4, &m.m), OptString(5, &m.o)}
}

func TestDecode(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte
		want func(*sample) bool
		err  bool
	}{
		{"string", []byte{0x0a, 2, 'h', 'i'}, func(m *sample) bool { return m.s == "hi" }, false},
		{"last scalar wins", []byte{0x10, 1, 0x10, 2}, func(m *sample) bool { return m.n == 2 }, false},
		{"negative int32", append([]byte{0x10}, AppendVarint(nil, math.MaxUint64)...), func(m *sample) bool { return m.n == -1 }, false},
		{"packed", []byte{0x1a, 3, 1, 0x80, 1}, func(m *sample) bool { return len(m.xs) == 2 && m.xs[1] == 128 }, false},
		{"unpacked", []byte{0x18, 5, 0x18, 6}, func(m *sample) bool { return len(m.xs) == 2 && m.xs[1] == 6 }, false},
		{"map", []byte{0x22, 6, 0x0a, 1, 'k', 0x12, 1, 'v'}, func(m *sample) bool { return m.m["k"] == "v" }, false},
		{"optional empty", []byte{0x2a, 0}, func(m *sample) bool { return m.o != nil && *m.o == "" }, false},
		{"wrong wire type skipped", []byte{0x08, 5, 0x0a, 1, 'x'}, func(m *sample) bool { return m.s == "x" }, false},
		{"unknown fixed and group skipped", []byte{0x31, 1, 2, 3, 4, 5, 6, 7, 8, 0x3d, 1, 2, 3, 4, 0x43, 0x08, 1, 0x44, 0x10, 9},
			func(m *sample) bool { return m.n == 9 }, false},
		{"truncated string", []byte{0x0a, 5, 'h'}, nil, true},
		{"bad tag", []byte{0x00}, nil, true},
	} {
		var m sample
		err := Unmarshal(tc.in, &m)
		if tc.err {
			if err == nil || !errors.Is(err, ErrTruncated) {
				t.Errorf("%s: err = %v, want ErrTruncated", tc.name, err)
			}
			continue
		}
		if err != nil || !tc.want(&m) {
			t.Errorf("%s: %+v, %v", tc.name, m, err)
		}
	}
}

func TestEncodeOmitsZero(t *testing.T) {
	if b := Marshal(&sample{}); len(b) != 0 {
		t.Errorf("zero message encodes to %x", b)
	}
	empty := ""
	if b := Marshal(&sample{o: &empty}); string(b) != "\x2a\x00" {
		t.Errorf("set optional encodes to %x", b)
	}
}
