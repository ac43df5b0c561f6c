package throttle_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tokengate/tokengate/store"
	"github.com/tokengate/tokengate/throttle"
)

func TestDefaultPolicy(t *testing.T) {
	p := throttle.DefaultPolicy()
	want := throttle.Policy{FreeAttempts: 5, AddressFreeAttempts: 50, MaxDelay: 15 * time.Minute, ResetAfter: 12 * time.Hour}
	if p != want {
		t.Fatalf("DefaultPolicy() = %+v, want %+v", p, want)
	}
	if err := p.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
}

func TestPolicyValidate(t *testing.T) {
	with := func(change func(p *throttle.Policy)) throttle.Policy {
		p := throttle.DefaultPolicy()
		change(&p)
		return p
	}
	tests := []struct {
		desc string
		p    throttle.Policy
		want string // substring of the error; "" for none
	}{
		{"defaults", throttle.DefaultPolicy(), ""},
		{"one free attempt, 1s waits", throttle.Policy{FreeAttempts: 1, AddressFreeAttempts: 1, MaxDelay: time.Second, ResetAfter: time.Second}, ""},
		{"zero value", throttle.Policy{}, "throttle.freeAttempts: must be at least 1, got 0"},
		{"negative free attempts", with(func(p *throttle.Policy) { p.FreeAttempts = -1 }), "throttle.freeAttempts: must be at least 1, got -1"},
		{"zero address free attempts", with(func(p *throttle.Policy) { p.AddressFreeAttempts = 0 }), "throttle.addressFreeAttempts: must be at least 1, got 0"},
		{"zero max delay", with(func(p *throttle.Policy) { p.MaxDelay = 0 }), "throttle.maxDelay: must be at least 1s (the first wait), got 0s"},
		{"max delay under a second", with(func(p *throttle.Policy) { p.MaxDelay = 999 * time.Millisecond }), "throttle.maxDelay: must be at least 1s"},
		{"reset before the longest wait", with(func(p *throttle.Policy) { p.ResetAfter = 10 * time.Minute }),
			"throttle.resetAfter: must not be shorter than throttle.maxDelay (15m0s), got 10m0s"},
		{"zero reset", with(func(p *throttle.Policy) { p.ResetAfter = 0 }), "throttle.resetAfter:"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			err := tt.p.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate: got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

// TestWaitSequence: with the defaults, each failure past the free ones
// doubles the wait from 1s, up to maxDelay (15m = 900s).
func TestWaitSequence(t *testing.T) {
	p := throttle.DefaultPolicy()
	const now = int64(1_700_000_000_000)
	wantSecs := []int64{0, 0, 0, 0, 0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900, 900}
	for failures, want := range wantSecs {
		c := store.Count{Failures: int64(failures), Last: now}
		if failures == 0 {
			c.Last = 0
		}
		if got := p.Wait(c, p.FreeAttempts, now); got != time.Duration(want)*time.Second {
			t.Errorf("%d failures, just now: wait %s, want %ds", failures, got.String(), want)
		}
	}
}

func TestWait(t *testing.T) {
	const now = int64(1_700_000_000_000)
	p := throttle.DefaultPolicy()
	short := throttle.Policy{FreeAttempts: 3, AddressFreeAttempts: 10, MaxDelay: time.Hour, ResetAfter: time.Hour}
	tests := []struct {
		desc     string
		p        throttle.Policy
		failures int64
		free     int64
		ago      int64 // ms since the last failure; negative: Last ahead of now
		want     time.Duration
	}{
		{"no failures", p, 0, 5, 0, 0},
		{"under the free attempts", p, 4, 5, 0, 0},
		{"free attempts spent: 1s", p, 5, 5, 0, time.Second},
		{"part of the wait passed", p, 5, 5, 400, 600 * time.Millisecond},
		{"one ms left", p, 5, 5, 999, time.Millisecond},
		{"the wait passed", p, 5, 5, 1000, 0},
		{"long passed", p, 5, 5, 60000, 0},
		{"one more: 2s", p, 6, 5, 0, 2 * time.Second},
		{"one more, 1.5s ago", p, 6, 5, 1500, 500 * time.Millisecond},
		{"capped at maxDelay", p, 15, 5, 0, 15 * time.Minute},
		{"capped, almost passed", p, 40, 5, 899_000, time.Second},
		{"capped, passed", p, 40, 5, 900_000, 0},
		{"a huge count stays capped", p, 1 << 62, 5, 0, 15 * time.Minute},
		{"address: 49 of 50 free", p, 49, 50, 0, 0},
		{"address: 50 of 50", p, 50, 50, 0, time.Second},
		{"address: 53", p, 53, 50, 0, 8 * time.Second},
		{"Last ahead of now: no longer than the delay", p, 5, 5, -600_000, time.Second},
		{"Last far ahead, capped count: maxDelay", p, 99, 5, -3_600_000, 15 * time.Minute},
		{"maxDelay = resetAfter: 1ms before the reset", short, 100, 3, 3_599_999, time.Millisecond},
		{"maxDelay = resetAfter: reset", short, 100, 3, 3_600_000, 0},
		{"reset after resetAfter", p, 100, 5, 12 * 3_600_000, 0},
		{"negative count", p, -3, 0, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			c := store.Count{Failures: tt.failures, Last: now - tt.ago}
			if got := tt.p.Wait(c, tt.free, now); got != tt.want {
				t.Fatalf("Wait(%+v, %d): %s, want %s", c, tt.free, got.String(), tt.want.String())
			}
		})
	}
}

func TestDelay(t *testing.T) {
	p := throttle.Policy{MaxDelay: 10 * time.Second}
	tests := []struct {
		extra int64
		want  time.Duration
	}{
		{-1, 0},
		{0, time.Second},
		{1, 2 * time.Second},
		{3, 8 * time.Second},
		{4, 10 * time.Second},
		{1000, 10 * time.Second},
	}
	for _, tt := range tests {
		if got := p.Delay(tt.extra); got != tt.want {
			t.Errorf("Delay(%d) = %s, want %s", tt.extra, got.String(), tt.want.String())
		}
	}
}

func TestRetryAfter(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0"},
		{-time.Second, "0"},
		{time.Nanosecond, "1"},
		{time.Millisecond, "1"},
		{time.Second, "1"},
		{1001 * time.Millisecond, "2"},
		{1500 * time.Millisecond, "2"},
		{2 * time.Second, "2"},
		{15 * time.Minute, "900"},
	}
	for _, tt := range tests {
		if got := throttle.RetryAfter(tt.d); got != tt.want {
			t.Errorf("RetryAfter(%s) = %q, want %q", tt.d.String(), got, tt.want)
		}
	}
}

// TestWithStore runs the policy over a memory store's counters, as the gate
// does: failures recorded with the policy's resetAfter, waits read back,
// forgotten resetAfter after the last failure, reset by a success.
func TestWithStore(t *testing.T) {
	ctx := context.Background()
	p := throttle.Policy{FreeAttempts: 2, AddressFreeAttempts: 3, MaxDelay: 4 * time.Second, ResetAfter: time.Minute}
	m := store.NewMemory(100)
	login := throttle.LoginKey("alice")
	addr := throttle.AddressKey("2001:db8::7")
	base := int64(1_700_000_000_000)
	wait := func(now int64) time.Duration {
		counts, err := m.Peek(ctx, []string{login, addr}, now)
		if err != nil {
			t.Fatalf("Peek: %v", err)
		}
		w := p.Wait(counts[0], p.FreeAttempts, now)
		if a := p.Wait(counts[1], p.AddressFreeAttempts, now); a > w {
			w = a
		}
		return w
	}
	fail := func(now int64) {
		for _, k := range []string{login, addr} {
			if _, err := m.Failure(ctx, k, now, p.ResetAfter.Milliseconds()); err != nil {
				t.Fatalf("Failure(%s): %v", k, err)
			}
		}
	}
	steps := []struct {
		desc string
		at   int64 // ms past base
		want time.Duration
		then string // "fail", "reset" or ""
	}{
		{"first attempt", 0, 0, "fail"},
		{"second attempt", 0, 0, "fail"},
		{"third must wait 1s (not checked: nothing recorded)", 0, time.Second, ""},
		{"part of the wait passed", 600, 400 * time.Millisecond, ""},
		{"after the wait", 1000, 0, "fail"},
		{"then 2s (login); the address, at its free 3, 1s", 1000, 2 * time.Second, ""},
		{"after 2s", 3000, 0, "fail"},
		{"then 4s, the cap", 3000, 4 * time.Second, ""},
		{"resetAfter after the last failure: forgotten", 63000, 0, "fail"},
		{"a success resets the login", 63000, 0, "reset"},
		{"the address keeps its count", 63000, 0, ""},
	}
	for _, s := range steps {
		t.Run(s.desc, func(t *testing.T) {
			if got := wait(base + s.at); got != s.want {
				t.Fatalf("wait %s, want %s", got.String(), s.want.String())
			}
			if s.then == "fail" {
				fail(base + s.at)
			}
			if s.then == "reset" {
				if err := m.Reset(ctx, login); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
	counts, err := m.Peek(ctx, []string{login, addr}, base+63000)
	if err != nil || counts[0].Failures != 0 || counts[1].Failures != 1 {
		t.Fatalf("final counts %+v (%v): want login 0, address 1", counts, err)
	}
}
