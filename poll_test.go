package tokengate_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tokengate/tokengate"
)

// TestScopeNarrowing: the devicehive preset's poll routes and device list
// check every network, device type and device their query names, and add
// the token's own ids when it names none, so that a backend trusting its
// query answers only what the token may see. The users: alice (networks 1
// and 2, every device type), bob (network 3, device type 10), admin (*);
// the devices d1 (1, 10), d2 (2, 20), d3 (3, 10).
func TestScopeNarrowing(t *testing.T) {
	h, next := newHandler(t, guardConfig())
	tokens := map[string]string{}
	for _, u := range []string{"alice", "bob", "admin"} {
		// Not `tokens[u], _ = login(...)`: under Yaegi that stores nothing.
		access, _ := login(t, h, u)
		tokens[u] = access
	}
	const notif, cmd = "/device/notification/poll", "/device/command/poll"
	tests := []struct {
		user, method, target string
		code                 int
		// forwarded is the request target the backend must receive; ""
		// means target itself, unchanged.
		forwarded string
		message   string // a substring of the refusal's message
	}{
		// The scope hole of issue 15: a network outside the token's.
		{user: "alice", target: notif + "?networkIds=3", code: 403, message: "Access is denied"},
		{user: "alice", target: notif + "?networkIds=1,3", code: 403},
		{user: "alice", target: notif + "?networkIds=1%2C3", code: 403}, // the comma escaped: checked decoded
		{user: "alice", target: notif + "?networkIds=01", code: 403},    // another spelling of 1 is not 1
		{user: "alice", target: notif + "?networkIds=1,", code: 403},    // an empty id is no id of hers
		{user: "alice", target: notif + "?networkIds=1", code: 418},
		{user: "alice", target: notif + "?networkIds=2,1&waitTimeout=0", code: 418},
		// Named nowhere: her networks are added; she holds every device type.
		{user: "alice", target: notif, code: 418, forwarded: notif + "?networkIds=1,2"},
		{user: "alice", target: notif + "?waitTimeout=0&names=temp", code: 418, forwarded: notif + "?waitTimeout=0&names=temp&networkIds=1,2"},
		{user: "alice", method: "HEAD", target: notif, code: 418, forwarded: notif + "?networkIds=1,2"},
		// networkIds= is no filter at all to DeviceHive: replaced.
		{user: "alice", target: notif + "?networkIds=&waitTimeout=0", code: 418, forwarded: notif + "?waitTimeout=0&networkIds=1,2"},
		{user: "alice", target: notif + "?networkIds&waitTimeout=0", code: 418, forwarded: notif + "?waitTimeout=0&networkIds=1,2"},
		{user: "alice", target: notif + "?deviceTypeIds=20", code: 418, forwarded: notif + "?deviceTypeIds=20&networkIds=1,2"},
		// Twice, or a query the gate and the backend could read apart: 400.
		{user: "alice", target: notif + "?networkIds=1&networkIds=3", code: 400, message: "more than once"},
		{user: "alice", target: notif + "?networkIds=&networkIds=3", code: 400},
		{user: "alice", target: notif + "?deviceTypeIds=10&deviceTypeIds=20", code: 400},
		{user: "alice", target: notif + "?networkIds=1&x=1;networkIds=3", code: 400, message: "malformed"},
		{user: "alice", target: notif + "?networkIds=%zz", code: 400, message: "malformed"},
		// deviceId: looked up in the directory.
		{user: "alice", target: notif + "?deviceId=d1", code: 418, forwarded: notif + "?deviceId=d1&networkIds=1,2"},
		{user: "alice", target: notif + "?deviceId=d3", code: 403},
		{user: "alice", target: notif + "?deviceId=d9", code: 404, message: "Device not found"},
		{user: "alice", target: notif + "?deviceId=d1&deviceId=d3", code: 400},
		{user: "alice", target: notif + "?deviceId=&networkIds=2", code: 418}, // deviceId= names no device
		// bob: one network, one device type.
		{user: "bob", target: notif, code: 418, forwarded: notif + "?networkIds=3&deviceTypeIds=10"},
		{user: "bob", target: notif + "?deviceTypeIds=10", code: 418, forwarded: notif + "?deviceTypeIds=10&networkIds=3"},
		{user: "bob", target: notif + "?deviceTypeIds=20", code: 403},
		{user: "bob", target: notif + "?deviceTypeIds=10,20&networkIds=3", code: 403},
		{user: "bob", target: notif + "?networkIds=3&deviceTypeIds=10&deviceId=d3", code: 418},
		{user: "bob", target: notif + "?deviceId=d1", code: 403},
		// admin: everything, nothing added.
		{user: "admin", target: notif, code: 418},
		{user: "admin", target: notif + "?networkIds=42&deviceTypeIds=7", code: 418},
		{user: "admin", target: notif + "?deviceId=d9", code: 404},
		// The command poll is the same.
		{user: "alice", target: cmd, code: 418, forwarded: cmd + "?networkIds=1,2"},
		{user: "alice", target: cmd + "?networkIds=3", code: 403},
		{user: "bob", target: cmd + "?waitTimeout=1", code: 418, forwarded: cmd + "?waitTimeout=1&networkIds=3&deviceTypeIds=10"},
		// GET /device takes one networkId: alice must name one of hers.
		{user: "alice", target: "/device", code: 400, message: "several networks"},
		{user: "alice", target: "/device?networkId=", code: 400},
		{user: "alice", target: "/device?networkId=1", code: 418},
		{user: "alice", target: "/device?networkId=3", code: 403},
		{user: "alice", target: "/device?networkId=1&networkId=3", code: 400},
		{user: "alice", target: "/device?networkId=1,2", code: 403}, // one id, not a list
		{user: "bob", target: "/device", code: 418, forwarded: "/device?networkId=3&deviceTypeId=10"},
		{user: "bob", target: "/device?namePattern=%25&take=5", code: 418, forwarded: "/device?namePattern=%25&take=5&networkId=3&deviceTypeId=10"},
		{user: "bob", target: "/device?deviceTypeId=20", code: 403},
		{user: "admin", target: "/device", code: 418},
		// Per-device polls are bound by the path, their query untouched.
		{user: "alice", target: "/device/d1/notification/poll?waitTimeout=0", code: 418},
		{user: "alice", target: "/device/d3/command/poll?networkIds=1", code: 403},
		{user: "bob", target: "/device/d3/command/7/poll", code: 418},
	}
	for _, test := range tests {
		method := test.method
		if method == "" {
			method = "GET"
		}
		t.Run(test.user+" "+method+" "+test.target, func(t *testing.T) {
			*next = backend{}
			res := doMulti(t, h, method, test.target, "Authorization", "Bearer "+tokens[test.user])
			if res.code != test.code {
				t.Fatalf("status = %d, want %d: %s", res.code, test.code, res.raw)
			}
			if test.code != 418 {
				if next.called {
					t.Fatal("a refused request reached the backend")
				}
				if !strings.Contains(res.str("message"), test.message) {
					t.Fatalf("message = %q, want it to contain %q", res.str("message"), test.message)
				}
				return
			}
			want := test.forwarded
			if want == "" {
				want = test.target
			}
			// The URL and the request target (which Traefik's proxy
			// forwards) must both carry the same query.
			if next.url != want+" "+want {
				t.Fatalf("the backend got %q, want %q twice", next.url, want)
			}
		})
	}
}

