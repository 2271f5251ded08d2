package wire

import "sort"

// Field binds a field number to a value in a message. Build them with the
// constructors below, which take a pointer to the Go field.
type Field struct {
	num int
	v   value
}

// value is one Go field's codec. The implementations are pointer-shaped,
// so making a Field does not allocate.
type value interface {
	// append appends the field (tag and value), or nothing when zero.
	append(b []byte, num int) []byte
	// decode decodes one occurrence; data is exactly the field's value
	// (for Bytes with its length prefix). A mismatched type is skipped.
	decode(typ Type, data []byte) error
}

// String is a string field.
func String(num int, p *string) Field { return Field{num, (*stringVal)(p)} }

// BytesField is a bytes field.
func BytesField(num int, p *[]byte) Field { return Field{num, (*bytesVal)(p)} }

// Bool is a bool field.
func Bool(num int, p *bool) Field { return Field{num, (*boolVal)(p)} }

// Uint32 is a uint32 field.
func Uint32(num int, p *uint32) Field { return Field{num, (*uint32Val)(p)} }

// Uint64 is a uint64 field.
func Uint64(num int, p *uint64) Field { return Field{num, (*uint64Val)(p)} }

// Int32 is an int32 (or enum) field.
func Int32(num int, p *int32) Field { return Field{num, (*int32Val)(p)} }

// Int64 is an int64 field.
func Int64(num int, p *int64) Field { return Field{num, (*int64Val)(p)} }

// Strings is a repeated string field.
func Strings(num int, p *[]string) Field { return Field{num, (*stringsVal)(p)} }

// Uint64s is a repeated uint64 field (packed; both forms decode).
func Uint64s(num int, p *[]uint64) Field { return Field{num, (*uint64sVal)(p)} }

// StringMap is a map<string, string> field.
func StringMap(num int, p *map[string]string) Field { return Field{num, (*mapVal)(p)} }

// Ptr constrains P to be *T and a Message.
type Ptr[T any] interface {
	*T
	Message
}

// Msg is a singular message field; a nil pointer is not encoded.
func Msg[T any, P Ptr[T]](num int, p **T) Field { return Field{num, msgVal[T, P]{p}} }

// Msgs is a repeated message field.
func Msgs[T any, P Ptr[T]](num int, p *[]*T) Field { return Field{num, msgsVal[T, P]{p}} }

type (
	stringVal  string
	bytesVal   []byte
	boolVal    bool
	uint32Val  uint32
	uint64Val  uint64
	int32Val   int32
	int64Val   int64
	stringsVal []string
	uint64sVal []uint64
	mapVal     map[string]string
)

func appendVarintField(b []byte, num int, v uint64) []byte {
	if v == 0 {
		return b
	}
	return AppendVarint(AppendTag(b, num, Varint), v)
}

// varint decodes a Varint field; ok is false for another wire type.
func varint(typ Type, data []byte) (uint64, bool) {
	if typ != Varint {
		return 0, false
	}
	v, _ := ConsumeVarint(data)
	return v, true
}

func (p *stringVal) append(b []byte, num int) []byte {
	if *p == "" {
		return b
	}
	b = AppendVarint(AppendTag(b, num, Bytes), uint64(len(*p)))
	return append(b, *p...)
}

func (p *stringVal) decode(typ Type, data []byte) error {
	if typ == Bytes {
		*p = stringVal(payload(data))
	}
	return nil
}

func (p *bytesVal) append(b []byte, num int) []byte {
	if len(*p) == 0 {
		return b
	}
	return AppendBytes(b, num, *p)
}

func (p *bytesVal) decode(typ Type, data []byte) error {
	if typ == Bytes {
		*p = append([]byte{}, payload(data)...)
	}
	return nil
}

func (p *boolVal) append(b []byte, num int) []byte {
	if !*p {
		return b
	}
	return appendVarintField(b, num, 1)
}

func (p *boolVal) decode(typ Type, data []byte) error {
	if v, ok := varint(typ, data); ok {
		*p = v != 0
	}
	return nil
}

func (p *uint32Val) append(b []byte, num int) []byte {
	return appendVarintField(b, num, uint64(*p))
}

func (p *uint32Val) decode(typ Type, data []byte) error {
	if v, ok := varint(typ, data); ok {
		*p = uint32Val(v) // proto truncates, as Go's runtime does
	}
	return nil
}

func (p *uint64Val) append(b []byte, num int) []byte {
	return appendVarintField(b, num, uint64(*p))
}

func (p *uint64Val) decode(typ Type, data []byte) error {
	if v, ok := varint(typ, data); ok {
		*p = uint64Val(v)
	}
	return nil
}

