package interp_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mitchellh/mapstructure"
	"github.com/traefik/paerser/file"
	"github.com/traefik/yaegi/interp"
	"github.com/traefik/yaegi/stdlib"
	"gopkg.in/yaml.v3"
)

// modulePath is the plugin's import path, as in .traefik.yml's "import" and
// the static configuration's experimental.localPlugins.*.moduleName.
const modulePath = "github.com/tokengate/tokengate"

// Test fixtures. The hashes were made with
//
//	openssl passwd -6 -salt somesalt alice-pass
//	openssl passwd -6 -salt bobsalt bob-pass
const (
	testSecret = "tokengate-interp-test-secret-0123456789"
	aliceHash  = "$6$somesalt$WNRn7BpyH2W5C1OZA59seXupviTT1XYJ3/wF/iEsmOf6d18NFkw7yKq2lZzeBaEe4aABGlDIb4Rn93lVy7HaW0"
	bobHash    = "$6$bobsalt$gZZna9vMclzbZE2d2Aw9fuSfmGww/5J5DIn7wgoVrNysLHDz4zPpniOhEw76siLmdEz5wXHU3TkrKF6BNKAWh1"
)

// goodDynamic is a Traefik dynamic configuration (file provider, YAML) with a
// working tokengate middleware. Tests decode it with Traefik's own decoder.
var goodDynamic = `
http:
  middlewares:
    auth:
      plugin:
        tokengate:
          issuer: tokengate-interp
          maxBodyBytes: 4096
          keys:
            - id: k1
              algorithm: HS256
              secret: ` + testSecret + `
          users:
            - id: 1
              login: alice
              passwordHash: "` + aliceHash + `"
              role: admin
            - id: 2
              login: bob
              passwordHash: "` + bobHash + `"
              role: client
              networkIds: "1,2"
`

// ---------------------------------------------------------------------------
// Loading the plugin as Traefik does.

// plugin is the tokengate plugin loaded into one interpreter. Like Traefik,
// which keeps one interpreter per plugin and builds every middleware instance
// from it, all tests share one.
type plugin struct {
	i              *interp.Interpreter
	fnNew          reflect.Value
	fnCreateConfig reflect.Value
	out            *syncBuffer // the interpreter's stdout and stderr
}

var (
	loadOnce   sync.Once
	loaded     *plugin
	errLoad    error
	loadGopath string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if loadGopath != "" {
		_ = os.RemoveAll(loadGopath)
	}
	os.Exit(code)
}

// loadPlugin returns the shared interpreted plugin, loading it on first use.
func loadPlugin(t *testing.T) *plugin {
	t.Helper()
	loadOnce.Do(func() {
		start := time.Now()
		loaded, errLoad = newPlugin()
		if errLoad == nil {
			t.Logf("loaded %s into yaegi in %v", modulePath, time.Since(start).Round(time.Millisecond))
		}
	})
	if errLoad != nil {
		t.Fatalf("loading the plugin into yaegi: %v", errLoad)
	}
	return loaded
}

// newPlugin mirrors Traefik v3.6.12's pkg/plugins: newInterpreter (GoPath,
// Env, Stdout/Stderr, stdlib.Symbols, `import "<module>"`) and
// newYaegiMiddlewareBuilder (Eval of <basePkg>.New and <basePkg>.CreateConfig,
// basePkg being the import path's last element).
func newPlugin() (*plugin, error) {
	root, err := filepath.Abs("..")
	if err != nil {
		return nil, err
	}
	mod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		return nil, err
	}
	if !bytes.HasPrefix(mod, []byte("module "+modulePath+"\n")) {
		return nil, fmt.Errorf("%s is not the root of %s", root, modulePath)
	}
	if _, err := os.Stat(filepath.Join(root, "vendor", "modules.txt")); err != nil {
		return nil, fmt.Errorf("%s/vendor is missing (the interpreter only sees vendored dependencies): run 'make vendor'", root)
	}

	loadGopath, err = os.MkdirTemp("", "tokengate-interp-gopath-")
	if err != nil {
		return nil, err
	}
	link := filepath.Join(loadGopath, "src", filepath.FromSlash(modulePath))
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		return nil, err
	}
	if err := os.Symlink(root, link); err != nil {
		return nil, err
	}

	out := &syncBuffer{}
	i := interp.New(interp.Options{
		GoPath: loadGopath,
		Env:    os.Environ(),
		Stdout: out,
		Stderr: out,
	})
	if err := i.Use(stdlib.Symbols); err != nil {
		return nil, fmt.Errorf("failed to load symbols: %w", err)
	}
	if _, err := i.Eval(fmt.Sprintf(`import %q`, modulePath)); err != nil {
		return nil, fmt.Errorf("failed to import plugin code %q: %w", modulePath, err)
	}
	basePkg := strings.ReplaceAll(filepath.Base(modulePath), "-", "_")
	fnNew, err := i.Eval(basePkg + `.New`)
	if err != nil {
		return nil, fmt.Errorf("failed to eval New: %w", err)
	}
	fnCreateConfig, err := i.Eval(basePkg + `.CreateConfig`)
	if err != nil {
		return nil, fmt.Errorf("failed to eval CreateConfig: %w", err)
	}
	return &plugin{i: i, fnNew: fnNew, fnCreateConfig: fnCreateConfig, out: out}, nil
}

