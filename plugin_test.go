package tokengate_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tokengate/tokengate"
)

const testSecret = "test-only-hmac-secret-0123456789abcdef-0123456789"

// Password = login + "-pass"; made with `openssl passwd -6 -salt tg-test-<login> <login>-pass`.
var testHashes = map[string]string{
	"admin": "$6$tg-test-admin$r/KCUBXCtbDAJkuXNzF4UJ061d7J8sbZNwfZj2vhdjSZLjm6LGiWXbg5uChOf3x3U45UcEMBwG8w4DlIhrLi51",
	"alice": "$6$tg-test-alice$U6.AT1FUHj5Da9ZpZ5QUuqoxdeyzkXnbITerO6JjcwRY972npsCl..YKzFM6e8cIwkds6dnvUrq/8P7gUjOgM.",
	"bob":   "$6$tg-test-bob$4IV7D/V/FPdgAKvfsmXTUdvruXP0dUVoJ32A9kKrOFHwH0wWNp36cG/LSsANuSOt408C3L6DeigdY0jtKaexZ0",
	"carol": "$6$tg-test-carol$SD.iE6P4yZJMotc7Ba/mWf6l6wH6EsBqS4EgvCvZzKKlIFXoSD6263cNSrpsUONG0uxsChfjeo1cT1SDFtVdy1",
	"dave":  "$6$tg-test-dave$DWXUYML5XFxhM8AhMDvv.P3j0yhTbl4e5aA26hzjKYf22tFHpbtHWj.UqssOme39n427TrXaoer30ufgl449K1",
}

// testConfig is the demo's shape: admin, alice (networks 1 and 2), bob
// (network 3, device type 10), carol (locked), dave (disabled).
func testConfig() *tokengate.Config {
	cfg := tokengate.CreateConfig()
	cfg.Keys = []tokengate.KeyConfig{{ID: "test-1", Algorithm: "HS256", Secret: testSecret}}
	cfg.Users = []tokengate.UserConfig{
		{ID: 1, Login: "admin", PasswordHash: testHashes["admin"], Role: "admin"},
		{ID: 2, Login: "alice", PasswordHash: testHashes["alice"], NetworkIDs: []string{"1", "2"}, DeviceTypeIDs: []string{"*"}},
		{ID: 3, Login: "bob", PasswordHash: testHashes["bob"], NetworkIDs: []string{"3"}, DeviceTypeIDs: []string{"10"}},
		{ID: 4, Login: "carol", PasswordHash: testHashes["carol"], Status: "locked"},
		{ID: 5, Login: "dave", PasswordHash: testHashes["dave"], Status: "disabled"},
	}
	return cfg
}

// backend records that a request got through and what it carried.
type backend struct {
	called bool
	header http.Header
	url    string // the URL and the request target (RequestURI, which Traefik's proxy forwards)
}

func (b *backend) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b.called = true
	b.header = r.Header.Clone()
	b.url = r.URL.String() + " " + r.RequestURI
	w.WriteHeader(http.StatusTeapot)
}

// expectConfigError checks that New refuses cfg with an error naming want
// (a field such as "throttle.maxDelay:").
func expectConfigError(t *testing.T, cfg *tokengate.Config, want string) {
	t.Helper()
	if _, err := tokengate.New(context.Background(), &backend{}, cfg, "test"); err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("New: %v, want an error naming %q", err, want)
	}
}

func newHandler(t testing.TB, cfg *tokengate.Config) (http.Handler, *backend) {
	t.Helper()
	next := &backend{}
	h, err := tokengate.New(context.Background(), next, cfg, "test")
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return h, next
}

type response struct {
	code   int
	header http.Header
	body   map[string]any
	raw    string
}

func do(t testing.TB, h http.Handler, method, path, body string, header ...string) response {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return doRequest(t, h, req)
}

