package tokengate

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/tokengate/tokengate/tokens"
)

// decisionMemo remembers that a request line (method, path, Authorization
// header) was allowed, with the identity headers to forward, so that a
// repeated request costs one native map lookup instead of the token check
// and the rule walk.
//
// It exists for speed under Yaegi, where every interpreted statement costs
// about as much as a native function: a sync.Map Load is a single native
// call, where the claims cache (go-cache, interpreted) and the rule table
// take tens of them. Only allowed requests whose decision depends on
// nothing but the request line are memoised; entries expire with the
// token, the cache TTL and, for device routes, the directory's TTL. The memo
// is bounded like the claims cache: when full, expired entries are swept at
// most once a second, and if it is still full, nothing new is added.
type decisionMemo struct {
	entries   *sync.Map // string -> *decision
	count     int64     // atomic
	max       int64
	nextSweep int64 // Unix nanoseconds; atomic
}

// decision is an allowed request line.
type decision struct {
	method, path, authorization string         // the request line, compared on a hit
	expires                     int64          // Unix nanoseconds
	keys                        *tokens.KeySet // the key set that verified the token
	values                      [][]string     // identity header values, aligned with gate.headers
}

func newDecisionMemo(limit int) *decisionMemo {
	if limit <= 0 {
		return nil
	}
	return &decisionMemo{entries: &sync.Map{}, max: int64(limit)}
}

// memoKey is the request line: the Authorization value, a newline, the
// method, a space and the path. Header values cannot hold a newline (Go's
// HTTP servers refuse them) and methods cannot hold a space, so no two
// request lines share a key; ServeHTTP also compares the three parts on a
// hit. (A key of method, path and value joined by spaces would not be
// unique: a path may end in " Bearer" once decoded.)
func memoKey(method, path, authorization string) string {
	return authorization + "\n" + method + " " + path
}

// add stores d under key, replacing an expired or stale entry.
func (m *decisionMemo) add(key string, d *decision, now time.Time) {
	if atomic.LoadInt64(&m.count) >= m.max && !m.sweep(now) {
		return
	}
	if _, loaded := m.entries.Swap(key, d); !loaded {
		atomic.AddInt64(&m.count, 1)
	}
}

// sweep drops expired entries, at most once a second, and reports whether
// there is room afterwards.
func (m *decisionMemo) sweep(now time.Time) bool {
	next := atomic.LoadInt64(&m.nextSweep)
	if now.UnixNano() < next || !atomic.CompareAndSwapInt64(&m.nextSweep, next, now.Add(time.Second).UnixNano()) {
		return false
	}
	nanos := now.UnixNano()
	m.entries.Range(func(key, value any) bool {
		if d, _ := value.(*decision); d == nil || nanos >= d.expires {
			if _, loaded := m.entries.LoadAndDelete(key); loaded {
				atomic.AddInt64(&m.count, -1)
			}
		}
		return true
	})
	return atomic.LoadInt64(&m.count) < m.max
}

func (m *decisionMemo) len() int {
	if m == nil {
		return 0
	}
	return int(atomic.LoadInt64(&m.count))
}
