package images

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/berth-project/berth/supervisor/api"
	"github.com/berth-project/berth/supervisor/internal/unpack"
)

// layerJob is one layer of an image being ingested.
type layerJob struct {
	blob    v1.Descriptor // the (usually compressed) blob
	diffID  v1.Hash       // digest of the uncompressed tar, from the config
	chainID string
	parent  string // parent chain ID, "" for the bottom layer
	// open fetches the blob; nil when it must already be in the store.
	open func(ctx context.Context) (io.ReadCloser, error)
}

var errAborted = errors.New("aborted")

// ensureLayer makes sure the layer's blob is in the content store and its
// snapshot is committed. Downloading, verifying, decompressing and
// unpacking run as one stream (HTTP body -> blob file and digest ->
// decompressor -> diff ID digest -> tar extractor), in three goroutines so
// that they overlap; the blob is committed only if its digest and size
// match, the snapshot only if the diff ID matches too, else both are
// discarded. sem bounds concurrent downloads; it is not held while waiting
// for the parent layer.
func (s *Service) ensureLayer(ctx context.Context, j layerJob, sem chan struct{}, prog ProgressFunc) error {
	id := shortID(j.blob.Digest.String())
	unlock, err := s.locks.Lock(ctx, "chain:"+j.chainID)
	if err != nil {
		return err
	}
	defer unlock()
	if s.snaps.Get(j.chainID) != nil {
		if !s.content.Has(j.blob.Digest, j.blob.Size) {
			if err := s.fetchBlob(ctx, j, sem, prog); err != nil {
				return err
			}
		}
		prog(&api.Progress{Id: id, Status: "Already exists"})
		return nil
	}
	unlockBlob, err := s.locks.Lock(ctx, "blob:"+j.blob.Digest.String())
	if err != nil {
		return err
	}
	defer unlockBlob()

	select {
	case sem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	released := false
	release := func() {
		if !released {
			released = true
			<-sem
		}
	}
	defer release()

	ing, err := s.snaps.Prepare()
	if err != nil {
		return err
	}
	defer ing.Discard()

	var (
		res     *unpack.Result
		tarSize int64
		diffID  v1.Hash
	)
	if s.content.Has(j.blob.Digest, j.blob.Size) {
		f, err := s.content.Open(j.blob.Digest)
		if err != nil {
			return err
		}
		prog(&api.Progress{Id: id, Status: "Extracting", Total: j.blob.Size})
		res, tarSize, diffID, err = extractLayer(ctx, f, ing.FS())
		f.Close()
		if err != nil {
			return fmt.Errorf("layer %s: %w", id, err)
		}
	} else {
		if j.open == nil {
			return fmt.Errorf("layer %s: blob %s: %w", id, j.blob.Digest, ErrNotFound)
		}
		body, err := j.open(ctx)
		if err != nil {
			return fmt.Errorf("layer %s: %w", id, err)
		}
		w, err := s.content.NewWriter(j.blob.Digest, j.blob.Size)
		if err != nil {
			body.Close()
			return err
		}
		defer w.Close()
		// The body is read straight into the pipe's chunks, which the
		// blob writer (file and digest) sees on the way.
		dp := newChunkPipe(256<<10, 8)
		fetchErr := make(chan error, 1)
		go func() {
			defer body.Close()
			cr := &countingReader{r: body, id: id, total: j.blob.Size, prog: prog}
			_, err := dp.ReadFrom(io.TeeReader(cr, w))
			dp.CloseWrite(err)
			fetchErr <- err
		}()
		res, tarSize, diffID, err = extractLayer(ctx, dp, ing.FS())
		dp.CloseRead()
		if ferr := <-fetchErr; ferr != nil && !errors.Is(ferr, errAborted) {
			return fmt.Errorf("layer %s: download: %w", id, ferr)
		}
		if err != nil {
			return fmt.Errorf("layer %s: %w", id, err)
		}
		prog(&api.Progress{Id: id, Status: "Verifying Checksum", Current: w.Size(), Total: j.blob.Size})
		if _, err := w.Commit(); err != nil {
			return fmt.Errorf("layer %s: %w", id, err)
		}
		prog(&api.Progress{Id: id, Status: "Download complete", Current: j.blob.Size, Total: j.blob.Size})
	}
	if diffID != j.diffID {
		return fmt.Errorf("layer %s: uncompressed digest %s does not match the config's diff ID %s", id, diffID, j.diffID)
	}
	release()
	unlockBlob()
	if j.parent != "" {
		if err := s.snaps.Wait(ctx, j.parent); err != nil {
			return err
		}
	}
	if err := s.snaps.Commit(j.chainID, j.parent, j.diffID.String(), ing, res, tarSize); err != nil {
		return err
	}
	prog(&api.Progress{Id: id, Status: "Pull complete"})
	return nil
}

// fetchBlob downloads a blob into the store without unpacking it (its
// snapshot exists already, from a copy compressed differently).
func (s *Service) fetchBlob(ctx context.Context, j layerJob, sem chan struct{}, prog ProgressFunc) error {
	id := shortID(j.blob.Digest.String())
	unlock, err := s.locks.Lock(ctx, "blob:"+j.blob.Digest.String())
	if err != nil {
		return err
	}
	defer unlock()
	if s.content.Has(j.blob.Digest, j.blob.Size) {
		return nil
	}
	if j.open == nil {
		return fmt.Errorf("layer %s: blob %s: %w", id, j.blob.Digest, ErrNotFound)
	}
	select {
	case sem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-sem }()
	body, err := j.open(ctx)
	if err != nil {
		return fmt.Errorf("layer %s: %w", id, err)
	}
	defer body.Close()
	cr := &countingReader{r: body, id: id, total: j.blob.Size, prog: prog}
	if _, err := s.content.WriteBlob(j.blob.Digest, j.blob.Size, cr); err != nil {
		return fmt.Errorf("layer %s: %w", id, err)
	}
	return nil
}

// extractLayer decompresses r (gzip, zstd or plain tar, by magic number)
// and unpacks it into dir, returning the uncompressed size and digest.
// Decompression runs in its own goroutine, overlapping the extraction; the
// uncompressed digest is computed on the extraction's side, off the
// decompressor, which is the longest stage.
func extractLayer(ctx context.Context, r io.Reader, dir string) (*unpack.Result, int64, v1.Hash, error) {
	br := bufio.NewReaderSize(r, 256<<10)
	dec, closeDec, err := decompress(br)
	if err != nil {
		return nil, 0, v1.Hash{}, err
	}
	defer closeDec()
	h := sha256.New()
	tp := newChunkPipe(256<<10, 16)
	tp.h = h
	decErr := make(chan error, 1)
	go func() {
		_, err := io.Copy(tp, dec) // dec.WriteTo or tp.ReadFrom: one copy
		if err == nil {
			// Whatever follows the compressed stream still counts
			// for the blob digest the caller computes.
			_, err = io.Copy(io.Discard, br)
		}
		tp.CloseWrite(err)
		decErr <- err
	}()
	res, err := unpack.Apply(ctx, dir, tp)
	tp.CloseRead()
	derr := <-decErr
	if derr != nil && !errors.Is(derr, errAborted) {
		return nil, 0, v1.Hash{}, fmt.Errorf("decompress: %w", derr)
	}
	if err != nil {
		return nil, 0, v1.Hash{}, err
	}
	// Apply read the stream to its end: every chunk went through h.
	return res, tp.n, v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", h.Sum(nil))}, nil
}

var (
	gzipMagic = []byte{0x1f, 0x8b}
	zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}
)

