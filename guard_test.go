package tokengate_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/tokengate/tokengate"
)

func guardConfig() *tokengate.Config {
	cfg := testConfig()
	cfg.Preset = "devicehive"
	cfg.PublicPaths = []string{"/healthz", "/docs/**"}
	cfg.Audience = "devices"
	cfg.DeviceDirectory.Devices = []tokengate.DeviceConfig{
		{ID: "d1", NetworkID: "1", DeviceTypeID: "10"},
		{ID: "d2", NetworkID: "2", DeviceTypeID: "20"},
		{ID: "d3", NetworkID: "3", DeviceTypeID: "10"},
	}
	return cfg
}

// forge signs claims by hand with the test key, starting from what the gate
// issues for alice and applying changes (a nil value deletes the claim).
func forge(t testing.TB, method jwt.SigningMethod, kid string, key any, changes map[string]any) string {
	t.Helper()
	now := time.Now().Unix()
	claims := jwt.MapClaims{
		"iss": "tokengate", "aud": "devices", "sub": "2", "iat": now, "exp": now + 600, "jti": "j",
		"token_type": "access", "login": "alice", "role": "client",
		"payload": map[string]any{"u": 2, "a": []int{3}, "n": []string{"1", "2"}, "dt": []string{"*"}, "e": (now + 600) * 1000, "t": 1},
	}
	for k, v := range changes {
		if v == nil {
			delete(claims, k)
		} else {
			claims[k] = v
		}
	}
	tok := jwt.NewWithClaims(method, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	signed, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return signed
}

func TestGuardRejects(t *testing.T) {
	h, next := newHandler(t, guardConfig())
	access, refresh := login(t, h, "alice")
	key := []byte(testSecret)
	now := time.Now().Unix()
	hs := func(changes map[string]any) string { return forge(t, jwt.SigningMethodHS256, "test-1", key, changes) }
	parts := strings.Split(access, ".")
	tests := []struct {
		desc    string
		path    string
		header  []string
		code    int
		errCode string // WWW-Authenticate error attribute; "" = none
		message string
	}{
		{desc: "missing token", path: "/device/d1", code: 401, message: "token is missing"},
		{desc: "basic auth is no token", path: "/device/d1", header: []string{"Authorization", "Basic YTpi"}, code: 401, message: "token is missing"},
		{desc: "malformed", path: "/device/d1", header: []string{"Authorization", "Bearer abc"}, code: 401, errCode: "invalid_token", message: "token is malformed"},
		{desc: "expired", path: "/device/d1", header: []string{"Authorization", "Bearer " + hs(map[string]any{"exp": now - 60})}, code: 401, errCode: "invalid_token", message: "token has expired"},
		{desc: "not yet valid", path: "/device/d1", header: []string{"Authorization", "Bearer " + hs(map[string]any{"nbf": now + 600})}, code: 401, errCode: "invalid_token", message: "not valid yet"},
		{desc: "wrong issuer", path: "/device/d1", header: []string{"Authorization", "Bearer " + hs(map[string]any{"iss": "other"})}, code: 401, errCode: "invalid_token", message: "issuer"},
		{desc: "wrong audience", path: "/device/d1", header: []string{"Authorization", "Bearer " + hs(map[string]any{"aud": "other"})}, code: 401, errCode: "invalid_token", message: "audience"},
		{desc: "wrong algorithm", path: "/device/d1", header: []string{"Authorization", "Bearer " + forge(t, jwt.SigningMethodHS512, "test-1", key, nil)}, code: 401, errCode: "invalid_token", message: "algorithm"},
		{desc: "alg none", path: "/device/d1", header: []string{"Authorization", "Bearer " + forge(t, jwt.SigningMethodNone, "test-1", jwt.UnsafeAllowNoneSignatureType, nil)}, code: 401, errCode: "invalid_token", message: "algorithm"},
		{desc: "other key", path: "/device/d1", header: []string{"Authorization", "Bearer " + forge(t, jwt.SigningMethodHS256, "test-1", []byte(strings.Repeat("k", 32)), nil)}, code: 401, errCode: "invalid_token", message: "signature"},
		{desc: "tampered", path: "/device/d1", header: []string{"Authorization", "Bearer " + parts[0] + "." + strings.Split(hs(map[string]any{"sub": "1"}), ".")[1] + "." + parts[2]}, code: 401, errCode: "invalid_token", message: "signature"},
		{desc: "truncated", path: "/device/d1", header: []string{"Authorization", "Bearer " + access[:len(access)-10]}, code: 401, errCode: "invalid_token"},
		{desc: "refresh as access", path: "/device/d1", header: []string{"Authorization", "Bearer " + refresh}, code: 401, errCode: "invalid_token", message: "wrong type"},
		{desc: "oversized", path: "/device/d1", header: []string{"Authorization", "Bearer " + access + strings.Repeat("x", 8192)}, code: 401, errCode: "invalid_token", message: "too large"},
		{desc: "two Authorization headers", path: "/device/d1", header: []string{"Authorization", "Bearer " + access, "Authorization", "Bearer " + access}, code: 400, errCode: "invalid_request"},
		{desc: "wrong action", path: "/network", header: []string{"Authorization", "Bearer " + access}, code: 403, message: "Access is denied"},
		{desc: "unmatched route denied", path: "/metrics", header: []string{"Authorization", "Bearer " + access}, code: 403, message: "Access is denied"},
		{desc: "dot segments", path: "/device/d1/../../user", header: []string{"Authorization", "Bearer " + access}, code: 400},
		// A servlet container drops ";params" before it resolves dot
		// segments: d1's rule must not serve d3.
		{desc: "dot segments with parameters", path: "/device/d1/command/..;/..;/d3/command", header: []string{"Authorization", "Bearer " + access}, code: 400},
		{desc: "dot segment with parameters after a public path", path: "/docs/..;x/device/d3", code: 400},
	}
	for _, test := range tests {
		t.Run(test.desc, func(t *testing.T) {
			next.called = false
			method := "GET"
			if test.desc == "wrong action" {
				method = "POST"
			}
			res := doMulti(t, h, method, test.path, test.header...)
			if res.code != test.code {
				t.Fatalf("status = %d, want %d: %s", res.code, test.code, res.raw)
			}
			if next.called {
				t.Fatal("the request reached the backend")
			}
			if code, _ := res.body["error"].(float64); int(code) != test.code || !strings.Contains(res.str("message"), test.message) {
				t.Fatalf("body = %s, want message %q", res.raw, test.message)
			}
			challenge := res.header.Get("WWW-Authenticate")
			if test.code == 403 {
				if challenge != "" {
					t.Fatalf("403 with a challenge: %s", challenge)
				}
				return
			}
			if test.code == 401 && !strings.HasPrefix(challenge, `Bearer realm="tokengate"`) {
				t.Fatalf("WWW-Authenticate = %q", challenge)
			}
			hasErr := strings.Contains(challenge, "error=")
			if (test.errCode != "") != hasErr || !strings.Contains(challenge, test.errCode) {
				t.Fatalf("WWW-Authenticate = %q, want error %q", challenge, test.errCode)
			}
			if strings.Contains(res.raw, parts[2]) || strings.Contains(challenge, parts[2]) {
				t.Fatal("the answer echoes the token")
			}
		})
	}
}

// doMulti is do with repeatable headers (Add, not Set) and no body.
func doMulti(t testing.TB, h http.Handler, method, path string, header ...string) response {
	t.Helper()
	return doRequest(t, h, newRequest(method, path, header...))
}

func TestGuardAllows(t *testing.T) {
	h, next := newHandler(t, guardConfig())
	alice, _ := login(t, h, "alice")
	admin, _ := login(t, h, "admin")
	tests := []struct {
		desc   string
		method string
		path   string
		header []string
		code   int
		want   map[string]string // headers the backend must see; "" = absent
	}{
		{desc: "alice reads a device", method: "GET", path: "/device/d1", header: []string{"Authorization", "Bearer " + alice}, code: 418, want: map[string]string{
			"X-Auth-User-Id": "2", "X-Auth-Login": "alice", "X-Auth-Role": "client", "X-Auth-Networks": "1,2", "X-Auth-Device-Types": "*",
			"X-Auth-Actions": "GetNetwork,GetDevice,GetDeviceNotification,GetDeviceCommand,RegisterDevice,CreateDeviceCommand,UpdateDeviceCommand,CreateDeviceNotification,GetCurrentUser,UpdateCurrentUser,ManageToken,ManagePlugin,GetDeviceType",
			"Authorization":  "Bearer " + alice,
		}},
		{desc: "lower-case bearer", method: "GET", path: "/device/d1", header: []string{"Authorization", "bearer " + alice}, code: 418},
		{desc: "alice posts a notification", method: "POST", path: "/device/d1/notification", header: []string{"Authorization", "Bearer " + alice}, code: 418},
		{desc: "admin creates a network", method: "POST", path: "/network", header: []string{"Authorization", "Bearer " + admin}, code: 418, want: map[string]string{
			"X-Auth-User-Id": "1", "X-Auth-Actions": "*", "X-Auth-Networks": "*", "X-Auth-Role": "admin",
		}},
		{desc: "spoofed identity stripped", method: "GET", path: "/device/d1", header: []string{"Authorization", "Bearer " + alice, "X-Auth-User-Id", "1", "X-Auth-Role", "admin", "x-auth-actions", "*"}, code: 418, want: map[string]string{
			"X-Auth-User-Id": "2", "X-Auth-Role": "client",
		}},
		{desc: "public path, no token", method: "GET", path: "/healthz", code: 418},
		{desc: "public prefix", method: "GET", path: "/docs/a/b", code: 418},
		{desc: "public path strips spoofed identity", method: "GET", path: "/healthz", header: []string{"X-Auth-User-Id", "1", "X-Auth-Login", "admin"}, code: 418, want: map[string]string{
			"X-Auth-User-Id": "", "X-Auth-Login": "",
		}},
	}
	for _, test := range tests {
		t.Run(test.desc, func(t *testing.T) {
			next.called = false
			res := doMulti(t, h, test.method, test.path, test.header...)
			if res.code != test.code || !next.called {
				t.Fatalf("status = %d (backend called: %v), want %d: %s", res.code, next.called, test.code, res.raw)
			}
			for name, want := range test.want {
				got := strings.Join(next.header.Values(name), "|")
				if got != want {
					t.Errorf("%s = %q, want %q", name, got, want)
				}
			}
		})
	}
}

func TestGuardOptions(t *testing.T) {
	preflight := []string{"Origin", "https://app.example", "Access-Control-Request-Method", "POST"}
	tests := []struct {
		desc   string
		change func(cfg *tokengate.Config)
		method string
		path   string
		header func(access string) []string
		code   int
		hidden []string // headers the backend must not see
	}{
		{desc: "preflight refused by default", change: func(cfg *tokengate.Config) {}, method: "OPTIONS", path: "/device/d1", header: func(string) []string { return preflight }, code: 401},
		{desc: "preflight allowed", change: func(cfg *tokengate.Config) { cfg.AllowPreflight = true }, method: "OPTIONS", path: "/device/d1", header: func(string) []string { return preflight }, code: 418},
		{desc: "plain OPTIONS still needs a token", change: func(cfg *tokengate.Config) { cfg.AllowPreflight = true }, method: "OPTIONS", path: "/device/d1", header: func(string) []string { return nil }, code: 401},
		{desc: "default action on unmatched route", change: func(cfg *tokengate.Config) { cfg.DefaultAction = "GetDevice" }, method: "GET", path: "/metrics", header: bearer, code: 418},
		{desc: "default action alice lacks", change: func(cfg *tokengate.Config) { cfg.DefaultAction = "ManageUser" }, method: "GET", path: "/metrics", header: bearer, code: 403},
		{desc: "own rule before the preset", change: func(cfg *tokengate.Config) {
			cfg.Rules = []tokengate.RuleConfig{{Methods: []string{"POST"}, Path: "/network", Action: "GetNetwork"}}
		}, method: "POST", path: "/network", header: bearer, code: 418},
		{desc: "no preset: everything unmatched is denied", change: func(cfg *tokengate.Config) { cfg.Preset = "" }, method: "GET", path: "/device/d1", header: bearer, code: 403},
		{desc: "authorization not forwarded", change: func(cfg *tokengate.Config) { cfg.ForwardAuthorization = false }, method: "GET", path: "/device/d1", header: bearer, code: 418, hidden: []string{"Authorization"}},
		{desc: "authorization not forwarded on a public path either", change: func(cfg *tokengate.Config) { cfg.ForwardAuthorization = false }, method: "GET", path: "/healthz", header: bearer, code: 418, hidden: []string{"Authorization"}},
		{desc: "renamed identity headers: client copies of the default names are removed", change: func(cfg *tokengate.Config) {
			cfg.IdentityHeaders.UserID = "X-User"
			cfg.IdentityHeaders.Actions = ""
		}, method: "GET", path: "/device/d1", header: func(a string) []string {
			return []string{"Authorization", "Bearer " + a, "X-Auth-User-Id", "1", "X-Auth-Actions", "*"}
		}, code: 418, hidden: []string{"X-Auth-User-Id", "X-Auth-Actions"}},
		{desc: "renamed identity headers on a public path", change: func(cfg *tokengate.Config) { cfg.IdentityHeaders.UserID = "X-User" }, method: "GET", path: "/healthz",
			header: func(a string) []string { return []string{"X-Auth-User-Id", "1", "X-User", "1"} }, code: 418, hidden: []string{"X-Auth-User-Id", "X-User"}},
		{desc: "identity header renamed and one dropped", change: func(cfg *tokengate.Config) {
			cfg.IdentityHeaders.UserID = "X-User"
			cfg.IdentityHeaders.Actions = ""
		}, method: "GET", path: "/device/d1", header: bearer, code: 418, hidden: []string{"X-Auth-User-Id", "X-Auth-Actions"}},
		{desc: "token from a cookie", change: func(cfg *tokengate.Config) { cfg.TokenCookie = "tg" }, method: "GET", path: "/device/d1", header: func(a string) []string { return []string{"Cookie", "tg=" + a} }, code: 418},
		{desc: "cookie ignored unless configured", change: func(cfg *tokengate.Config) {}, method: "GET", path: "/device/d1", header: func(a string) []string { return []string{"Cookie", "tg=" + a} }, code: 401},
		{desc: "same token twice is fine", change: func(cfg *tokengate.Config) { cfg.TokenCookie = "tg" }, method: "GET", path: "/device/d1", header: func(a string) []string { return []string{"Cookie", "tg=" + a, "Authorization", "Bearer " + a} }, code: 418},
		{desc: "two different tokens", change: func(cfg *tokengate.Config) { cfg.TokenCookie = "tg" }, method: "GET", path: "/device/d1", header: func(a string) []string { return []string{"Cookie", "tg=other", "Authorization", "Bearer " + a} }, code: 400},
		{desc: "token from the query", change: func(cfg *tokengate.Config) { cfg.TokenQuery = "access_token" }, method: "GET", path: "/device/d1?access_token=TOKEN&x=1", header: webSocket, code: 418},
		{desc: "query token on a plain request", change: func(cfg *tokengate.Config) { cfg.TokenQuery = "access_token" }, method: "GET", path: "/device/d1?access_token=TOKEN&x=1", header: func(string) []string { return nil }, code: 400},
		{desc: "query token on any request when asked", change: func(cfg *tokengate.Config) { cfg.TokenQuery = "access_token"; cfg.TokenQueryAnyRequest = true }, method: "GET", path: "/device/d1?access_token=TOKEN&x=1", header: func(string) []string { return nil }, code: 418},
		{desc: "upgrade to something else", change: func(cfg *tokengate.Config) { cfg.TokenQuery = "access_token" }, method: "GET", path: "/device/d1?access_token=TOKEN", header: func(a string) []string { return []string{"Upgrade", "h2c", "Connection", "Upgrade"} }, code: 400},
		{desc: "cookie token on POST without CSRF header", change: func(cfg *tokengate.Config) { cfg.TokenCookie = "tg" }, method: "POST", path: "/device/d1/notification", header: func(a string) []string { return []string{"Cookie", "tg=" + a} }, code: 403},
		{desc: "cookie token on POST with CSRF header", change: func(cfg *tokengate.Config) { cfg.TokenCookie = "tg" }, method: "POST", path: "/device/d1/notification", header: func(a string) []string { return []string{"Cookie", "tg=" + a, "X-Requested-With", "XMLHttpRequest"} }, code: 418},
		{desc: "cookie token on POST from an allowed origin", change: func(cfg *tokengate.Config) {
			cfg.TokenCookie = "tg"
			cfg.AllowedOrigins = []string{"https://app.example"}
		}, method: "POST", path: "/device/d1/notification", header: func(a string) []string { return []string{"Cookie", "tg=" + a, "Origin", "https://app.example"} }, code: 418},
		{desc: "cookie token on POST from another origin", change: func(cfg *tokengate.Config) {
			cfg.TokenCookie = "tg"
			cfg.AllowedOrigins = []string{"https://app.example"}
		}, method: "POST", path: "/device/d1/notification", header: func(a string) []string { return []string{"Cookie", "tg=" + a, "Origin", "https://evil.example"} }, code: 403},
		{desc: "cookie token on GET needs no CSRF proof", change: func(cfg *tokengate.Config) { cfg.TokenCookie = "tg" }, method: "GET", path: "/device/d1", header: func(a string) []string { return []string{"Cookie", "tg=" + a} }, code: 418},
		{desc: "query and header differ", change: func(cfg *tokengate.Config) { cfg.TokenQuery = "access_token" }, method: "GET", path: "/device/d1?access_token=other", header: bearer, code: 400},
		{desc: "query ignored unless configured", change: func(cfg *tokengate.Config) {}, method: "GET", path: "/device/d1?access_token=TOKEN", header: func(string) []string { return nil }, code: 401},
		{desc: "cache off still verifies", change: func(cfg *tokengate.Config) { cfg.CacheTTL = "0s" }, method: "GET", path: "/device/d1", header: bearer, code: 418},
	}
	for _, test := range tests {
		t.Run(test.desc, func(t *testing.T) {
			cfg := guardConfig()
			test.change(cfg)
			h, next := newHandler(t, cfg)
			access, _ := login(t, h, "alice")
			// Twice: the second request may be answered from the decision memo.
			for i := 0; i < 2; i++ {
				res := doRequest(t, h, newRequest(test.method, strings.Replace(test.path, "TOKEN", access, 1), test.header(access)...))
				if res.code != test.code {
					t.Fatalf("request %d: status = %d, want %d: %s", i+1, res.code, test.code, res.raw)
				}
				for _, name := range test.hidden {
					if next.header.Get(name) != "" {
						t.Errorf("request %d: backend saw %s", i+1, name)
					}
				}
			}
			if test.code == 418 && strings.Contains(next.url, "access_token") {
				t.Errorf("query token forwarded: %s", next.url)
			}
		})
	}
}

func bearer(access string) []string { return []string{"Authorization", "Bearer " + access} }

func TestGuardConfigErrors(t *testing.T) {
	tests := []struct {
		desc    string
		change  func(cfg *tokengate.Config)
		wantErr string
	}{
		{desc: "unknown preset", change: func(cfg *tokengate.Config) { cfg.Preset = "dh" }, wantErr: `preset: unknown preset "dh"`},
		{desc: "bad rule path", change: func(cfg *tokengate.Config) {
			cfg.Rules = []tokengate.RuleConfig{{Path: "/a", Action: "GetDevice"}, {Path: "/a/{x", Action: "GetDevice"}}
		}, wantErr: "rules[1].path:"},
		{desc: "bad rule action", change: func(cfg *tokengate.Config) {
			cfg.Rules = []tokengate.RuleConfig{{Path: "/a", Action: "Teleport"}}
		}, wantErr: "rules[0].action:"},
		{desc: "bad default action", change: func(cfg *tokengate.Config) { cfg.DefaultAction = "allow" }, wantErr: "defaultAction:"},
		{desc: "bad public path", change: func(cfg *tokengate.Config) { cfg.PublicPaths = []string{"healthz"} }, wantErr: "publicPaths[0]:"},
		{desc: "bad leeway", change: func(cfg *tokengate.Config) { cfg.Leeway = "-1s" }, wantErr: "leeway:"},
		{desc: "bad token size", change: func(cfg *tokengate.Config) { cfg.MaxTokenBytes = 0 }, wantErr: "maxTokenBytes:"},
		{desc: "bad realm", change: func(cfg *tokengate.Config) { cfg.Realm = `a"b` }, wantErr: "realm:"},
		{desc: "bad cookie", change: func(cfg *tokengate.Config) { cfg.TokenCookie = "a b" }, wantErr: "tokenCookie:"},
		{desc: "bad header", change: func(cfg *tokengate.Config) { cfg.IdentityHeaders.Login = "X Login" }, wantErr: "identityHeaders:"},
		{desc: "header twice", change: func(cfg *tokengate.Config) { cfg.IdentityHeaders.Login = "x-auth-role" }, wantErr: "identityHeaders:"},
		{desc: "authorization as identity", change: func(cfg *tokengate.Config) { cfg.IdentityHeaders.Login = "Authorization" }, wantErr: "identityHeaders:"},
		{desc: "bad cache TTL", change: func(cfg *tokengate.Config) { cfg.CacheTTL = "forever" }, wantErr: "cacheTTL:"},
		{desc: "negative cache size", change: func(cfg *tokengate.Config) { cfg.CacheMaxEntries = -1 }, wantErr: "cacheMaxEntries:"},
		{desc: "preset without a directory", change: func(cfg *tokengate.Config) { cfg.DeviceDirectory.Devices = nil }, wantErr: "preset devicehive: device routes need deviceDirectory"},
		{desc: "own device rule without a directory", change: func(cfg *tokengate.Config) {
			cfg.Preset = ""
			cfg.DeviceDirectory.Devices = nil
			cfg.Rules = []tokengate.RuleConfig{{Path: "/x", Action: "*"}, {Path: "/d/{id}", Action: "GetDevice", DeviceFrom: "path:id"}}
		}, wantErr: "rules[1].deviceFrom: device routes need deviceDirectory"},
		{desc: "binding to a missing parameter", change: func(cfg *tokengate.Config) {
			cfg.Rules = []tokengate.RuleConfig{{Path: "/n/{net}", Action: "GetNetwork", NetworkFrom: "path:network"}}
		}, wantErr: "rules[0].networkFrom:"},
		{desc: "bad binding kind", change: func(cfg *tokengate.Config) {
			cfg.Rules = []tokengate.RuleConfig{{Path: "/n", Action: "GetNetwork", DeviceTypeFrom: "body:type"}}
		}, wantErr: "rules[0].deviceTypeFrom:"},
		{desc: "duplicate static device", change: func(cfg *tokengate.Config) {
			cfg.DeviceDirectory.Devices = append(cfg.DeviceDirectory.Devices, tokengate.DeviceConfig{ID: "d1"})
		}, wantErr: "deviceDirectory.devices[3].id:"},
		{desc: "bad lookup URL", change: func(cfg *tokengate.Config) { cfg.DeviceDirectory.LookupURL = "deviceapi/device" }, wantErr: "deviceDirectory.lookupURL:"},
		{desc: "bad lookup timeout", change: func(cfg *tokengate.Config) { cfg.DeviceDirectory.Timeout = "soon" }, wantErr: "deviceDirectory.timeout:"},
	}
	for _, test := range tests {
		t.Run(test.desc, func(t *testing.T) {
			cfg := guardConfig()
			test.change(cfg)
			expectConfigError(t, cfg, test.wantErr)
		})
	}
}

// TestMemoRequestLineIsExact: a request allowed for one path must not make
// another path pass through the decision memo, even when the two request
// lines would read the same joined by spaces ("GET /device/d1 Bearer <t>"
// versus a path ending in " Bearer" and a bare token).
func TestMemoRequestLineIsExact(t *testing.T) {
	cfg := guardConfig()
	h, next := newHandler(t, cfg)
	alice, _ := login(t, h, "alice")
	if res := doMulti(t, h, "GET", "/device/d1", "Authorization", "Bearer "+alice); res.code != 418 {
		t.Fatalf("allowed request: %d", res.code)
	}
	next.called = false
	res := doMulti(t, h, "GET", "/device/d1%20Bearer", "Authorization", alice)
	if next.called || res.code == 418 {
		t.Fatalf("a different request line passed on the memo: %d", res.code)
	}
}

// webSocket is the header of a WebSocket upgrade request, the one request a
// query token is accepted on by default.
func webSocket(access string) []string {
	return []string{"Upgrade", "websocket", "Connection", "keep-alive, Upgrade", "X-Access-Length", strconv.Itoa(len(access))}
}

// TestGuardTrailingSlash: a path that only trailing slashes keep from a
// rule is checked by that rule, not by defaultAction: frameworks such as
// JAX-RS serve /device/d1/ as /device/d1.
func TestGuardTrailingSlash(t *testing.T) {
	cfg := guardConfig()
	cfg.DefaultAction = "GetCurrentUser"
	h, next := newHandler(t, cfg)
	alice, _ := login(t, h, "alice") // networks 1 and 2
	bob, _ := login(t, h, "bob")     // network 3
	tests := []struct {
		desc, method, path, token string
		code                      int
	}{
		{"out of scope without the slash", "DELETE", "/device/d1", bob, 403},
		{"out of scope with the slash", "DELETE", "/device/d1/", bob, 403},
		{"out of scope with two slashes", "GET", "/device/d1//", bob, 403},
		{"in scope with the slash", "GET", "/device/d1/", alice, 418},
		{"unmatched either way: defaultAction", "GET", "/nothing/here/", alice, 418},
	}
	for _, test := range tests {
		t.Run(test.desc, func(t *testing.T) {
			next.called = false
			res := doMulti(t, h, test.method, test.path, "Authorization", "Bearer "+test.token)
			if res.code != test.code {
				t.Fatalf("%s %s = %d, want %d: %s", test.method, test.path, res.code, test.code, res.raw)
			}
			if next.called != (test.code == 418) {
				t.Fatalf("backend called = %v", next.called)
			}
		})
	}
}
