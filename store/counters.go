package store

import (
	"context"
	"errors"
)

// Count is a key's run of consecutive failures (login throttling: one key
// per login, one per client address).
type Count struct {
	Failures int64 // consecutive failures; 0 when the key is absent or expired
	Last     int64 // Unix ms of the latest failure; 0 when Failures is 0
}

// Counters counts consecutive failures per key, for login throttling; Memory
// and Redis implement it. A key's count is forgotten resetAfter after its
// latest failure (each failure renews it), or when Reset. Keys may hold any
// bytes; callers pass bounded ones (throttle.LoginKey, throttle.AddressKey).
// Times are Unix milliseconds; expiry is judged by the now given.
type Counters interface {
	// Failure records a failure of key at now: the count goes up by one
	// (from zero when absent or expired) and Last becomes now (or stays,
	// when later); the count now expires resetAfter (ms, > 0) after now
	// (or stays, when later).
	// It returns the count as recorded. A Memory with no room for a new
	// key returns ErrFull and records nothing.
	Failure(ctx context.Context, key string, now, resetAfter int64) (Count, error)
	// Peek returns the counts of keys at now, in order; an absent or
	// expired key counts zero. A Memory returns ErrFull when a key is
	// absent and it has no room to count that key's failure: the caller
	// refuses the attempt (fail closed) instead of letting one through
	// whose failure it could not count.
	Peek(ctx context.Context, keys []string, now int64) ([]Count, error)
	// Reset forgets key's count (after a success). Absent keys are fine.
	Reset(ctx context.Context, key string) error
}

// memCount is one key's count in a Memory.
type memCount struct {
	n    int64
	last int64 // ms
	exp  int64 // ms: forgotten from then on
}

func checkFailure(key string, resetAfter int64) error {
	if key == "" {
		return errors.New("store: failure: empty key")
	}
	if resetAfter <= 0 {
		return errors.New("store: failure: resetAfter must be positive")
	}
	return nil
}

// Failure records a failure of key (see Counters). The counters are bounded
// apart from the sessions: at most maxEntries keys. When full, the expired
// ones are dropped (at most once a second) and, if still full, a new key is
// refused with ErrFull; a key already counted is always updated.
func (m *Memory) Failure(ctx context.Context, key string, now, resetAfter int64) (Count, error) {
	if err := checkFailure(key, resetAfter); err != nil {
		return Count{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	clock := m.clock(now)
	c, ok := m.counters[key]
	if ok && c.exp <= now {
		delete(m.counters, key)
		ok = false
	}
	if !ok {
		if !m.counterRoom(clock, 1) {
			return Count{}, ErrFull
		}
		c = &memCount{}
		m.counters[key] = c
	}
	c.n++
	if now > c.last {
		c.last = now
	}
	if now+resetAfter > c.exp {
		c.exp = now + resetAfter
	}
	return Count{Failures: c.n, Last: c.last}, nil
}

// Peek returns the counts of keys at now (see Counters); ErrFull when a key
// is absent and there is no room to count it.
func (m *Memory) Peek(ctx context.Context, keys []string, now int64) ([]Count, error) {
	out := make([]Count, len(keys))
	m.mu.Lock()
	defer m.mu.Unlock()
	clock := m.clock(now)
	absent := 0
	for i, key := range keys {
		c, ok := m.counters[key]
		if !ok || c.exp <= now {
			absent++
			continue
		}
		out[i] = Count{Failures: c.n, Last: c.last}
	}
	if absent > 0 && !m.counterRoom(clock, absent) {
		return nil, ErrFull
	}
	return out, nil
}

// Reset forgets key's count.
func (m *Memory) Reset(ctx context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.counters, key)
	return nil
}

// counterRoom reports whether n more counters fit, sweeping the expired
// ones first when they do not and the last sweep is a second old.
func (m *Memory) counterRoom(clock int64, n int) bool {
	if len(m.counters)+n <= m.max {
		return true
	}
	if m.lastCounterSweep != 0 && clock-m.lastCounterSweep < sweepEvery {
		return false
	}
	m.lastCounterSweep = clock
	for key, c := range m.counters {
		if c.exp <= clock {
			delete(m.counters, key)
		}
	}
	return len(m.counters)+n <= m.max
}
