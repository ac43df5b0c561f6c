package tokengate_test

// Fuzz targets for the plugin through its public API, CreateConfig -> New
// -> ServeHTTP (go test -run '^$' -fuzz '^FuzzTokenBodies$' .):
//
//   - FuzzTokenBodies: any body POSTed to /token, /token/refresh,
//     /token/create and /token/revoke (and /token/jwks, an unknown
//     /token/...), with or without a valid bearer token, is answered with a
//     status of the documented set (never 500: Traefik turns a panic into a
//     500) and a JSON body, and the answer never holds the password sent.
//   - FuzzCreateDates: any expiration and refreshExpiration at /token/create
//     either fail cleanly or give tokens that expire in the future and
//     within createMaxAccessLifetime and createMaxLifetime; a date in
//     DeviceHive's own format gives exactly that expiry.
//   - FuzzIdentityHeaderStripping: whatever headers a client adds, the
//     backend receives identity headers (in any spelling: case ignored, "_"
//     read as "-") only as the gate sets them, and no method or URL
//     override header, on public paths and on guarded ones (first request
//     and the decision memo's repeat).
//
// Yaegi's `yaegi test` ignores Fuzz functions but loads this file.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tokengate/tokengate"
	"github.com/tokengate/tokengate/users"
)

// fzStatuses are the statuses the token endpoints may answer.
var fzStatuses = map[int]bool{200: true, 201: true, 400: true, 401: true, 403: true, 404: true, 405: true, 413: true, 429: true, 503: true}

// fzRecorder is a backend that keeps the last request's headers.
type fzRecorder struct {
	called bool
	header http.Header
}

func (b *fzRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b.called = true
	b.header = r.Header.Clone()
	w.WriteHeader(http.StatusTeapot)
}

func fzHandler(t testing.TB, cfg *tokengate.Config) (http.Handler, *fzRecorder) {
	t.Helper()
	next := &fzRecorder{}
	h, err := tokengate.New(context.Background(), next, cfg, "fuzz")
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return h, next
}

// fzPost posts body to path and returns the status and the raw answer.
func fzPost(h http.Handler, path, body, authorization string) (int, http.Header, []byte) {
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, rec.Header(), rec.Body.Bytes()
}

// fzTokens returns the access and refresh tokens of a login.
func fzTokens(t testing.TB, h http.Handler, login string) (string, string) {
	t.Helper()
	code, _, raw := fzPost(h, "/token", `{"login":"`+login+`","password":"`+login+`-pass"}`, "")
	var out map[string]string
	if code != http.StatusCreated || json.Unmarshal(raw, &out) != nil || out["accessToken"] == "" {
		t.Fatalf("login %s: %d %s", login, code, raw)
	}
	return out["accessToken"], out["refreshToken"]
}

// fzStrings collects every string of a decoded JSON value, keys included.
func fzStrings(v any, out []string) []string {
	switch x := v.(type) {
	case string:
		out = append(out, x)
	case []any:
		for _, item := range x {
			out = fzStrings(item, out)
		}
	case map[string]any:
		for k, item := range x {
			out = append(out, k)
			out = fzStrings(item, out)
		}
	}
	return out
}

// fzAnswerStrings decodes an answer that must be JSON and returns its
// strings joined.
func fzAnswerStrings(t *testing.T, raw []byte) string {
	t.Helper()
	// UseNumber: an echoed requestId may hold any JSON number, 2.5e700
	// too, which a float64 cannot (testdata/fuzz/FuzzTokenBodies/70976a81d960c16c).
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("answer is not JSON (%v): %q", err, raw)
	}
	return strings.Join(fzStrings(v, nil), "\x00")
}

// fzOtherPassword returns a password of the same length as p made of a
// byte p does not hold, or "" when p holds them all.
func fzOtherPassword(p string) string {
	for _, c := range []byte("QZ#~qz") {
		if strings.IndexByte(p, c) < 0 {
			return strings.Repeat(string(c), len(p))
		}
	}
	return ""
}

