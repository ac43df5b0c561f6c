//go:build e2e

package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestTokenDialects drives the token service through Traefik in its three
// dialects (DeviceHive REST, DeviceHive messages, HarperDB operations) and
// checks its errors.
func TestTokenDialects(t *testing.T) {
	g := startTraefik(t, gatewayYAML("maxBodyBytes: 1024"))

	// Tokens to work with, from the REST dialect.
	login := g.post(t, "/token", `{"login":"alice","password":"alice-pass"}`)
	if login.code != http.StatusCreated {
		t.Fatalf("POST /token: want 201, got %s", login)
	}
	access := login.str(t, "accessToken")
	refresh := login.str(t, "refreshToken")

	type check func(t *testing.T, r *reply)
	tests := []struct {
		desc   string
		method string // default POST
		path   string
		body   string
		code   int
		checks []check
	}{
		// DeviceHive REST.
		{
			desc: "REST login", path: "/token",
			body:   `{"login":"alice","password":"alice-pass"}`,
			code:   http.StatusCreated,
			checks: []check{hasStrings("accessToken", "refreshToken"), noStoreCache},
		},
		{
			desc: "REST login, client user", path: "/token",
			body:   `{"login":"bob","password":"bob-pass"}`,
			code:   http.StatusCreated,
			checks: []check{hasStrings("accessToken", "refreshToken")},
		},
		{
			desc: "REST refresh", path: "/token/refresh",
			body:   fmt.Sprintf(`{"refreshToken":%q}`, refresh),
			code:   http.StatusCreated,
			checks: []check{hasStrings("accessToken"), lacks("refreshToken")},
		},

		// DeviceHive messages.
		{
			desc: "message login", path: "/token",
			body: `{"action":"token","requestId":7,"login":"alice","password":"alice-pass"}`,
			code: http.StatusOK,
			checks: []check{
				hasStrings("accessToken", "refreshToken"),
				equals("action", "token"), equals("status", "success"), equals("requestId", float64(7)),
			},
		},
		{
			desc: "message refresh", path: "/token/refresh",
			body: fmt.Sprintf(`{"action":"token/refresh","requestId":"abc","refreshToken":%q}`, refresh),
			code: http.StatusOK,
			checks: []check{
				hasStrings("accessToken"),
				equals("action", "token/refresh"), equals("status", "success"), equals("requestId", "abc"),
			},
		},

		// HarperDB operations.
		{
			desc: "HarperDB create_authentication_tokens", path: "/token",
			body:   `{"operation":"create_authentication_tokens","username":"alice","password":"alice-pass"}`,
			code:   http.StatusOK,
			checks: []check{hasStrings("operation_token", "refresh_token")},
		},
		{
			desc: "HarperDB refresh_operation_token", path: "/token",
			body:   fmt.Sprintf(`{"operation":"refresh_operation_token","refresh_token":%q}`, refresh),
			code:   http.StatusOK,
			checks: []check{hasStrings("operation_token"), lacks("refresh_token")},
		},

		// Errors.
		{
			desc: "wrong password", path: "/token",
			body:   `{"login":"alice","password":"wrong"}`,
			code:   http.StatusUnauthorized,
			checks: []check{restError(401)},
		},
		{
			desc: "unknown user", path: "/token",
			body:   `{"login":"mallory","password":"alice-pass"}`,
			code:   http.StatusUnauthorized,
			checks: []check{restError(401)},
		},
		{
			desc: "missing password", path: "/token",
			body:   `{"login":"alice"}`,
			code:   http.StatusBadRequest,
			checks: []check{restError(400)},
		},
		{
			desc: "malformed JSON", path: "/token",
			body:   `{"login":"alice",`,
			code:   http.StatusBadRequest,
			checks: []check{restError(400)},
		},
		{
			desc: "GET on the token path", method: http.MethodGet, path: "/token",
			code:   http.StatusMethodNotAllowed,
			checks: []check{header("Allow", "POST")},
		},
		{
			desc: "body over maxBodyBytes", path: "/token",
			body:   `{"login":"alice","password":"` + strings.Repeat("x", 2000) + `"}`,
			code:   http.StatusRequestEntityTooLarge,
			checks: []check{restError(413)},
		},
		{
			desc: "access token used as refresh token", path: "/token/refresh",
			body:   fmt.Sprintf(`{"refreshToken":%q}`, access),
			code:   http.StatusUnauthorized,
			checks: []check{restError(401), lacks("accessToken")},
		},
		{
			desc: "garbage refresh token", path: "/token/refresh",
			body:   `{"refreshToken":"abc.def.ghi"}`,
			code:   http.StatusUnauthorized,
			checks: []check{restError(401), lacks("accessToken")},
		},
		{
			desc: "HarperDB refresh with an access token", path: "/token",
			body:   fmt.Sprintf(`{"operation":"refresh_operation_token","refresh_token":%q}`, access),
			code:   http.StatusUnauthorized,
			checks: []check{hasStrings("error"), lacks("operation_token")},
		},
		{
			desc: "unknown HarperDB operation", path: "/token",
			body:   `{"operation":"drop_table","table":"users"}`,
			code:   http.StatusBadRequest,
			checks: []check{hasStrings("error")},
		},
	}
	for _, test := range tests {
		t.Run(test.desc, func(t *testing.T) {
			method := test.method
			if method == "" {
				method = http.MethodPost
			}
			r := g.do(t, method, test.path, test.body)
			if r.code != test.code {
				t.Fatalf("%s %s: want %d, got %s", method, test.path, test.code, r)
			}
			for _, c := range test.checks {
				c(t, r)
			}
		})
	}

	t.Run("unknown user and wrong password look the same", func(t *testing.T) {
		wrong := g.post(t, "/token", `{"login":"alice","password":"wrong"}`)
		unknown := g.post(t, "/token", `{"login":"mallory","password":"wrong"}`)
		if wrong.code != unknown.code || string(wrong.body) != string(unknown.body) {
			t.Errorf("a client can tell users apart:\nwrong password: %s\nunknown user:   %s", wrong, unknown)
		}
	})
}

