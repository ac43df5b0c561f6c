package tokengate

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/tokengate/tokengate/store"
	"github.com/tokengate/tokengate/throttle"
)

// loginThrottle slows password guessing: failures are counted per login
// and per client address in the state store (shared by replicas), and an
// attempt that must wait is answered 429 before the password is looked at.
type loginThrottle struct {
	policy    throttle.Policy
	addresses *throttle.Addresses
	counters  store.Counters
	failOpen  bool // a store that cannot count lets logins through unthrottled
	view      *view
	now       func() time.Time // the gate's clock
}

// compileThrottle validates the throttle options.
func compileThrottle(cfg ThrottleConfig, v *view, now func() time.Time) (*loginThrottle, error) {
	p := throttle.Policy{FreeAttempts: cfg.FreeAttempts, AddressFreeAttempts: cfg.AddressFreeAttempts}
	var err error
	if p.MaxDelay, err = time.ParseDuration(cfg.MaxDelay); err != nil {
		return nil, fmt.Errorf("throttle.maxDelay: %q is not a duration such as 15m", cfg.MaxDelay)
	}
	if p.ResetAfter, err = time.ParseDuration(cfg.ResetAfter); err != nil {
		return nil, fmt.Errorf("throttle.resetAfter: %q is not a duration such as 12h", cfg.ResetAfter)
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	addresses, err := throttle.NewAddresses(cfg.ClientIPHeader, cfg.TrustedProxies)
	if err != nil {
		return nil, err
	}
	counters, ok := v.store.(store.Counters)
	if !ok {
		return nil, fmt.Errorf("throttle: the %s store cannot count failures", v.name)
	}
	return &loginThrottle{policy: p, addresses: addresses, counters: counters, failOpen: cfg.FailOpen, view: v, now: now}, nil
}

// loginAttempt is one login attempt the throttle let through.
type loginAttempt struct {
	t              *loginThrottle
	login, address string // counting keys
	open           bool   // the store could not count: nothing to record
}

// errThrottled answers an attempt that must wait; the dialects add
// Retry-After.
func errThrottled(wait time.Duration) error {
	return &httpError{status: http.StatusTooManyRequests, msg: "too many failed attempts: try again later",
		retryAfter: throttle.RetryAfter(wait)}
}

// admit decides whether a login attempt may check its password. Unknown
// logins are counted and throttled exactly like known ones. The login's
// attempt is counted before the password is checked, so that a burst of
// parallel guesses past the free attempts gets 429s, not password checks;
// a success takes it back (Reset).
func (t *loginThrottle) admit(ctx context.Context, r *http.Request, login string) (*loginAttempt, error) {
	a := &loginAttempt{t: t, login: throttle.LoginKey(login), address: throttle.AddressKey(t.addresses.Client(r))}
	now := t.now().UnixNano() / int64(time.Millisecond)
	counts, err := t.counters.Peek(ctx, []string{a.login, a.address}, now)
	if err != nil {
		return a.unavailable(err)
	}
	wait := t.policy.Wait(counts[0], t.policy.FreeAttempts, now)
	if w := t.policy.Wait(counts[1], t.policy.AddressFreeAttempts, now); w > wait {
		wait = w
	}
	if wait > 0 {
		return nil, errThrottled(wait)
	}
	c, err := t.counters.Failure(ctx, a.login, now, t.policy.ResetAfter.Milliseconds())
	if err != nil {
		return a.unavailable(err)
	}
	t.view.answered()
	if c.Failures > counts[0].Failures+1 && c.Failures-1 >= t.policy.FreeAttempts {
		// Other attempts of this login came in since the look: past the
		// free attempts, only one at a time checks a password.
		return nil, errThrottled(t.policy.Wait(c, t.policy.FreeAttempts, now))
	}
	return a, nil
}

// unavailable answers an attempt the store cannot count: 503, or, with
// failOpen, an attempt that goes on uncounted.
func (a *loginAttempt) unavailable(err error) (*loginAttempt, error) {
	if a.t.failOpen {
		a.open = true
		return a, nil
	}
	return nil, storeError(a.t.view, err)
}

// failed records a failed attempt against the address too (the login was
// counted when admitted).
func (a *loginAttempt) failed(ctx context.Context) {
	if a == nil || a.open {
		return
	}
	now := a.t.now().UnixNano() / int64(time.Millisecond)
	if _, err := a.t.counters.Failure(ctx, a.address, now, a.t.policy.ResetAfter.Milliseconds()); err != nil {
		a.t.view.failed(err)
	}
}

// succeeded forgets the login's failures (the address keeps its count).
func (a *loginAttempt) succeeded(ctx context.Context) {
	if a == nil || a.open {
		return
	}
	if err := a.t.counters.Reset(ctx, a.login); err != nil {
		a.t.view.failed(err)
	}
}

// addressFailure counts a failed refresh or /token/create against the
// client's address.
func (t *loginThrottle) addressFailure(ctx context.Context, r *http.Request) {
	now := t.now().UnixNano() / int64(time.Millisecond)
	key := throttle.AddressKey(t.addresses.Client(r))
	if _, err := t.counters.Failure(ctx, key, now, t.policy.ResetAfter.Milliseconds()); err != nil && !t.failOpen {
		t.view.failed(err)
	}
}