// createConfig is Traefik's yaegiMiddlewareBuilder.createConfig: the result
// of CreateConfig() is filled from the raw option map by mapstructure, with
// weakly typed input (file-provider values are strings) and "a,b" strings
// split into slices. Field names match option names case-insensitively.
func (p *plugin) createConfig(config map[string]any) (reflect.Value, error) {
	results := p.fnCreateConfig.Call(nil)
	if len(results) != 1 {
		return reflect.Value{}, fmt.Errorf("invalid number of return for the CreateConfig function: %d", len(results))
	}
	vConfig := results[0]
	if len(config) == 0 {
		return vConfig, nil
	}
	decoder, err := mapstructure.NewDecoder(&mapstructure.DecoderConfig{
		DecodeHook:       mapstructure.StringToSliceHookFunc(","),
		WeaklyTypedInput: true,
		Result:           vConfig.Interface(),
	})
	if err != nil {
		return reflect.Value{}, fmt.Errorf("failed to create configuration decoder: %w", err)
	}
	if err := decoder.Decode(config); err != nil {
		return reflect.Value{}, fmt.Errorf("failed to decode configuration: %w", err)
	}
	return vConfig, nil
}

// newHandler is Traefik's yaegiMiddlewareBuilder.newHandler: New is called
// through reflect and its results are checked the same way.
func (p *plugin) newHandler(ctx context.Context, next http.Handler, cfg reflect.Value, name string) (http.Handler, error) {
	args := []reflect.Value{reflect.ValueOf(ctx), reflect.ValueOf(next), cfg, reflect.ValueOf(name)}
	results := p.fnNew.Call(args)
	if len(results) > 1 && results[1].Interface() != nil {
		err, ok := results[1].Interface().(error)
		if !ok {
			return nil, fmt.Errorf("invalid error type: %T", results[0].Interface())
		}
		return nil, err
	}
	handler, ok := results[0].Interface().(http.Handler)
	if !ok {
		return nil, fmt.Errorf("invalid handler type: %T", results[0].Interface())
	}
	return handler, nil
}

// build makes a middleware instance from raw options, as Traefik's
// Builder.Build followed by the returned constructor does.
func (p *plugin) build(config map[string]any, next http.Handler) (http.Handler, error) {
	cfg, err := p.createConfig(config)
	if err != nil {
		return nil, err
	}
	return p.newHandler(context.Background(), next, cfg, "auth@file")
}

// directNew returns an interpreted function that builds a middleware from a
// configuration set up in interpreted Go. It is declared in the shared
// interpreter once (a second declaration would clash, e.g. with -count=2).
func (p *plugin) directNew(t *testing.T) func(secret, hash string, next http.Handler) (http.Handler, error) {
	t.Helper()
	directOnce.Do(func() {
		if _, err := p.i.Eval(`import ("context"; "net/http")`); err != nil {
			errDirect = err
			return
		}
		// A function literal handed back by Eval is not callable from Go
		// (Eval gives *interface{}); a named function is.
		if _, err := p.i.Eval(`func newDirect(secret, hash string, next http.Handler) (http.Handler, error) {
	cfg := tokengate.CreateConfig()
	cfg.Keys = []tokengate.KeyConfig{{ID: "k1", Algorithm: "HS256", Secret: secret}}
	cfg.Users = []tokengate.UserConfig{{ID: 1, Login: "alice", PasswordHash: hash, Role: "admin"}}
	return tokengate.New(context.Background(), next, cfg, "direct")
}`); err != nil {
			errDirect = err
			return
		}
		v, err := p.i.Eval(`newDirect`)
		if err != nil {
			errDirect = err
			return
		}
		fn, ok := v.Interface().(func(string, string, http.Handler) (http.Handler, error))
		if !ok {
			errDirect = fmt.Errorf("eval gave %T", v.Interface())
			return
		}
		directFn = fn
	})
	if errDirect != nil {
		t.Fatalf("eval: %v", errDirect)
	}
	return directFn
}