// fzPasswordOf returns the body's "password" when it is a non-blank
// string, and the body with it replaced by other.
func fzPasswordOf(body string) (string, map[string]any, bool) {
	dec := json.NewDecoder(strings.NewReader(body))
	dec.UseNumber()
	var obj map[string]any
	if dec.Decode(&obj) != nil || obj == nil {
		return "", nil, false
	}
	p, ok := obj["password"].(string)
	if !ok || strings.TrimSpace(p) == "" {
		return "", nil, false
	}
	return p, obj, true
}

// fzConfig is guardConfig with an issuer of its own: the state store
// (sessions, revocations) is shared by every gate of the process with the
// same issuer, and other tests must neither revoke these targets' tokens
// nor see what the fuzzed bodies revoke.
func fzConfig(issuer string) *tokengate.Config {
	cfg := guardConfig()
	cfg.Issuer = issuer
	return cfg
}

// fzBodiesConfig has a small body limit, so that 413 is within the
// fuzzer's reach, and cheaper password hashes (rounds=1000), so that a
// login costs less.
func fzBodiesConfig(t testing.TB) *tokengate.Config {
	t.Helper()
	cfg := fzConfig("tokengate-fuzz-bodies")
	cfg.MaxBodyBytes = 2048
	for i, u := range cfg.Users {
		hash, err := users.MakeHash('6', u.Login+"-pass", "fz-"+u.Login, users.MinRounds)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Users[i].PasswordHash = hash
	}
	return cfg
}

// fzBearers are the Authorization values FuzzTokenBodies sends. A fuzzed
// body may revoke their sessions or users (/token/revoke, the message
// form's token/revoke) or spend a refresh token (HarperDB's
// refresh_operation_token reads the bearer), so they are renewed by a new
// login after any such request.
type fzBearers struct {
	h      http.Handler
	values []string
	stale  bool
}

// renew logs admin and alice in again. A login the gate refuses (a full
// session store answers 503) keeps the old values: they are then merely
// invalid, which the target tolerates.
func (b *fzBearers) renew() bool {
	adminAccess, adminRefresh, ok := fzTryTokens(b.h, "admin")
	if !ok {
		return false
	}
	aliceAccess, aliceRefresh, ok := fzTryTokens(b.h, "alice")
	if !ok {
		return false
	}
	b.values = []string{"", "Bearer " + adminAccess, "Bearer " + aliceAccess, "Bearer " + adminRefresh,
		"Bearer " + aliceRefresh, "Bearer not.a.token", "Basic YWxpY2U6YWxpY2UtcGFzcw=="}
	b.stale = false
	return true
}

// fzTryTokens returns the access and refresh tokens of a login.
func fzTryTokens(h http.Handler, login string) (string, string, bool) {
	code, _, raw := fzPost(h, "/token", `{"login":"`+login+`","password":"`+login+`-pass"}`, "")
	var out map[string]string
	if code != http.StatusCreated || json.Unmarshal(raw, &out) != nil || out["accessToken"] == "" {
		return "", "", false
	}
	return out["accessToken"], out["refreshToken"], true
}

