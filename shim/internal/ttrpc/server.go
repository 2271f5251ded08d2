package ttrpc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/shim/internal/wire"
)

// ErrServerClosed is what Serve returns after Shutdown.
var ErrServerClosed = errors.New("ttrpc: server closed")

// Method serves one call: it decodes the request with decode and returns
// the reply. Return a *Status error to choose the reply's code.
type Method func(ctx context.Context, decode func(wire.Message) error) (wire.Message, error)

// Interceptor wraps every call; fullMethod is "/service/method".
type Interceptor func(ctx context.Context, fullMethod string, decode func(wire.Message) error, m Method) (wire.Message, error)

// Config configures a Server.
type Config struct {
	// SameUser refuses connections from another uid or gid than the
	// server's effective ones (SO_PEERCRED), as containerd's shims do.
	SameUser    bool
	Interceptor Interceptor
	// Logf reports refused connections and accept errors (optional).
	Logf func(format string, args ...any)
}

// Server serves registered services. Each call runs on its own goroutine
// (Wait may block for the life of a container); replies are written whole,
// one at a time.
type Server struct {
	cfg      Config
	services map[string]map[string]Method

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	conns     map[net.Conn]struct{}
	closed    bool
	active    int           // calls whose reply is not written yet
	idle      chan struct{} // signalled when active drops to 0
}

// NewServer returns a server with no service.
func NewServer(cfg Config) *Server {
	return &Server{
		cfg: cfg, services: map[string]map[string]Method{},
		listeners: map[net.Listener]struct{}{}, conns: map[net.Conn]struct{}{},
		idle: make(chan struct{}, 1),
	}
}

// Register adds a service's methods, by method name. Call before Serve.
func (s *Server) Register(service string, methods map[string]Method) {
	s.services[service] = methods
}

// Serve accepts connections on l until Shutdown (ErrServerClosed) or an
// error that is not temporary.
func (s *Server) Serve(l net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrServerClosed
	}
	s.listeners[l] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, l)
		s.mu.Unlock()
		l.Close()
	}()
	var backoff time.Duration
	for {
		conn, err := l.Accept()
		if err != nil {
			if s.isClosed() {
				return ErrServerClosed
			}
			if te, ok := err.(interface{ Temporary() bool }); ok && te.Temporary() {
				backoff = min(max(2*backoff, time.Millisecond), time.Second)
				s.logf("ttrpc: accept: %v; retrying in %v", err, backoff)
				time.Sleep(backoff)
				continue
			}
			return err
		}
		backoff = 0
		if s.cfg.SameUser {
			if err := checkPeer(conn); err != nil {
				s.logf("ttrpc: refusing connection: %v", err)
				conn.Close()
				continue
			}
		}
		if !s.track(conn) {
			conn.Close()
			return ErrServerClosed
		}
		go s.serveConn(conn)
	}
}

// closeGrace is how long Shutdown leaves connections open after the last
// reply: containerd's ttrpc client may report a reply followed at once by
// EOF as "ttrpc: closed" (its call races the reply against the closing
// connection), which would fail the Shutdown call that ended the shim.
const closeGrace = 50 * time.Millisecond

