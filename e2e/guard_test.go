//go:build e2e

package e2e

// Tests of the routes tokengate guards (everything off the token paths):
// the token checks and their answers, actions, public paths and CORS
// preflights, identity headers, the token cache. Scopes against a device
// directory are in scope_test.go, keys in keys_test.go.

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestGuardRequiresToken(t *testing.T) {
	g := startTraefik(t, gatewayYAML())

	login := g.post(t, "/token", `{"login":"alice","password":"alice-pass"}`)
	if login.code != http.StatusCreated {
		t.Fatalf("POST /token: want 201, got %s", login)
	}
	refresh := login.str(t, "refreshToken")

	tests := []struct {
		desc   string
		header []string
	}{
		{desc: "no token"},
		{desc: "not a bearer token", header: []string{"Authorization", "Basic YWxpY2U6YWxpY2UtcGFzcw=="}},
		{desc: "garbage bearer token", header: []string{"Authorization", "Bearer abc.def.ghi"}},
		{desc: "refresh token used as access token", header: []string{"Authorization", "Bearer " + refresh}},
	}
	for _, test := range tests {
		t.Run(test.desc, func(t *testing.T) {
			r := g.do(t, http.MethodGet, "/device/1", "", test.header...)
			if r.code != http.StatusUnauthorized {
				t.Fatalf("GET /device/1: want 401, got %s", r)
			}
			if r.header.Get("X-E2e-Echo") != "" {
				t.Errorf("the request reached the backend")
			}
			if got := r.header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") {
				t.Errorf("WWW-Authenticate: want Bearer ..., got %q", got)
			}
		})
	}
}

// ---------------------------------------------------------------------------
// The route guard through Traefik: tokens refused and why, actions, public
// paths, CORS preflights, identity headers, the token cache.

// guardGateway starts a Traefik with two routers through two tokengate
// middlewares of the same keys and users (pluginOptions, with the
// devicehive preset, the demo devices as a static directory, an audience,
// public paths and maxTokenBytes 4096):
//
//   - "api", PathPrefix(`/`), middleware "auth": Authorization only, no
//     preflights;
//   - "cookie", Host(`cookie.e2e`), middleware "auth-cookie": also the
//     tg_token cookie, and allowPreflight.
func guardGateway(t *testing.T) *gateway {
	t.Helper()
	common := M{
		"audience":      e2eAudience,
		"publicPaths":   []string{"/healthz", "/docs/**"},
		"maxTokenBytes": 4096,
	}
	cookie := with(common, M{"tokenCookie": "tg_token", "allowPreflight": true})
	return startTraefik(t, dynamicConfig(
		[]route{
			{name: "api", rule: "PathPrefix(`/`)", middleware: "auth"},
			{name: "cookie", rule: "Host(`cookie.e2e`)", middleware: "auth-cookie", priority: 1000},
		},
		map[string]M{"auth": pluginOptions(common), "auth-cookie": pluginOptions(cookie)},
		nil,
	))
}

// onCookieRouter is the Host header pair for guardGateway's cookie router.
var onCookieRouter = []string{"Host", "cookie.e2e"}

// TestGuardChallenge: a request without a token gets the bare RFC 6750
// challenge, with no error attribute.
func TestGuardChallenge(t *testing.T) {
	g := guardGateway(t)
	tests := []struct {
		desc   string
		header []string
	}{
		{desc: "no Authorization header"},
		{desc: "Basic credentials are no token", header: []string{"Authorization", "Basic YWxpY2U6YWxpY2UtcGFzcw=="}},
		{desc: "empty bearer", header: []string{"Authorization", "Bearer "}},
		{desc: "no token on the cookie router either", header: onCookieRouter},
	}
	for _, test := range tests {
		t.Run(test.desc, func(t *testing.T) {
			r := g.do(t, http.MethodGet, "/device/d1", "", test.header...)
			expectRefused(t, "GET /device/d1", r, http.StatusUnauthorized, "token is missing")
			if got, want := r.header.Get("WWW-Authenticate"), `Bearer realm="tokengate"`; got != want {
				t.Errorf("WWW-Authenticate: want %q (no error attribute), got %q", want, got)
			}
		})
	}
}

