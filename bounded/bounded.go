// Package bounded is the admission policy of the plugin's bounded caches
// (the verified-token cache, the decision memo, the device directory's
// lookup cache): a full cache takes a new entry only when sweeping its
// expired entries makes room, and it is swept at most once a second, so
// that a flood of live entries cannot make every request pay for a sweep.
//
// A cache checks for room itself, inline, with a plain compare against
// Max, and calls Room only when it is full: a cache with room is the
// common case, on every entry added (CONTRIBUTING.md, rules for the
// request path).
//
//	if n >= a.Max && !bounded.Room(a, now) {
//		return // full of live entries: nothing is added
//	}
package bounded

import (
	"sync/atomic"
	"time"
)

// Admission is a cache's bound and the schedule of its sweeps. It is safe
// for concurrent use.
type Admission struct {
	// next is the Unix time in nanoseconds before which the cache is not
	// swept again; atomic (first in the struct for 64-bit alignment).
	next int64
	// Max is the bound: a cache that holds Max entries or more is full.
	Max int
	// sweep drops the entries expired at now (Unix nanoseconds) and
	// returns how many are left.
	sweep func(now int64) int
}

// New returns the admission of a cache of at most limit entries, swept by
// sweep: it drops the entries expired at now (Unix nanoseconds) and
// returns how many are left.
func New(limit int, sweep func(now int64) int) *Admission {
	return &Admission{Max: limit, sweep: sweep}
}

// Room reports whether a full cache may take one more entry at now (Unix
// nanoseconds). Within a second of its last sweep it may not; otherwise it
// is swept (by one caller when several race: the others are refused) and
// may take the entry if fewer than Max entries are left.
func Room(a *Admission, now int64) bool {
	next := atomic.LoadInt64(&a.next)
	return now >= next && sweepOnce(a, next, now)
}

// sweepOnce is Room's sweep, unless another caller has just claimed it. It
// is apart so that a full cache refusing entries between sweeps (a flood)
// does not pay for it (CONTRIBUTING.md, rules for the request path).
func sweepOnce(a *Admission, next, now int64) bool {
	if !atomic.CompareAndSwapInt64(&a.next, next, now+int64(time.Second)) {
		return false
	}
	return a.sweep(now) < a.Max
}
