package tokengate_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tokengate/tokengate/internal/redistest"
	"github.com/tokengate/tokengate/store"
)

// Revocations in the store: how long the one reuse detection records lasts
// (memory store, and two replicas on one Redis), and how many the memory
// store keeps.

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

// TestMemoryStoreRevocationsBounded: a ManageToken holder minting and
// revoking tokens in a loop cannot grow the memory store past
// store.maxEntries: with rotation off no session is recorded, every
// revocation needs an entry of its own, and once there is none the
// revocation answers 503 (the token is not revoked, and the client is told
// so). A user's revocations are one per user, recorded even then.
func TestMemoryStoreRevocationsBounded(t *testing.T) {
	cfg := sessionConfig(t)
	cfg.Store.MaxEntries = 10
	h, _ := newHandler(t, cfg)
	clock := withClock(t, h)
	m := store.Shared("memory\n"+cfg.Issuer, cfg.Store.MaxEntries)
	live := func() []store.Revocation {
		list, _, _ := m.Revocations(context.Background(), 0, clock.Now().UnixMilli())
		return list
	}
	alice, _ := login(t, h, "alice")
	mintAndRevoke := func(caller string) (string, response) {
		t.Helper()
		res := do(t, h, "POST", "/token/create", `{"userId":2}`, "Authorization", "Bearer "+caller)
		if res.code != 201 {
			t.Fatalf("create: %d %s", res.code, res.raw)
		}
		return res.str("accessToken"), do(t, h, "POST", "/token/revoke", `{"token":"`+res.str("refreshToken")+`"}`)
	}
	full := 0
	for i := 0; i < 30; i++ {
		access, res := mintAndRevoke(alice)
		switch {
		case res.code == 200:
			expectGuard(t, h, access, 401, "token has been revoked")
		case res.code == 503 && strings.Contains(res.str("message"), "full"):
			full++
			expectGuard(t, h, access, 418, "") // not revoked: the answer said so
		default:
			t.Fatalf("revoke %d: %d %s", i, res.code, res.raw)
		}
	}
	if n := len(live()); full != 20 || n != cfg.Store.MaxEntries {
		t.Fatalf("%d revocations refused as full, %d live; want 20 and %d (store.maxEntries)", full, n, cfg.Store.MaxEntries)
	}

	admin, _ := login(t, h, "admin")
	for i := 0; i < 5; i++ {
		clock.Add(time.Second)
		if res := do(t, h, "POST", "/token/revoke", `{"userId":2}`, "Authorization", "Bearer "+admin); res.code != 200 {
			t.Fatalf("revoke user %d on a full store: %d %s", i, res.code, res.raw)
		}
	}
	expectGuard(t, h, alice, 401, "token has been revoked")
	users := 0
	for _, r := range live() {
		if r.Session == "" {
			users++
		}
	}
	if users != 1 {
		t.Fatalf("%d revocations of user 2 live, want 1", users)
	}

	// The revocations expire with the longest token lifetime: room again.
	clock.Add(183 * 24 * time.Hour)
	alice, _ = login(t, h, "alice")
	if _, res := mintAndRevoke(alice); res.code != 200 {
		t.Fatalf("revoke once the revocations expired: %d %s", res.code, res.raw)
	}
}

// TestReuseDetectedWithAClockBehindRedis: a replica whose clock is behind
// Redis's (by less than the leeway) still detects a spent refresh token in
// its session's last seconds. Redis expires keys by its own clock: a
// session recorded only until its exp would be gone there while the
// replica still takes the token for valid, and the spent token would be
// adopted as a session never seen. Here the replica is 15 s behind, with a
// 10 s refresh lifetime: by Redis's clock every session has expired from
// the start.
func TestReuseDetectedWithAClockBehindRedis(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	cfg := sessionConfig(t)
	cfg.RefreshRotation = true
	cfg.RefreshReuseGrace = "0s"
	cfg.AccessTokenLifetime = "10s"
	cfg.RefreshTokenLifetime = "10s"
	cfg.Store.Redis.Endpoints = []string{"127.0.0.1:" + strconv.Itoa(srv.Port)}
	h, _ := newHandler(t, cfg)
	clock := withClock(t, h)
	clock.Set(time.Now().Add(-15 * time.Second))
	_, r0 := login(t, h, "alice")
	if res := refreshWith(t, h, r0); res.code != 201 {
		t.Fatalf("refresh: %d %s", res.code, res.raw)
	}
	if res := refreshWith(t, h, r0); res.code != 401 || !strings.Contains(res.str("message"), "already used") {
		t.Fatalf("the spent token again: %d %s, want 401 already used", res.code, res.raw)
	}
}

// TestRevocationCoversTheLeeway: a token is accepted until its exp plus
// the leeway, and so its revocation must last as long: here a refresh
// token revoked the second it was issued, presented in the last second of
// its leeway (rotation off, memory store and Redis).
func TestRevocationCoversTheLeeway(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	for _, redis := range []bool{false, true} {
		t.Run("redis="+strconv.FormatBool(redis), func(t *testing.T) {
			cfg := sessionConfig(t)
			cfg.RefreshTokenLifetime = "1h"
			cfg.CreateMaxLifetime = "1h" // no token lives longer
			if redis {
				cfg.Store.Redis.Endpoints = []string{"127.0.0.1:" + strconv.Itoa(srv.Port)}
			}
			h, _ := newHandler(t, cfg)
			clock := withClock(t, h)
			_, refresh := login(t, h, "alice")
			if res := do(t, h, "POST", "/token/revoke", `{"token":"`+refresh+`"}`); res.code != 200 {
				t.Fatalf("revoke: %d %s", res.code, res.raw)
			}
			clock.Add(time.Hour + 29*time.Second) // past exp, inside the 30s leeway
			if res := refreshWith(t, h, refresh); res.code != 401 || res.str("message") != "token has been revoked" {
				t.Fatalf("refresh in the leeway: %d %s, want 401 token has been revoked", res.code, res.raw)
			}
		})
	}
}