// TestGuardRejectsBadTokens forges tokens by hand (HS256 under kid k1 with
// the gateway's secret, claims as the README's claims table) and breaks one
// thing at a time. Each must get 401 with error="invalid_token" naming the
// check, and the answer must never echo the token.
func TestGuardRejectsBadTokens(t *testing.T) {
	g := guardGateway(t)
	_, refresh := g.login(t, "alice")
	now := time.Now()
	good := accessClaims()
	bobToken, _ := g.login(t, "bob")

	// The forged token itself is fine: the refusals below are each about
	// the one thing changed.
	t.Run("control: a correctly forged token passes", func(t *testing.T) {
		r := g.do(t, http.MethodGet, "/device/d1", "", bearer(hs256(good))...)
		expectPass(t, "GET /device/d1", r)
		if r.code == http.StatusOK {
			if e := r.echo(t); e.Auth["X-Auth-User-Id"] != "2" || e.Auth["X-Auth-Login"] != "alice" || e.Auth["X-Auth-Actions"] != "GetDevice" {
				t.Errorf("backend saw identity %v", e.Auth)
			}
		}
	})
	t.Run("control: expired within the 30s leeway passes", func(t *testing.T) {
		r := g.do(t, http.MethodGet, "/device/d1", "", bearer(hs256(with(good, M{"exp": now.Add(-10 * time.Second).Unix()})))...)
		expectPass(t, "GET /device/d1", r)
	})

	payloadWith := func(k string, v any) M {
		p := M{}
		for pk, pv := range good["payload"].(M) {
			p[pk] = pv
		}
		p[k] = v
		return p
	}
	tamperedPayload := func() string {
		// alice's real signature over claims that now say every network.
		parts := strings.Split(hs256(good), ".")
		parts[1] = b64(mustJSON(with(good, M{"payload": payloadWith("n", []string{"*"})})))
		return strings.Join(parts, ".")
	}()
	hs512 := signHMAC(sha512.New, []byte(testSecret), M{"alg": "HS512", "kid": "k1", "typ": "JWT"}, good)
	none := b64(mustJSON(M{"alg": "none", "kid": "k1", "typ": "JWT"})) + "." + b64(mustJSON(good)) + "."
	noneSigned := strings.TrimSuffix(none, ".") + "." + strings.Split(hs256(good), ".")[2]
	oversized := hs256(with(good, M{"pad": strings.Repeat("x", 5000)}))

	tests := []struct {
		desc, token, message string
	}{
		{"malformed: not a JWT", "not-a-jwt", "token is malformed"},
		{"malformed: four parts", "a.b.c.d", "token is malformed"},
		{"malformed: header is not JSON", b64([]byte("{nope")) + ".e30.c2ln", "token is malformed"},
		{"expired", hs256(with(good, M{"exp": now.Add(-time.Hour).Unix()})), "token has expired"},
		{"no exp", hs256(with(good, M{"exp": nil})), "token claims are invalid"},
		{"not yet valid (nbf an hour ahead)", hs256(with(good, M{"nbf": now.Add(time.Hour).Unix()})), "token is not valid yet"},
		{"issued in the future (iat an hour ahead)", hs256(with(good, M{"iat": now.Add(time.Hour).Unix()})), "token is not valid yet"},
		{"wrong issuer", hs256(with(good, M{"iss": "someone-else"})), "token issuer is not accepted"},
		{"no issuer", hs256(with(good, M{"iss": nil})), "token issuer is not accepted"},
		{"wrong audience", hs256(with(good, M{"aud": "another-api"})), "token audience is not accepted"},
		{"no audience", hs256(with(good, M{"aud": nil})), "token audience is not accepted"},
		{"wrong algorithm: HS512 under the HS256 key k1", hs512, "token algorithm is not allowed"},
		{"alg none, no signature", none, "token algorithm is not allowed"},
		{"alg none, with a valid HS256 signature", noneSigned, "token algorithm is not allowed"},
		{"unknown kid", signHMAC(sha256.New, []byte(testSecret), M{"alg": "HS256", "kid": "k2"}, good), "token is signed with an unknown key"},
		{"no kid", signHMAC(sha256.New, []byte(testSecret), M{"alg": "HS256"}, good), "token is signed with an unknown key"},
		{"signed with another secret", signHMAC(sha256.New, []byte(strings.Repeat("s", 40)), M{"alg": "HS256", "kid": "k1"}, good), "token signature is invalid"},
		{"tampered signature of a gateway-issued token", tamper(bobToken), "token signature is invalid"},
		{"tampered payload (networks widened to *)", tamperedPayload, "token signature is invalid"},
		{"refresh token used as access token", refresh, "token is of the wrong type"},
		{"token_type access but payload t 0", hs256(with(good, M{"payload": payloadWith("t", 0)})), "token is of the wrong type"},
		{"sub differs from payload u", hs256(with(good, M{"sub": "1"})), "token claims are invalid"},
		{"oversized (> maxTokenBytes 4096), validly signed", oversized, "token is too large"},
	}
	for _, test := range tests {
		t.Run(test.desc, func(t *testing.T) {
			r := g.do(t, http.MethodGet, "/device/d1", "", bearer(test.token)...)
			expectRefused(t, "GET /device/d1", r, http.StatusUnauthorized, test.message)
			want := `Bearer realm="tokengate", error="invalid_token", error_description="` + test.message + `"`
			if got := r.header.Get("WWW-Authenticate"); got != want {
				t.Errorf("WWW-Authenticate: want %q, got %q", want, got)
			}
			expectNoTokenIn(t, r, test.token)
		})
	}
}

