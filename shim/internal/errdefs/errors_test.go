package errdefs

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/berth-project/berth/shim/internal/ttrpc"
)

func TestToGRPC(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want ttrpc.Code
	}{
		{fmt.Errorf("container %q: %w", "x", ErrNotFound), ttrpc.NotFound},
		{fmt.Errorf("create x: %w", ErrAlreadyExists), ttrpc.AlreadyExists},
		{fmt.Errorf("exec id: %w", ErrInvalidArgument), ttrpc.InvalidArgument},
		{fmt.Errorf("delete running: %w", ErrFailedPrecondition), ttrpc.FailedPrecondition},
		{fmt.Errorf("checkpoint: %w", ErrNotImplemented), ttrpc.Unimplemented},
		{fmt.Errorf("wait: %w", context.Canceled), ttrpc.Canceled},
		{errors.New("boom"), ttrpc.Unknown},
		{ttrpc.Errorf(ttrpc.Aborted, "kept"), ttrpc.Aborted},
	} {
		got := ttrpc.CodeOf(ToGRPC(tc.err))
		if got != tc.want {
			t.Errorf("ToGRPC(%v) code = %v, want %v", tc.err, got, tc.want)
		}
		if s, _ := ttrpc.FromError(ToGRPC(tc.err)); s.Message != tc.err.Error() && tc.want != ttrpc.Aborted {
			t.Errorf("ToGRPC(%v) message = %q, want the error's text", tc.err, s.Message)
		}
	}
	if ToGRPC(nil) != nil {
		t.Errorf("ToGRPC(nil) != nil")
	}
}
