// Package events forwards task events to the shim's caller over ttrpc
// (containerd.services.events.ttrpc.v1.Events/Forward at TTRPC_ADDRESS), in
// the order they were published, from one goroutine. A caller that is down
// (containerd restarting) gets a few retries and the event is then dropped:
// a restarted caller asks the shim for State and Wait instead.
package events

import (
	"context"
	"net"
	"sync"
	"time"

	"github.com/berth-project/berth/shim/internal/api"
	"github.com/berth-project/berth/shim/internal/ttrpc"
)

// Topics, as containerd's runtime package names them.
const (
	TopicCreate      = "/tasks/create"
	TopicStart       = "/tasks/start"
	TopicExit        = "/tasks/exit"
	TopicDelete      = "/tasks/delete"
	TopicExecAdded   = "/tasks/exec-added"
	TopicExecStarted = "/tasks/exec-started"
	TopicOOM         = "/tasks/oom"
	TopicPaused      = "/tasks/paused"
	TopicResumed     = "/tasks/resumed"
)

// eventsService is containerd's ttrpc events service.
const eventsService = "containerd.services.events.ttrpc.v1.Events"

const (
	retries     = 5
	callTimeout = 5 * time.Second
	queueLen    = 256
)

// Publisher sends events in order; Publish never blocks on the network.
type Publisher struct {
	address   string
	namespace string

	mu     sync.Mutex
	queue  []*api.Envelope
	wake   chan struct{}
	client *ttrpc.Client
	closed bool
	done   chan struct{}
}

// New returns a publisher to the ttrpc socket at address; with address ""
// events are dropped (a caller that does not listen, as in tests).
func New(address, namespace string) *Publisher {
	p := &Publisher{address: address, namespace: namespace, wake: make(chan struct{}, 1), done: make(chan struct{})}
	go p.run()
	return p
}

// Publish queues an event for topic.
func (p *Publisher) Publish(topic string, ev api.Typed) {
	if p.address == "" {
		return
	}
	env := &api.Envelope{
		Timestamp: api.NewTimestamp(time.Now()),
		Namespace: p.namespace,
		Topic:     topic,
		// The bare type name (containerd.events.TaskExit), as typeurl
		// gives it: the only form containerd 1.6's event decoding accepts.
		Event: api.MarshalAny(ev),
	}
	p.mu.Lock()
	if !p.closed && len(p.queue) < queueLen {
		p.queue = append(p.queue, env)
	}
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// Close sends what is queued (each event gets its retries) and stops.
func (p *Publisher) Close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
	select {
	case <-p.done:
	case <-time.After(2 * callTimeout):
	}
}

func (p *Publisher) run() {
	defer close(p.done)
	for {
		p.mu.Lock()
		if len(p.queue) == 0 {
			closed := p.closed
			p.mu.Unlock()
			if closed {
				if p.client != nil {
					p.client.Close()
				}
				return
			}
			<-p.wake
			continue
		}
		env := p.queue[0]
		p.queue[0] = nil
		p.queue = p.queue[1:]
		if len(p.queue) == 0 {
			p.queue = nil // let the backing array go
		}
		p.mu.Unlock()
		p.send(env)
	}
}

func (p *Publisher) send(env *api.Envelope) {
	for i := 0; i < retries; i++ {
		if i > 0 {
			time.Sleep(time.Duration(i) * 100 * time.Millisecond)
		}
		if p.client == nil {
			conn, err := net.DialTimeout("unix", p.address, callTimeout)
			if err != nil {
				continue
			}
			p.client = ttrpc.NewClient(conn)
		}
		ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
		err := p.client.Call(ctx, eventsService, "Forward", &api.ForwardRequest{Envelope: env}, &api.Empty{},
			ttrpc.KeyValue{Key: ttrpc.NamespaceKey, Value: p.namespace})
		cancel()
		if err == nil {
			return
		}
		if _, ok := ttrpc.FromError(err); ok {
			return // the caller got it and refused it: retrying will not help
		}
		p.client.Close()
		p.client = nil
	}
}

// Events the task service publishes; aliases keep its imports short.
type (
	TaskCreate      = api.TaskCreate
	TaskStart       = api.TaskStart
	TaskExit        = api.TaskExit
	TaskDelete      = api.TaskDelete
	TaskExecAdded   = api.TaskExecAdded
	TaskExecStarted = api.TaskExecStarted
	TaskOOM         = api.TaskOOM
	TaskPaused      = api.TaskPaused
	TaskResumed     = api.TaskResumed
	TaskIO          = api.TaskIO
)
