package tokengate_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/tokengate/tokengate"
)

// sessionConfig is guardConfig with its own issuer, so that the memory
// store (shared by the instances of one issuer in the process) is the
// test's own.
func sessionConfig(t testing.TB) *tokengate.Config {
	cfg := guardConfig()
	cfg.Issuer = "tokengate-" + strings.ReplaceAll(t.Name(), "/", "-")
	return cfg
}

func refreshWith(t testing.TB, h http.Handler, refresh string) response {
	t.Helper()
	return do(t, h, "POST", "/token/refresh", `{"refreshToken":"`+refresh+`"}`)
}

func expectGuard(t testing.TB, h http.Handler, token string, code int, message string) {
	t.Helper()
	for i := 0; i < 2; i++ { // verified or cached, then from the memo
		res := doMulti(t, h, "GET", "/user/current", "Authorization", "Bearer "+token)
		if res.code != code || !strings.Contains(res.str("message"), message) {
			t.Fatalf("GET /user/current (%d): %d %s, want %d %q", i+1, res.code, res.raw, code, message)
		}
	}
}

// TestRevoke: RFC 7009 revocation by either token of a session, in JSON,
// form and message form; unknown, invalid and expired tokens are fine.
func TestRevoke(t *testing.T) {
	tests := []struct {
		desc  string
		which string                              // "access" or "refresh": the token revoked
		body  func(token string) (string, string) // body and Content-Type
		path  string
		code  int
	}{
		{desc: "refresh token, JSON", which: "refresh", path: "/token/revoke", code: 200,
			body: func(tok string) (string, string) { return `{"token":"` + tok + `"}`, "application/json" }},
		{desc: "access token, JSON with hint", which: "access", path: "/token/revoke", code: 200,
			body: func(tok string) (string, string) {
				return `{"token":"` + tok + `","token_type_hint":"access_token"}`, "application/json"
			}},
		{desc: "refresh token, form", which: "refresh", path: "/token/revoke", code: 200,
			body: func(tok string) (string, string) {
				return "token=" + tok + "&token_type_hint=refresh_token", "application/x-www-form-urlencoded"
			}},
		{desc: "JSON sent as curl -d labels it (a form)", which: "refresh", path: "/token/revoke", code: 200,
			body: func(tok string) (string, string) {
				return `{"token":"` + tok + `"}`, "application/x-www-form-urlencoded"
			}},
		{desc: "message form at /token", which: "access", path: "/token", code: 200,
			body: func(tok string) (string, string) {
				return `{"action":"token/revoke","requestId":7,"token":"` + tok + `"}`, "application/json"
			}},
	}
	for _, test := range tests {
		t.Run(test.desc, func(t *testing.T) {
			h, _ := newHandler(t, sessionConfig(t))
			access, refresh := login(t, h, "alice")
			other, _ := login(t, h, "alice") // another session of the same user
			expectGuard(t, h, access, 418, "")
			token := access
			if test.which == "refresh" {
				token = refresh
			}
			body, ctype := test.body(token)
			res := do(t, h, "POST", test.path, body, "Content-Type", ctype)
			if res.code != test.code {
				t.Fatalf("revoke: %d %s", res.code, res.raw)
			}
			expectGuard(t, h, access, 401, "token has been revoked")
			if res := refreshWith(t, h, refresh); res.code != 401 || res.str("message") != "token has been revoked" {
				t.Fatalf("refresh after revoke: %d %s", res.code, res.raw)
			}
			expectGuard(t, h, other, 418, "")
			// A new instance (a configuration reload) still refuses it.
			h2, _ := newHandler(t, sessionConfig(t))
			expectGuard(t, h2, access, 401, "token has been revoked")
		})
	}
}

// TestRevokeWithExpiredAccessToken: a client whose access token has
// expired still ends its session with it (logging out after a break); the
// refresh token of that session is refused from then on.
func TestRevokeWithExpiredAccessToken(t *testing.T) {
	cfg := sessionConfig(t)
	cfg.AccessTokenLifetime = "10m"
	h, _ := newHandler(t, cfg)
	clock := withClock(t, h)
	access, refresh := login(t, h, "alice")
	_, other := login(t, h, "alice") // another session of the same user
	clock.Add(time.Hour)
	expectGuard(t, h, access, 401, "token has expired")
	if res := do(t, h, "POST", "/token/revoke", `{"token":"`+access+`"}`); res.code != 200 {
		t.Fatalf("revoke: %d %s", res.code, res.raw)
	}
	if res := refreshWith(t, h, refresh); res.code != 401 || res.str("message") != "token has been revoked" {
		t.Fatalf("refresh after logout: %d %s, want 401 token has been revoked", res.code, res.raw)
	}
	if res := refreshWith(t, h, other); res.code != 201 {
		t.Fatalf("the other session's refresh: %d %s", res.code, res.raw)
	}
}

