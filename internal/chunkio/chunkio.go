// Package chunkio turns a stream of byte chunks (a ttrpc stream's data
// messages) into an io.Reader, for both ends of berth's API.
package chunkio

// Reader reads the chunks Recv returns, starting with Buf; Recv's error
// (io.EOF at the end) ends the reading.
type Reader struct {
	Recv func() ([]byte, error)
	Buf  []byte
}

func (r *Reader) Read(p []byte) (int, error) {
	for len(r.Buf) == 0 {
		b, err := r.Recv()
		if err != nil {
			return 0, err
		}
		r.Buf = b
	}
	n := copy(p, r.Buf)
	r.Buf = r.Buf[n:]
	return n, nil
}
