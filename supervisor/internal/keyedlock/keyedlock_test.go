package keyedlock

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestExclusive(t *testing.T) {
	var l Locks
	var inside, max atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			unlock, err := l.Lock(context.Background(), "k")
			if err != nil {
				t.Error(err)
				return
			}
			n := inside.Add(1)
			if n > max.Load() {
				max.Store(n)
			}
			time.Sleep(time.Millisecond)
			inside.Add(-1)
			unlock()
		}()
	}
	wg.Wait()
	if max.Load() != 1 {
		t.Fatalf("%d holders at once, want 1", max.Load())
	}
}

func TestContext(t *testing.T) {
	var l Locks
	unlock, _ := l.Lock(context.Background(), "k")
	defer unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := l.Lock(ctx, "k"); err == nil {
		t.Fatal("Lock of a held key returned without error")
	}
	u2, err := l.Lock(context.Background(), "other")
	if err != nil {
		t.Fatal(err)
	}
	u2()
}
