// Package throttle is the policy of login throttling: how long an attempt
// must wait after a run of failures, which address a request comes from, and
// the keys the failures are counted under. It does no I/O: the counts live
// in a store.Counters (memory or Redis, shared by replicas), which the gate
// reads and updates.
//
// The gate's use, per login attempt (now in Unix ms, free the policy's
// FreeAttempts for the login key and AddressFreeAttempts for the address
// key):
//
//	addr := addresses.Client(r)
//	keys := []string{throttle.LoginKey(login), throttle.AddressKey(addr)}
//	counts, err := counters.Peek(ctx, keys, now)   // err (store down, or full): refuse, 503
//	wait := p.Wait(counts[0], p.FreeAttempts, now)         // the longer of the two waits
//	if w := p.Wait(counts[1], p.AddressFreeAttempts, now); w > wait { wait = w }
//	if wait > 0 { 429, Retry-After: throttle.RetryAfter(wait); the password is not checked }
//	check the password;
//	on failure: counters.Failure(ctx, key, now, p.ResetAfter.Milliseconds()) for both keys
//	on success: counters.Reset(ctx, keys[0]) (the address keeps its count)
//
// Concurrent attempts: attempts that Peek before any of them records its
// failure all pass, so a burst of N parallel guesses costs one wait. To count
// a login's attempt before checking its password, call Failure on the login
// key first (provisionally) and refuse the attempt when the count returned
// shows that others came first: p.Wait(store.Count{Failures: c.Failures - 1,
// Last: c.Last}, free, c.Last) > 0; a success then Resets the key as above.
package throttle

import (
	"fmt"
	"strconv"
	"time"

	"github.com/tokengate/tokengate/store"
)

// Policy is when attempts must wait. The zero value is not valid: start from
// DefaultPolicy.
type Policy struct {
	// FreeAttempts is how many consecutive failures of one login (whatever
	// the address) are let through without waiting. Default 5.
	FreeAttempts int64
	// AddressFreeAttempts is the same for one client address (whatever the
	// login). Default 50: many devices may share an address behind NAT.
	AddressFreeAttempts int64
	// MaxDelay bounds the wait, which doubles from 1s with each further
	// failure. Default 15m: a login cannot be locked out for longer by
	// someone who keeps failing it.
	MaxDelay time.Duration
	// ResetAfter is how long after its latest failure a count is
	// forgotten. Default 12h.
	ResetAfter time.Duration
}

// DefaultPolicy returns the defaults: 5 free attempts per login, 50 per
// address, waits up to 15m, counts forgotten after 12h.
func DefaultPolicy() Policy {
	return Policy{FreeAttempts: 5, AddressFreeAttempts: 50, MaxDelay: 15 * time.Minute, ResetAfter: 12 * time.Hour}
}

// firstWait is the wait after the free attempts are spent; each further
// failure doubles it, up to MaxDelay.
const firstWait = time.Second

// Validate reports the first invalid option, named as configured
// (throttle.freeAttempts, ...).
func (p Policy) Validate() error {
	if p.FreeAttempts < 1 {
		return fmt.Errorf("throttle.freeAttempts: must be at least 1, got %d", p.FreeAttempts)
	}
	if p.AddressFreeAttempts < 1 {
		return fmt.Errorf("throttle.addressFreeAttempts: must be at least 1, got %d", p.AddressFreeAttempts)
	}
	if p.MaxDelay < firstWait {
		return fmt.Errorf("throttle.maxDelay: must be at least 1s (the first wait), got %s", p.MaxDelay.String())
	}
	if p.ResetAfter < p.MaxDelay {
		return fmt.Errorf("throttle.resetAfter: must not be shorter than throttle.maxDelay (%s), got %s",
			p.MaxDelay.String(), p.ResetAfter.String())
	}
	return nil
}

// Delay is the wait after free+extra consecutive failures (extra >= 0): 1s
// doubled extra times, at most MaxDelay. Negative extra gives 0.
func (p Policy) Delay(extra int64) time.Duration {
	if extra < 0 {
		return 0
	}
	d := firstWait
	for i := int64(0); i < extra && d < p.MaxDelay; i++ {
		d *= 2
	}
	if d > p.MaxDelay {
		d = p.MaxDelay
	}
	return d
}

// Wait returns how long from now (Unix ms) an attempt must still wait after
// the run of failures c, when free failures are let through: 0 under free
// failures, else Delay(c.Failures-free) counted from c.Last, less the time
// already past; 0 once that has passed or c is ResetAfter old. It never
// exceeds MaxDelay, even when c.Last is ahead of now (another clock).
func (p Policy) Wait(c store.Count, free, now int64) time.Duration {
	if c.Failures <= 0 || c.Failures < free {
		return 0
	}
	last := c.Last
	if last > now {
		last = now
	}
	if now-last >= p.ResetAfter.Milliseconds() {
		return 0
	}
	left := last + p.Delay(c.Failures-free).Milliseconds() - now
	if left <= 0 {
		return 0
	}
	return time.Duration(left) * time.Millisecond
}

// RetryAfter formats a wait for the Retry-After header: whole seconds,
// rounded up ("1" for 1ms); "0" for no wait.
func RetryAfter(d time.Duration) string {
	if d <= 0 {
		return "0"
	}
	secs := int64((d + time.Second - 1) / time.Second)
	return strconv.FormatInt(secs, 10)
}