// Shutdown stops accepting, waits until no call is in flight (and then
// closeGrace) or until ctx ends, and closes every connection.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	for l := range s.listeners {
		l.Close()
	}
	s.mu.Unlock()
	defer s.closeConns()
	for {
		s.mu.Lock()
		n := s.active
		s.mu.Unlock()
		if n == 0 {
			t := time.NewTimer(closeGrace)
			defer t.Stop()
			select {
			case <-t.C:
			case <-ctx.Done():
			}
			return nil
		}
		select {
		case <-s.idle:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (s *Server) closeConns() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.Close()
	}
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

func (s *Server) track(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *Server) logf(format string, args ...any) {
	if s.cfg.Logf != nil {
		s.cfg.Logf(format, args...)
	}
}

// checkPeer compares the peer's credentials with ours.
func checkPeer(conn net.Conn) error {
	uc, ok := conn.(*net.UnixConn)
	if !ok {
		return errors.New("not a unix socket connection")
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return err
	}
	var cred *unix.Ucred
	var credErr error
	if err := raw.Control(func(fd uintptr) {
		cred, credErr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return err
	}
	if credErr != nil {
		return fmt.Errorf("SO_PEERCRED: %w", credErr)
	}
	if cred.Uid != uint32(os.Geteuid()) || cred.Gid != uint32(os.Getegid()) {
		return fmt.Errorf("peer uid %d gid %d: %w", cred.Uid, cred.Gid, unix.EPERM)
	}
	return nil
}

// serverConn is one client connection; wmu keeps replies whole.
type serverConn struct {
	conn net.Conn
	wmu  sync.Mutex
}

func (c *serverConn) reply(id uint32, st *RPCStatus, payload []byte) error {
	p := wire.Marshal(&Response{Status: st, Payload: payload})
	if len(p) > maxMessage {
		p = wire.Marshal(&Response{Status: &RPCStatus{
			Code: int32(ResourceExhausted), Message: fmt.Sprintf("reply of %d bytes exceeds the maximum message size of %d", len(p), maxMessage),
		}})
	}
	frame := appendFrame(make([]byte, 0, headerLen+len(p)), id, typeResponse, p)
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_, err := c.conn.Write(frame)
	return err
}

// serveConn reads requests until the connection ends; the calls still
// running then see their context canceled.
func (s *Server) serveConn(conn net.Conn) {
	ctx, cancel := context.WithCancel(context.Background())
	c := &serverConn{conn: conn}
	defer func() {
		cancel()
		conn.Close()
		s.mu.Lock()
		delete(s.conns, conn)
		s.mu.Unlock()
	}()
	var last uint32
	for {
		h, p, err := readFrame(conn)
		if err != nil {
			var tl errTooLarge
			if errors.As(err, &tl) {
				c.reply(h.streamID, &RPCStatus{Code: int32(ResourceExhausted), Message: err.Error()}, nil)
				continue
			}
			return
		}
		fail := func(code Code, format string, args ...any) {
			c.reply(h.streamID, &RPCStatus{Code: int32(code), Message: fmt.Sprintf(format, args...)}, nil)
		}
		switch {
		case h.streamID%2 != 1:
			fail(InvalidArgument, "StreamID must be odd for client initiated streams")
		case h.typ == typeData:
			fail(InvalidArgument, "StreamID is no longer active")
		case h.typ != typeRequest:
			// Unknown types are ignored, for compatibility.
		case h.streamID <= last:
			fail(InvalidArgument, "StreamID cannot be re-used and must increment")
		default:
			last = h.streamID
			var req Request
			if err := wire.Unmarshal(p, &req); err != nil {
				fail(InvalidArgument, "unmarshal request error: %v", err)
				continue
			}
			svc, ok := s.services[req.Service]
			if !ok {
				fail(Unimplemented, "service %v", req.Service)
				continue
			}
			m, ok := svc[req.Method]
			if !ok {
				fail(Unimplemented, "method %v", req.Method)
				continue
			}
			s.begin()
			go s.call(ctx, c, h.streamID, &req, m)
		}
	}
}

func (s *Server) begin() {
	s.mu.Lock()
	s.active++
	s.mu.Unlock()
}

func (s *Server) end() {
	s.mu.Lock()
	s.active--
	n := s.active
	s.mu.Unlock()
	if n == 0 {
		select {
		case s.idle <- struct{}{}:
		default:
		}
	}
}

// call runs one request and writes its reply; the call stays active (for
// Shutdown) until the reply is out.
func (s *Server) call(ctx context.Context, c *serverConn, id uint32, req *Request, m Method) {
	defer s.end()
	if req.TimeoutNano > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(req.TimeoutNano))
		defer cancel()
	}
	decode := func(msg wire.Message) error {
		if err := wire.Unmarshal(req.Payload, msg); err != nil {
			return Errorf(Internal, "ttrpc: error unmarshalling payload: %v", err)
		}
		return nil
	}
	var (
		resp wire.Message
		err  error
	)
	if s.cfg.Interceptor != nil {
		resp, err = s.cfg.Interceptor(ctx, "/"+req.Service+"/"+req.Method, decode, m)
	} else {
		resp, err = m(ctx, decode)
	}
	if err != nil {
		c.reply(id, toStatus(err), nil)
		return
	}
	var p []byte
	if resp != nil {
		p = wire.Marshal(resp)
	}
	c.reply(id, &RPCStatus{}, p)
}