func TestRevokeRefusalsAndNoOps(t *testing.T) {
	cfg := sessionConfig(t)
	h, _ := newHandler(t, cfg)
	access, _ := login(t, h, "alice")
	expired := forge(t, jwt.SigningMethodHS256, "test-1", []byte(testSecret), map[string]any{"exp": time.Now().Add(-time.Hour).Unix()})
	tests := []struct {
		desc, body, ctype string
		code              int
	}{
		{desc: "garbage token", body: `{"token":"not-a-token"}`, code: 200},
		{desc: "unknown key", body: `{"token":"eyJhbGciOiJIUzI1NiIsImtpZCI6Im5vIn0.e30.AAAA"}`, code: 200},
		{desc: "expired token", body: `{"token":"` + expired + `"}`, code: 200},
		{desc: "unknown hint is ignored", body: `{"token":"x","token_type_hint":"id_token"}`, code: 200},
		{desc: "no token", body: `{}`, code: 400},
		{desc: "blank token", body: `{"token":" "}`, code: 400},
		{desc: "hint not a string", body: `{"token":"x","token_type_hint":3}`, code: 400},
		{desc: "not JSON", body: `token=x`, code: 400},
		{desc: "form field twice", body: `token=x&token=y`, ctype: "application/x-www-form-urlencoded", code: 400},
		{desc: "form without token", body: `hint=x`, ctype: "application/x-www-form-urlencoded", code: 400},
	}
	for _, test := range tests {
		t.Run(test.desc, func(t *testing.T) {
			ctype := test.ctype
			if ctype == "" {
				ctype = "application/json"
			}
			res := do(t, h, "POST", "/token/revoke", test.body, "Content-Type", ctype)
			if res.code != test.code {
				t.Fatalf("status = %d, want %d: %s", res.code, test.code, res.raw)
			}
		})
	}
	t.Run("GET is not allowed", func(t *testing.T) {
		if res := do(t, h, "GET", "/token/revoke", ""); res.code != 405 {
			t.Fatalf("status %d", res.code)
		}
	})
	expectGuard(t, h, access, 418, "")
}

// TestRevokeUser: a ManageToken holder ends every session of itself or of
// a user within its rights; never of a mightier user.
func TestRevokeUser(t *testing.T) {
	h, _ := newHandler(t, sessionConfig(t))
	clock := withClock(t, h)
	admin, _ := login(t, h, "admin")
	alice, _ := login(t, h, "alice")
	bob, _ := login(t, h, "bob")
	tests := []struct {
		desc, caller, body string
		code               int
	}{
		{desc: "alice ends bob's sessions (network 3 is not hers)", caller: alice, body: `{"userId":3}`, code: 403},
		{desc: "alice ends admin's", caller: alice, body: `{"userId":1}`, code: 403},
		{desc: "alice probes an unknown user", caller: alice, body: `{"userId":99}`, code: 403},
		{desc: "admin, unknown user", caller: admin, body: `{"userId":99}`, code: 404},
		{desc: "no token", body: `{"userId":3}`, code: 401},
		{desc: "admin ends bob's", caller: admin, body: `{"userId":3}`, code: 200},
	}
	for _, test := range tests {
		t.Run(test.desc, func(t *testing.T) {
			var header []string
			if test.caller != "" {
				header = []string{"Authorization", "Bearer " + test.caller}
			}
			if res := do(t, h, "POST", "/token/revoke", test.body, header...); res.code != test.code {
				t.Fatalf("status = %d, want %d: %s", res.code, test.code, res.raw)
			}
		})
	}
	expectGuard(t, h, bob, 401, "token has been revoked")
	expectGuard(t, h, alice, 418, "")
	clock.Add(time.Second) // a token of the next second
	fresh, _ := login(t, h, "bob")
	expectGuard(t, h, fresh, 418, "")

	t.Run("alice ends her own sessions", func(t *testing.T) {
		if res := do(t, h, "POST", "/token/revoke", `{"userId":2}`, "Authorization", "Bearer "+alice); res.code != 200 {
			t.Fatalf("status %d %s", res.code, res.raw)
		}
		expectGuard(t, h, alice, 401, "token has been revoked")
	})
}

