package reaper

import (
	"os/exec"
	"testing"
	"time"
)

func TestWaitAndEarlyExit(t *testing.T) {
	r, err := New()
	if err != nil {
		t.Fatal(err)
	}
	r.Begin()
	cmd := exec.Command("/bin/sh", "-c", "exit 3")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if e := r.Wait(cmd.Process.Pid); e.Status != 3 {
		t.Errorf("Wait = %+v, want status 3", e)
	}
	// An exit before Watch is kept while an operation is in flight.
	cmd = exec.Command("/bin/sh", "-c", "kill -9 $$")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	got := make(chan Exit, 1)
	r.Watch(cmd.Process.Pid, func(e Exit) { got <- e })
	select {
	case e := <-got:
		if e.Status != 137 {
			t.Errorf("early exit = %+v, want status 137", e)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("early exit lost")
	}
	r.End()
	if len(r.unclaimed) != 0 {
		t.Errorf("unclaimed exits kept after End: %v", r.unclaimed)
	}
}
