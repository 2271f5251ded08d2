// Package apitest checks hand-written wire messages against the official
// generated types. Only tests import it: the shim binary must not link
// google.golang.org/protobuf's runtime.
package apitest

import (
	"fmt"
	"reflect"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/berth-project/berth/shim/internal/wire"
)

// Check fills every field of official that ours declares (matched by Go
// field name, recursively) with distinct non-zero values, then checks both
// directions: ours encoded and decoded by the official runtime equals the
// filled message, and the official encoding decoded by ours equals the
// same values converted field by field. ours and official are fresh
// pointers to the two types.
func Check(t *testing.T, ours wire.Message, official proto.Message) {
	t.Helper()
	n := 0
	fill(reflect.ValueOf(official).Elem(), reflect.TypeOf(ours).Elem(), &n)
	if err := convert(reflect.ValueOf(ours).Elem(), reflect.ValueOf(official).Elem()); err != nil {
		t.Fatalf("%T: %v", ours, err)
	}

	got := official.ProtoReflect().New().Interface()
	if err := proto.Unmarshal(wire.Marshal(ours), got); err != nil {
		t.Fatalf("%T: official decode of ours: %v", ours, err)
	}
	if !proto.Equal(got, official) {
		t.Errorf("%T: ours encoded, official decoded:\n got  %v\n want %v", ours, got, official)
	}

	b, err := proto.Marshal(official)
	if err != nil {
		t.Fatal(err)
	}
	dec := reflect.New(reflect.TypeOf(ours).Elem()).Interface().(wire.Message)
	if err := wire.Unmarshal(b, dec); err != nil {
		t.Fatalf("%T: our decode of official: %v", ours, err)
	}
	if !reflect.DeepEqual(dec, ours) {
		t.Errorf("%T: official encoded, ours decoded:\n got  %+v\n want %+v", ours, dec, ours)
	}
}

// fill sets the fields of v (an official struct) that like (our struct
// type) has.
func fill(v reflect.Value, like reflect.Type, n *int) {
	for i := 0; i < like.NumField(); i++ {
		f := v.FieldByName(like.Field(i).Name)
		if !f.IsValid() {
			continue // reported by convert
		}
		fillValue(f, like.Field(i).Type, n)
	}
}

func fillValue(f reflect.Value, like reflect.Type, n *int) {
	*n++
	switch f.Kind() {
	case reflect.String:
		f.SetString(fmt.Sprintf("s%d", *n))
	case reflect.Bool:
		f.SetBool(true)
	case reflect.Uint32, reflect.Uint64:
		f.SetUint(uint64(*n) << (*n % 5 * 7)) // varints of several lengths
	case reflect.Int32, reflect.Int64:
		f.SetInt(-int64(*n)) // negative: 10-byte varints
	case reflect.Pointer:
		f.Set(reflect.New(f.Type().Elem()))
		if f.Elem().Kind() == reflect.Struct {
			fill(f.Elem(), like.Elem(), n)
		} else {
			fillValue(f.Elem(), like.Elem(), n)
		}
	case reflect.Slice:
		if f.Type().Elem().Kind() == reflect.Uint8 {
			f.SetBytes([]byte{byte(*n), 0, 0xff})
			return
		}
		s := reflect.MakeSlice(f.Type(), 2, 2)
		for i := 0; i < 2; i++ {
			fillValue(s.Index(i), like.Elem(), n)
		}
		f.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(f.Type())
		for i := 0; i < 2; i++ {
			*n++
			m.SetMapIndex(reflect.ValueOf(fmt.Sprintf("k%d", *n)), reflect.ValueOf(fmt.Sprintf("v%d", *n)))
		}
		f.Set(m)
	default:
		panic(fmt.Sprintf("apitest: cannot fill %s", f.Type()))
	}
}

// convert copies src (official) into dst (ours) by field name; every field
// of ours must exist in the official type.
func convert(dst, src reflect.Value) error {
	switch dst.Kind() {
	case reflect.Struct:
		for i := 0; i < dst.NumField(); i++ {
			name := dst.Type().Field(i).Name
			sf := src.FieldByName(name)
			if !sf.IsValid() {
				return fmt.Errorf("field %s not in %s", name, src.Type())
			}
			if err := convert(dst.Field(i), sf); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
		}
	case reflect.Pointer:
		if src.IsNil() {
			return nil
		}
		dst.Set(reflect.New(dst.Type().Elem()))
		return convert(dst.Elem(), src.Elem())
	case reflect.Slice:
		if src.IsNil() {
			return nil
		}
		dst.Set(reflect.MakeSlice(dst.Type(), src.Len(), src.Len()))
		for i := 0; i < src.Len(); i++ {
			if err := convert(dst.Index(i), src.Index(i)); err != nil {
				return err
			}
		}
	case reflect.Map:
		if src.IsNil() {
			return nil
		}
		dst.Set(reflect.MakeMap(dst.Type()))
		for _, k := range src.MapKeys() {
			dst.SetMapIndex(k, src.MapIndex(k))
		}
	default:
		if !src.Type().ConvertibleTo(dst.Type()) || src.Kind() != dst.Kind() {
			return fmt.Errorf("type %s is not %s", src.Type(), dst.Type())
		}
		dst.Set(src.Convert(dst.Type()))
	}
	return nil
}