// expectNoTokenIn fails the test if the answer (body or headers) holds the
// token or any of its signature.
func expectNoTokenIn(t *testing.T, r *reply, token string) {
	t.Helper()
	needles := []string{token}
	if parts := strings.Split(token, "."); len(parts) == 3 && len(parts[2]) >= 16 {
		needles = append(needles, parts[1], parts[2])
	}
	var answer strings.Builder
	answer.Write(r.body)
	for k, vs := range r.header {
		answer.WriteString("\n" + k + ": " + strings.Join(vs, ", "))
	}
	for _, n := range needles {
		if n != "" && len(n) >= 8 && strings.Contains(answer.String(), n) {
			t.Errorf("the answer echoes the token: %s", r)
			return
		}
	}
}

// TestGuardTwoTokens: a cookie and a different bearer token, or two
// Authorization headers, are a 400; the same token twice is fine.
func TestGuardTwoTokens(t *testing.T) {
	g := guardGateway(t)
	alice, _ := g.login(t, "alice")
	bob, _ := g.login(t, "bob")
	cookie := func(token string) []string { return []string{"Cookie", "tg_token=" + token} }
	join := func(lists ...[]string) []string {
		var out []string
		for _, l := range lists {
			out = append(out, l...)
		}
		return out
	}

	t.Run("cookie alone", func(t *testing.T) {
		r := g.do(t, http.MethodGet, "/device/d1", "", join(onCookieRouter, cookie(alice))...)
		expectPass(t, "GET /device/d1 with the cookie", r)
		if r.code == http.StatusOK {
			if got := r.echo(t).Auth["X-Auth-Login"]; got != "alice" {
				t.Errorf("X-Auth-Login: want alice, got %q", got)
			}
		}
	})
	t.Run("cookie and the same bearer token", func(t *testing.T) {
		r := g.do(t, http.MethodGet, "/device/d1", "", join(onCookieRouter, cookie(alice), bearer(alice))...)
		expectPass(t, "GET /device/d1", r)
	})
	t.Run("cookie and a different bearer token", func(t *testing.T) {
		r := g.do(t, http.MethodGet, "/device/d1", "", join(onCookieRouter, cookie(alice), bearer(bob))...)
		expectRefused(t, "GET /device/d1", r, http.StatusBadRequest, "")
		if got := r.header.Get("WWW-Authenticate"); !strings.Contains(got, `error="invalid_request"`) {
			t.Errorf("WWW-Authenticate: want error=\"invalid_request\", got %q", got)
		}
		expectNoTokenIn(t, r, alice)
		expectNoTokenIn(t, r, bob)
	})
	t.Run("cookie ignored where tokenCookie is not configured", func(t *testing.T) {
		r := g.do(t, http.MethodGet, "/device/d1", "", cookie(alice)...)
		expectRefused(t, "GET /device/d1", r, http.StatusUnauthorized, "token is missing")
	})
	t.Run("bad cookie token", func(t *testing.T) {
		r := g.do(t, http.MethodGet, "/device/d1", "", join(onCookieRouter, cookie(tamper(alice)))...)
		expectRefused(t, "GET /device/d1", r, http.StatusUnauthorized, "token signature is invalid")
	})
	t.Run("two Authorization headers", func(t *testing.T) {
		r := g.do(t, http.MethodGet, "/device/d1", "", join(bearer(alice), bearer(bob))...)
		expectRefused(t, "GET /device/d1", r, http.StatusBadRequest, "")
	})
	t.Run("two identical Authorization headers", func(t *testing.T) {
		r := g.do(t, http.MethodGet, "/device/d1", "", join(bearer(alice), bearer(alice))...)
		expectRefused(t, "GET /device/d1", r, http.StatusBadRequest, "")
	})
}

