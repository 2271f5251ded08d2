package ttrpc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"time"

	"github.com/berth-project/berth/shim/internal/wire"
)

// NamespaceKey is the metadata key containerd's shims send the namespace
// under (containerd's namespaces.TTRPCHeader).
const NamespaceKey = "containerd-namespace-ttrpc"

// Client makes unary calls on one connection, one call at a time: it has
// no reader goroutine, so an idle client costs only its socket. A call
// that fails on the connection (or is canceled mid-way) breaks the client;
// the caller then closes it and dials again.
type Client struct {
	conn net.Conn

	mu     sync.Mutex
	next   uint32
	broken error
}

// NewClient returns a client on conn.
func NewClient(conn net.Conn) *Client {
	return &Client{conn: conn, next: 1}
}

// Close closes the connection.
func (c *Client) Close() error {
	return c.conn.Close()
}

// Call calls service/method with req and decodes the reply into resp. A
// status the server replied with is returned as a *Status; ctx's deadline
// is sent along as the call's timeout.
func (c *Client) Call(ctx context.Context, service, method string, req, resp wire.Message, md ...KeyValue) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.broken != nil {
		return fmt.Errorf("ttrpc: connection unusable: %w", c.broken)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	r := &Request{Service: service, Method: method, Payload: wire.Marshal(req)}
	for i := range md {
		r.Metadata = append(r.Metadata, &md[i])
	}
	dl, ok := ctx.Deadline()
	if ok {
		r.TimeoutNano = int64(time.Until(dl))
	}
	c.conn.SetDeadline(dl) // the zero time when there is none
	// Cancellation interrupts blocked reads and writes.
	stop := context.AfterFunc(ctx, func() { c.conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	p := wire.Marshal(r)
	if len(p) > maxMessage {
		return Errorf(ResourceExhausted, "message length %d exceeds maximum message size of %d", len(p), maxMessage)
	}
	id := c.next
	c.next += 2
	if _, err := c.conn.Write(appendFrame(make([]byte, 0, headerLen+len(p)), id, typeRequest, p)); err != nil {
		return c.fail(ctx, err)
	}
	for {
		h, p, err := readFrame(c.conn)
		var tl errTooLarge
		switch {
		case errors.As(err, &tl) && h.streamID == id:
			return Errorf(ResourceExhausted, "%v", err)
		case errors.As(err, &tl):
			continue
		case err != nil:
			return c.fail(ctx, err)
		case h.streamID != id || h.typ != typeResponse:
			continue // not ours (a reply to an abandoned call cannot come: those break the client)
		}
		var rs Response
		if err := wire.Unmarshal(p, &rs); err != nil {
			return c.fail(ctx, fmt.Errorf("ttrpc: bad response: %w", err))
		}
		if rs.Status != nil && rs.Status.Code != int32(OK) {
			return &Status{Code: Code(rs.Status.Code), Message: rs.Status.Message}
		}
		if err := wire.Unmarshal(rs.Payload, resp); err != nil {
			return fmt.Errorf("ttrpc: decode %s reply: %w", method, err)
		}
		return nil
	}
}

// fail breaks the client; a canceled or expired ctx is reported as such.
// The socket's deadline (ctx's) may fire before ctx's own timer does.
func (c *Client) fail(ctx context.Context, err error) error {
	c.broken = err
	if ctxErr := ctx.Err(); ctxErr != nil {
		return ctxErr
	}
	if dl, ok := ctx.Deadline(); ok && errors.Is(err, os.ErrDeadlineExceeded) && !time.Now().Before(dl) {
		return context.DeadlineExceeded
	}
	return err
}