func FuzzTokenBodies(f *testing.F) {
	h, _ := fzHandler(f, fzBodiesConfig(f))
	bearers := &fzBearers{h: h}
	if !bearers.renew() {
		f.Fatal("admin and alice cannot log in")
	}
	auths := bearers.values
	paths := []string{"/token", "/token/refresh", "/token/create", "/token/revoke", "/token/jwks", "/token/other"}

	bodies := []string{
		`{"login":"alice","password":"alice-pass"}`,
		`{"login":"alice","password":"wrong-password"}`,
		`{"login":"carol","password":"carol-pass"}`,
		`{"login":"nobody","password":"secret-Password-1"}`,
		`{"login":"alice","password":"` + strings.Repeat("p", 257) + `"}`,
		`{"login":"alice","password":7}`, `{"login":"alice","password":"  "}`, `{"login":"alice"}`,
		`{"refreshToken":"not.a.token"}`, `{"refreshToken":7}`,
		`{"action":"token","requestId":{"n":[1,2.5e300]},"login":"alice","password":"alice-pass"}`,
		`{"action":"token","requestId":"secret-Password-1","login":"x","password":"secret-Password-1"}`,
		`{"action":"token/refresh","requestId":1,"refreshToken":"a.b.c"}`,
		`{"action":"token/create","requestId":1,"payload":{"userId":2}}`,
		`{"action":"token/create","payload":[]}`, `{"action":7}`, `{"action":null,"login":"alice","password":"alice-pass"}`,
		`{"operation":"create_authentication_tokens","username":"alice","password":"alice-pass"}`,
		`{"operation":"refresh_operation_token"}`, `{"operation":"describe_all"}`,
		`{"userId":2,"actions":["GetDevice",4],"networkIds":[1],"deviceTypeIds":["10"],"expiration":"2030-01-31T12:00:00.000"}`,
		`{"userId":"2","actions":"GetDevice"}`, `{"userId":1e400}`, `{"userId":-1}`, `{"userId":99}`,
		`{"userId":2,"networkIds":[" "],"deviceTypeIds":[1.5]}`,
		`{"userId":2,"refreshExpiration":"2999-01-01T00:00:00Z"}`,
		``, `null`, `[]`, `"x"`, `{}`, `{} {}`, `{"a":1} x`, `{"login":"alice",`, strings.Repeat("[", 3000),
		`{"login":"\ud800","password":"\u0000"}`,
		`{"token":"a.b.c","token_type_hint":"refresh_token"}`, `{"token":"x","token_type_hint":7}`,
		`{"action":"token/revoke","requestId":3,"userId":2}`, `{"userId":3}`,
	}
	for i, b := range bodies {
		f.Add(b, uint8(i%3), uint8(i%len(auths)))
		f.Add(b, uint8(i%len(paths)), uint8(0))
	}
	f.Fuzz(func(t *testing.T, body string, path, auth uint8) {
		if bearers.stale {
			bearers.renew()
		}
		target := paths[int(path)%len(paths)]
		authorization := bearers.values[int(auth)%len(bearers.values)]
		// Requests that may end the bearers' sessions: renew them after.
		bearers.stale = strings.HasSuffix(target, "/revoke") || strings.Contains(body, "revoke") ||
			int(auth)%len(bearers.values) == 3 || int(auth)%len(bearers.values) == 4
		code, header, raw := fzPost(h, target, body, authorization)
		if !fzStatuses[code] {
			t.Fatalf("POST %s %q: status %d: %s", target, body, code, raw)
		}
		if ct := header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Fatalf("POST %s %q: Content-Type %q", target, body, ct)
		}
		answer := fzAnswerStrings(t, raw)
		password, obj, ok := fzPasswordOf(body)
		if !ok || !strings.Contains(answer, password) {
			return
		}
		// The answer holds the password: only as something that is there
		// whatever the password (a message, an echoed requestId).
		other := fzOtherPassword(password)
		if other == "" {
			return
		}
		obj["password"] = other
		changed, err := json.Marshal(obj)
		if err != nil {
			t.Fatal(err)
		}
		code2, _, raw2 := fzPost(h, target, string(changed), authorization)
		if code2 != code {
			return // another answer (the throttle's 429, say): nothing to compare
		}
		if !strings.Contains(fzAnswerStrings(t, raw2), password) {
			t.Fatalf("POST %s %q: the answer echoes the password %q: %s", target, body, password, raw)
		}
	})
}

// fzCreateConfig caps minted tokens: access 1h (default lifetime 30m),
// refresh 48h (default lifetime 4380h, so the cap applies).
const (
	fzMaxAccess  = time.Hour
	fzMaxRefresh = 48 * time.Hour
)

func fzCreateConfig() *tokengate.Config {
	cfg := fzConfig("tokengate-fuzz-create-dates")
	cfg.CreateMaxAccessLifetime = "1h"
	cfg.CreateMaxLifetime = "48h"
	return cfg
}

