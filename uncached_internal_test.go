package tokengate

import (
	"context"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
)

// recorder is a backend that keeps what the last request forwarded to it
// carried.
type recorder struct {
	called bool
	header http.Header
	target string
}

func (b *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b.called = true
	b.header = r.Header.Clone()
	b.target = r.URL.String() + " " + r.RequestURI
	w.WriteHeader(http.StatusTeapot)
}

// TestCheckCommonAgreesWithGuard sends every request twice to one gate
// without caches: once through serve alone (guard), once through the
// middleware New returns (checkCommon, then serve when it declines). The
// answers and what the backend receives must be the same; fast says
// whether checkCommon answers the request itself, so that the common case
// is known to be covered.
func TestCheckCommonAgreesWithGuard(t *testing.T) {
	cfg := internalConfig()
	cfg.CacheTTL = "0s"
	cfg.Preset = "devicehive"
	cfg.PublicPaths = []string{"/info", "/docs/**"}
	cfg.Metrics = true
	cfg.Users = append(cfg.Users,
		UserConfig{ID: 3, Login: "bob", Role: "client", NetworkIDs: []string{"1", "2"}, DeviceTypeIDs: []string{"10"},
			PasswordHash: "$6$tg-test-bob$4IV7D/V/FPdgAKvfsmXTUdvruXP0dUVoJ32A9kKrOFHwH0wWNp36cG/LSsANuSOt408C3L6DeigdY0jtKaexZ0"})
	cfg.DeviceDirectory.Devices = []DeviceConfig{
		{ID: "d1", NetworkID: "1", DeviceTypeID: "10"},
		{ID: "d3", NetworkID: "3", DeviceTypeID: "10"},
		{ID: "d4", NetworkID: "1", DeviceTypeID: "20"},
	}
	next := &recorder{}
	h, err := New(context.Background(), next, cfg, "t")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := h.(*uncached); !ok {
		t.Fatalf("New gave %T, want *uncached", h)
	}
	g, _ := gateOf(h)
	logins := map[string][2]string{}
	for _, user := range []string{"alice", "bob"} {
		p, err := g.loginFrom(httptest.NewRequest(http.MethodPost, "/token", nil), map[string]any{"login": user, "password": user + "-pass"}, "login")
		if err != nil {
			t.Fatal(err)
		}
		logins[user] = [2]string{p.access, p.refresh}
	}
	alice := logins["alice"][0]
	minted := mintFor(t, g, alice, `{"userId":3,"actions":["GetDevice"]}`)
	revoked := logins["bob"][1]
	if rec := serveOnce(g, http.MethodPost, "/token/revoke", `{"token":"`+revoked+`"}`); rec.Code != http.StatusOK {
		t.Fatalf("revoke: %d %s", rec.Code, rec.Body)
	}
	p, err := g.loginFrom(httptest.NewRequest(http.MethodPost, "/token", nil), map[string]any{"login": "bob", "password": "bob-pass"}, "login")
	if err != nil {
		t.Fatal(err)
	}
	bob := p.access // bob's first session is revoked
	dot := strings.LastIndexByte(alice, '.')
	forged := alice[:dot+1] + strings.Repeat("A", len(alice)-dot-1)

	bearer := func(token string) []string { return []string{"Authorization", "Bearer " + token} }
	tests := []struct {
		desc   string
		method string
		target string
		header []string
		fast   bool
	}{
		{desc: "allowed, listed device", method: "GET", target: "/device/d1", header: bearer(alice), fast: true},
		{desc: "allowed, unscoped rule", method: "GET", target: "/user/current", header: bearer(alice), fast: true},
		{desc: "allowed, client headers dropped", method: "GET", target: "/device/d1",
			header: append(bearer(bob), "X-Auth-Role", "admin", "X-Auth-Actor-Id", "1", "X_Auth_Login", "eve"), fast: true},
		{desc: "device in another network", method: "GET", target: "/device/d3", header: bearer(alice), fast: true},
		{desc: "device of another type", method: "GET", target: "/device/d4", header: bearer(bob), fast: true},
		{desc: "unknown device", method: "GET", target: "/device/d9", header: bearer(alice), fast: true},
		{desc: "action not granted", method: "DELETE", target: "/device/d1", header: bearer(bob), fast: true},
		{desc: "forged signature", method: "GET", target: "/device/d1", header: bearer(forged), fast: true},
		{desc: "garbage", method: "GET", target: "/device/d1", header: bearer("not-a-jwt"), fast: true},
		{desc: "empty bearer", method: "GET", target: "/device/d1", header: []string{"Authorization", "Bearer "}, fast: true},
		{desc: "refresh token", method: "GET", target: "/device/d1", header: bearer(logins["alice"][1]), fast: true},
		{desc: "revoked session", method: "GET", target: "/device/d1", header: bearer(logins["bob"][0]), fast: true},
		{desc: "allowed, query-scoped rule, narrowed", method: "GET", target: "/device?networkId=1", header: bearer(bob), fast: true},
		{desc: "query-scoped rule, out of scope", method: "GET", target: "/device?networkId=3", header: bearer(bob), fast: true},
		{desc: "allowed, poll narrowed", method: "GET", target: "/device/notification/poll", header: bearer(bob), fast: true},
		{desc: "allowed, minted token", method: "GET", target: "/device/d1", header: bearer(minted), fast: true},
		{desc: "lower-case scheme", method: "GET", target: "/device/d1", header: []string{"Authorization", "bearer " + alice}},
		{desc: "spaces around the token", method: "GET", target: "/device/d1", header: []string{"Authorization", "Bearer  " + alice + " "}},
		{desc: "two Authorization headers", method: "GET", target: "/device/d1", header: append(bearer(alice), bearer(alice)...)},
		{desc: "no token", method: "GET", target: "/device/d1"},
		{desc: "basic credentials", method: "GET", target: "/device/d1", header: []string{"Authorization", "Basic YWxpY2U6YWxpY2UtcGFzcw=="}},
		{desc: "trailing slash", method: "DELETE", target: "/device/d1/", header: bearer(bob), fast: true},
		{desc: "allowed, trailing slash", method: "GET", target: "/device/d1/", header: bearer(bob), fast: true},
		{desc: "trailing slash, no rule without it", method: "GET", target: "/network/", header: bearer(bob), fast: true},
		{desc: "no rule", method: "GET", target: "/nothing/here", header: bearer(alice), fast: true},
		{desc: "dot segment", method: "GET", target: "/device/d3/..;/d1", header: bearer(alice)},
		{desc: "public path", method: "GET", target: "/info", header: bearer(forged)},
		{desc: "public pattern", method: "GET", target: "/docs/a/b", header: bearer(forged)},
		{desc: "token endpoint", method: "GET", target: "/token/metrics", header: bearer(alice)},
	}
	for _, test := range tests {
		t.Run(test.desc, func(t *testing.T) {
			var want, got recorder
			wantRec := httptest.NewRecorder()
			*next = recorder{}
			serve(g, wantRec, requestOf(test.method, test.target, test.header))
			want = *next

			gotRec := httptest.NewRecorder()
			*next = recorder{}
			h.ServeHTTP(gotRec, requestOf(test.method, test.target, test.header))
			got = *next

			if gotRec.Code != wantRec.Code || gotRec.Body.String() != wantRec.Body.String() || !reflect.DeepEqual(gotRec.Header(), wantRec.Header()) {
				t.Errorf("answer %d %v %q, guard's %d %v %q", gotRec.Code, gotRec.Header(), gotRec.Body, wantRec.Code, wantRec.Header(), wantRec.Body)
			}
			if strings.HasPrefix(test.desc, "allowed") && !got.called {
				t.Errorf("not forwarded: %d %s", gotRec.Code, gotRec.Body)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("forwarded %+v, guard forwarded %+v", got, want)
			}
			*next = recorder{}
			if fast := answeredByCheckCommon(g, requestOf(test.method, test.target, test.header)); fast != test.fast {
				t.Errorf("checkCommon answered: %v, want %v", fast, test.fast)
			}
		})
	}
}