var (
	directOnce sync.Once
	directFn   func(secret, hash string, next http.Handler) (http.Handler, error)
	errDirect  error
)

// ---------------------------------------------------------------------------
// Traefik's file provider, reduced to the middleware plugin part.

type dynamicConfig struct {
	HTTP *httpConfig `json:"http,omitempty" toml:"http,omitempty" yaml:"http,omitempty" export:"true"`
}

type httpConfig struct {
	Middlewares map[string]*middleware `json:"middlewares,omitempty" toml:"middlewares,omitempty" yaml:"middlewares,omitempty" export:"true"`
}

// middleware mirrors dynamic.Middleware's Plugin field.
type middleware struct {
	Plugin map[string]pluginConf `json:"plugin,omitempty" toml:"plugin,omitempty" yaml:"plugin,omitempty" export:"true"`
}

// pluginConf mirrors dynamic.PluginConf.
type pluginConf map[string]any

// pluginOptions decodes a YAML dynamic configuration with paerser, as
// Traefik's file provider does, and returns the options of middleware
// "auth"'s tokengate plugin: the map Traefik hands to createConfig.
func pluginOptions(t *testing.T, yaml string) map[string]any {
	t.Helper()
	var dyn dynamicConfig
	if err := file.DecodeContent(yaml, ".yaml", &dyn); err != nil {
		t.Fatalf("decoding the dynamic configuration: %v", err)
	}
	if dyn.HTTP == nil || dyn.HTTP.Middlewares["auth"] == nil {
		t.Fatalf("no middleware 'auth' in the dynamic configuration")
	}
	conf, ok := dyn.HTTP.Middlewares["auth"].Plugin["tokengate"]
	if !ok {
		t.Fatalf("middleware 'auth' has no tokengate plugin")
	}
	return conf
}

// ---------------------------------------------------------------------------
// Driving a handler.

// nextHandler stands for the service behind the middleware: it answers 200
// and echoes the request's path and X-Auth-* headers.
func nextHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		echo := map[string]string{"path": r.URL.Path}
		for k, v := range r.Header {
			if strings.HasPrefix(k, "X-Auth-") {
				echo[k] = strings.Join(v, ",")
			}
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Next", "called")
		_ = json.NewEncoder(w).Encode(echo)
	})
}

type response struct {
	code   int
	header http.Header
	body   []byte
	json   map[string]any
}

func (r response) String() string {
	return fmt.Sprintf("%d %s", r.code, bytes.TrimSpace(r.body))
}

func do(t *testing.T, h http.Handler, method, path, body string, header map[string]string) response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, "http://gateway.test"+path, rd)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	res := response{code: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
	if len(bytes.TrimSpace(res.body)) > 0 && res.body[0] == '{' {
		if err := json.Unmarshal(res.body, &res.json); err != nil {
			t.Errorf("%s %s: response is not JSON: %v: %s", method, path, err, res.body)
		}
	}
	return res
}

func stringField(t *testing.T, r response, name string) string {
	t.Helper()
	s, _ := r.json[name].(string)
	if s == "" {
		t.Fatalf("response has no string %q: %s", name, r)
	}
	return s
}

func mustBuild(t *testing.T, p *plugin, yaml string) http.Handler {
	t.Helper()
	opts := pluginOptions(t, yaml)
	h, err := p.build(opts, nextHandler())
	if err != nil {
		t.Fatalf("New: %v\noptions: %#v\ninterpreter output:\n%s", err, opts, p.out.String())
	}
	return h
}

// ---------------------------------------------------------------------------
// Tests.

