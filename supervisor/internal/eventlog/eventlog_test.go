package eventlog

import (
	"testing"
	"time"
)

func TestSubscribeReplaysAndFollows(t *testing.T) {
	l := New()
	base := time.Unix(1000, 0)
	tick := 0
	l.now = func() time.Time { tick++; return base.Add(time.Duration(tick) * time.Second) }
	l.Emit("container", "create", "c1", nil) // t=1001
	l.Emit("container", "start", "c1", nil)  // t=1002
	past, ch, cancel := l.Subscribe(base.Add(2 * time.Second))
	defer cancel()
	if len(past) != 1 || past[0].Action != "start" {
		t.Fatalf("past since t=1002 = %+v, want the start", past)
	}
	l.Emit("container", "die", "c1", map[string]string{"exitCode": "0"})
	select {
	case e := <-ch:
		if e.Action != "die" || e.Actor.Attributes["exitCode"] != "0" || e.Scope != "local" || e.Time != 1003 {
			t.Errorf("live event = %+v", e)
		}
	case <-time.After(time.Second):
		t.Fatal("no live event")
	}
	if past, _, c := l.Subscribe(time.Time{}); len(past) != 0 {
		c()
		t.Errorf("zero since replayed %d events", len(past))
	}
}

func TestRingKeepsTheLast(t *testing.T) {
	l := New()
	n := int64(0)
	l.now = func() time.Time { n++; return time.Unix(n, 0) }
	for i := 0; i < Keep+10; i++ {
		l.Emit("image", "tag", "x", nil)
	}
	past, _, cancel := l.Subscribe(time.Unix(1, 0))
	defer cancel()
	if len(past) != Keep || past[0].Time != 11 || past[Keep-1].Time != Keep+10 {
		t.Errorf("kept %d events from t=%d to t=%d", len(past), past[0].Time, past[len(past)-1].Time)
	}
}

func TestFilter(t *testing.T) {
	ev := Event{Type: "container", Action: "start", Actor: Actor{ID: "abcdef123", Attributes: map[string]string{"name": "web", "image": "busybox", "env": "prod"}}}
	tests := []struct {
		args []string
		want bool
	}{
		{nil, true},
		{[]string{"type=container"}, true},
		{[]string{"type=image"}, false},
		{[]string{"event=start", "event=die"}, true},
		{[]string{"event=die"}, false},
		{[]string{"container=web"}, true},
		{[]string{"container=abc"}, true},
		{[]string{"container=other"}, false},
		{[]string{"image=busybox"}, true},
		{[]string{"label=env=prod"}, true},
		{[]string{"label=env"}, true},
		{[]string{"label=env=dev"}, false},
		{[]string{"type=container", "event=die"}, false},
	}
	for _, tt := range tests {
		f, err := ParseFilter(tt.args)
		if err != nil {
			t.Fatal(err)
		}
		if got := f.Match(ev); got != tt.want {
			t.Errorf("filter %v matched %v, want %v", tt.args, got, tt.want)
		}
	}
	health := Event{Type: "container", Action: "health_status: healthy"}
	for _, tt := range []struct {
		arg  string
		want bool
	}{{"event=health_status", true}, {"event=health_status: healthy", true}, {"event=health_status: unhealthy", false}, {"event=health", false}} {
		f, _ := ParseFilter([]string{tt.arg})
		if got := f.Match(health); got != tt.want {
			t.Errorf("filter %s on %q = %v, want %v", tt.arg, health.Action, got, tt.want)
		}
	}
	for _, bad := range []string{"nope=1", "type", "event="} {
		if _, err := ParseFilter([]string{bad}); err == nil {
			t.Errorf("ParseFilter(%q) accepted it", bad)
		}
	}
}