// answeredByCheckCommon reports whether uncached.ServeHTTP sends r to
// checkCommon and checkCommon answers it.
func answeredByCheckCommon(g *gate, r *http.Request) bool {
	path := r.URL.Path
	auth := r.Header["Authorization"]
	if len(auth) != 1 || strings.HasPrefix(path, g.basePath) || strings.Contains(path, "/.") {
		return false
	}
	if (g.unlistedMayPass || g.publicExact[path] != 0) && passesUnauthenticated(g, r) {
		return false
	}
	token, bearer := strings.CutPrefix(auth[0], "Bearer ")
	return bearer && checkCommon(g, httptest.NewRecorder(), r, path, token)
}

func requestOf(method, target string, header []string) *http.Request {
	r := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Add(header[i], header[i+1])
	}
	return r
}

// serveOnce sends one JSON request through serve.
func serveOnce(g *gate, method, target, body string, header ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Add(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	serve(g, rec, r)
	return rec
}

// mintFor mints a token at /token/create with the caller's token.
func mintFor(t *testing.T, g *gate, caller, body string) string {
	t.Helper()
	rec := serveOnce(g, http.MethodPost, "/token/create", body, "Authorization", "Bearer "+caller)
	if rec.Code != http.StatusCreated {
		t.Fatalf("mint: %d %s", rec.Code, rec.Body)
	}
	s := rec.Body.String()
	i := strings.Index(s, `"accessToken":"`)
	if i < 0 {
		t.Fatalf("mint: no access token in %s", s)
	}
	s = s[i+len(`"accessToken":"`):]
	return s[:strings.IndexByte(s, '"')]
}
