//go:build e2e

package e2e

// POST /token/create through Traefik: a ManageToken holder mints narrower
// tokens for a user, in the REST and the message form; the subset rule and
// the other refusals; the minted tokens (and what their refresh token
// gives) are checked against the demo device API.

import (
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestTokenCreate: admin mints for alice a token that may only GetDevice
// in network 1, and the gate holds it to exactly that.
func TestTokenCreate(t *testing.T) {
	slow, count := scopeStubs(t)
	g := scopeGateway(t, slow, count)
	admin, _ := g.login(t, "admin")

	mint := g.post(t, "/token/create", `{"userId":2,"actions":["GetDevice"],"networkIds":["1"]}`, bearer(admin)...)
	if mint.code != http.StatusCreated {
		t.Fatalf("POST /token/create: want 201, got %s", mint)
	}
	noStoreCache(t, mint)
	access, refresh := mint.str(t, "accessToken"), mint.str(t, "refreshToken")

	r := g.post(t, "/token/refresh", fmt.Sprintf(`{"refreshToken":%q}`, refresh))
	if r.code != http.StatusCreated {
		t.Fatalf("POST /token/refresh with the minted refresh token: want 201, got %s", r)
	}
	refreshed := r.str(t, "accessToken")

	msg := g.post(t, "/token/create",
		`{"action":"token/create","requestId":"r1","payload":{"userId":2,"actions":["GetDevice"],"networkIds":["1"]}}`,
		bearer(admin)...)
	if msg.code != http.StatusOK {
		t.Fatalf("POST /token/create (message form): want 200, got %s", msg)
	}
	equals("status", "success")(t, msg)
	equals("requestId", "r1")(t, msg)
	equals("action", "token/create")(t, msg)
	fromMessage := msg.str(t, "accessToken")
	msg.str(t, "refreshToken")

	for _, tok := range []struct{ desc, token, typ string }{
		{"minted access token", access, "access"},
		{"minted refresh token", refresh, "refresh"},
		{"access token from the minted refresh token", refreshed, "access"},
		{"access token minted in the message form", fromMessage, "access"},
	} {
		t.Run(tok.desc+": claims", func(t *testing.T) {
			_, claims := decodeJWT(t, tok.token)
			p, _ := claims["payload"].(map[string]any)
			if claims["sub"] != "2" || claims["login"] != "alice" || claims["token_type"] != tok.typ || p == nil {
				t.Fatalf("claims: %v", claims)
			}
			if !reflect.DeepEqual(p["a"], []any{float64(3)}) || !reflect.DeepEqual(p["n"], []any{"1"}) || !reflect.DeepEqual(p["dt"], []any{"*"}) {
				t.Errorf("payload scopes: want a [3] (GetDevice), n [1], dt [*], got a %v, n %v, dt %v", p["a"], p["n"], p["dt"])
			}
		})
		if tok.typ != "access" {
			continue
		}
		t.Run(tok.desc+": reaches exactly its scopes", func(t *testing.T) {
			checks := []struct {
				method, path string
				code         int
			}{
				{http.MethodGet, "/device/d1", 200},
				{http.MethodGet, "/device/d1", 200}, // again, from the cache
				{http.MethodGet, "/device/d2", 403}, // network 2: not minted
				{http.MethodPost, "/device/d1/notification", 403},
				{http.MethodGet, "/device/d1/notification", 403},
				{http.MethodGet, "/network", 403},
			}
			for _, c := range checks {
				body := ""
				if c.method == http.MethodPost {
					body = `{"notification":"temperature"}`
				}
				r := g.do(t, c.method, c.path, body, bearer(tok.token)...)
				if c.code == http.StatusOK {
					expectPass(t, c.method+" "+c.path, r)
					if id, _ := r.json["identity"].(map[string]any); id != nil && (id["X-Auth-Actions"] != "GetDevice" || id["X-Auth-Networks"] != "1") {
						t.Errorf("the device API saw identity %v", id)
					}
					continue
				}
				expectRefused(t, c.method+" "+c.path, r, c.code, "Access is denied")
			}
		})
	}

	t.Run("the minted token cannot mint (no ManageToken)", func(t *testing.T) {
		r := g.post(t, "/token/create", `{"userId":2,"actions":["GetDevice"],"networkIds":["1"]}`, bearer(access)...)
		expectRefused(t, "POST /token/create", r, http.StatusForbidden, "Access is denied")
		lacks("accessToken")(t, r)
	})
}

// TestTokenCreateRefusals: everything /token/create must refuse, with the
// status and message the README gives.
func TestTokenCreateRefusals(t *testing.T) {
	g := startTraefik(t, oneRouter(pluginOptions(M{"createMaxLifetime": "720h"})))
	admin, adminRefresh := g.login(t, "admin")
	alice, _ := g.login(t, "alice")
	narrow := g.post(t, "/token/create", `{"userId":2,"actions":["GetDevice"],"networkIds":["1"]}`, bearer(admin)...)
	if narrow.code != http.StatusCreated {
		t.Fatalf("minting a narrow token: want 201, got %s", narrow)
	}
	narrowToken := narrow.str(t, "accessToken")

	tests := []struct {
		desc, caller, body string
		code               int
		message            string // exact, or a part of it when it starts with "~"
	}{
		// Controls: what is allowed.
		{"control: alice mints for herself within her rights", alice,
			`{"userId":2,"actions":["GetDevice",4],"networkIds":[1],"deviceTypeIds":["10"]}`, 201, ""},
		{"control: dates within createMaxAccessLifetime and createMaxLifetime (DeviceHive's format and RFC 3339)", admin,
			fmt.Sprintf(`{"userId":3,"expiration":%q,"refreshExpiration":%q}`,
				time.Now().Add(20*time.Minute).UTC().Format("2006-01-02T15:04:05.000"),
				time.Now().Add(700*time.Hour).UTC().Format(time.RFC3339)), 201, ""},
		{"control: admin mints for bob with the default lists", admin, `{"userId":3}`, 201, ""},

		{"unknown user", admin, `{"userId":99}`, 404, "User with id = 99 not found"},
		{"locked user", admin, `{"userId":4}`, 403, "user is locked"},
		{"disabled user", admin, `{"userId":5}`, 403, "user is disabled"},
		{"caller without ManageToken", narrowToken, `{"userId":2,"actions":["GetDevice"]}`, 403, "Access is denied"},
		{"alice mints * for admin", alice, `{"userId":1,"actions":["*"]}`, 403, "~needs ManageUser"},
		{"alice mints ManageUser for herself", alice, `{"userId":2,"actions":["ManageUser"]}`, 403, "action ManageUser exceeds what the caller and the user may grant"},
		{"admin mints network 3 for alice", admin, `{"userId":2,"networkIds":["3"]}`, 403, "networkIds 3 exceeds what the caller and the user may grant"},
		{"admin mints every network for alice", admin, `{"userId":2,"networkIds":["*"]}`, 403, "~exceeds what the caller and the user may grant"},
		{"admin mints device type 20 for bob", admin, `{"userId":3,"deviceTypeIds":[20]}`, 403, "~exceeds what the caller and the user may grant"},
		{"alice mints network 1 for bob", alice, `{"userId":3,"networkIds":["1"]}`, 403, "~needs ManageUser"},
		{"expiration beyond createMaxAccessLifetime (default: the access lifetime)", admin,
			fmt.Sprintf(`{"userId":2,"expiration":%q}`, time.Now().Add(2*time.Hour).UTC().Format(time.RFC3339)), 403, "expiration exceeds what the caller and the user may grant"},
		{"refreshExpiration beyond createMaxLifetime (720h)", admin,
			fmt.Sprintf(`{"userId":2,"refreshExpiration":%q}`, time.Now().Add(800*time.Hour).UTC().Format(time.RFC3339)), 403, "refreshExpiration exceeds what the caller and the user may grant"},
		{"expiration in the past", admin, `{"userId":2,"expiration":"2001-01-01T00:00:00.000"}`, 400, ""},
		{"unknown action name", admin, `{"userId":2,"actions":["GetDevice","FlyToTheMoon"]}`, 400, ""},
		{"unknown action id", admin, `{"userId":2,"actions":[99]}`, 400, ""},
		{"userId missing", admin, `{"actions":["GetDevice"]}`, 400, ""},
		{"userId not a number", admin, `{"userId":"two"}`, 400, ""},
		{"no token", "", `{"userId":2}`, 401, ""},
		{"tampered token", tamper(admin), `{"userId":2}`, 401, "token signature is invalid"},
		{"refresh token as the caller's token", adminRefresh, `{"userId":2}`, 401, "token is of the wrong type"},
	}
	for _, test := range tests {
		t.Run(test.desc, func(t *testing.T) {
			var header []string
			if test.caller != "" {
				header = bearer(test.caller)
			}
			r := g.post(t, "/token/create", test.body, header...)
			if test.code == http.StatusCreated {
				expectStatus(t, "POST /token/create", r, http.StatusCreated)
				hasStrings("accessToken", "refreshToken")(t, r)
				return
			}
			expectRefused(t, "POST /token/create", r, test.code, "")
			lacks("accessToken")(t, r)
			got, _ := r.json["message"].(string)
			if part, ok := strings.CutPrefix(test.message, "~"); ok {
				if !strings.Contains(got, part) {
					t.Errorf("message %q does not contain %q", got, part)
				}
			} else if test.message != "" && got != test.message {
				t.Errorf("message: want %q, got %q", test.message, got)
			}
		})
	}

	t.Run("message form: refusal keeps the requestId", func(t *testing.T) {
		r := g.post(t, "/token/create", `{"action":"token/create","requestId":42,"payload":{"userId":99}}`, bearer(admin)...)
		expectStatus(t, "POST /token/create (message)", r, http.StatusNotFound)
		equals("status", "error")(t, r)
		equals("requestId", float64(42))(t, r)
		equals("code", float64(404))(t, r)
		equals("error", "User with id = 99 not found")(t, r)
		lacks("accessToken")(t, r)
	})
	t.Run("message form: subset violation", func(t *testing.T) {
		r := g.post(t, "/token/create", `{"action":"token/create","requestId":"r2","payload":{"userId":2,"networkIds":["3"]}}`, bearer(admin)...)
		expectStatus(t, "POST /token/create (message)", r, http.StatusForbidden)
		equals("status", "error")(t, r)
		equals("requestId", "r2")(t, r)
		equals("code", float64(403))(t, r)
	})
	t.Run("message form: without a payload", func(t *testing.T) {
		r := g.post(t, "/token/create", `{"action":"token/create","requestId":"r3"}`, bearer(admin)...)
		expectStatus(t, "POST /token/create (message)", r, http.StatusBadRequest)
		equals("status", "error")(t, r)
	})
	t.Run("GET is not allowed", func(t *testing.T) {
		r := g.do(t, http.MethodGet, "/token/create", "", bearer(admin)...)
		expectStatus(t, "GET /token/create", r, http.StatusMethodNotAllowed)
		header("Allow", "POST")(t, r)
	})
}
