// Package keyedlock provides mutexes by name whose acquisition honours a
// context. berthd takes one per blob digest and per chain ID, so that
// concurrent pulls of the same layer download and unpack it once: the
// second waits, then finds the work done.
package keyedlock

import (
	"context"
	"sync"
)

// Locks is a set of named mutexes; the zero value is ready to use.
type Locks struct {
	mu   sync.Mutex
	held map[string]chan struct{}
}

// Lock acquires key, waiting until it is free or ctx is done.
func (l *Locks) Lock(ctx context.Context, key string) (unlock func(), err error) {
	for {
		l.mu.Lock()
		if l.held == nil {
			l.held = map[string]chan struct{}{}
		}
		ch, busy := l.held[key]
		if !busy {
			ch = make(chan struct{})
			l.held[key] = ch
			l.mu.Unlock()
			var once sync.Once
			return func() {
				once.Do(func() {
					l.mu.Lock()
					delete(l.held, key)
					l.mu.Unlock()
					close(ch)
				})
			}, nil
		}
		l.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Busy reports whether key is held now.
func (l *Locks) Busy(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, ok := l.held[key]
	return ok
}