func decompress(br *bufio.Reader) (io.Reader, func(), error) {
	magic, _ := br.Peek(4)
	switch {
	case bytes.HasPrefix(magic, gzipMagic):
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, nil, fmt.Errorf("gzip: %w", err)
		}
		return zr, func() { zr.Close() }, nil
	case bytes.HasPrefix(magic, zstdMagic):
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(2), zstd.WithDecoderMaxMemory(1<<32))
		if err != nil {
			return nil, nil, fmt.Errorf("zstd: %w", err)
		}
		return zr, zr.Close, nil
	}
	return br, func() {}, nil
}

// countingReader reports download progress at most every 100ms.
type countingReader struct {
	r     io.Reader
	id    string
	n     int64
	total int64
	last  time.Time
	prog  ProgressFunc
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if now := time.Now(); now.Sub(c.last) > 100*time.Millisecond || (err == io.EOF && c.n > 0) {
		c.last = now
		c.prog(&api.Progress{Id: c.id, Status: "Downloading", Current: c.n, Total: c.total})
	}
	return n, err
}

// LockedProgress serialises calls to a progress sink.
func LockedProgress(send func(*api.Progress) error) ProgressFunc {
	var mu sync.Mutex
	return func(p *api.Progress) {
		mu.Lock()
		defer mu.Unlock()
		send(p)
	}
}