// TestTokensValidAfter: the global option and a user's own refuse tokens
// issued before, without any store.
func TestTokensValidAfter(t *testing.T) {
	future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	past := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	for _, test := range []struct {
		desc   string
		change func(cfg *tokengate.Config)
		code   int
	}{
		{desc: "global, past", change: func(cfg *tokengate.Config) { cfg.TokensValidAfter = past }, code: 418},
		{desc: "global, future", change: func(cfg *tokengate.Config) { cfg.TokensValidAfter = future }, code: 401},
		{desc: "alice's, future", change: func(cfg *tokengate.Config) { cfg.Users[1].TokensValidAfter = future }, code: 401},
		{desc: "bob's, future", change: func(cfg *tokengate.Config) { cfg.Users[2].TokensValidAfter = future }, code: 418},
	} {
		t.Run(test.desc, func(t *testing.T) {
			cfg := sessionConfig(t)
			h, _ := newHandler(t, cfg) // tokens issued now
			access, refresh := login(t, h, "alice")
			test.change(cfg)
			h, _ = newHandler(t, cfg) // then the option set
			message := ""
			if test.code == 401 {
				message = "issued before tokensValidAfter"
			}
			expectGuard(t, h, access, test.code, message)
			if res := refreshWith(t, h, refresh); (res.code == 201) != (test.code == 418) {
				t.Fatalf("refresh: %d %s", res.code, res.raw)
			}
		})
	}
}

// TestRefreshRotation: with rotation on, every refresh also answers a new
// refresh token and spends the one presented, in all three dialects.
func TestRefreshRotation(t *testing.T) {
	cfg := sessionConfig(t)
	cfg.RefreshRotation = true
	h, _ := newHandler(t, cfg)
	tests := []struct {
		desc   string
		path   string
		body   string // %s: the refresh token
		access string
		next   string
		code   int
	}{
		{desc: "REST", path: "/token/refresh", body: `{"refreshToken":"%s"}`, access: "accessToken", next: "refreshToken", code: 201},
		{desc: "message", path: "/token", body: `{"action":"token/refresh","requestId":1,"refreshToken":"%s"}`, access: "accessToken", next: "refreshToken", code: 200},
		{desc: "HarperDB", path: "/token", body: `{"operation":"refresh_operation_token","refresh_token":"%s"}`, access: "operation_token", next: "refresh_token", code: 200},
	}
	for _, test := range tests {
		t.Run(test.desc, func(t *testing.T) {
			_, refresh := login(t, h, "alice")
			res := do(t, h, "POST", test.path, strings.Replace(test.body, "%s", refresh, 1))
			if res.code != test.code || res.str(test.access) == "" || res.str(test.next) == "" || res.str(test.next) == refresh {
				t.Fatalf("rotate: %d %s", res.code, res.raw)
			}
			next := res.str(test.next)
			if payloadOf(t, next)["sid"] != payloadOf(t, refresh)["sid"] || payloadOf(t, next)["exp"] != payloadOf(t, refresh)["exp"] {
				t.Fatalf("the rotated token is of another session or lives longer")
			}
			// And the new one rotates in turn.
			if res := do(t, h, "POST", test.path, strings.Replace(test.body, "%s", next, 1)); res.code != test.code || res.str(test.next) == "" {
				t.Fatalf("rotate again: %d %s", res.code, res.raw)
			}
		})
	}
}

// TestRefreshReuse: a spent refresh token presented again revokes its
// session, except the immediately previous one within the grace.
func TestRefreshReuse(t *testing.T) {
	rotate := func(t *testing.T, h http.Handler, refresh string, code int, message string) string {
		t.Helper()
		res := refreshWith(t, h, refresh)
		if res.code != code || !strings.Contains(res.str("message"), message) {
			t.Fatalf("refresh: %d %s, want %d %q", res.code, res.raw, code, message)
		}
		return res.str("refreshToken")
	}
	t.Run("within the grace, the previous token retries", func(t *testing.T) {
		cfg := sessionConfig(t)
		cfg.RefreshRotation = true
		h, _ := newHandler(t, cfg)
		access, r0 := login(t, h, "alice")
		r1 := rotate(t, h, r0, 201, "")
		r1b := rotate(t, h, r0, 201, "") // the answer to r0 was lost: r0 again
		rotate(t, h, r1b, 201, "")
		expectGuard(t, h, access, 418, "")
		// r1 is neither current nor the immediately previous token.
		rotate(t, h, r1, 401, "already used")
		expectGuard(t, h, access, 401, "token has been revoked")
	})
	t.Run("outside the grace, reuse revokes the session", func(t *testing.T) {
		cfg := sessionConfig(t)
		cfg.RefreshRotation = true
		cfg.RefreshReuseGrace = "0s"
		h, _ := newHandler(t, cfg)
		access, r0 := login(t, h, "alice")
		other, otherRefresh := login(t, h, "alice")
		r1 := rotate(t, h, r0, 201, "")
		time.Sleep(5 * time.Millisecond)
		rotate(t, h, r0, 401, "already used: its session is revoked")
		rotate(t, h, r1, 401, "token has been revoked") // the thief's and the owner's alike
		expectGuard(t, h, access, 401, "token has been revoked")
		expectGuard(t, h, other, 418, "") // another session stands
		rotate(t, h, otherRefresh, 201, "")
	})
}