// newRequest builds a bodyless request; header pairs are added, so a name
// may repeat.
func newRequest(method, path string, header ...string) *http.Request {
	req := httptest.NewRequest(method, path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	return req
}

func doRequest(t testing.TB, h http.Handler, req *http.Request) response {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	res := response{code: rec.Code, header: rec.Header(), raw: rec.Body.String()}
	if strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(rec.Body.Bytes(), &res.body); err != nil {
			t.Fatalf("%s %s: body is not a JSON object: %q", req.Method, req.URL.Path, res.raw)
		}
	}
	return res
}

func (r response) str(key string) string {
	s, _ := r.body[key].(string)
	return s
}

// login returns alice's (or another user's) access and refresh tokens.
func login(t testing.TB, h http.Handler, user string) (string, string) {
	t.Helper()
	res := do(t, h, "POST", "/token", `{"login":"`+user+`","password":"`+user+`-pass"}`)
	if res.code != http.StatusCreated || res.str("accessToken") == "" || res.str("refreshToken") == "" {
		t.Fatalf("login %s: %d %s", user, res.code, res.raw)
	}
	return res.str("accessToken"), res.str("refreshToken")
}

func TestNew(t *testing.T) {
	tests := []struct {
		desc    string
		change  func(cfg *tokengate.Config)
		wantErr string // substring; "" = success
	}{
		{desc: "defaults with a key and users", change: func(cfg *tokengate.Config) {}},
		{desc: "no keys", change: func(cfg *tokengate.Config) { cfg.Keys = nil }, wantErr: "keys: at least one signing key"},
		{desc: "short secret", change: func(cfg *tokengate.Config) { cfg.Keys[0].Secret = "too-short" }, wantErr: "keys[0].secret: HS256 needs a secret of at least 32 bytes"},
		{desc: "bad algorithm", change: func(cfg *tokengate.Config) { cfg.Keys[0].Algorithm = "none" }, wantErr: `keys[0].algorithm: "none" is not allowed`},
		{desc: "bad base path", change: func(cfg *tokengate.Config) { cfg.BasePath = "token" }, wantErr: "basePath:"},
		{desc: "trailing slash", change: func(cfg *tokengate.Config) { cfg.BasePath = "/token/" }, wantErr: "basePath:"},
		{desc: "bad access lifetime", change: func(cfg *tokengate.Config) { cfg.AccessTokenLifetime = "soon" }, wantErr: "accessTokenLifetime:"},
		{desc: "negative refresh lifetime", change: func(cfg *tokengate.Config) { cfg.RefreshTokenLifetime = "-1h" }, wantErr: "refreshTokenLifetime:"},
		{desc: "zero body limit", change: func(cfg *tokengate.Config) { cfg.MaxBodyBytes = 0 }, wantErr: "maxBodyBytes:"},
		{desc: "bcrypt hash", change: func(cfg *tokengate.Config) {
			cfg.Users[1].PasswordHash = "$2b$10$abcdefghijklmnopqrstuuWx2cYEYQ2O4Y9qZq3bHHDWZJ4iJQ1cW"
		}, wantErr: "users[1].passwordHash:"},
		{desc: "duplicate login", change: func(cfg *tokengate.Config) { cfg.Users[1].Login = "admin" }, wantErr: "users[1]"},
		{desc: "unknown role", change: func(cfg *tokengate.Config) { cfg.Users[2].Role = "root" }, wantErr: "users[2].role"},
		{desc: "unknown action", change: func(cfg *tokengate.Config) { cfg.Users[2].Actions = []string{"GetDevice", "Fly"} }, wantErr: "users[2].actions[1]"},
		{desc: "missing users file", change: func(cfg *tokengate.Config) { cfg.UsersFile = "/nonexistent/users.json" }, wantErr: "usersFile"},
		// cookieCSRFHeader must be a header a browser sends cross-site only
		// after a CORS preflight: a cross-site form sends each of these.
		{desc: "CSRF header of our own", change: func(cfg *tokengate.Config) { cfg.CookieCSRFHeader = "X-CSRF-Token" }},
		{desc: "CSRF header Origin", change: func(cfg *tokengate.Config) { cfg.CookieCSRFHeader = "Origin" }, wantErr: "cookieCSRFHeader:"},
		{desc: "CSRF header Content-Type", change: func(cfg *tokengate.Config) { cfg.CookieCSRFHeader = "content-type" }, wantErr: "cookieCSRFHeader:"},
		{desc: "CSRF header Accept", change: func(cfg *tokengate.Config) { cfg.CookieCSRFHeader = "Accept" }, wantErr: "cookieCSRFHeader:"},
		{desc: "CSRF header Range", change: func(cfg *tokengate.Config) { cfg.CookieCSRFHeader = "Range" }, wantErr: "cookieCSRFHeader:"},
		{desc: "CSRF header Cookie", change: func(cfg *tokengate.Config) { cfg.CookieCSRFHeader = "Cookie" }, wantErr: "cookieCSRFHeader:"},
		{desc: "CSRF header Referer", change: func(cfg *tokengate.Config) { cfg.CookieCSRFHeader = "REFERER" }, wantErr: "cookieCSRFHeader:"},
		{desc: "CSRF header DNT", change: func(cfg *tokengate.Config) { cfg.CookieCSRFHeader = "dnt" }, wantErr: "cookieCSRFHeader:"},
		{desc: "CSRF header Host", change: func(cfg *tokengate.Config) { cfg.CookieCSRFHeader = "Host" }, wantErr: "cookieCSRFHeader:"},
		{desc: "CSRF header Sec-Fetch-Site", change: func(cfg *tokengate.Config) { cfg.CookieCSRFHeader = "Sec-Fetch-Site" }, wantErr: "cookieCSRFHeader:"},
		{desc: "CSRF header sec-ch-ua", change: func(cfg *tokengate.Config) { cfg.CookieCSRFHeader = "sec-ch-ua" }, wantErr: "cookieCSRFHeader:"},
		{desc: "CSRF header Proxy-", change: func(cfg *tokengate.Config) { cfg.CookieCSRFHeader = "Proxy-Anything" }, wantErr: "cookieCSRFHeader:"},
		{desc: "CSRF header Authorization", change: func(cfg *tokengate.Config) { cfg.CookieCSRFHeader = "Authorization" }, wantErr: "cookieCSRFHeader:"},
	}
	for _, test := range tests {
		t.Run(test.desc, func(t *testing.T) {
			cfg := testConfig()
			test.change(cfg)
			_, err := tokengate.New(context.Background(), &backend{}, cfg, "test")
			if test.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), test.wantErr) {
				t.Fatalf("error = %v, want it to contain %q", err, test.wantErr)
			}
		})
	}
}

