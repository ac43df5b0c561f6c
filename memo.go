package tokengate

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/tokengate/tokengate/bounded"
)

// decisionMemo remembers that a request (method, path, Authorization
// header) was allowed, with the identity headers to forward, so that a
// repeated request costs two map lookups instead of the token check and the
// rule walk.
//
// It exists for speed under Yaegi: a request it answers costs about 80
// interpreted allocations instead of about 1,500 (CONTRIBUTING.md, the cost
// model). ServeHTTP reads it inline, under a read lock and with plain map
// indexes, cheaper than a sync.Map. Only allowed requests whose decision
// depends on nothing but the request line are memoised; entries expire with
// the token, the cache TTL and, for device routes, the directory's TTL. The
// memo is bounded like the claims cache (package bounded): when full,
// expired entries are swept at most once a second, and if it is still full,
// nothing new is added.
type decisionMemo struct {
	// generation counts the clears, for add; remember reads it before its
	// last revocation check. It changes under the write lock, through
	// sync/atomic (remember reads it without the lock), so add, which
	// holds the lock, reads it plainly. First, so that it is 64-bit
	// aligned on 32-bit platforms.
	generation uint64
	mu         *sync.RWMutex
	routes     map[string]map[string]*decision // path -> Authorization value -> decision
	count      int
	bound      *bounded.Admission
}

// decision is an allowed request: the path and the Authorization value are
// the memo's keys, so the keys compare exactly, with no joined string to
// make ambiguous.
type decision struct {
	method string
	// deadline is the earliest of the token's exp, the cache TTL, the
	// directory's TTL and the key files' next check.
	deadline time.Time
	names    []string   // identity headers to set
	values   [][]string // their values, aligned with names
}

func newDecisionMemo(limit int) *decisionMemo {
	if limit <= 0 {
		return nil
	}
	m := &decisionMemo{mu: &sync.RWMutex{}, routes: map[string]map[string]*decision{}}
	m.bound = bounded.New(limit, func(now int64) int { return m.sweep(time.Unix(0, now)) })
	return m
}

// add stores d for path and authorization, replacing the entry of another
// method or an expired one. gen is the generation remember read before
// its last revocation check: if the memo was cleared since (a revocation),
// d may rest on what the clear was for, and is not added.
func (m *decisionMemo) add(path, authorization string, d *decision, now time.Time, gen uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.generation != gen {
		return
	}
	byAuth := m.routes[path]
	if _, ok := byAuth[authorization]; ok {
		byAuth[authorization] = d
		return
	}
	if m.count >= m.bound.Max && !bounded.Room(m.bound, now.UnixNano()) {
		return
	}
	if byAuth == nil {
		byAuth = map[string]*decision{}
		m.routes[path] = byAuth
	}
	byAuth[authorization] = d
	m.count++
}

// sweep drops the entries expired at now and returns how many are left.
// bounded.Room calls it, at most once a second, from add, which holds the
// write lock.
func (m *decisionMemo) sweep(now time.Time) int {
	for path, byAuth := range m.routes {
		for authorization, d := range byAuth {
			if !now.Before(d.deadline) {
				delete(byAuth, authorization)
				m.count--
			}
		}
		if len(byAuth) == 0 {
			delete(m.routes, path)
		}
	}
	return m.count
}

// clear forgets every decision, in place (ServeHTTP holds the map), and
// refuses those whose checks began before (add).
func (m *decisionMemo) clear() {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	atomic.AddUint64(&m.generation, 1)
	for path := range m.routes {
		delete(m.routes, path)
	}
	m.count = 0
}

func (m *decisionMemo) len() int {
	if m == nil {
		return 0
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.count
}
