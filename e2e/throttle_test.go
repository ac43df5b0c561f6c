//go:build e2e

package e2e

// Login throttling through Traefik: the wait and 429 with Retry-After in
// the three dialects, the right password refused during the wait, a
// spoofed X-Forwarded-For ignored, and counters shared by two Traefik
// processes over a real Redis, which answer 503 when it is gone.

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestThrottle(t *testing.T) {
	g := startTraefik(t, oneRouter(pluginOptions(M{"throttle": M{"freeAttempts": 2, "addressFreeAttempts": 100}})))
	dialects := []struct {
		desc, body, field string
	}{
		{"REST", `{"login":%q,"password":%q}`, "message"},
		{"message", `{"action":"token","requestId":"t1","login":%q,"password":%q}`, "error"},
		{"HarperDB", `{"operation":"create_authentication_tokens","username":%q,"password":%q}`, "error"},
	}
	for _, d := range dialects {
		t.Run(d.desc, func(t *testing.T) {
			login := "user-" + strings.ToLower(d.desc)
			for i := 0; i < 2; i++ {
				r := g.post(t, "/token", fmt.Sprintf(d.body, login, "nope"))
				expectStatus(t, "a free attempt", r, http.StatusUnauthorized)
			}
			r := g.post(t, "/token", fmt.Sprintf(d.body, login, "nope"), "X-Forwarded-For", "203.0.113.77")
			expectStatus(t, "during the wait", r, http.StatusTooManyRequests)
			if got := r.header.Get("Retry-After"); got != "1" {
				t.Errorf("Retry-After: %q, want 1", got)
			}
			if msg, _ := r.json[d.field].(string); msg != "too many failed attempts: try again later" {
				t.Errorf("%s: %q", d.field, msg)
			}
		})
	}
	t.Run("the right password during the wait", func(t *testing.T) {
		for i := 0; i < 2; i++ {
			g.post(t, "/token", `{"login":"alice","password":"nope"}`)
		}
		expectStatus(t, "alice's password", g.post(t, "/token", `{"login":"alice","password":"alice-pass"}`), http.StatusTooManyRequests)
		time.Sleep(1100 * time.Millisecond)
		expectStatus(t, "after the wait", g.post(t, "/token", `{"login":"alice","password":"alice-pass"}`), http.StatusCreated)
	})
}

// TestThrottleSharedThroughRedis: failures on one Traefik count on the
// other; with Redis gone, logins answer 503 rather than run uncounted.
func TestThrottleSharedThroughRedis(t *testing.T) {
	redis := startRedis(t)
	opts := pluginOptions(M{
		"throttle": M{"freeAttempts": 2},
		"store":    M{"redis": M{"endpoints": []string{redis.addr}, "timeout": "300ms", "keyPrefix": "e2e-thr:"}},
	})
	a := startTraefik(t, oneRouter(opts))
	b := startTraefik(t, oneRouter(opts))
	expectStatus(t, "a failure on A", a.post(t, "/token", `{"login":"bob","password":"nope"}`), http.StatusUnauthorized)
	expectStatus(t, "a failure on B", b.post(t, "/token", `{"login":"bob","password":"nope"}`), http.StatusUnauthorized)
	expectStatus(t, "the third on A", a.post(t, "/token", `{"login":"bob","password":"bob-pass"}`), http.StatusTooManyRequests)

	a.expectErrors()
	redis.pause(t)
	defer redis.resume(t)
	r := a.post(t, "/token", `{"login":"alice","password":"alice-pass"}`)
	expectRefused(t, "a login with Redis gone", r, http.StatusServiceUnavailable, "session store is unavailable, try again later")
}