// fzExp reads a token's exp without verifying it.
func fzExp(t *testing.T, token string) int64 {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", token)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims struct {
		Exp json.Number `json:"exp"`
	}
	if err := json.Unmarshal(raw, &claims); err != nil {
		t.Fatal(err)
	}
	exp, err := claims.Exp.Int64()
	if err != nil {
		t.Fatalf("exp %q: %v", claims.Exp, err)
	}
	return exp
}

// fzDeviceHiveDate is DeviceHive's yyyy-MM-dd'T'HH:mm:ss.SSS, read by hand.
var fzDeviceHiveDate = regexp.MustCompile(`^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.(\d{3})$`)

// fzDateValue turns the fuzzer's date into a JSON value: absent when
// empty, a JSON value when it starts with '#' (e.g. "#123"), else a string.
func fzDateValue(s string) (any, bool) {
	if s == "" {
		return nil, false
	}
	if strings.HasPrefix(s, "#") {
		var v any
		if json.Unmarshal([]byte(s[1:]), &v) == nil {
			return v, true
		}
	}
	return s, true
}

func FuzzCreateDates(f *testing.F) {
	h, _ := fzHandler(f, fzCreateConfig())
	admin, _ := fzTokens(f, h, "admin")
	now := time.Now().UTC()
	for _, d := range []time.Duration{-time.Hour, time.Second, 30 * time.Minute, fzMaxAccess, fzMaxAccess + time.Second, 47 * time.Hour, fzMaxRefresh + time.Minute, 10000 * time.Hour} {
		f.Add(now.Add(d).Format("2006-01-02T15:04:05.000"), now.Add(d).Format(time.RFC3339))
		f.Add(now.Add(d).Format("2006-01-02T15:04:05"), now.Add(d).In(time.FixedZone("", -11*3600)).Format(time.RFC3339Nano))
	}
	for _, s := range []string{"", "tomorrow", "2030-01-31T12:00:00.000", "2030-02-30T12:00:00.000", "2030-01-31T24:00:00.000",
		"2030-01-31T12:00:60.000", "9999-12-31T23:59:59.999", "0000-01-01T00:00:00.000", "2030-01-31T12:00:00.0000",
		"2030-01-31t12:00:00z", "2030-01-31T12:00:00+99:99", "2030-01-31 12:00:00", "#1893456000", "#null", "#[]", "#{}"} {
		f.Add(s, s)
	}
	f.Fuzz(func(t *testing.T, expiration, refreshExpiration string) {
		body := map[string]any{"userId": 2}
		accessDate, hasAccess := fzDateValue(expiration)
		if hasAccess {
			body["expiration"] = accessDate
		}
		refreshDate, hasRefresh := fzDateValue(refreshExpiration)
		if hasRefresh {
			body["refreshExpiration"] = refreshDate
		}
		raw, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		before := time.Now()
		code, _, answer := fzPost(h, "/token/create", string(raw), "Bearer "+admin)
		after := time.Now()
		if code == http.StatusBadRequest || code == http.StatusForbidden {
			return
		}
		if code != http.StatusCreated {
			t.Fatalf("create %s: status %d: %s", raw, code, answer)
		}
		var out map[string]string
		if err := json.Unmarshal(answer, &out); err != nil {
			t.Fatalf("create %s: %v: %s", raw, err, answer)
		}
		checks := []struct {
			field   string
			token   string
			date    any
			limit   time.Duration
			present bool
		}{
			{"expiration", out["accessToken"], accessDate, fzMaxAccess, hasAccess},
			{"refreshExpiration", out["refreshToken"], refreshDate, fzMaxRefresh, hasRefresh},
		}
		for _, c := range checks {
			exp := fzExp(t, c.token)
			if exp > after.Add(c.limit).Unix() {
				t.Fatalf("create %s: %s gives exp %d, past the cap %d", raw, c.field, exp, after.Add(c.limit).Unix())
			}
			if exp < before.Unix() {
				t.Fatalf("create %s: %s gives exp %d, in the past (now %d)", raw, c.field, exp, before.Unix())
			}
			s, isString := c.date.(string)
			if !c.present || !isString || !fzDeviceHiveDate.MatchString(s) {
				continue
			}
			m := fzDeviceHiveDate.FindStringSubmatch(s)
			want := time.Date(fzAtoi(m[1]), time.Month(fzAtoi(m[2])), fzAtoi(m[3]), fzAtoi(m[4]), fzAtoi(m[5]), fzAtoi(m[6]), 0, time.UTC)
			if want.Month() != time.Month(fzAtoi(m[2])) || want.Day() != fzAtoi(m[3]) || want.Hour() != fzAtoi(m[4]) ||
				want.Minute() != fzAtoi(m[5]) || want.Second() != fzAtoi(m[6]) {
				t.Fatalf("create %s: %s %q is no date, yet it was accepted", raw, c.field, s)
			}
			if exp != want.Unix() {
				t.Fatalf("create %s: %s %q gives exp %d, want %d", raw, c.field, s, exp, want.Unix())
			}
		}
	})
}

func fzAtoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

// fzIdentityNames are the default identity headers, and fzOverrideNames
// the override headers, folded: lower case, "_" as "-".
var (
	fzIdentityNames = []string{"x-auth-user-id", "x-auth-login", "x-auth-role", "x-auth-actions", "x-auth-networks",
		"x-auth-device-types", "x-auth-actor-id"}
	fzOverrideNames = []string{"x-http-method-override", "x-http-method", "x-method-override", "x-original-url", "x-rewrite-url"}
)

func fzFold(name string) string { return strings.ToLower(strings.ReplaceAll(name, "_", "-")) }

func fzIn(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// fzValidName reports whether a header name is an RFC 7230 token, as Go's
// server requires; fzValidValue whether a value holds no control byte
// other than tab.
func fzValidName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("()<>@,;:\\\"/[]?={}", c) >= 0 {
			return false
		}
	}
	return true
}

func fzValidValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if (s[i] < ' ' && s[i] != '\t') || s[i] == 0x7f {
			return false
		}
	}
	return true
}

// fzStripGate is one configuration of FuzzIdentityHeaderStripping with its
// tokens: alice's login token and a token admin minted for alice (which
// carries an actor).
type fzStripGate struct {
	h      http.Handler
	next   *fzRecorder
	tokens []string
	names  []string // identity header names, folded: the defaults and any configured
}

func fzStripGates(t testing.TB) []fzStripGate {
	t.Helper()
	renamed := fzConfig("tokengate-fuzz-identity-renamed")
	renamed.IdentityHeaders.UserID = "X-Remote-User" // the default name is still removed
	renamed.IdentityHeaders.Login = ""               // not forwarded, and removed
	uncached := fzConfig("tokengate-fuzz-identity-uncached")
	uncached.CacheTTL = "0s" // no claims cache, no decision memo: every request takes the full path
	gates := make([]fzStripGate, 0, 3)
	for i, cfg := range []*tokengate.Config{fzConfig("tokengate-fuzz-identity"), renamed, uncached} {
		h, next := fzHandler(t, cfg)
		alice, _ := fzTokens(t, h, "alice")
		admin, _ := fzTokens(t, h, "admin")
		code, _, raw := fzPost(h, "/token/create", `{"userId":2,"actions":["GetDevice","GetNetwork"]}`, "Bearer "+admin)
		var out map[string]string
		if code != http.StatusCreated || json.Unmarshal(raw, &out) != nil {
			t.Fatalf("create: %d %s", code, raw)
		}
		names := fzIdentityNames
		if i == 1 {
			names = append(append([]string{}, fzIdentityNames...), "x-remote-user")
		}
		gates = append(gates, fzStripGate{h: h, next: next, tokens: []string{alice, out["accessToken"]}, names: names})
	}
	return gates
}

