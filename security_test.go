package tokengate_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tokengate/tokengate"
)

// The regression tests of the black-box review's findings (issue #10).

// payloadOf decodes a token's payload segment.
func payloadOf(t testing.TB, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", token)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(raw, &claims); err != nil {
		t.Fatal(err)
	}
	return claims
}

// TestNoImpersonationThroughCreate: a ManageToken holder mints only for
// itself unless its token holds ManageUser; a minted token names its
// minter in "act" and the backend receives it in X-Auth-Actor-Id.
func TestNoImpersonationThroughCreate(t *testing.T) {
	h, next := newHandler(t, guardConfig())
	admin, _ := login(t, h, "admin")
	alice, _ := login(t, h, "alice")
	tests := []struct {
		desc    string
		caller  string
		body    string
		code    int
		message string
		userID  string // X-Auth-User-Id the backend then receives
		actorID string // X-Auth-Actor-Id
	}{
		{desc: "alice mints for admin", caller: alice, body: `{"userId":1}`, code: 403, message: "needs ManageUser"},
		{desc: "alice mints for bob", caller: alice, body: `{"userId":3}`, code: 403, message: "needs ManageUser"},
		{desc: "alice probes an unknown user", caller: alice, body: `{"userId":99}`, code: 403, message: "needs ManageUser"},
		{desc: "alice mints for herself", caller: alice, body: `{"userId":2,"actions":["GetDevice"]}`, code: 201, userID: "2", actorID: "2"},
		{desc: "admin mints for alice", caller: admin, body: `{"userId":2,"actions":["GetDevice"]}`, code: 201, userID: "2", actorID: "1"},
	}
	for _, test := range tests {
		t.Run(test.desc, func(t *testing.T) {
			res := do(t, h, "POST", "/token/create", test.body, "Authorization", "Bearer "+test.caller)
			if res.code != test.code {
				t.Fatalf("status = %d, want %d: %s", res.code, test.code, res.raw)
			}
			if test.code != 201 {
				if !strings.Contains(res.str("message"), test.message) {
					t.Fatalf("message = %q, want %q", res.str("message"), test.message)
				}
				return
			}
			for _, token := range []string{res.str("accessToken"), res.str("refreshToken")} {
				act, _ := payloadOf(t, token)["act"].(map[string]any)
				if act["sub"] != test.actorID {
					t.Errorf("act = %v, want sub %s", act, test.actorID)
				}
			}
			got := doMulti(t, h, "GET", "/device/d1", "Authorization", "Bearer "+res.str("accessToken"), "X-Auth-Actor-Id", "666")
			if got.code != 418 {
				t.Fatalf("minted token on /device/d1: %d %s", got.code, got.raw)
			}
			if next.header.Get("X-Auth-User-Id") != test.userID || next.header.Get("X-Auth-Actor-Id") != test.actorID {
				t.Errorf("backend saw user %q actor %q, want %s and %s",
					next.header.Get("X-Auth-User-Id"), next.header.Get("X-Auth-Actor-Id"), test.userID, test.actorID)
			}
		})
	}
	t.Run("a login's token has no actor", func(t *testing.T) {
		if _, ok := payloadOf(t, alice)["act"]; ok {
			t.Fatal("login token carries act")
		}
		for i := 0; i < 2; i++ { // the second is answered from the memo
			if got := doMulti(t, h, "GET", "/device/d1", "Authorization", "Bearer "+alice, "X-Auth-Actor-Id", "1"); got.code != 418 {
				t.Fatalf("status %d", got.code)
			}
			if v, ok := next.header["X-Auth-Actor-Id"]; ok && len(v) > 0 {
				t.Fatalf("backend saw X-Auth-Actor-Id %q", v)
			}
		}
	})
}

// usersFile writes the users of a test's users file and gives it a fresh
// modification time, so that the next check (at most 1s later) reloads it.
type usersFile struct {
	t    testing.TB
	path string
	mod  time.Time
}

func newUsersFile(t testing.TB) *usersFile {
	return &usersFile{t: t, path: filepath.Join(t.TempDir(), "users.json"), mod: time.Now().Add(-time.Hour)}
}

func (f *usersFile) write(users ...string) {
	f.t.Helper()
	body := `{"users":[` + strings.Join(users, ",") + `]}`
	if err := os.WriteFile(f.path, []byte(body), 0o600); err != nil {
		f.t.Fatal(err)
	}
	f.mod = f.mod.Add(time.Minute)
	if err := os.Chtimes(f.path, f.mod, f.mod); err != nil {
		f.t.Fatal(err)
	}
}