// TestGuardActions: the preset's rule gives the action the token must
// hold; the demo users' rights decide.
func TestGuardActions(t *testing.T) {
	g := guardGateway(t)
	tokens := map[string]string{}
	for _, u := range []string{"admin", "alice", "bob"} {
		tokens[u], _ = g.login(t, u)
	}
	tests := []struct {
		user, method, path string
		code               int
	}{
		{"alice", http.MethodGet, "/device/d1", 200}, // client, networks 1,2, device types *
		{"alice", http.MethodGet, "/device/d2", 200}, // network 2, type 20
		{"alice", http.MethodGet, "/device/d3", 403}, // network 3: out of scope
		{"alice", http.MethodGet, "/network", 200},   // GetNetwork
		{"alice", http.MethodPost, "/network", 403},  // ManageNetwork: not a client's
		{"alice", http.MethodGet, "/user/7", 403},    // ManageUser
		{"alice", http.MethodGet, "/user/current", 200},
		{"alice", http.MethodPost, "/configuration/x", 403}, // ManageConfiguration
		{"alice", http.MethodGet, "/no/rule/here", 403},     // defaultAction deny
		{"bob", http.MethodGet, "/device/d3", 200},          // network 3, type 10
		{"bob", http.MethodGet, "/device/d1", 403},
		{"bob", http.MethodPost, "/network", 403},
		{"admin", http.MethodPost, "/network", 200}, // admin holds *
		{"admin", http.MethodGet, "/user/7", 200},
		{"admin", http.MethodGet, "/device/d3", 200},
		{"admin", http.MethodGet, "/no/rule/here", 403}, // deny is deny, even for *
	}
	for _, test := range tests {
		t.Run(fmt.Sprintf("%s %s %s", test.user, test.method, test.path), func(t *testing.T) {
			body := ""
			if test.method == http.MethodPost {
				body = `{"name":"n"}`
			}
			r := g.do(t, test.method, test.path, body, bearer(tokens[test.user])...)
			if test.code == http.StatusOK {
				expectPass(t, test.method+" "+test.path, r)
				return
			}
			expectRefused(t, test.method+" "+test.path, r, test.code, "Access is denied")
			if r.code == http.StatusForbidden && r.header.Get("WWW-Authenticate") != "" {
				t.Errorf("a 403 carries a challenge: %s", r)
			}
		})
	}
}

// spoofed are identity headers a client might send to pose as the admin.
var spoofed = []string{
	"X-Auth-User-Id", "1",
	"X-Auth-Login", "admin",
	"X-Auth-Role", "admin",
	"X-Auth-Actions", "*",
	"X-Auth-Networks", "*",
	"X-Auth-Device-Types", "*",
}

