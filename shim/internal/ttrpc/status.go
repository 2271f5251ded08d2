package ttrpc

import (
	"context"
	"errors"
	"fmt"
)

// Code is a gRPC status code, as ttrpc carries them.
type Code int32

// The codes (google.golang.org/grpc/codes).
const (
	OK                 Code = 0
	Canceled           Code = 1
	Unknown            Code = 2
	InvalidArgument    Code = 3
	DeadlineExceeded   Code = 4
	NotFound           Code = 5
	AlreadyExists      Code = 6
	PermissionDenied   Code = 7
	ResourceExhausted  Code = 8
	FailedPrecondition Code = 9
	Aborted            Code = 10
	OutOfRange         Code = 11
	Unimplemented      Code = 12
	Internal           Code = 13
	Unavailable        Code = 14
	DataLoss           Code = 15
	Unauthenticated    Code = 16
)

var codeNames = [...]string{
	"OK", "Canceled", "Unknown", "InvalidArgument", "DeadlineExceeded", "NotFound", "AlreadyExists",
	"PermissionDenied", "ResourceExhausted", "FailedPrecondition", "Aborted", "OutOfRange",
	"Unimplemented", "Internal", "Unavailable", "DataLoss", "Unauthenticated",
}

func (c Code) String() string {
	if c >= 0 && int(c) < len(codeNames) {
		return codeNames[c]
	}
	return fmt.Sprintf("Code(%d)", int32(c))
}

// Status is an error with a code: what a handler returns to choose the
// reply's status, and what Client.Call returns when the server answered
// with one.
type Status struct {
	Code    Code
	Message string
}

// Errorf returns a *Status error.
func Errorf(code Code, format string, args ...any) error {
	return &Status{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Error formats as gRPC's status errors do.
func (s *Status) Error() string {
	return fmt.Sprintf("rpc error: code = %s desc = %s", s.Code, s.Message)
}

// FromError returns err's status if it is (or wraps) a *Status.
func FromError(err error) (*Status, bool) {
	var s *Status
	if errors.As(err, &s) {
		return s, true
	}
	return nil, false
}

// CodeOf is err's code: OK for nil, Unknown for an error without status
// (context errors get Canceled and DeadlineExceeded, as ttrpc does).
func CodeOf(err error) Code {
	if err == nil {
		return OK
	}
	if s, ok := FromError(err); ok {
		return s.Code
	}
	switch {
	case errors.Is(err, context.Canceled):
		return Canceled
	case errors.Is(err, context.DeadlineExceeded):
		return DeadlineExceeded
	}
	return Unknown
}

// toStatus converts a handler's error for the wire.
func toStatus(err error) *RPCStatus {
	if s, ok := FromError(err); ok {
		return &RPCStatus{Code: int32(s.Code), Message: s.Message}
	}
	return &RPCStatus{Code: int32(CodeOf(err)), Message: err.Error()}
}
