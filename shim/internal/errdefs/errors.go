// Package errdefs holds the shim's error categories and maps them, once, to
// the gRPC status codes that containerd's errdefs.FromGRPC turns back into
// its own categories (so `ctr` prints "not found", "already exists", ...).
package errdefs

import (
	"context"
	"errors"

	"github.com/berth-project/berth/shim/internal/ttrpc"
)

// Sentinel categories; wrap them with %w and a short prefix.
var (
	ErrNotFound           = errors.New("not found")
	ErrAlreadyExists      = errors.New("already exists")
	ErrInvalidArgument    = errors.New("invalid argument")
	ErrFailedPrecondition = errors.New("failed precondition")
	ErrUnavailable        = errors.New("unavailable")
	ErrNotImplemented     = errors.New("not implemented")
)

// ToGRPC converts err into a status error whose code names its category
// and whose message is err's text. Errors that already carry a status are
// returned unchanged.
func ToGRPC(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := ttrpc.FromError(err); ok {
		return err
	}
	return &ttrpc.Status{Code: Code(err), Message: err.Error()}
}

// Code returns the gRPC code for err's category.
func Code(err error) ttrpc.Code {
	switch {
	case errors.Is(err, ErrNotFound):
		return ttrpc.NotFound
	case errors.Is(err, ErrAlreadyExists):
		return ttrpc.AlreadyExists
	case errors.Is(err, ErrInvalidArgument):
		return ttrpc.InvalidArgument
	case errors.Is(err, ErrFailedPrecondition):
		return ttrpc.FailedPrecondition
	case errors.Is(err, ErrUnavailable):
		return ttrpc.Unavailable
	case errors.Is(err, ErrNotImplemented):
		return ttrpc.Unimplemented
	case errors.Is(err, context.Canceled):
		return ttrpc.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		return ttrpc.DeadlineExceeded
	}
	return ttrpc.Unknown
}
