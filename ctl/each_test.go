package main

import (
	"bytes"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

// TestEachContainerTo: the report follows the order given whatever order
// the operations finish in, failures go to stderr and make exit status 1,
// and no more than n run at once.
func TestEachContainerTo(t *testing.T) {
	names := []string{"a", "b", "bad", "c", "d"}
	var running, most atomic.Int32
	op := func(n string) error {
		cur := running.Add(1)
		for m := most.Load(); cur > m && !most.CompareAndSwap(m, cur); m = most.Load() {
		}
		defer running.Add(-1)
		// The first names take longest: they finish last.
		time.Sleep(time.Duration(len(names)-len(n)) * 5 * time.Millisecond)
		if n == "bad" {
			return errors.New("no such container: bad")
		}
		return nil
	}
	for _, n := range []int{1, 2, 50} {
		most.Store(0)
		var out, errb bytes.Buffer
		err := eachContainerTo(&out, &errb, names, n, op)
		if out.String() != "a\nb\nc\nd\n" || errb.String() != "no such container: bad\n" {
			t.Errorf("n=%d: stdout %q stderr %q", n, out.String(), errb.String())
		}
		var ee exitError
		if !errors.As(err, &ee) || ee.code != 1 {
			t.Errorf("n=%d: err %v, want exit status 1", n, err)
		}
		if got := int(most.Load()); got > n {
			t.Errorf("n=%d: %d ran at once", n, got)
		}
	}
}