// ---------------------------------------------------------------------------
// Checks on a reply.

func hasStrings(fields ...string) func(*testing.T, *reply) {
	return func(t *testing.T, r *reply) {
		t.Helper()
		for _, f := range fields {
			r.str(t, f)
		}
	}
}

func lacks(field string) func(*testing.T, *reply) {
	return func(t *testing.T, r *reply) {
		t.Helper()
		if _, ok := r.json[field]; ok {
			t.Errorf("response has %q and should not: %s", field, r)
		}
	}
}

func equals(field string, want any) func(*testing.T, *reply) {
	return func(t *testing.T, r *reply) {
		t.Helper()
		if got := r.json[field]; got != want {
			t.Errorf("%s: want %#v, got %#v in %s", field, want, got, r)
		}
	}
}

// restError checks DeviceHive's REST error body {"error": code, "message": "..."}.
func restError(code int) func(*testing.T, *reply) {
	return func(t *testing.T, r *reply) {
		t.Helper()
		if got, _ := r.json["error"].(float64); int(got) != code {
			t.Errorf("want {\"error\":%d,...}, got %s", code, r)
		}
		if msg, _ := r.json["message"].(string); msg == "" {
			t.Errorf("error body has no message: %s", r)
		}
	}
}

func header(name, want string) func(*testing.T, *reply) {
	return func(t *testing.T, r *reply) {
		t.Helper()
		if got := r.header.Get(name); got != want {
			t.Errorf("header %s: want %q, got %q", name, want, got)
		}
	}
}

// noStoreCache checks that a token response may not be cached.
func noStoreCache(t *testing.T, r *reply) {
	t.Helper()
	if got := r.header.Get("Cache-Control"); !strings.Contains(got, "no-store") {
		t.Errorf("Cache-Control: want no-store, got %q", got)
	}
}
