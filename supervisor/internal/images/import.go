package images

import (
	"bufio"
	"context"
	"fmt"
	"io"
)

// Import makes a one-layer image from a rootfs tar (plain, gzip or zstd):
// Commit without a parent, the layer stored gzip-compressed, and the
// image tagged as ref (if not empty).
func (s *Service) Import(ctx context.Context, ref, message string, r io.Reader) (string, error) {
	dec, closeDec, err := decompress(bufio.NewReaderSize(r, 1<<20))
	if err != nil {
		return "", fmt.Errorf("import: %w", err)
	}
	defer closeDec()
	id, err := s.Commit(ctx, CommitInput{Layer: dec, Reference: ref, CreatedBy: "berth import", Comment: message})
	if err != nil {
		return "", fmt.Errorf("import: %w", err)
	}
	return id, nil
}