func TestTokenREST(t *testing.T) {
	h, next := newHandler(t, testConfig())
	access, refresh := login(t, h, "alice")
	big := `{"login":"alice","password":"` + strings.Repeat("x", 70000) + `"}`
	tests := []struct {
		desc    string
		method  string
		path    string
		body    string
		code    int
		message string // substring of "message"
		want    []string
	}{
		{desc: "login", method: "POST", path: "/token", body: `{"login":"alice","password":"alice-pass"}`, code: 201, want: []string{"accessToken", "refreshToken"}},
		{desc: "admin login", method: "POST", path: "/token", body: `{"login":"admin","password":"admin-pass"}`, code: 201, want: []string{"accessToken", "refreshToken"}},
		{desc: "refresh", method: "POST", path: "/token/refresh", body: `{"refreshToken":"` + refresh + `"}`, code: 201, want: []string{"accessToken"}},
		{desc: "wrong password", method: "POST", path: "/token", body: `{"login":"alice","password":"nope"}`, code: 401, message: "invalid login or password"},
		{desc: "unknown user", method: "POST", path: "/token", body: `{"login":"mallory","password":"alice-pass"}`, code: 401, message: "invalid login or password"},
		{desc: "locked user", method: "POST", path: "/token", body: `{"login":"carol","password":"carol-pass"}`, code: 401, message: "user is locked"},
		{desc: "disabled user", method: "POST", path: "/token", body: `{"login":"dave","password":"dave-pass"}`, code: 401, message: "user is disabled"},
		{desc: "locked user, wrong password", method: "POST", path: "/token", body: `{"login":"carol","password":"x"}`, code: 401, message: "invalid login or password"},
		{desc: "missing password", method: "POST", path: "/token", body: `{"login":"alice"}`, code: 400, message: "password is required"},
		{desc: "blank login", method: "POST", path: "/token", body: `{"login":"  ","password":"x"}`, code: 400, message: "login must not be blank"},
		{desc: "number login", method: "POST", path: "/token", body: `{"login":5,"password":"x"}`, code: 400, message: "login must be a string"},
		{desc: "null password", method: "POST", path: "/token", body: `{"login":"alice","password":null}`, code: 400, message: "password is required"},
		{desc: "malformed JSON", method: "POST", path: "/token", body: `{"login":`, code: 400, message: "not valid JSON"},
		{desc: "empty body", method: "POST", path: "/token", body: ``, code: 400, message: "not valid JSON"},
		{desc: "array body", method: "POST", path: "/token", body: `["alice"]`, code: 400, message: "must be a JSON object"},
		{desc: "string body", method: "POST", path: "/token", body: `"alice"`, code: 400, message: "must be a JSON object"},
		{desc: "two objects", method: "POST", path: "/token", body: `{} {}`, code: 400, message: "single JSON object"},
		{desc: "too large", method: "POST", path: "/token", body: big, code: 413, message: "too large"},
		{desc: "GET", method: "GET", path: "/token", code: 405, message: "use POST"},
		{desc: "PUT refresh", method: "PUT", path: "/token/refresh", code: 405, message: "use POST"},
		{desc: "unknown endpoint", method: "POST", path: "/token/nope", body: `{}`, code: 404},
		{desc: "refresh missing", method: "POST", path: "/token/refresh", body: `{}`, code: 400, message: "refreshToken is required"},
		{desc: "refresh garbage", method: "POST", path: "/token/refresh", body: `{"refreshToken":"abc.def.ghi"}`, code: 401, message: "token is malformed"},
		{desc: "access token as refresh token", method: "POST", path: "/token/refresh", body: `{"refreshToken":"` + access + `"}`, code: 401, message: "wrong type"},
	}
	for _, test := range tests {
		t.Run(test.desc, func(t *testing.T) {
			res := do(t, h, test.method, test.path, test.body)
			if res.code != test.code {
				t.Fatalf("status = %d, want %d: %s", res.code, test.code, res.raw)
			}
			for _, key := range test.want {
				if res.str(key) == "" {
					t.Errorf("response lacks %s: %s", key, res.raw)
				}
			}
			if test.code >= 400 {
				if code, _ := res.body["error"].(float64); int(code) != test.code {
					t.Errorf("error = %v, want %d", res.body["error"], test.code)
				}
				if !strings.Contains(res.str("message"), test.message) {
					t.Errorf("message = %q, want %q", res.str("message"), test.message)
				}
			}
			if test.code == 405 && res.header.Get("Allow") != "POST" {
				t.Errorf("Allow = %q", res.header.Get("Allow"))
			}
			if cc := res.header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control = %q", cc)
			}
			if strings.Contains(res.raw, "alice-pass") || strings.Contains(res.raw, testSecret) {
				t.Errorf("response leaks a secret: %s", res.raw)
			}
		})
	}
	if next.called {
		t.Fatal("token requests must not reach the backend")
	}
}

