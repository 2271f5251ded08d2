// Package client connects the berth CLI to berthd's API socket and turns
// the daemon's status errors into one-line messages.
package client

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/containerd/ttrpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/berth-project/berth/supervisor/api"
)

// DefaultAddress is berthd's socket when neither --address nor
// BERTH_ADDRESS says otherwise.
const DefaultAddress = "/run/berth/berthd.sock"

// Address returns BERTH_ADDRESS or the default.
func Address() string {
	if a := os.Getenv("BERTH_ADDRESS"); a != "" {
		return a
	}
	return DefaultAddress
}

// Client is a connection to berthd.
type Client struct {
	c          *ttrpc.Client
	Images     api.TTRPCImagesClient
	Containers api.TTRPCContainersClient
}

// Dial connects to the socket at addr.
func Dial(ctx context.Context, addr string) (*Client, error) {
	d := net.Dialer{Timeout: 5 * time.Second}
	conn, err := d.DialContext(ctx, "unix", addr)
	if err != nil {
		return nil, fmt.Errorf("cannot connect to berthd at unix://%s: is berthd running? (%w)", addr, unwrapOp(err))
	}
	c := ttrpc.NewClient(conn)
	return &Client{c: c, Images: api.NewTTRPCImagesClient(c), Containers: api.NewTTRPCContainersClient(c)}, nil
}

// Close closes the connection.
func (c *Client) Close() error { return c.c.Close() }

func unwrapOp(err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		var se *os.SyscallError
		if errors.As(op.Err, &se) {
			return se.Err
		}
		return op.Err
	}
	return err
}

// DaemonError is an error berthd returned.
type DaemonError struct {
	Msg  string
	Code codes.Code
}

func (e *DaemonError) Error() string { return "Error response from daemon: " + e.Msg }

// Wrap marks errors that came from berthd so that they print as Docker
// prints them.
func Wrap(err error) error {
	if err == nil {
		return nil
	}
	if st, ok := status.FromError(err); ok {
		return &DaemonError{Msg: st.Message(), Code: st.Code()}
	}
	return err
}
