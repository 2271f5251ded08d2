package images

import (
	"hash"
	"io"
	"sync"
)

// chunkPipe joins two goroutines of a layer's stream (download ->
// decompression -> tar extraction) by handing whole buffers over a channel:
// the writer fills a chunk and sends it, the reader reads it out and gives
// it back for reuse. With io.Pipe every Read is a rendezvous with a Write,
// and the tar reader reads each 512-byte header and each small file on its
// own: two goroutine switches per read, tens of thousands per layer (perf:
// futex, nanosleep and the scheduler ahead of the tar code). Here the two
// sides meet once per chunk, and up to depth chunks buffer bursts on either
// side (a slow file creation, a slow network read).
//
// One goroutine writes (Write, ReadFrom, CloseWrite), one reads (Read,
// CloseRead).
type chunkPipe struct {
	full chan []byte
	free chan []byte
	done chan struct{} // closed by CloseRead
	once sync.Once
	size int
	werr error // set by CloseWrite before full is closed

	cur []byte // writer: the chunk being filled

	rd   []byte    // reader: unread part of the current chunk
	rbuf []byte    // reader: the current chunk, to give back
	h    hash.Hash // reader: hashes every chunk as it arrives, or nil
	n    int64     // reader: bytes received
}

func newChunkPipe(size, depth int) *chunkPipe {
	return &chunkPipe{
		full: make(chan []byte, depth),
		free: make(chan []byte, depth+2),
		done: make(chan struct{}),
		size: size,
	}
}

func (p *chunkPipe) chunk() []byte {
	select {
	case b := <-p.free:
		return b[:0]
	default:
		return make([]byte, 0, p.size)
	}
}

// send hands the current chunk to the reader; errAborted once the reader
// is gone.
func (p *chunkPipe) send() error {
	c := p.cur
	p.cur = nil
	select {
	case p.full <- c:
		return nil
	case <-p.done:
		return errAborted
	}
}

// Write copies b into chunks, sending each one as it fills.
func (p *chunkPipe) Write(b []byte) (int, error) {
	n := 0
	for len(b) > 0 {
		if p.cur == nil {
			p.cur = p.chunk()
		}
		m := copy(p.cur[len(p.cur):cap(p.cur)], b)
		p.cur = p.cur[:len(p.cur)+m]
		b = b[m:]
		n += m
		if len(p.cur) == cap(p.cur) {
			if err := p.send(); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

// ReadFrom reads r into chunks directly (no copy in between) until r's
// EOF. It does not close the pipe.
func (p *chunkPipe) ReadFrom(r io.Reader) (int64, error) {
	var n int64
	for {
		if p.cur == nil {
			p.cur = p.chunk()
		}
		m, err := r.Read(p.cur[len(p.cur):cap(p.cur)])
		p.cur = p.cur[:len(p.cur)+m]
		n += int64(m)
		if len(p.cur) == cap(p.cur) {
			if serr := p.send(); serr != nil {
				return n, serr
			}
		}
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

// CloseWrite sends what is buffered and ends the stream: the reader gets
// err after the data, or io.EOF if err is nil.
func (p *chunkPipe) CloseWrite(err error) {
	if err == nil && len(p.cur) > 0 {
		err = p.send()
	}
	p.cur = nil
	p.werr = err
	close(p.full)
}

// Read implements io.Reader.
func (p *chunkPipe) Read(b []byte) (int, error) {
	for len(p.rd) == 0 {
		if p.rbuf != nil {
			select {
			case p.free <- p.rbuf:
			default:
			}
			p.rbuf = nil
		}
		c, ok := <-p.full
		if !ok {
			if p.werr != nil {
				return 0, p.werr
			}
			return 0, io.EOF
		}
		if p.h != nil {
			p.h.Write(c)
		}
		p.n += int64(len(c))
		p.rbuf, p.rd = c, c
		if len(b) == 0 {
			return 0, nil
		}
	}
	n := copy(b, p.rd)
	p.rd = p.rd[n:]
	return n, nil
}

// CloseRead makes the writer's pending and later sends fail with
// errAborted.
func (p *chunkPipe) CloseRead() {
	p.once.Do(func() { close(p.done) })
}