func TestTokenRoundTrip(t *testing.T) {
	p := loadPlugin(t)
	h := mustBuild(t, p, goodDynamic)

	tests := []struct {
		desc      string
		login     string
		password  string
		loginBody string // %s: login, password
	}{
		{desc: "admin", login: "alice", password: "alice-pass", loginBody: `{"login":%q,"password":%q}`},
		{desc: "client", login: "bob", password: "bob-pass", loginBody: `{"login":%q,"password":%q}`},
	}
	for _, test := range tests {
		t.Run(test.desc, func(t *testing.T) {
			res := do(t, h, http.MethodPost, "/token", fmt.Sprintf(test.loginBody, test.login, test.password), nil)
			if res.code != http.StatusCreated {
				t.Fatalf("POST /token: want 201, got %s", res)
			}
			access := stringField(t, res, "accessToken")
			refresh := stringField(t, res, "refreshToken")
			if access == refresh {
				t.Errorf("access and refresh tokens are the same")
			}

			res = do(t, h, http.MethodPost, "/token/refresh", fmt.Sprintf(`{"refreshToken":%q}`, refresh), nil)
			if res.code != http.StatusCreated {
				t.Fatalf("POST /token/refresh: want 201, got %s", res)
			}
			stringField(t, res, "accessToken")
		})
	}
}

// TestInterpretedConfig builds the configuration in interpreted Go, the way a
// plugin's own code or a Yaegi script would, rather than through mapstructure.
func TestInterpretedConfig(t *testing.T) {
	p := loadPlugin(t)
	newFn := p.directNew(t)
	h, err := newFn(testSecret, aliceHash, nextHandler())
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	res := do(t, h, http.MethodPost, "/token", `{"login":"alice","password":"alice-pass"}`, nil)
	if res.code != http.StatusCreated {
		t.Fatalf("POST /token: want 201, got %s", res)
	}
	stringField(t, res, "accessToken")
	stringField(t, res, "refreshToken")
}

func TestBadConfig(t *testing.T) {
	p := loadPlugin(t)

	withKeys := func(keys string) string {
		return `
http:
  middlewares:
    auth:
      plugin:
        tokengate:
` + keys + `
          users:
            - id: 1
              login: alice
              passwordHash: "` + aliceHash + `"
`
	}
	okKeys := `
          keys:
            - id: k1
              algorithm: HS256
              secret: ` + testSecret

	tests := []struct {
		desc    string
		yaml    string
		wantErr []string // each must appear in the error, case-insensitively
	}{
		{
			desc: "HS256 secret shorter than 32 bytes",
			yaml: withKeys(`
          keys:
            - id: k1
              algorithm: HS256
              secret: too-short`),
			wantErr: []string{"secret", "32"},
		},
		{
			desc:    "no keys",
			yaml:    withKeys(`          issuer: x`),
			wantErr: []string{"keys"},
		},
		{
			desc: "unknown algorithm",
			yaml: withKeys(`
          keys:
            - id: k1
              algorithm: HS257
              secret: ` + testSecret),
			wantErr: []string{"algorithm"},
		},
		{
			desc:    "access token lifetime that is no duration",
			yaml:    withKeys(okKeys + "\n          accessTokenLifetime: soon"),
			wantErr: []string{"accessTokenLifetime"},
		},
		{
			desc:    "maxBodyBytes that is no number (a mapstructure error, as in Traefik)",
			yaml:    withKeys(okKeys + "\n          maxBodyBytes: lots"),
			wantErr: []string{"maxBodyBytes"},
		},
		{
			desc: "password hash that is no SHA-crypt hash",
			yaml: `
http:
  middlewares:
    auth:
      plugin:
        tokengate:
` + okKeys + `
          users:
            - id: 1
              login: alice
              passwordHash: plain-text
`,
			wantErr: []string{"passwordHash"},
		},
	}
	for _, test := range tests {
		t.Run(test.desc, func(t *testing.T) {
			opts := pluginOptions(t, test.yaml)
			h, err := p.build(opts, nextHandler())
			if err == nil {
				t.Fatalf("want an error naming %q, got a handler %T\noptions: %#v", test.wantErr, h, opts)
			}
			for _, want := range test.wantErr {
				if !strings.Contains(strings.ToLower(err.Error()), strings.ToLower(want)) {
					t.Errorf("error %q does not name %q", err, want)
				}
			}
		})
	}
}

