package chunkio

import (
	"io"
	"testing"
)

func TestReader(t *testing.T) {
	chunks := [][]byte{[]byte("lo "), {}, []byte("world")}
	r := &Reader{Buf: []byte("hel"), Recv: func() ([]byte, error) {
		if len(chunks) == 0 {
			return nil, io.EOF
		}
		c := chunks[0]
		chunks = chunks[1:]
		return c, nil
	}}
	b, err := io.ReadAll(r)
	if err != nil || string(b) != "hello world" {
		t.Errorf("ReadAll = %q, %v", b, err)
	}
}
