package containers

import (
	eventsapi "github.com/containerd/containerd/api/events"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// Event takes a task event a shim forwarded. Exits are learnt from Wait
// (which also works across berthd restarts); events only add what Wait
// does not tell: that the kernel's OOM killer struck.
func (s *Service) Event(topic string, ev *anypb.Any) {
	if topic != "/tasks/oom" || ev == nil {
		return
	}
	var oom eventsapi.TaskOOM
	if proto.Unmarshal(ev.GetValue(), &oom) != nil {
		return
	}
	c, err := s.get(oom.GetContainerID())
	if err != nil {
		return
	}
	c.mu.Lock()
	t := c.task
	c.mu.Unlock()
	if t != nil {
		t.oom.Store(true)
	}
}