func TestRejectsBadTokens(t *testing.T) {
	p := loadPlugin(t)
	h := mustBuild(t, p, goodDynamic)

	res := do(t, h, http.MethodPost, "/token", `{"login":"alice","password":"alice-pass"}`, nil)
	if res.code != http.StatusCreated {
		t.Fatalf("POST /token: want 201, got %s", res)
	}
	access := stringField(t, res, "accessToken")
	refresh := stringField(t, res, "refreshToken")
	now := time.Now().Unix()

	tests := []struct {
		desc  string
		token string
	}{
		{desc: "garbage", token: "garbage"},
		{desc: "three garbage segments", token: "abc.def.ghi"},
		{desc: "expired", token: resign(t, refresh, testSecret, func(c map[string]any) {
			c["iat"], c["exp"] = now-7200, now-3600
		})},
		{desc: "expired just past the 30s leeway", token: resign(t, refresh, testSecret, func(c map[string]any) {
			c["exp"] = now - 45
		})},
		{desc: "not valid yet", token: resign(t, refresh, testSecret, func(c map[string]any) {
			c["nbf"], c["iat"] = now+3600, now+3600
		})},
		{desc: "wrong issuer", token: resign(t, refresh, testSecret, func(c map[string]any) {
			c["iss"] = "someone-else"
		})},
		{desc: "signed with another secret", token: resign(t, refresh, testSecret+"-other", nil)},
		{desc: "tampered payload", token: tamper(t, refresh)},
		{desc: "alg none", token: unsigned(t, refresh)},
		{desc: "access token used as refresh token", token: access},
	}
	for _, test := range tests {
		t.Run(test.desc, func(t *testing.T) {
			res := do(t, h, http.MethodPost, "/token/refresh", fmt.Sprintf(`{"refreshToken":%q}`, test.token), nil)
			if res.code != http.StatusUnauthorized {
				t.Fatalf("POST /token/refresh: want 401, got %s", res)
			}
			if _, ok := res.json["accessToken"]; ok {
				t.Errorf("a rejected refresh still gave an access token: %s", res)
			}
		})
	}

	// The same kinds of bad token as access tokens, on a guarded route.
	guarded := []struct {
		desc  string
		token string
	}{
		{desc: "guard: garbage", token: "abc.def.ghi"},
		{desc: "guard: expired", token: resign(t, access, testSecret, func(c map[string]any) {
			c["iat"], c["exp"] = now-7200, now-3600
		})},
		{desc: "guard: signed with another secret", token: resign(t, access, testSecret+"-other", nil)},
		{desc: "guard: alg none", token: unsigned(t, access)},
		{desc: "guard: refresh token used as access token", token: refresh},
	}
	for _, test := range guarded {
		t.Run(test.desc, func(t *testing.T) {
			res := do(t, h, http.MethodGet, "/device/1", "", map[string]string{"Authorization": "Bearer " + test.token})
			if res.code != http.StatusUnauthorized {
				t.Fatalf("GET /device/1: want 401, got %s", res)
			}
			if got := res.header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") {
				t.Errorf("WWW-Authenticate: want Bearer ..., got %q", got)
			}
			if res.header.Get("X-Next") != "" {
				t.Errorf("the request reached the next handler")
			}
		})
	}

	// The untouched refresh token still works: the cases above failed for
	// their own reason, not because refreshing is broken.
	t.Run("control: the original refresh token", func(t *testing.T) {
		res := do(t, h, http.MethodPost, "/token/refresh", fmt.Sprintf(`{"refreshToken":%q}`, refresh), nil)
		if res.code != http.StatusCreated {
			t.Fatalf("want 201, got %s", res)
		}
	})
}

// ---------------------------------------------------------------------------
// JWT surgery with the standard library, to make tokens the plugin must
// reject while keeping every other claim valid.

var b64 = base64.RawURLEncoding

func splitJWT(t *testing.T, token string) (header, claims map[string]any) {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", token)
	}
	for i, dst := range []*map[string]any{&header, &claims} {
		raw, err := b64.DecodeString(parts[i])
		if err != nil {
			t.Fatalf("JWT part %d: %v", i, err)
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(dst); err != nil {
			t.Fatalf("JWT part %d: %v", i, err)
		}
	}
	return header, claims
}

func encodeJSON(t *testing.T, v any) string {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b64.EncodeToString(raw)
}

// resign changes a token's claims and signs it again with HS256 and secret.
func resign(t *testing.T, token, secret string, edit func(map[string]any)) string {
	t.Helper()
	header, claims := splitJWT(t, token)
	if header["alg"] != "HS256" {
		t.Fatalf("want an HS256 token, got alg %v", header["alg"])
	}
	if edit != nil {
		edit(claims)
	}
	signing := encodeJSON(t, header) + "." + encodeJSON(t, claims)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(signing))
	return signing + "." + b64.EncodeToString(mac.Sum(nil))
}

// tamper changes a claim and keeps the old signature.
func tamper(t *testing.T, token string) string {
	t.Helper()
	header, claims := splitJWT(t, token)
	claims["sub"] = "999"
	return encodeJSON(t, header) + "." + encodeJSON(t, claims) + "." + strings.Split(token, ".")[2]
}

