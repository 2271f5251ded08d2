package errdefs

import (
	"errors"
	"fmt"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestToGRPC(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want codes.Code
	}{
		{fmt.Errorf("container %q: %w", "x", ErrNotFound), codes.NotFound},
		{fmt.Errorf("create x: %w", ErrAlreadyExists), codes.AlreadyExists},
		{fmt.Errorf("exec id: %w", ErrInvalidArgument), codes.InvalidArgument},
		{fmt.Errorf("delete running: %w", ErrFailedPrecondition), codes.FailedPrecondition},
		{errors.New("boom"), codes.Unknown},
		{status.Error(codes.Aborted, "kept"), codes.Aborted},
	} {
		got := status.Code(ToGRPC(tc.err))
		if got != tc.want {
			t.Errorf("ToGRPC(%v) code = %v, want %v", tc.err, got, tc.want)
		}
	}
	if ToGRPC(nil) != nil {
		t.Errorf("ToGRPC(nil) != nil")
	}
}
