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

// uncachedFixture is the gate of the tests below: no caches, the
// devicehive preset, three listed devices, public paths (one a pattern),
// metrics; alice's access and refresh tokens, a token minted for bob,
// bob's revoked access token and a live one, and alice's token with a
// forged signature.
type uncachedFixture struct {
	h                                                 http.Handler
	g                                                 *gate
	next                                              *recorder
	alice, aliceRefresh, bob, revoked, minted, forged string
}

func newUncachedFixture(t testing.TB) *uncachedFixture {
	t.Helper()
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
	bobRefresh := logins["bob"][1]
	if rec := serveOnce(g, http.MethodPost, "/token/revoke", `{"token":"`+bobRefresh+`"}`); rec.Code != http.StatusOK {
		t.Fatalf("revoke: %d %s", rec.Code, rec.Body)
	}
	p, err := g.loginFrom(httptest.NewRequest(http.MethodPost, "/token", nil), map[string]any{"login": "bob", "password": "bob-pass"}, "login")
	if err != nil {
		t.Fatal(err)
	}
	dot := strings.LastIndexByte(alice, '.')
	forged := alice[:dot+1] + strings.Repeat("A", len(alice)-dot-1)
	return &uncachedFixture{h: h, g: g, next: next, alice: alice, aliceRefresh: logins["alice"][1], bob: p.access,
		revoked: logins["bob"][0], minted: minted, forged: forged}
}

// TestCheckCommonAgreesWithGuard sends every request twice to one gate
// without caches: once through serve alone (guard), once through the
// middleware New returns (checkCommon, then serve when it declines). The
// answers and what the backend receives must be the same; fast says
// whether checkCommon answers the request itself, so that the common case
// is known to be covered.
func TestCheckCommonAgreesWithGuard(t *testing.T) {
	f := newUncachedFixture(t)
	alice, bob, minted, forged := f.alice, f.bob, f.minted, f.forged
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
		{desc: "refresh token", method: "GET", target: "/device/d1", header: bearer(f.aliceRefresh), fast: true},
		{desc: "revoked session", method: "GET", target: "/device/d1", header: bearer(f.revoked), fast: true},
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
			got := agreeWithGuard(t, f, requestOf(test.method, test.target, test.header), requestOf(test.method, test.target, test.header))
			if strings.HasPrefix(test.desc, "allowed") && !got {
				t.Errorf("not forwarded")
			}
			if fast := answeredByCheckCommon(f.g, requestOf(test.method, test.target, test.header)); fast != test.fast {
				t.Errorf("checkCommon answered: %v, want %v", fast, test.fast)
			}
		})
	}
}

// agreeWithGuard sends want through serve alone and got (the same
// request) through the middleware, compares the answers and what the
// backend received, and reports whether the backend was called.
func agreeWithGuard(t testing.TB, f *uncachedFixture, want, got *http.Request) bool {
	t.Helper()
	wantRec := httptest.NewRecorder()
	*f.next = recorder{}
	serve(f.g, wantRec, want)
	wantNext := *f.next

	gotRec := httptest.NewRecorder()
	*f.next = recorder{}
	f.h.ServeHTTP(gotRec, got)
	gotNext := *f.next

	if gotRec.Code != wantRec.Code || gotRec.Body.String() != wantRec.Body.String() || !reflect.DeepEqual(gotRec.Header(), wantRec.Header()) {
		t.Errorf("answer %d %v %q, guard's %d %v %q", gotRec.Code, gotRec.Header(), gotRec.Body, wantRec.Code, wantRec.Header(), wantRec.Body)
	}
	if !reflect.DeepEqual(gotNext, wantNext) {
		t.Errorf("forwarded %+v, guard forwarded %+v", gotNext, wantNext)
	}
	*f.next = recorder{}
	return gotNext.called
}

// FuzzCheckCommonAgreesWithGuard: any method, request target and
// Authorization value (a prefix, one of the fixture's tokens or none, a
// suffix), with one more header, gets the same answer and forwards the
// same request through the middleware as through guard.
func FuzzCheckCommonAgreesWithGuard(f *testing.F) {
	f.Add("GET", "/device/d1", "Bearer ", uint8(0), "", "X-Auth-Role", "admin")
	f.Add("DELETE", "/device/d1/", "Bearer ", uint8(1), "", "", "")
	f.Add("GET", "/device/notification/poll?networkIds=1", "Bearer ", uint8(2), "", "X_Auth_Login", "eve")
	f.Add("GET", "/docs/x/..;/device/d3", "bearer  ", uint8(3), " ", "", "")
	f.Add("POST", "/token/revoke", "Bearer ", uint8(4), "", "Content-Type", "application/json")
	f.Add("GET", "/device?networkId=1#x", "Bearer ", uint8(5), "x", "Authorization", "Bearer x")
	f.Add("OPTIONS", "/info", "", uint8(6), "", "Origin", "http://a")
	fx := newUncachedFixture(f)
	tokens := []string{fx.alice, fx.bob, fx.minted, fx.forged, fx.aliceRefresh, fx.revoked, ""}
	f.Fuzz(func(t *testing.T, method, target, prefix string, pick uint8, suffix, name, value string) {
		build := func() *http.Request {
			r, err := http.NewRequest(method, "http://gate.test"+target, nil)
			if err != nil {
				return nil
			}
			r.Body = http.NoBody // as on every server request
			r.Header.Set("Authorization", prefix+tokens[int(pick)%len(tokens)]+suffix)
			if name != "" {
				r.Header.Add(name, value)
			}
			return r
		}
		want, got := build(), build()
		if want == nil {
			t.Skip()
		}
		agreeWithGuard(t, fx, want, got)
	})
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
func mintFor(t testing.TB, g *gate, caller, body string) string {
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