// TestGuardPublicAndPreflight: public paths and (where allowed) CORS
// preflights pass without a token, and never with client-sent identity
// headers.
func TestGuardPublicAndPreflight(t *testing.T) {
	g := guardGateway(t)
	preflight := []string{"Origin", "http://app.example", "Access-Control-Request-Method", "POST"}
	tests := []struct {
		desc, method, path string
		header             []string
		code               int // 200: reached the backend
	}{
		{"public path", http.MethodGet, "/healthz", nil, 200},
		{"public path, ** template", http.MethodGet, "/docs/api/v1", nil, 200},
		{"public path with spoofed identity headers", http.MethodGet, "/healthz", spoofed, 200},
		{"public path on the cookie router", http.MethodGet, "/healthz", onCookieRouter, 200},
		{"near a public path is not public", http.MethodGet, "/healthz/x", nil, 401},
		{"preflight refused without allowPreflight", http.MethodOptions, "/device/d1", preflight, 401},
		{"preflight allowed with allowPreflight", http.MethodOptions, "/device/d1", append(append([]string{}, onCookieRouter...), preflight...), 200},
		{"preflight with spoofed identity headers", http.MethodOptions, "/device/d1", append(append(append([]string{}, onCookieRouter...), preflight...), spoofed...), 200},
		{"OPTIONS without Access-Control-Request-Method is no preflight", http.MethodOptions, "/device/d1", append(append([]string{}, onCookieRouter...), "Origin", "http://app.example"), 401},
	}
	for _, test := range tests {
		t.Run(test.desc, func(t *testing.T) {
			r := g.do(t, test.method, test.path, "", test.header...)
			if test.code != http.StatusOK {
				expectRefused(t, test.method+" "+test.path, r, test.code, "")
				return
			}
			expectPass(t, test.method+" "+test.path, r)
			if r.code != http.StatusOK {
				return
			}
			e := r.echo(t)
			if e.Path != test.path || e.Method != test.method {
				t.Errorf("backend saw %s %s", e.Method, e.Path)
			}
			if len(e.Auth) != 0 {
				t.Errorf("identity headers reached the backend without a token: %v", e.Auth)
			}
		})
	}
}

// TestGuardIdentityHeaders: the backend gets the caller's identity in the
// X-Auth-* headers, replacing what the client sent, also when the decision
// comes from the cache (the same request line again).
func TestGuardIdentityHeaders(t *testing.T) {
	g := guardGateway(t)
	want := map[string]map[string]string{
		"alice": {
			"X-Auth-User-Id": "2", "X-Auth-Login": "alice", "X-Auth-Role": "client",
			"X-Auth-Actions": aliceActions, "X-Auth-Networks": "1,2", "X-Auth-Device-Types": "*",
		},
		"bob": {
			"X-Auth-User-Id": "3", "X-Auth-Login": "bob", "X-Auth-Role": "client",
			"X-Auth-Actions": aliceActions, "X-Auth-Networks": "3", "X-Auth-Device-Types": "10",
		},
		"admin": {
			"X-Auth-User-Id": "1", "X-Auth-Login": "admin", "X-Auth-Role": "admin",
			"X-Auth-Actions": "*", "X-Auth-Networks": "*", "X-Auth-Device-Types": "*",
		},
	}
	paths := map[string]string{"alice": "/device/d1", "bob": "/device/d3", "admin": "/device/d2"}
	for _, user := range []string{"alice", "bob", "admin"} {
		t.Run(user, func(t *testing.T) {
			access, _ := g.login(t, user)
			// The first request is verified in full, the second answered
			// from the decision memo, the third (another path) from the
			// token cache; every one with spoofed headers.
			for i, path := range []string{paths[user], paths[user], "/user/current"} {
				r := g.do(t, http.MethodGet, path, "", append(bearer(access), spoofed...)...)
				expectPass(t, fmt.Sprintf("request %d: GET %s", i+1, path), r)
				if r.code != http.StatusOK {
					continue
				}
				e := r.echo(t)
				if !reflect.DeepEqual(e.Auth, want[user]) {
					t.Errorf("request %d: GET %s: backend saw identity\n  %v\nwant\n  %v", i+1, path, e.Auth, want[user])
				}
				if e.Authorization != "Bearer "+access {
					t.Errorf("request %d: Authorization not forwarded as sent: %q", i+1, e.Authorization)
				}
			}
		})
	}
}