// TestScopeNarrowingNotMemoised: a decision that read the query is never
// remembered, or the next request on the same path would skip the check
// and the narrowing.
func TestScopeNarrowingNotMemoised(t *testing.T) {
	h, next := newHandler(t, guardConfig())
	alice, _ := login(t, h, "alice")
	steps := []struct {
		target, forwarded string
		code              int
	}{
		{"/device/notification/poll?networkIds=1", "/device/notification/poll?networkIds=1", 418},
		{"/device/notification/poll?networkIds=3", "", 403},
		{"/device/notification/poll", "/device/notification/poll?networkIds=1,2", 418},
		{"/device/notification/poll", "/device/notification/poll?networkIds=1,2", 418},
		{"/device/notification/poll?networkIds=3", "", 403},
		{"/device?networkId=1", "/device?networkId=1", 418},
		{"/device?networkId=1", "/device?networkId=1", 418},
		{"/device", "", 400},
	}
	for i, s := range steps {
		*next = backend{}
		res := doMulti(t, h, "GET", s.target, "Authorization", "Bearer "+alice)
		if res.code != s.code {
			t.Fatalf("step %d %s: status = %d, want %d: %s", i, s.target, res.code, s.code, res.raw)
		}
		if s.code == 418 && next.url != s.forwarded+" "+s.forwarded {
			t.Fatalf("step %d %s: the backend got %q, want %q", i, s.target, next.url, s.forwarded)
		}
	}
}

// TestScopeNarrowingEmptyList: a token without networks is never narrowed
// to "no filter"; it reaches no scoped route (fail closed).
func TestScopeNarrowingEmptyList(t *testing.T) {
	cfg := guardConfig()
	cfg.Users[1].NetworkIDs = nil
	h, next := newHandler(t, cfg)
	alice, _ := login(t, h, "alice")
	for _, target := range []string{"/device/notification/poll", "/device/command/poll?networkIds=", "/device", "/device/notification/poll?networkIds=1"} {
		if res := doMulti(t, h, "GET", target, "Authorization", "Bearer "+alice); res.code != 403 || next.called {
			t.Fatalf("%s: status %d (backend called: %v), want 403", target, res.code, next.called)
		}
	}
}