func TestTokenMessages(t *testing.T) {
	h, _ := newHandler(t, testConfig())
	access, refresh := login(t, h, "alice")
	tests := []struct {
		desc      string
		path      string
		body      string
		code      int
		requestID string // JSON of the echoed requestId; "" = absent
		want      []string
	}{
		{desc: "token", path: "/token", body: `{"action":"token","requestId":7,"login":"alice","password":"alice-pass"}`, code: 200, requestID: "7", want: []string{"accessToken", "refreshToken"}},
		{desc: "token, big number id", path: "/token", body: `{"action":"token","requestId":12345678901234567890,"login":"alice","password":"alice-pass"}`, code: 200, requestID: "12345678901234567890"},
		{desc: "token, object id", path: "/token", body: `{"action":"token","requestId":{"n":[1,"a"]},"login":"alice","password":"alice-pass"}`, code: 200, requestID: `{"n":[1,"a"]}`},
		{desc: "token, no id", path: "/token", body: `{"action":"token","login":"alice","password":"alice-pass"}`, code: 200},
		{desc: "refresh", path: "/token", body: `{"action":"token/refresh","requestId":"r1","refreshToken":"` + refresh + `"}`, code: 200, requestID: `"r1"`, want: []string{"accessToken"}},
		{desc: "refresh at /token/refresh", path: "/token/refresh", body: `{"action":"token/refresh","requestId":null,"refreshToken":"` + refresh + `"}`, code: 200, requestID: "null"},
		{desc: "wrong password", path: "/token", body: `{"action":"token","requestId":8,"login":"alice","password":"x"}`, code: 401, requestID: "8"},
		{desc: "missing login", path: "/token", body: `{"action":"token","requestId":9,"password":"x"}`, code: 400, requestID: "9"},
		{desc: "access as refresh", path: "/token", body: `{"action":"token/refresh","requestId":10,"refreshToken":"` + access + `"}`, code: 401, requestID: "10"},
		{desc: "unknown action", path: "/token", body: `{"action":"token/steal","requestId":11}`, code: 400, requestID: "11"},
		{desc: "login at /token/refresh", path: "/token/refresh", body: `{"action":"token","requestId":12,"login":"alice","password":"alice-pass"}`, code: 400, requestID: "12"},
		{desc: "non-string action", path: "/token", body: `{"action":5,"requestId":13}`, code: 400, requestID: "13"},
	}
	for _, test := range tests {
		t.Run(test.desc, func(t *testing.T) {
			res := do(t, h, "POST", test.path, test.body)
			if res.code != test.code {
				t.Fatalf("status = %d, want %d: %s", res.code, test.code, res.raw)
			}
			id, present := rawField(t, res.raw, "requestId")
			if (test.requestID != "") != present || id != test.requestID {
				t.Errorf("requestId = %s (present %v), want %s", id, present, test.requestID)
			}
			if _, ok := res.body["action"]; !ok {
				t.Errorf("response lacks action: %s", res.raw)
			}
			if test.code == 200 {
				if res.str("status") != "success" {
					t.Errorf("status = %q", res.str("status"))
				}
				for _, key := range test.want {
					if res.str(key) == "" {
						t.Errorf("response lacks %s: %s", key, res.raw)
					}
				}
				return
			}
			if res.str("status") != "error" || res.str("error") == "" {
				t.Errorf("error body = %s", res.raw)
			}
			if code, _ := res.body["code"].(float64); int(code) != test.code {
				t.Errorf("code = %v, want %d", res.body["code"], test.code)
			}
		})
	}
}

