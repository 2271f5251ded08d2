package containers

import (
	"context"
	"fmt"
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/berth-project/berth/supervisor/internal/images"
	"github.com/berth-project/berth/supervisor/internal/rootfs"
)

// CommitLayer commits the container layer on the container's image with
// exactly the config cfg. The builder uses it rather than Commit: Commit
// folds the container's own command and environment into the image, and
// a RUN step's command and build args must not end up there.
func (s *Service) CommitLayer(ctx context.Context, id string, cfg v1.Config, createdBy string) (string, error) {
	c, err := s.get(id)
	if err != nil {
		return "", err
	}
	r, err := rootfs.Open(c.paths.Upper())
	if err != nil {
		return "", err
	}
	defer r.Close()
	pr, pw := io.Pipe()
	go func() {
		pw.CloseWithError(r.Tar("/", pw, rootfs.TarOptions{Whiteouts: true}))
	}()
	img, err := s.images.Commit(ctx, images.CommitInput{
		ParentID: c.record().ImageID, Layer: pr, CreatedBy: createdBy,
		Change: func(ic *v1.Config) error { *ic = cfg; return nil },
	})
	pr.CloseWithError(io.ErrClosedPipe)
	if err != nil {
		return "", fmt.Errorf("commit %s: %w", shortID(id), err)
	}
	return img, nil
}