// TestStoreFullFailsClosed: a memory store at its bound refuses to start
// sessions it would have to record (503) rather than forget one.
func TestStoreFullFailsClosed(t *testing.T) {
	cfg := sessionConfig(t)
	cfg.RefreshRotation = true
	cfg.Store.MaxEntries = 3
	h, _ := newHandler(t, cfg)
	for i := 0; i < 3; i++ {
		login(t, h, "alice")
	}
	res := do(t, h, "POST", "/token", `{"login":"alice","password":"alice-pass"}`)
	if res.code != 503 || !strings.Contains(res.str("message"), "full") {
		t.Fatalf("login with a full store: %d %s", res.code, res.raw)
	}
}

func TestStoreConfigErrors(t *testing.T) {
	tests := []struct {
		desc   string
		change func(cfg *tokengate.Config)
		want   string
	}{
		{desc: "bad grace", change: func(cfg *tokengate.Config) { cfg.RefreshReuseGrace = "soon" }, want: "refreshReuseGrace:"},
		{desc: "bad tokensValidAfter", change: func(cfg *tokengate.Config) { cfg.TokensValidAfter = "yesterday" }, want: "tokensValidAfter:"},
		{desc: "bad user tokensValidAfter", change: func(cfg *tokengate.Config) { cfg.Users[1].TokensValidAfter = "2026" }, want: "users[1].tokensValidAfter:"},
		{desc: "bad sync interval", change: func(cfg *tokengate.Config) { cfg.Store.SyncInterval = "0s" }, want: "store.syncInterval:"},
		{desc: "staleness under sync", change: func(cfg *tokengate.Config) { cfg.Store.MaxStaleness = "1s"; cfg.Store.SyncInterval = "2s" }, want: "store.maxStaleness:"},
		{desc: "memory bound", change: func(cfg *tokengate.Config) { cfg.Store.MaxEntries = 0 }, want: "store.maxEntries:"},
		{desc: "bad endpoint", change: func(cfg *tokengate.Config) { cfg.Store.Redis.Endpoints = []string{"nohost"} }, want: "store.redis.endpoints[0]:"},
		{desc: "bad timeout", change: func(cfg *tokengate.Config) {
			cfg.Store.Redis.Endpoints = []string{"127.0.0.1:1"}
			cfg.Store.Redis.Timeout = "x"
		}, want: "store.redis.timeout:"},
		{desc: "missing CA", change: func(cfg *tokengate.Config) {
			cfg.Store.Redis.Endpoints = []string{"127.0.0.1:1"}
			cfg.Store.Redis.TLS = tokengate.RedisTLS{Enabled: true, CA: "/nonexistent/ca.pem"}
		}, want: "store.redis.tls.ca:"},
	}
	for _, test := range tests {
		t.Run(test.desc, func(t *testing.T) {
			cfg := sessionConfig(t)
			test.change(cfg)
			expectConfigError(t, cfg, test.want)
		})
	}
}

// TestSpentRefreshRefusedAtExp: with rotation on, a refresh token is
// refused from its exp on, without the leeway. The store forgets a session
// at that exp, and a spent token presented in the leeway after it would be
// taken for one of a session it never saw (adopted) and exchanged again.
func TestSpentRefreshRefusedAtExp(t *testing.T) {
	cfg := sessionConfig(t)
	cfg.RefreshRotation = true
	cfg.RefreshTokenLifetime = "10m"
	h, _ := newHandler(t, cfg)
	clock := withClock(t, h)
	_, r0 := login(t, h, "alice")
	res := refreshWith(t, h, r0)
	if res.code != 201 {
		t.Fatalf("rotate: %d %s", res.code, res.raw)
	}
	r1 := res.str("refreshToken")
	clock.Add(10*time.Minute - 2*time.Second) // the last seconds of the session
	res = refreshWith(t, h, r1)
	if res.code != 201 {
		t.Fatalf("rotate before exp: %d %s", res.code, res.raw)
	}
	r2 := res.str("refreshToken")
	clock.Add(2 * time.Second) // at exp
	if res := refreshWith(t, h, r2); res.code != 401 || res.str("message") != "token has expired" {
		t.Fatalf("current token at exp: %d %s, want 401 token has expired", res.code, res.raw)
	}
	clock.Add(10 * time.Second) // past exp, inside the 30s leeway
	for _, spent := range []string{r0, r1} {
		if res := refreshWith(t, h, spent); res.code != 401 || res.str("message") != "token has expired" {
			t.Fatalf("spent token after exp: %d %s, want 401 token has expired", res.code, res.raw)
		}
	}
}
