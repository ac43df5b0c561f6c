//go:build e2e

package e2e

// Route guard options through Traefik: tokenQuery, forwardAuthorization,
// identityHeaders, defaultAction and the device directory's lookup header
// and nested fields, on one Traefik with a router per option set. The
// users file reload is TestUsersFileReload (users_test.go).

import (
	"fmt"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// The Host header pairs of optionsGateway's routers.
var (
	onQuery       = []string{"Host", "query.e2e", "Upgrade", "websocket", "Connection", "Upgrade"} // a query token needs a WebSocket upgrade
	onQueryPlain  = []string{"Host", "query.e2e"}
	onNoAuth      = []string{"Host", "noauth.e2e"}
	onNames       = []string{"Host", "names.e2e"}
	onDefault     = []string{"Host", "default.e2e"}
	onLookup      = []string{"Host", "lookup.e2e"}
	onLookupNoHdr = []string{"Host", "lookup-nohdr.e2e"}
	onLookupWrong = []string{"Host", "lookup-wrong.e2e"}
)

// The lookup routers' directory: the stubs' answers nest the device's
// network and device type, and answer only lookups with the service token.
var (
	lookupFields  = M{"networkField": "device.network.id", "deviceTypeField": "device.type"}
	serviceToken  = "svc"
	serviceHeader = "X-Service-Token"
	nestedDevices = map[string]string{
		"d1":   `{"device":{"id":"d1","network":{"id":1},"type":"10"}}`,
		"d2":   `{"device":{"id":"d2","network":{"id":"2"},"type":20}}`,
		"d3":   `{"device":{"id":"d3","network":{"id":3},"type":10}}`,
		"flat": `{"id":"flat","networkId":1,"deviceTypeId":10}`, // not where the fields say
	}
)

// optionsGateway starts a Traefik whose routers all go to the echo
// backend, each through its own tokengate middleware (pluginOptions, the
// same key, issuer and demo users, so every router accepts every other's
// tokens), differing in one option set:
//
//   - "api", PathPrefix(`/`): the defaults (no tokenQuery, Authorization
//     forwarded, X-Auth-* headers, defaultAction deny);
//   - "query", Host(`query.e2e`): tokenQuery access_token;
//   - "noauth", Host(`noauth.e2e`): forwardAuthorization false, public /healthz;
//   - "names", Host(`names.e2e`): identityHeaders {userId: X-User,
//     actions: ""}, and the public path /healthz;
//   - "default", Host(`default.e2e`): defaultAction GetDevice;
//   - "lookup", Host(`lookup.e2e`): the device directory is svc (lookup
//     header X-Service-Token: svc, nested fields device.network.id and
//     device.type);
//   - "lookup-nohdr", Host(`lookup-nohdr.e2e`): the same lookups to noHdr,
//     without the header; "lookup-wrong", Host(`lookup-wrong.e2e`): to
//     wrong, with a wrong value.
func optionsGateway(t *testing.T, svc, noHdr, wrong *lookupStub) *gateway {
	t.Helper()
	lookup := func(stub *lookupStub, extra M) M {
		dir := M{"lookupURL": stub.URL + "/device/{deviceId}"}
		for k, v := range lookupFields {
			dir[k] = v
		}
		for k, v := range extra {
			dir[k] = v
		}
		return pluginOptions(M{"deviceDirectory": dir})
	}
	host := func(name, host, middleware string) route {
		return route{name: name, rule: "Host(`" + host + "`)", middleware: middleware, priority: 1000}
	}
	return startTraefik(t, dynamicConfig(
		[]route{
			{name: "api", rule: "PathPrefix(`/`)", middleware: "auth"},
			host("query", "query.e2e", "auth-query"),
			host("noauth", "noauth.e2e", "auth-noauth"),
			host("names", "names.e2e", "auth-names"),
			host("default", "default.e2e", "auth-default"),
			host("lookup", "lookup.e2e", "auth-lookup"),
			host("lookup-nohdr", "lookup-nohdr.e2e", "auth-lookup-nohdr"),
			host("lookup-wrong", "lookup-wrong.e2e", "auth-lookup-wrong"),
		},
		map[string]M{
			"auth":         pluginOptions(nil),
			"auth-query":   pluginOptions(M{"tokenQuery": "access_token"}),
			"auth-noauth":  pluginOptions(M{"forwardAuthorization": false, "publicPaths": []string{"/healthz"}}),
			"auth-names":   pluginOptions(M{"identityHeaders": M{"userId": "X-User", "actions": ""}, "publicPaths": []string{"/healthz"}}),
			"auth-default": pluginOptions(M{"defaultAction": "GetDevice"}),
			"auth-lookup": lookup(svc, M{
				"lookupHeader": serviceHeader, "lookupHeaderValue": serviceToken,
			}),
			"auth-lookup-nohdr": lookup(noHdr, nil),
			"auth-lookup-wrong": lookup(wrong, M{
				"lookupHeader": serviceHeader, "lookupHeaderValue": "not-" + serviceToken,
			}),
		},
		nil,
	))
}

// servicedStub is a lookup stub of nestedDevices that answers only lookups
// carrying X-Service-Token: svc (401 otherwise).
func servicedStub(t *testing.T) *lookupStub {
	t.Helper()
	s := startLookupStub(t, nestedDevices, 0)
	s.requireHeader, s.requireValue = serviceHeader, serviceToken
	return s
}

// headers joins header pair lists.
func headers(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

// TestGuardOptions: the route guard's options through Traefik, one router
// per option set (optionsGateway).
func TestGuardOptions(t *testing.T) {
	svc, noHdr, wrong := servicedStub(t), servicedStub(t), servicedStub(t)
	g := optionsGateway(t, svc, noHdr, wrong)
	tokens := map[string]string{}
	for _, u := range []string{"admin", "alice", "bob"} {
		tokens[u], _ = g.login(t, u)
	}
	alice := tokens["alice"]

	t.Run("tokenQuery", func(t *testing.T) { testTokenQuery(t, g, alice, tokens["bob"]) })
	t.Run("forwardAuthorization", func(t *testing.T) { testForwardAuthorization(t, g, alice) })
	t.Run("identityHeaders", func(t *testing.T) { testIdentityHeaderNames(t, g, alice) })
	t.Run("defaultAction", func(t *testing.T) { testDefaultAction(t, g, tokens) })
	t.Run("deviceDirectory lookup", func(t *testing.T) { testLookupDetails(t, g, tokens, svc, noHdr, wrong) })
}

// testTokenQuery: with tokenQuery, a token in ?access_token= is taken (and
// removed from the URL the backend gets); a second, different token is a
// 400; without the option the parameter is no token and is left alone.
func testTokenQuery(t *testing.T, g *gateway, alice, bob string) {
	tests := []struct {
		desc, path string
		header     []string
		code       int    // 200: reached the backend
		message    string // of a refusal ("" skips)
		query      string // the raw query the backend must get
		auth       string // the Authorization the backend must get
	}{
		{
			desc: "token only in the query", path: "/device/d1?x=1&access_token=" + alice + "&y=2",
			header: onQuery, code: 200, query: "x=1&y=2",
		},
		{
			desc: "token as the only parameter", path: "/device/d1?access_token=" + alice,
			header: onQuery, code: 200, query: "",
		},
		{
			desc: "query token equal to the bearer token", path: "/device/d1?access_token=" + alice + "&x=1",
			header: headers(onQuery, bearer(alice)), code: 200, query: "x=1", auth: "Bearer " + alice,
		},
		{
			desc: "the same token twice in the query", path: "/device/d1?access_token=" + alice + "&access_token=" + alice,
			header: onQuery, code: 200, query: "",
		},
		{
			desc: "query token differs from the bearer token", path: "/device/d1?access_token=" + bob,
			header: headers(onQuery, bearer(alice)), code: 400, message: "request carries more than one token",
		},
		{
			desc: "two different tokens in the query", path: "/device/d1?access_token=" + alice + "&access_token=" + bob,
			header: onQuery, code: 400, message: "request carries more than one token",
		},
		{
			desc: "bad query token", path: "/device/d1?access_token=" + tamper(alice),
			header: onQuery, code: 401, message: "token signature is invalid",
		},
		{
			desc: "query token of a user out of scope", path: "/device/d1?access_token=" + bob,
			header: onQuery, code: 403, message: "Access is denied",
		},
		{
			desc: "query token on a request that is no WebSocket upgrade", path: "/device/d1?access_token=" + alice,
			header: onQueryPlain, code: 400, message: "a token in the query is accepted only on WebSocket upgrade requests",
		},
		{
			desc: "without tokenQuery a query token is no token", path: "/device/d1?access_token=" + alice,
			code: 401, message: "token is missing",
		},
		{
			desc: "without tokenQuery the parameter is forwarded as is", path: "/device/d1?access_token=" + bob + "&x=1",
			header: bearer(alice), code: 200, query: "access_token=" + bob + "&x=1", auth: "Bearer " + alice,
		},
	}
	// Failure messages name the tokens instead of spelling them out.
	redact := strings.NewReplacer(alice, "<alice's token>", bob, "<bob's token>").Replace
	for _, test := range tests {
		t.Run(test.desc, func(t *testing.T) {
			// Twice: the token verified, then from the token cache.
			for i := 1; i <= 2; i++ {
				what := fmt.Sprintf("request %d: GET %s", i, strings.SplitN(test.path, "?", 2)[0])
				r := g.do(t, http.MethodGet, test.path, "", test.header...)
				if test.code != http.StatusOK {
					expectRefused(t, what, r, test.code, test.message)
					if test.code == http.StatusBadRequest {
						if got := r.header.Get("WWW-Authenticate"); !strings.Contains(got, `error="invalid_request"`) {
							t.Errorf("%s: WWW-Authenticate: want error=\"invalid_request\", got %q", what, got)
						}
					}
					expectNoTokenIn(t, r, alice)
					expectNoTokenIn(t, r, bob)
					continue
				}
				expectPass(t, what, r)
				if r.code != http.StatusOK {
					continue
				}
				e := r.echo(t)
				if e.Query != test.query {
					t.Errorf("%s: backend got query %q, want %q", what, redact(e.Query), redact(test.query))
				}
				wantURI := "/device/d1"
				if test.query != "" {
					wantURI += "?" + test.query
				}
				if e.URI != wantURI {
					t.Errorf("%s: backend got request target %q, want %q", what, redact(e.URI), redact(wantURI))
				}
				if e.Authorization != test.auth {
					t.Errorf("%s: backend got Authorization %q, want %q", what, redact(e.Authorization), redact(test.auth))
				}
				if e.Auth["X-Auth-Login"] != "alice" {
					t.Errorf("%s: backend saw identity %v", what, e.Auth)
				}
			}
		})
	}
}

// testForwardAuthorization: forwardAuthorization false keeps Authorization
// from the backend, on a verified request and on one answered from the
// decision memo; the default forwards it as sent.
func testForwardAuthorization(t *testing.T, g *gateway, alice string) {
	tests := []struct {
		desc   string
		router []string
		want   string // the Authorization the backend gets
	}{
		{"forwardAuthorization false", onNoAuth, ""},
		{"default (true)", nil, "Bearer " + alice},
	}
	t.Run("forwardAuthorization false, public path", func(t *testing.T) {
		r := g.do(t, http.MethodGet, "/healthz", "", headers(onNoAuth, bearer(alice))...)
		expectPass(t, "GET /healthz", r)
		if r.code != http.StatusOK {
			return
		}
		if _, present := r.echo(t).Header["Authorization"]; present {
			t.Error("GET /healthz: the backend got Authorization with forwardAuthorization false")
		}
	})
	for _, test := range tests {
		t.Run(test.desc, func(t *testing.T) {
			// The first request is verified, the second answered from the
			// memo (its own code path), the third from the token cache.
			for i, path := range []string{"/device/d1", "/device/d1", "/device/d2"} {
				what := fmt.Sprintf("request %d: GET %s", i+1, path)
				r := g.do(t, http.MethodGet, path, "", headers(test.router, bearer(alice))...)
				expectPass(t, what, r)
				if r.code != http.StatusOK {
					continue
				}
				e := r.echo(t)
				if e.Authorization != test.want {
					t.Errorf("%s: backend got Authorization %q, want %q", what, e.Authorization, test.want)
				}
				if _, present := e.Header["Authorization"]; present != (test.want != "") {
					t.Errorf("%s: Authorization header present at the backend: %v, want %v", what, present, test.want != "")
				}
				if e.Auth["X-Auth-Login"] != "alice" || e.Auth["X-Auth-User-Id"] != "2" {
					t.Errorf("%s: backend saw identity %v", what, e.Auth)
				}
			}
		})
	}
}

// testIdentityHeaderNames: identityHeaders {userId: X-User, actions: ""}:
// the user id travels in X-User (replacing a client-sent one), X-Auth-
// Actions and X-Auth-User-Id are not sent, the other headers keep their
// default names. A public path gets no client-sent X-User either.
func testIdentityHeaderNames(t *testing.T, g *gateway, alice string) {
	want := map[string]string{
		"X-User":              "2",
		"X-Auth-Login":        "alice",
		"X-Auth-Role":         "client",
		"X-Auth-Networks":     "1,2",
		"X-Auth-Device-Types": "*",
	}
	t.Run("guarded route, client-sent X-User replaced", func(t *testing.T) {
		// Verified, then from the memo, then from the token cache.
		for i, path := range []string{"/device/d1", "/device/d1", "/user/current"} {
			what := fmt.Sprintf("request %d: GET %s", i+1, path)
			// Client copies of the default names must go too, renamed or not.
			r := g.do(t, http.MethodGet, path, "", headers(onNames, bearer(alice), []string{"X-User", "1", "X-Auth-User-Id", "1", "X-Auth-Actions", "*"})...)
			expectPass(t, what, r)
			if r.code != http.StatusOK {
				continue
			}
			e := r.echo(t)
			got := map[string]string{}
			for name := range want {
				if v, ok := e.Header[name]; ok {
					got[name] = v
				}
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s: backend saw identity\n  %v\nwant\n  %v", what, got, want)
			}
			for _, name := range []string{"X-Auth-User-Id", "X-Auth-Actions"} {
				if v, ok := e.Header[name]; ok {
					t.Errorf("%s: backend got %s: %q, configured out", what, name, v)
				}
			}
		}
	})
	t.Run("public path, client-sent X-User removed", func(t *testing.T) {
		r := g.do(t, http.MethodGet, "/healthz", "", headers(onNames, []string{"X-User", "1", "X-Auth-Login", "admin"})...)
		expectPass(t, "GET /healthz", r)
		if r.code != http.StatusOK {
			return
		}
		e := r.echo(t)
		for _, name := range []string{"X-User", "X-Auth-Login"} {
			if v, ok := e.Header[name]; ok {
				t.Errorf("GET /healthz: backend got client-sent %s: %q", name, v)
			}
		}
	})
	t.Run("default names elsewhere", func(t *testing.T) {
		r := g.do(t, http.MethodGet, "/device/d1", "", bearer(alice)...)
		expectPass(t, "GET /device/d1", r)
		if r.code != http.StatusOK {
			return
		}
		e := r.echo(t)
		if e.Auth["X-Auth-User-Id"] != "2" || e.Auth["X-Auth-Actions"] != aliceActions {
			t.Errorf("backend saw identity %v", e.Auth)
		}
		if v, ok := e.Header["X-User"]; ok {
			t.Errorf("backend got X-User %q from the router with the default names", v)
		}
	})
}

// testDefaultAction: a route no rule matches needs defaultAction
// (GetDevice on the default router), and is refused under the default
// deny even for an admin; matched routes keep their own action.
func testDefaultAction(t *testing.T, g *gateway, tokens map[string]string) {
	forged := func(actions ...int) string {
		claims := with(accessClaims(), M{"aud": nil})
		payload := M{}
		for k, v := range claims["payload"].(M) {
			payload[k] = v
		}
		payload["a"] = actions
		return hs256(with(claims, M{"payload": payload}))
	}
	tests := []struct {
		desc, token, method, path string
		router                    []string
		code                      int
	}{
		{"alice, unmatched route, defaultAction GetDevice", tokens["alice"], http.MethodGet, "/no/rule/here", onDefault, 200},
		{"bob, unmatched route, defaultAction GetDevice", tokens["bob"], http.MethodGet, "/metrics", onDefault, 200},
		{"admin, unmatched route, defaultAction GetDevice", tokens["admin"], http.MethodGet, "/no/rule/here", onDefault, 200},
		{"token with only GetDevice", forged(3), http.MethodGet, "/no/rule/here", onDefault, 200},
		{"token with only GetNetwork", forged(2), http.MethodGet, "/no/rule/here", onDefault, 403},
		{"token with no actions", forged(), http.MethodGet, "/no/rule/here", onDefault, 403},
		{"no token, unmatched route", "", http.MethodGet, "/no/rule/here", onDefault, 401},
		{"alice, matched route keeps its action (ManageNetwork)", tokens["alice"], http.MethodPost, "/network", onDefault, 403},
		{"alice, unmatched route, default deny", tokens["alice"], http.MethodGet, "/no/rule/here", nil, 403},
		{"admin, unmatched route, default deny", tokens["admin"], http.MethodGet, "/no/rule/here", nil, 403},
	}
	for _, test := range tests {
		t.Run(test.desc, func(t *testing.T) {
			header := test.router
			if test.token != "" {
				header = headers(test.router, bearer(test.token))
			}
			// Twice: an allowed line is then answered from the memo, and a
			// refused one must stay refused.
			for i := 1; i <= 2; i++ {
				what := fmt.Sprintf("request %d: %s %s", i, test.method, test.path)
				r := g.do(t, test.method, test.path, "", header...)
				switch test.code {
				case http.StatusOK:
					expectPass(t, what, r)
				case http.StatusUnauthorized:
					expectRefused(t, what, r, test.code, "token is missing")
				default:
					expectRefused(t, what, r, test.code, "Access is denied")
				}
			}
		})
	}
}

// testLookupDetails: lookups carry lookupHeader: lookupHeaderValue, the
// answer's nested fields (device.network.id, device.type; numbers or
// strings) give the device's scopes, and a directory that refuses the
// lookup (401 without the header or with a wrong value) is a 503.
func testLookupDetails(t *testing.T, g *gateway, tokens map[string]string, svc, noHdr, wrong *lookupStub) {
	tests := []struct {
		desc, user, device string
		router             []string
		code               int
	}{
		{"alice, d1 (network 1, type \"10\")", "alice", "d1", onLookup, 200},
		{"alice, d2 (network \"2\", type 20)", "alice", "d2", onLookup, 200},
		{"alice, d3 (network 3): out of scope", "alice", "d3", onLookup, 403},
		{"bob, d3 (network 3, type 10)", "bob", "d3", onLookup, 200},
		{"bob, d1: out of scope", "bob", "d1", onLookup, 403},
		{"bob, d2 (type 20): out of scope", "bob", "d2", onLookup, 403},
		{"admin, d3", "admin", "d3", onLookup, 200},
		{"alice, unknown device", "alice", "d9", onLookup, 404},
		{"alice, answer without the nested fields", "alice", "flat", onLookup, 403},
		{"admin, no lookup header: directory answers 401", "admin", "d1", onLookupNoHdr, 503},
		{"admin, wrong lookup header value: directory answers 401", "admin", "d1", onLookupWrong, 503},
	}
	for _, test := range tests {
		t.Run(test.desc, func(t *testing.T) {
			path := "/device/" + test.device
			r := g.do(t, http.MethodGet, path, "", headers(test.router, bearer(tokens[test.user]))...)
			switch test.code {
			case http.StatusOK:
				expectPass(t, "GET "+path, r)
				if r.code == http.StatusOK && r.echo(t).Auth["X-Auth-Login"] != test.user {
					t.Errorf("GET %s: backend saw identity %v", path, r.echo(t).Auth)
				}
			case http.StatusNotFound:
				expectRefused(t, "GET "+path, r, test.code, "Device not found")
			case http.StatusServiceUnavailable:
				expectRefused(t, "GET "+path, r, test.code, "device directory is unavailable, try again later")
			default:
				expectRefused(t, "GET "+path, r, test.code, "Access is denied")
			}
		})
	}

	// What reached the directories.
	distinct := func(values []string) []string {
		set := map[string]bool{}
		for _, v := range values {
			set[v] = true
		}
		out := make([]string, 0, len(set))
		for v := range set {
			out = append(out, v)
		}
		sort.Strings(out)
		return out
	}
	for _, s := range []struct {
		name string
		stub *lookupStub
		want []string
	}{
		{"lookup (with lookupHeader)", svc, []string{serviceToken}},
		{"lookup-nohdr", noHdr, []string{""}},
		{"lookup-wrong", wrong, []string{"not-" + serviceToken}},
	} {
		got := s.stub.headerValues()
		if len(got) == 0 {
			t.Errorf("%s: no lookup reached the directory", s.name)
			continue
		}
		if d := distinct(got); !reflect.DeepEqual(d, s.want) {
			t.Errorf("%s: lookups carried %s: %q, want only %q", s.name, serviceHeader, d, s.want)
		}
	}
	// Each device of the lookup router was asked once (then cached); the
	// refused lookups are never cached.
	for _, id := range []string{"d1", "d2", "d3", "d9", "flat"} {
		if n := svc.count(id); n != 1 {
			t.Errorf("lookup: %d lookups of %s, want 1", n, id)
		}
	}
	t.Run("a refused lookup is not cached", func(t *testing.T) {
		before := noHdr.count("d1")
		r := g.do(t, http.MethodGet, "/device/d1", "", headers(onLookupNoHdr, bearer(tokens["admin"]))...)
		expectRefused(t, "GET /device/d1 again", r, http.StatusServiceUnavailable, "")
		if n := noHdr.count("d1"); n != before+1 {
			t.Errorf("lookups of d1 went from %d to %d, want one more", before, n)
		}
	})
}