// TestGuardCache: a token seen before passes again from the cache (memo
// and claims cache), and the cache never lends one token's decision to
// another.
func TestGuardCache(t *testing.T) {
	g := guardGateway(t)
	alice, _ := g.login(t, "alice")
	bob, _ := g.login(t, "bob")
	steps := []struct {
		desc, token, path string
		code              int
	}{
		{"alice, first time", alice, "/device/d1", 200},
		{"alice, same request line (memo)", alice, "/device/d1", 200},
		{"alice, same token, other path (claims cache)", alice, "/device/d2", 200},
		{"alice, cached token, path out of scope", alice, "/device/d3", 403},
		{"alice, cached token, path out of scope again", alice, "/device/d3", 403},
		{"bob on the line alice made", bob, "/device/d1", 403},
		{"alice's token tampered, same line", tamper(alice), "/device/d1", 401},
		{"alice once more", alice, "/device/d1", 200},
	}
	for _, s := range steps {
		r := g.do(t, http.MethodGet, s.path, "", bearer(s.token)...)
		if s.code == http.StatusOK {
			expectPass(t, s.desc, r)
			if r.code == http.StatusOK && r.echo(t).Auth["X-Auth-Login"] != "alice" {
				t.Errorf("%s: backend saw %v", s.desc, r.echo(t).Auth)
			}
			continue
		}
		expectRefused(t, s.desc, r, s.code, "")
	}
}

// TestGuardConcurrent: alice and bob hit the same device routes through
// Traefik from many connections at once, with a memo and a claims cache
// small enough to be full (so hits, misses, adds and sweeps interleave):
// every answer must be the one a lone request gets, and the backend must
// see the caller's own identity.
func TestGuardConcurrent(t *testing.T) {
	g := startTraefik(t, oneRouter(pluginOptions(M{"cacheMaxEntries": 3})))
	alice, _ := g.login(t, "alice")
	bob, _ := g.login(t, "bob")
	type outcome struct {
		who, path   string
		code        int
		login, fail string
		body        string // of a refusal
	}
	out := make(chan outcome, 16*40)
	var wg sync.WaitGroup
	for worker := 0; worker < 16; worker++ {
		wg.Add(1)
		go func(worker int) {
			defer wg.Done()
			for i := 0; i < 40; i++ {
				who, token := "alice", alice
				if (worker+i)%2 == 1 {
					who, token = "bob", bob
				}
				path := []string{"/device/d1", "/device/d2", "/device/d3"}[i%3] + "/notification/" + strconv.Itoa(i%4)
				o := outcome{who: who, path: path}
				req, err := http.NewRequest(http.MethodGet, g.URL+path, nil)
				if err != nil {
					o.fail = err.Error()
					out <- o
					continue
				}
				req.Header.Set("Authorization", "Bearer "+token)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					o.fail = err.Error()
					out <- o
					continue
				}
				var e echoReply
				if resp.StatusCode == http.StatusOK {
					if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
						o.fail = err.Error()
					}
				} else {
					body, _ := io.ReadAll(resp.Body)
					o.body = string(body)
				}
				resp.Body.Close()
				o.code, o.login = resp.StatusCode, e.Auth["X-Auth-Login"]
				out <- o
			}
		}(worker)
	}
	wg.Wait()
	close(out)
	// The demo scopes: alice reaches d1 and d2, bob d3.
	allowed := map[string]bool{"alice /device/d1": true, "alice /device/d2": true, "bob /device/d3": true}
	n := 0
	for o := range out {
		n++
		want := http.StatusForbidden
		if allowed[o.who+" "+o.path[:len("/device/d1")]] {
			want = http.StatusOK
		}
		if o.fail != "" || o.code != want || (want == http.StatusOK && o.login != o.who) {
			t.Fatalf("%s GET %s: %d %s(backend saw login %q) %s, want %d", o.who, o.path, o.code, o.body, o.login, o.fail, want)
		}
	}
	if n != 16*40 {
		t.Fatalf("%d answers, want %d", n, 16*40)
	}
}