// TestPresetPublicRoutes: DeviceHive's server information passes without a
// token, as in DeviceHive; a token sent there is not verified, and
// client-sent identity headers are removed as on any public path.
func TestPresetPublicRoutes(t *testing.T) {
	shadowed := guardConfig()
	shadowed.Rules = []tokengate.RuleConfig{{Methods: []string{"GET"}, Path: "/info", Action: "GetNetwork"}}
	noPreset := guardConfig()
	noPreset.Preset = ""
	noPreset.DefaultAction = "GetNetwork"
	spoofed := []string{"X-Auth-User-Id", "1", "X-Auth-Login", "admin", "X-Auth-Networks", "*"}
	tests := []struct {
		desc   string
		cfg    *tokengate.Config
		method string
		path   string
		header []string
		code   int
	}{
		{desc: "GET /info", cfg: guardConfig(), method: "GET", path: "/info", code: 418},
		{desc: "HEAD /info", cfg: guardConfig(), method: "HEAD", path: "/info", code: 418},
		{desc: "GET /info/config/cluster", cfg: guardConfig(), method: "GET", path: "/info/config/cluster", code: 418},
		{desc: "a query changes nothing", cfg: guardConfig(), method: "GET", path: "/info?x=1", code: 418},
		{desc: "spoofed identity removed", cfg: guardConfig(), method: "GET", path: "/info", header: spoofed, code: 418},
		{desc: "an invalid token is not verified", cfg: guardConfig(), method: "GET", path: "/info", header: []string{"Authorization", "Bearer not.a.token"}, code: 418},
		{desc: "POST /info needs a token", cfg: guardConfig(), method: "POST", path: "/info", code: 401},
		{desc: "below /info needs a token", cfg: guardConfig(), method: "GET", path: "/info/config/auth", code: 401},
		{desc: "/info/ needs a token", cfg: guardConfig(), method: "GET", path: "/info/", code: 401},
		{desc: "publicPaths still public", cfg: guardConfig(), method: "GET", path: "/healthz", code: 418},
		{desc: "a rule of your own for GET /info comes first", cfg: shadowed, method: "GET", path: "/info", code: 401},
		{desc: "HEAD /info stays public beside it", cfg: shadowed, method: "HEAD", path: "/info", code: 418},
		{desc: "no preset, no public /info", cfg: noPreset, method: "GET", path: "/info", code: 401},
	}
	for _, test := range tests {
		t.Run(test.desc, func(t *testing.T) {
			h, next := newHandler(t, test.cfg)
			res := doMulti(t, h, test.method, test.path, test.header...)
			if res.code != test.code {
				t.Fatalf("status = %d, want %d: %s", res.code, test.code, res.raw)
			}
			if test.code != 418 {
				return
			}
			for _, name := range []string{"X-Auth-User-Id", "X-Auth-Login", "X-Auth-Networks", "X-Auth-Role"} {
				if v := next.header.Get(name); v != "" {
					t.Fatalf("the backend got %s: %q on a public route", name, v)
				}
			}
		})
	}
}

// TestPresetPublicWithAllowPreflight: the preset's public routes and CORS
// preflights together.
func TestPresetPublicWithAllowPreflight(t *testing.T) {
	cfg := guardConfig()
	cfg.PublicPaths = nil
	cfg.AllowPreflight = true
	h, _ := newHandler(t, cfg)
	if res := doMulti(t, h, "GET", "/info"); res.code != 418 {
		t.Fatalf("GET /info: %d %s", res.code, res.raw)
	}
	if res := doMulti(t, h, "OPTIONS", "/device/d1", "Origin", "https://app.example", "Access-Control-Request-Method", "GET"); res.code != 418 {
		t.Fatalf("preflight: %d %s", res.code, res.raw)
	}
	if res := doMulti(t, h, "GET", "/healthz"); res.code != http.StatusUnauthorized {
		t.Fatalf("GET /healthz without publicPaths: %d %s", res.code, res.raw)
	}
}

// BenchmarkServeHTTPPollNarrowed: a poll that names no network, as a
// DeviceHive client sends it. Never memoised: the claims cache, the rule
// walk, the query check and the rewrite run on every request.
func BenchmarkServeHTTPPollNarrowed(b *testing.B) {
	h, token := benchGate(b, nil)
	const target = "/device/notification/poll?waitTimeout=0"
	benchRequests(b, h, "GET", target, token, 418)
	req := httptest.NewRequest(http.MethodGet, target, nil)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// The gate rewrites the query: give it back its original each time.
		req.URL.RawQuery, req.RequestURI = "waitTimeout=0", target
		req.Header.Set("Authorization", "Bearer "+token)
		h.ServeHTTP(discard{}, req)
	}
	if req.URL.RawQuery != "waitTimeout=0&networkIds=1,2" {
		b.Fatalf("query %q was not narrowed", req.URL.RawQuery)
	}
}

// BenchmarkServeHTTPPollChecked: a poll naming its networks (checked, not
// rewritten).
func BenchmarkServeHTTPPollChecked(b *testing.B) {
	h, token := benchGate(b, nil)
	benchRequests(b, h, "GET", "/device/notification/poll?networkIds=1,2&waitTimeout=0", token, 418)
}
