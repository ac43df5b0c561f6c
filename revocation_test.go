package tokengate_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tokengate/tokengate/internal/redistest"
)

// The lifetime of the revocation reuse detection records, with the memory
// store and with two replicas on one Redis.

// reuseLateInSession refreshes r0 ten minutes before its exp (an access
// token living past the refresh token's exp), presents r0 again (reuse,
// the session revoked) and returns the stolen access token.
func reuseLateInSession(t *testing.T, h http.Handler, r0 string, advance func(d time.Duration)) string {
	t.Helper()
	advance(2*time.Hour - 10*time.Minute)
	res := refreshWith(t, h, r0)
	if res.code != 201 {
		t.Fatalf("refresh: %d %s", res.code, res.raw)
	}
	stolen := res.str("accessToken")
	advance(time.Second)
	if res := refreshWith(t, h, r0); res.code != 401 || !strings.Contains(res.str("message"), "already used") {
		t.Fatalf("reuse: %d %s", res.code, res.raw)
	}
	expectGuard(t, h, stolen, 401, "token has been revoked")
	return stolen
}

// TestReuseRevocationOutlivesTheRefreshToken: a session revoked by reuse
// detection stays revoked as long as any of its tokens lives, not only
// until its refresh token's exp: an access token refreshed in the
// session's last accessTokenLifetime outlives that.
func TestReuseRevocationOutlivesTheRefreshToken(t *testing.T) {
	cfg := sessionConfig(t)
	cfg.RefreshRotation = true
	cfg.RefreshReuseGrace = "0s"
	cfg.RefreshTokenLifetime = "2h"
	h, _ := newHandler(t, cfg)
	clock := withClock(t, h)
	_, r0 := login(t, h, "alice")
	stolen := reuseLateInSession(t, h, r0, clock.Add)
	clock.Add(3 * time.Second) // a sync of the view
	expectGuard(t, h, stolen, 401, "token has been revoked")
	clock.Add(10 * time.Minute) // past the refresh token's exp, not the access token's
	expectGuard(t, h, stolen, 401, "token has been revoked")
	if res := refreshWith(t, h, r0); res.code == 201 {
		t.Fatalf("the spent refresh token of the revoked session refreshes again: %d", res.code)
	}
}

// TestReuseRevocationOutlivesTheRefreshTokenOnRedis: the same seen by a
// replica that learns the revocation from Redis.
func TestReuseRevocationOutlivesTheRefreshTokenOnRedis(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	mk := func(host string) http.Handler {
		cfg := sessionConfig(t)
		cfg.RefreshRotation = true
		cfg.RefreshReuseGrace = "0s"
		cfg.RefreshTokenLifetime = "2h"
		cfg.Store.Redis.Endpoints = []string{host + ":" + strconv.Itoa(srv.Port)}
		h, _ := newHandler(t, cfg)
		return h
	}
	a, b := mk("127.0.0.1"), mk("localhost") // two views: two replicas
	clockA, clockB := withClock(t, a), withClock(t, b)
	both := func(d time.Duration) {
		clockA.Add(d)
		clockB.Add(d)
	}
	_, r0 := login(t, a, "alice")
	stolen := reuseLateInSession(t, a, r0, both)
	both(3 * time.Second) // a sync of either view
	expectGuard(t, b, stolen, 401, "token has been revoked")
	both(10 * time.Minute) // past the refresh token's exp, not the access token's
	expectGuard(t, b, stolen, 401, "token has been revoked")
	expectGuard(t, a, stolen, 401, "token has been revoked")
	if res := refreshWith(t, b, r0); res.code == 201 {
		t.Fatalf("the spent refresh token of the revoked session refreshes again on the replica: %d", res.code)
	}
}