// fzSend sends GET path with the token (if any) and the extra headers, and
// returns what the backend received (nil when it was not called).
func fzSend(g fzStripGate, path, token string, extra [][2]string) http.Header {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for _, kv := range extra {
		req.Header.Add(kv[0], kv[1]) // canonicalised, as Go's server does
	}
	if token != "" {
		req.Header.Add("Authorization", "Bearer "+token)
	}
	g.next.called = false
	g.next.header = nil
	h := g.h
	h.ServeHTTP(httptest.NewRecorder(), req)
	if !g.next.called {
		return nil
	}
	return g.next.header
}

// fzParseHeaders reads "Name: value" lines, keeping those a server would
// accept.
func fzParseHeaders(text string) [][2]string {
	var out [][2]string
	for _, line := range strings.Split(text, "\n") {
		name, value, ok := strings.Cut(line, ":")
		value = strings.Trim(value, " \t")
		if !ok || !fzValidName(name) || !fzValidValue(value) {
			continue
		}
		out = append(out, [2]string{name, value})
	}
	return out
}

func FuzzIdentityHeaderStripping(f *testing.F) {
	gates := fzStripGates(f)
	seeds := []string{
		"X_Auth_User_Id: 1\nX-Auth_Role: admin\nx_auth_login: admin\nX_AUTH_ACTOR_ID: 1\nX-Auth-Networks: *\nX_Auth-Device_Types: *",
		"X-Http-Method-Override: DELETE\nX_HTTP_METHOD: DELETE\nX-Method-Override: DELETE\nX-Original-Url: /user/1\nX_Rewrite_URL: /user/1",
		"X-Auth-User-Id: 2\nX-Auth-User-Id: 1\nx-auth-actions: *\nX-Remote-User: 1\nx_remote_user: 1",
		"X-Auth-Actor-Id: 1\nX-Auth-Actor_Id: 2\nX-AUTH-ACTOR-ID: 3",
		"X-Auth-Role:\nX-Auth-Login: \t \nX-Auth-Login-Extra: x\nX-Authz-Role: admin",
		"Cookie: token=x\nX-Forwarded-For: 1.2.3.4\nHost: evil\nOrigin: https://evil",
		"",
	}
	for i, s := range seeds {
		for pick := 0; pick < 30; pick++ {
			f.Add(s, uint8(pick+30*(i%2)))
		}
	}
	paths := []string{"/healthz", "/docs/a/b", "/device/d1", "/network", "/device/d2"}
	f.Fuzz(func(t *testing.T, headers string, pick uint8) {
		// pick: gate pick%3, path pick/3%5, token pick/15%2.
		g := gates[int(pick)%len(gates)]
		path := paths[int(pick/3)%len(paths)]
		token := ""
		if path != "/healthz" && path != "/docs/a/b" {
			token = g.tokens[int(pick/15)%len(g.tokens)]
		}
		extra := fzParseHeaders(headers)
		// What the gate itself forwards for this token and path.
		baseline := fzSend(g, path, token, nil)
		for round := 0; round < 2; round++ { // the second may come from the decision memo
			got := fzSend(g, path, token, extra)
			if got == nil {
				continue // refused (e.g. a second Authorization header)
			}
			for name, values := range got {
				folded := fzFold(name)
				if fzIn(fzOverrideNames, folded) {
					t.Fatalf("GET %s with %q: backend received %s: %q", path, headers, name, values)
				}
				if !fzIn(g.names, folded) {
					continue
				}
				want, set := baseline[name]
				if !set || strings.Join(values, "\x00") != strings.Join(want, "\x00") {
					t.Fatalf("GET %s with %q: backend received %s: %q; the gate sets %q", path, headers, name, values, want)
				}
			}
			for name, want := range baseline {
				if fzIn(g.names, fzFold(name)) && strings.Join(got[name], "\x00") != strings.Join(want, "\x00") {
					t.Fatalf("GET %s with %q: backend received %s: %q; the gate sets %q", path, headers, name, got[name], want)
				}
			}
		}
	})
}