// user is one users-file entry; every password is alice's ("alice-pass").
func user(id, login, status, actions, networks string) string {
	return `{"id":` + id + `,"login":"` + login + `","passwordHash":"` + testHashes["alice"] + `","status":"` + status +
		`","actions":` + actions + `,"networkIds":` + networks + `,"deviceTypeIds":["*"]}`
}

// TestUserStateEndsTokens: once the users file says a token's user or
// minter is removed, locked or disabled, the token is refused on guarded
// routes (cached and memoised decisions included) and at refresh, and a
// minted token refreshes into no more than its minter may grant today.
func TestUserStateEndsTokens(t *testing.T) {
	const minterActions = `["GetDevice","ManageToken","ManageUser"]`
	file := newUsersFile(t)
	file.write(
		user("10", "minter", "active", minterActions, `["1","2"]`),
		user("11", "holder", "active", `["GetDevice","ManageToken"]`, `["1","2","3"]`),
	)
	cfg := sessionConfig(t)
	cfg.UsersFile = file.path
	cfg.UsersFileCheckInterval = "1s"
	cfg.CreateMaxAccessLifetime = "4000h"
	h, _ := newHandler(t, cfg)
	clock := withClock(t, h)
	waitForCheck := func() { clock.Add(1100 * time.Millisecond) } // the users file's check comes due
	login := func(name string) (string, string) {
		res := do(t, h, "POST", "/token", `{"login":"`+name+`","password":"alice-pass"}`)
		if res.code != 201 {
			t.Fatalf("login %s: %d %s", name, res.code, res.raw)
		}
		return res.str("accessToken"), res.str("refreshToken")
	}
	mint := func(caller, body string) (string, string) {
		res := do(t, h, "POST", "/token/create", body, "Authorization", "Bearer "+caller)
		if res.code != 201 {
			t.Fatalf("mint %s: %d %s", body, res.code, res.raw)
		}
		return res.str("accessToken"), res.str("refreshToken")
	}
	expect := func(token, path string, code int, message string) {
		t.Helper()
		for i := 0; i < 2; i++ { // the second may come from the memo
			res := doMulti(t, h, "GET", path, "Authorization", "Bearer "+token)
			if res.code != code || !strings.Contains(res.str("message"), message) {
				t.Fatalf("GET %s (%d): %d %s, want %d %q", path, i+1, res.code, res.raw, code, message)
			}
		}
	}
	refresh := func(token string, code int, message string) string {
		t.Helper()
		res := do(t, h, "POST", "/token/refresh", `{"refreshToken":"`+token+`"}`)
		if res.code != code || !strings.Contains(res.str("message"), message) {
			t.Fatalf("refresh: %d %s, want %d %q", res.code, res.raw, code, message)
		}
		return res.str("accessToken")
	}

	minter, _ := login("minter")
	holder, _ := login("holder")
	forHolder, forHolderRefresh := mint(minter, `{"userId":11}`)
	selfMinted, _ := mint(holder, `{"userId":11,"expiration":"`+time.Now().UTC().Add(3000*time.Hour).Format(time.RFC3339)+`"}`)
	for _, token := range []string{holder, forHolder, selfMinted} {
		expect(token, "/device/d1", 418, "")
	}
	expect(forHolder, "/device/d3", 403, "") // within the minter's networks only

	// The minter loses network 2: what its minted refresh token gives
	// shrinks with it (the holder still has networks 1-3).
	file.write(
		user("10", "minter", "active", minterActions, `["1"]`),
		user("11", "holder", "active", `["GetDevice","ManageToken"]`, `["1","2","3"]`),
	)
	waitForCheck()
	narrowed := refresh(forHolderRefresh, 201, "")
	expect(narrowed, "/device/d1", 418, "")
	expect(narrowed, "/device/d2", 403, "")

	// The minter is disabled: its minted tokens end, the holder's own
	// login token does not.
	file.write(
		user("10", "minter", "disabled", minterActions, `["1"]`),
		user("11", "holder", "active", `["GetDevice","ManageToken"]`, `["1","2","3"]`),
	)
	waitForCheck()
	refresh(forHolderRefresh, 401, "the user who minted the token is disabled")
	expect(forHolder, "/device/d1", 401, "the user who minted the token is disabled")
	expect(narrowed, "/device/d1", 401, "the user who minted the token is disabled")
	expect(holder, "/device/d1", 418, "")
	expect(selfMinted, "/device/d1", 418, "")

	// The holder is disabled, then removed: every token of theirs ends.
	file.write(
		user("10", "minter", "disabled", minterActions, `["1"]`),
		user("11", "holder", "disabled", `["GetDevice","ManageToken"]`, `["1","2","3"]`),
	)
	waitForCheck()
	expect(holder, "/device/d1", 401, "user is disabled")
	expect(selfMinted, "/device/d1", 401, "user is disabled")
	file.write(user("10", "minter", "locked", minterActions, `["1"]`))
	waitForCheck()
	expect(holder, "/device/d1", 401, "user no longer exists")
	expect(minter, "/device/d1", 401, "user is locked")
}