// unsigned turns a token into an alg "none" token.
func unsigned(t *testing.T, token string) string {
	t.Helper()
	header, claims := splitJWT(t, token)
	header["alg"] = "none"
	return encodeJSON(t, header) + "." + encodeJSON(t, claims) + "."
}

// ---------------------------------------------------------------------------

// syncBuffer collects the interpreter's output; plugin code may write to it
// from any goroutine.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestGuardAndCreate drives the route guard, network scoping through the
// device directory, the decision memo and /token/create in the plugin as
// Traefik loads it.
func TestGuardAndCreate(t *testing.T) {
	p := loadPlugin(t)
	h := mustBuild(t, p, strings.Replace(goodDynamic, "          keys:", `          preset: devicehive
          deviceDirectory:
            devices:
              - {id: d1, networkId: "1", deviceTypeId: "10"}
              - {id: d3, networkId: "3", deviceTypeId: "10"}
          keys:`, 1)+`              deviceTypeIds: "*"
`)
	token := func(login string) string {
		res := do(t, h, http.MethodPost, "/token", fmt.Sprintf(`{"login":%q,"password":%q}`, login, login+"-pass"), nil)
		if res.code != http.StatusCreated {
			t.Fatalf("login %s: %s", login, res)
		}
		return stringField(t, res, "accessToken")
	}
	admin, bob := token("alice"), token("bob")
	minted := do(t, h, http.MethodPost, "/token/create", `{"userId":2,"actions":["GetDevice"],"networkIds":["1"]}`,
		map[string]string{"Authorization": "Bearer " + admin})
	if minted.code != http.StatusCreated {
		t.Fatalf("/token/create: %s", minted)
	}
	narrow := stringField(t, minted, "accessToken")

	tests := []struct {
		desc, method, path, token string
		code                      int
	}{
		{desc: "bob reads a device in his network", method: "GET", path: "/device/d1", token: bob, code: 200},
		{desc: "again, from the memo", method: "GET", path: "/device/d1", token: bob, code: 200},
		{desc: "bob, device outside his networks", method: "GET", path: "/device/d3", token: bob, code: 403},
		{desc: "bob lacks ManageNetwork", method: "POST", path: "/network", token: bob, code: 403},
		{desc: "unknown device", method: "GET", path: "/device/d9", token: bob, code: 404},
		{desc: "admin", method: "POST", path: "/network", token: admin, code: 200},
		{desc: "minted token, in scope", method: "GET", path: "/device/d1", token: narrow, code: 200},
		{desc: "minted token, action not minted", method: "POST", path: "/device/d1/notification", token: narrow, code: 403},
		{desc: "no token", method: "GET", path: "/device/d1", code: 401},
	}
	for _, test := range tests {
		t.Run(test.desc, func(t *testing.T) {
			header := map[string]string{"X-Auth-User-Id": "1"} // spoofed: must be replaced
			if test.token != "" {
				header["Authorization"] = "Bearer " + test.token
			}
			res := do(t, h, test.method, test.path, "", header)
			if res.code != test.code {
				t.Fatalf("%s %s: want %d, got %s", test.method, test.path, test.code, res)
			}
			if test.code == 200 && res.header.Get("X-Next") == "" {
				t.Fatal("the request did not reach the next handler")
			}
		})
	}
}

// TestManifestTestData: the plugin catalog builds the middleware from
// .traefik.yml's testData, offline; New must accept it.
func TestManifestTestData(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", ".traefik.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var manifest struct {
		DisplayName string         `yaml:"displayName"`
		Type        string         `yaml:"type"`
		Import      string         `yaml:"import"`
		Summary     string         `yaml:"summary"`
		TestData    map[string]any `yaml:"testData"`
	}
	if err := yaml.Unmarshal(raw, &manifest); err != nil {
		t.Fatalf(".traefik.yml: %v", err)
	}
	if manifest.DisplayName == "" || manifest.Type != "middleware" || manifest.Import != modulePath || manifest.Summary == "" {
		t.Fatalf(".traefik.yml lacks a field: %+v", manifest)
	}
	p := loadPlugin(t)
	h, err := p.build(manifest.TestData, nextHandler())
	if err != nil {
		t.Fatalf("New rejects testData: %v", err)
	}
	if res := do(t, h, http.MethodPost, "/token", `{"login":"admin","password":"admin-pass"}`, nil); res.code != http.StatusCreated {
		t.Fatalf("testData's user cannot log in: %s", res)
	}
}