// int32 is sign-extended to 64 bits on the wire (10 bytes if negative).
func (p *int32Val) append(b []byte, num int) []byte {
	return appendVarintField(b, num, uint64(int64(*p)))
}

func (p *int32Val) decode(typ Type, data []byte) error {
	if v, ok := varint(typ, data); ok {
		*p = int32Val(v)
	}
	return nil
}

func (p *int64Val) append(b []byte, num int) []byte {
	return appendVarintField(b, num, uint64(*p))
}

func (p *int64Val) decode(typ Type, data []byte) error {
	if v, ok := varint(typ, data); ok {
		*p = int64Val(v)
	}
	return nil
}

func (p *stringsVal) append(b []byte, num int) []byte {
	for _, s := range *p {
		b = AppendVarint(AppendTag(b, num, Bytes), uint64(len(s)))
		b = append(b, s...)
	}
	return b
}

func (p *stringsVal) decode(typ Type, data []byte) error {
	if typ == Bytes {
		*p = append(*p, string(payload(data)))
	}
	return nil
}

func (p *uint64sVal) append(b []byte, num int) []byte {
	if len(*p) == 0 {
		return b
	}
	n := 0
	for _, v := range *p {
		n += SizeVarint(v)
	}
	b = AppendVarint(AppendTag(b, num, Bytes), uint64(n))
	for _, v := range *p {
		b = AppendVarint(b, v)
	}
	return b
}

func (p *uint64sVal) decode(typ Type, data []byte) error {
	switch typ {
	case Varint:
		v, _ := ConsumeVarint(data)
		*p = append(*p, v)
	case Bytes:
		for data = payload(data); len(data) > 0; {
			v, n := ConsumeVarint(data)
			if n < 0 {
				return ErrTruncated
			}
			*p = append(*p, v)
			data = data[n:]
		}
	}
	return nil
}

// A map entry is a message {key = 1; value = 2}; entries go out sorted,
// so that an encoding is deterministic.
func (p *mapVal) append(b []byte, num int) []byte {
	keys := make([]string, 0, len(*p))
	for k := range *p {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := (*p)[k]
		e := entry{k, v}
		b = AppendBytes(b, num, Marshal(&e))
	}
	return b
}

func (p *mapVal) decode(typ Type, data []byte) error {
	if typ != Bytes {
		return nil
	}
	var e entry
	if err := Unmarshal(payload(data), &e); err != nil {
		return err
	}
	if *p == nil {
		*p = mapVal{}
	}
	(*p)[e.key] = e.value
	return nil
}

type entry struct{ key, value string }

func (e *entry) Fields() []Field { return []Field{String(1, &e.key), String(2, &e.value)} }

type msgVal[T any, P Ptr[T]] struct{ p **T }

func (f msgVal[T, P]) append(b []byte, num int) []byte {
	if *f.p == nil {
		return b
	}
	return appendMessage(b, num, P(*f.p))
}

func (f msgVal[T, P]) decode(typ Type, data []byte) error {
	if typ != Bytes {
		return nil
	}
	if *f.p == nil {
		*f.p = new(T)
	}
	return Unmarshal(payload(data), P(*f.p))
}

type msgsVal[T any, P Ptr[T]] struct{ p *[]*T }

func (f msgsVal[T, P]) append(b []byte, num int) []byte {
	for _, m := range *f.p {
		if m == nil {
			m = new(T) // as Go's runtime: an empty message
		}
		b = appendMessage(b, num, P(m))
	}
	return b
}

func (f msgsVal[T, P]) decode(typ Type, data []byte) error {
	if typ != Bytes {
		return nil
	}
	m := new(T)
	if err := Unmarshal(payload(data), P(m)); err != nil {
		return err
	}
	*f.p = append(*f.p, m)
	return nil
}

// appendMessage appends a length-delimited sub-message. Present messages
// are always encoded, even when empty.
func appendMessage(b []byte, num int, m Message) []byte {
	return AppendBytes(b, num, Marshal(m))
}

// OptString is a proto3 `optional string`: encoded whenever set, even "".
func OptString(num int, p **string) Field { return Field{num, optStringVal{p}} }

type optStringVal struct{ p **string }

func (f optStringVal) append(b []byte, num int) []byte {
	if *f.p == nil {
		return b
	}
	b = AppendVarint(AppendTag(b, num, Bytes), uint64(len(**f.p)))
	return append(b, **f.p...)
}

func (f optStringVal) decode(typ Type, data []byte) error {
	if typ == Bytes {
		s := string(payload(data))
		*f.p = &s
	}
	return nil
}