// TestCreateMaxAccessLifetime: minted access tokens are capped apart from
// refresh tokens, by default at the access token lifetime.
func TestCreateMaxAccessLifetime(t *testing.T) {
	in := func(d time.Duration) string { return time.Now().UTC().Add(d).Format(time.RFC3339) }
	tests := []struct {
		desc    string
		limit   string
		body    string
		code    int
		maxLife time.Duration
	}{
		{desc: "default cap is the access lifetime", body: `{"userId":2}`, code: 201, maxLife: 30 * time.Minute},
		{desc: "beyond the default cap", body: `{"userId":2,"expiration":"` + in(2*time.Hour) + `"}`, code: 403},
		{desc: "a refresh token may still live long", body: `{"userId":2,"refreshExpiration":"` + in(2000*time.Hour) + `"}`, code: 201, maxLife: 30 * time.Minute},
		{desc: "within a raised cap", limit: "4h", body: `{"userId":2,"expiration":"` + in(3*time.Hour) + `"}`, code: 201, maxLife: 3 * time.Hour},
		{desc: "beyond a raised cap", limit: "4h", body: `{"userId":2,"expiration":"` + in(4000*time.Hour) + `"}`, code: 403},
	}
	for _, test := range tests {
		t.Run(test.desc, func(t *testing.T) {
			cfg := guardConfig()
			cfg.CreateMaxAccessLifetime = test.limit
			h, _ := newHandler(t, cfg)
			admin, _ := login(t, h, "admin")
			res := do(t, h, "POST", "/token/create", test.body, "Authorization", "Bearer "+admin)
			if res.code != test.code {
				t.Fatalf("status = %d, want %d: %s", res.code, test.code, res.raw)
			}
			if test.code != 201 {
				return
			}
			exp, _ := payloadOf(t, res.str("accessToken"))["exp"].(float64)
			if left := time.Until(time.Unix(int64(exp), 0)); left > test.maxLife+time.Second || left < test.maxLife-time.Minute {
				t.Fatalf("access token lives %s, want about %s", left, test.maxLife)
			}
		})
	}
}

// TestBoundValuesAppearOnce: a bound query parameter or header named twice
// is refused, whatever the values.
func TestBoundValuesAppearOnce(t *testing.T) {
	cfg := guardConfig()
	cfg.Rules = []tokengate.RuleConfig{
		{Path: "/q", Action: "GetNetwork", NetworkFrom: "query:networkId"},
		{Path: "/h", Action: "GetNetwork", NetworkFrom: "header:X-Network"},
	}
	h, next := newHandler(t, cfg)
	alice, _ := login(t, h, "alice")
	tests := []struct {
		desc   string
		path   string
		header []string
		code   int
	}{
		{desc: "query once", path: "/q?networkId=1", code: 418},
		{desc: "query twice, same value", path: "/q?networkId=1&networkId=1", code: 400},
		{desc: "query twice, other network", path: "/q?networkId=1&networkId=3", code: 400},
		{desc: "header once", path: "/h", header: []string{"X-Network", "1"}, code: 418},
		{desc: "header twice", path: "/h", header: []string{"X-Network", "1", "X-Network", "3"}, code: 400},
	}
	for _, test := range tests {
		t.Run(test.desc, func(t *testing.T) {
			next.called = false
			res := doMulti(t, h, "GET", test.path, append([]string{"Authorization", "Bearer " + alice}, test.header...)...)
			if res.code != test.code || (test.code != 418 && next.called) {
				t.Fatalf("status = %d, want %d (backend called: %v): %s", res.code, test.code, next.called, res.raw)
			}
		})
	}
}