// rawField returns a top-level field of a JSON object exactly as written.
func rawField(t testing.TB, raw, key string) (string, bool) {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		t.Fatalf("not a JSON object: %s", raw)
	}
	v, ok := m[key]
	return string(v), ok
}

func TestTokenOperations(t *testing.T) {
	h, _ := newHandler(t, testConfig())
	access, refresh := login(t, h, "alice")
	tests := []struct {
		desc   string
		path   string
		body   string
		header []string
		code   int
		want   []string
		error  string // substring of "error"
	}{
		{desc: "create", path: "/token", body: `{"operation":"create_authentication_tokens","username":"alice","password":"alice-pass"}`, code: 200, want: []string{"operation_token", "refresh_token"}},
		{desc: "refresh in body", path: "/token", body: `{"operation":"refresh_operation_token","refresh_token":"` + refresh + `"}`, code: 200, want: []string{"operation_token"}},
		{desc: "refresh as bearer", path: "/token", body: `{"operation":"refresh_operation_token"}`, header: []string{"Authorization", "Bearer " + refresh}, code: 200, want: []string{"operation_token"}},
		{desc: "refresh at /token/refresh", path: "/token/refresh", body: `{"operation":"refresh_operation_token","refresh_token":"` + refresh + `"}`, code: 200, want: []string{"operation_token"}},
		{desc: "wrong password", path: "/token", body: `{"operation":"create_authentication_tokens","username":"alice","password":"no"}`, code: 401, error: "invalid login or password"},
		{desc: "unknown user", path: "/token", body: `{"operation":"create_authentication_tokens","username":"eve","password":"no"}`, code: 401, error: "invalid login or password"},
		{desc: "missing username", path: "/token", body: `{"operation":"create_authentication_tokens","password":"no"}`, code: 400, error: "username is required"},
		{desc: "refresh missing", path: "/token", body: `{"operation":"refresh_operation_token"}`, code: 400, error: "refresh_token is required"},
		{desc: "access as refresh", path: "/token", body: `{"operation":"refresh_operation_token"}`, header: []string{"Authorization", "Bearer " + access}, code: 401, error: "wrong type"},
		{desc: "unknown operation", path: "/token", body: `{"operation":"drop_table"}`, code: 400, error: "unsupported operation"},
	}
	for _, test := range tests {
		t.Run(test.desc, func(t *testing.T) {
			res := do(t, h, "POST", test.path, test.body, test.header...)
			if res.code != test.code {
				t.Fatalf("status = %d, want %d: %s", res.code, test.code, res.raw)
			}
			for _, key := range test.want {
				if res.str(key) == "" {
					t.Errorf("response lacks %s: %s", key, res.raw)
				}
			}
			if test.code != 200 && !strings.Contains(res.str("error"), test.error) {
				t.Errorf("error = %q, want %q", res.str("error"), test.error)
			}
		})
	}
}

func TestRefreshFollowsTheUsersFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "users.json")
	write := func(status string, mtime time.Time) {
		body := `{"users":[{"id":7,"login":"erin","passwordHash":"` + testHashes["alice"] + `","status":"` + status + `","networkIds":["1"]}]}`
		if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(file, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	write("active", time.Now().Add(-time.Hour))
	cfg := testConfig()
	cfg.Issuer = "tokengate-" + t.Name() // the gate's own sessions view: its clock moves
	cfg.UsersFile = file
	cfg.UsersFileCheckInterval = "1s"
	h, _ := newHandler(t, cfg)
	clock := withClock(t, h)
	res := do(t, h, "POST", "/token", `{"login":"erin","password":"alice-pass"}`)
	if res.code != 201 {
		t.Fatalf("login from the users file: %d %s", res.code, res.raw)
	}
	refresh := res.str("refreshToken")

	write("locked", time.Now())
	clock.Add(1100 * time.Millisecond) // the file is checked at most once a second here
	res = do(t, h, "POST", "/token/refresh", `{"refreshToken":"`+refresh+`"}`)
	if res.code != 401 || res.str("message") != "user is locked" {
		t.Fatalf("refresh for a user locked since: %d %s", res.code, res.raw)
	}
}

// TestBodyLimitWithoutLength: a chunked body (no Content-Length) over the
// limit is cut off after limit+1 bytes and refused, not read whole.
func TestBodyLimitWithoutLength(t *testing.T) {
	cfg := testConfig()
	cfg.MaxBodyBytes = 1024
	h, _ := newHandler(t, cfg)
	body := &countingReader{r: strings.NewReader(`{"login":"alice","password":"` + strings.Repeat("x", 100000) + `"}`)}
	req := httptest.NewRequest(http.MethodPost, "/token", body)
	if req.ContentLength != -1 {
		t.Fatalf("ContentLength = %d, want -1 (unknown)", req.ContentLength)
	}
	res := doRequest(t, h, req)
	if res.code != http.StatusRequestEntityTooLarge {
		t.Fatalf("status = %d: %s", res.code, res.raw)
	}
	if body.n > 1024+4096 {
		t.Fatalf("read %d bytes of a body over a 1024-byte limit", body.n)
	}
}

type countingReader struct {
	r *strings.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}
