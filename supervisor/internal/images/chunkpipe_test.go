package images

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand"
	"testing"
	"testing/iotest"
)

func TestChunkPipe(t *testing.T) {
	data := make([]byte, 3<<20+12345)
	rand.New(rand.NewSource(1)).Read(data)
	for _, mode := range []string{"write", "readfrom"} {
		t.Run(mode, func(t *testing.T) {
			p := newChunkPipe(64<<10, 3)
			h := sha256.New()
			p.h = h
			go func() {
				var err error
				if mode == "write" {
					// Odd-sized writes straddle chunks.
					for b := data; len(b) > 0 && err == nil; {
						n := min(len(b), 7777)
						_, err = p.Write(b[:n])
						b = b[n:]
					}
				} else {
					_, err = p.ReadFrom(iotest.HalfReader(bytes.NewReader(data)))
				}
				p.CloseWrite(err)
			}()
			// Small reads, like tar headers.
			got, err := io.ReadAll(iotest.OneByteReader(io.LimitReader(p, 1000)))
			if err != nil {
				t.Fatal(err)
			}
			rest, err := io.ReadAll(p)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, rest...)
			if !bytes.Equal(got, data) {
				t.Fatalf("read %d bytes, differ from the %d written", len(got), len(data))
			}
			if want := sha256.Sum256(data); !bytes.Equal(h.Sum(nil), want[:]) || p.n != int64(len(data)) {
				t.Errorf("reader-side hash or count (%d) wrong", p.n)
			}
		})
	}
}

func TestChunkPipeErrors(t *testing.T) {
	// The writer's error reaches the reader after the data.
	p := newChunkPipe(16, 2)
	boom := errors.New("boom")
	go func() {
		p.Write([]byte("0123456789abcdef0123"))
		p.CloseWrite(boom)
	}()
	b, err := io.ReadAll(p)
	if !errors.Is(err, boom) || string(b) != "0123456789abcdef" {
		// The partial chunk is not sent on error: the stream is
		// broken anyway.
		t.Errorf("ReadAll = %q, %v", b, err)
	}

	// A reader that gives up unblocks the writer.
	p = newChunkPipe(16, 1)
	done := make(chan error, 1)
	go func() {
		_, err := p.ReadFrom(infinite{})
		done <- err
	}()
	buf := make([]byte, 8)
	p.Read(buf)
	p.CloseRead()
	if err := <-done; !errors.Is(err, errAborted) {
		t.Errorf("writer after CloseRead: %v, want errAborted", err)
	}
}

type infinite struct{}

func (infinite) Read(p []byte) (int, error) { return len(p), nil }