// TestIdentityHeaderSpellings: client-sent identity headers are removed in
// every spelling a backend could read as one ("_" for "-"), and so are the
// method and URL override headers unless kept.
func TestIdentityHeaderSpellings(t *testing.T) {
	sent := []string{
		"X_Auth_User_Id", "1", "X-Auth_Role", "admin", "x_auth_login", "admin", "X_AUTH_ACTOR_ID", "1",
		"X-Auth-Networks", "*", "X_Auth-Device_Types", "*", "X-My-User-Id", "1",
		"X-Http-Method-Override", "DELETE", "X_HTTP_METHOD", "DELETE", "X-Method-Override", "DELETE",
		"X-Original-Url", "/user/1", "X_Rewrite_URL", "/user/1",
	}
	overrides := []string{"X-Http-Method-Override", "X_http_method", "X-Method-Override", "X-Original-Url", "X_rewrite_url"}
	tests := []struct {
		desc  string
		path  string
		keep  bool
		token bool
	}{
		{desc: "guarded route", path: "/device/d1", token: true},
		{desc: "public path", path: "/healthz"},
		{desc: "override headers kept", path: "/device/d1", token: true, keep: true},
	}
	for _, test := range tests {
		t.Run(test.desc, func(t *testing.T) {
			cfg := guardConfig()
			cfg.KeepOverrideHeaders = test.keep
			cfg.IdentityHeaders.UserID = "X-My-User-Id" // renamed: the default name is still removed
			h, next := newHandler(t, cfg)
			header := append([]string(nil), sent...)
			if test.token {
				alice, _ := login(t, h, "alice")
				header = append(header, "Authorization", "Bearer "+alice)
			}
			for i := 0; i < 2; i++ { // the second may come from the memo
				if res := doMulti(t, h, "GET", test.path, header...); res.code != 418 {
					t.Fatalf("status %d: %s", res.code, res.raw)
				}
				for name := range next.header {
					folded := strings.ToLower(strings.ReplaceAll(name, "_", "-"))
					if strings.HasPrefix(folded, "x-auth-") || folded == "x-my-user-id" {
						if v := next.header.Get(name); test.token && (name == "X-Auth-Login" || name == "X-Auth-Networks" ||
							name == "X-Auth-Role" || name == "X-My-User-Id" || name == "X-Auth-Device-Types" || name == "X-Auth-Actions") {
							if v == "admin" || v == "1" || v == "*" && name == "X-Auth-Networks" {
								t.Errorf("backend saw the client's %s: %q", name, v)
							}
							continue
						}
						t.Errorf("backend saw %s: %q", name, next.header.Get(name))
					}
				}
				for _, name := range overrides {
					if _, ok := next.header[name]; ok != test.keep {
						t.Errorf("%s forwarded: %v, want %v", name, ok, test.keep)
					}
				}
			}
		})
	}
}

// TestLongPasswordsCostNothing: a password over the bound is refused
// before any lookup or hashing, with one answer for every login.
func TestLongPasswordsCostNothing(t *testing.T) {
	h, _ := newHandler(t, testConfig())
	long := strings.Repeat("p", 257)
	bodies := make([]string, 0, 2)
	for _, login := range []string{"alice", "nobody"} {
		start := time.Now()
		res := do(t, h, "POST", "/token", `{"login":"`+login+`","password":"`+long+`"}`)
		if took := time.Since(start); took > 50*time.Millisecond {
			t.Logf("%s: %s (a hash costs ms; this should not)", login, took)
		}
		if res.code != http.StatusBadRequest || !strings.Contains(res.str("message"), "longer than 256 bytes") {
			t.Fatalf("%s: %d %s", login, res.code, res.raw)
		}
		bodies = append(bodies, res.raw)
	}
	if bodies[0] != bodies[1] {
		t.Fatalf("answers differ: %q vs %q", bodies[0], bodies[1])
	}
	if res := do(t, h, "POST", "/token", `{"login":"alice","password":"`+strings.Repeat("p", 256)+`"}`); res.code != 401 {
		t.Fatalf("256 bytes: %d %s", res.code, res.raw)
	}
}

// TestCreateAcceptsGetDeviceState: DeviceHive's documented action list
// for /token/create includes GetDeviceState, read as GetDevice.
func TestCreateAcceptsGetDeviceState(t *testing.T) {
	h, _ := newHandler(t, guardConfig())
	admin, _ := login(t, h, "admin")
	res := do(t, h, "POST", "/token/create", `{"userId":2,"actions":["GetDeviceState","GetDeviceNotification"]}`, "Authorization", "Bearer "+admin)
	if res.code != 201 {
		t.Fatalf("mint: %d %s", res.code, res.raw)
	}
	if got := doMulti(t, h, "GET", "/device/d1", "Authorization", "Bearer "+res.str("accessToken")); got.code != 418 {
		t.Fatalf("GetDevice route: %d", got.code)
	}
}
