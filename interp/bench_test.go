package interp_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/traefik/yaegi/interp"
	"github.com/traefik/yaegi/stdlib"
)

// The request path as Traefik runs it: native code calling the interpreted
// ServeHTTP, with a native next handler. Compare with the same benchmarks
// in the root package (`go test -bench .` natively), whose loop is native
// too.

// benchDynamic adds the devicehive preset and one listed device to
// goodDynamic (before its keys); TestEmptyActionsThroughTraefikDecoding
// builds on it too.
const benchDynamic = `          preset: devicehive
          deviceDirectory:
            devices:
              - {id: d1, networkId: "1", deviceTypeId: "10"}
          keys:`

func benchHandler(b *testing.B, extra string) (http.Handler, string) {
	b.Helper()
	t := &testing.T{}
	p := loadPlugin(t)
	yaml := strings.Replace(goodDynamic, "          keys:", extra+benchDynamic, 1) + `              deviceTypeIds: "*"
`
	h, err := p.build(pluginOptions(t, yaml), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	if err != nil {
		b.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/token", strings.NewReader(`{"login":"bob","password":"bob-pass"}`)))
	if rec.Code != http.StatusCreated {
		b.Fatalf("login: %d %s", rec.Code, rec.Body)
	}
	token := strings.Split(strings.Split(rec.Body.String(), `"accessToken":"`)[1], `"`)[0]
	return h, token
}

type discard struct{ h http.Header }

func (d *discard) Header() http.Header       { return d.h }
func (*discard) Write(b []byte) (int, error) { return len(b), nil }
func (*discard) WriteHeader(int)             {}

func benchServe(b *testing.B, h http.Handler, token string) {
	req := httptest.NewRequest(http.MethodGet, "/device/d1", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	w := &discard{h: http.Header{}}
	h.ServeHTTP(w, req)
	if req.Header.Get("X-Auth-User-Id") != "2" {
		b.Fatalf("the request was not let through: %v", req.Header)
	}
	serveLoop(b, h, w, req)
}

func serveLoop(b *testing.B, h http.Handler, w http.ResponseWriter, req *http.Request) {
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		h.ServeHTTP(w, req)
	}
}

func BenchmarkInterpretedCached(b *testing.B) {
	h, token := benchHandler(b, "")
	benchServe(b, h, token)
}

func BenchmarkInterpretedVerifyEveryRequest(b *testing.B) {
	h, token := benchHandler(b, "          cacheTTL: 0s\n")
	benchServe(b, h, token)
}

func BenchmarkInterpretedCachedNoIdentityHeaders(b *testing.B) {
	h, token := benchHandler(b, fmt.Sprintf("          identityHeaders: {userId: X-Auth-User-Id, login: %q, role: %q, actions: %q, networks: %q, deviceTypes: %q}\n", "", "", "", "", ""))
	benchServe(b, h, token)
}

// The baselines of bench/load.sh, loaded the same way: what any interpreted
// plugin costs (bench/noop), and a plugin that only looks the request up in
// a read-locked map and sets the six identity headers (bench/lookup).

func BenchmarkInterpretedNoopPlugin(b *testing.B) {
	benchBaseline(b, "noop")
}

func BenchmarkInterpretedLookupPlugin(b *testing.B) {
	benchBaseline(b, "lookup")
}

// BenchmarkInterpretedVerifyFloor measures bench/verifyfloor, the least an
// interpreted plugin can do to verify an HS256 token per request, on the
// token BenchmarkInterpretedVerifyEveryRequest verifies.
func BenchmarkInterpretedVerifyFloor(b *testing.B) {
	_, token := benchHandler(b, "          cacheTTL: 0s\n")
	h := buildPlugin(b, baselinePath(b, "verifyfloor"), "github.com/tokengate/verifyfloor", "verifyfloor", func(cfg reflect.Value) {
		cfg.FieldByName("Secret").SetString(testSecret)
	})
	benchServe(b, h, token)
}

// benchBaseline loads bench/<name> (module github.com/tokengate/<name>) into
// its own interpreter, as Traefik loads a local plugin, and measures it.
func benchBaseline(b *testing.B, name string) {
	h := buildPlugin(b, baselinePath(b, name), "github.com/tokengate/"+name, name, nil)
	req := httptest.NewRequest(http.MethodGet, "/device/d1", nil)
	req.Header.Set("Authorization", "Bearer x.y.z")
	w := &discard{h: http.Header{}}
	h.ServeHTTP(w, req)
	serveLoop(b, h, w, req)
}

// baselinePath returns a GOPATH holding bench/<name> as the module
// github.com/tokengate/<name>.
func baselinePath(b *testing.B, name string) string {
	dir, err := filepath.Abs(filepath.Join("..", "bench", name))
	if err != nil {
		b.Fatal(err)
	}
	gopath := b.TempDir()
	link := filepath.Join(gopath, "src", "github.com", "tokengate", name)
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.Symlink(dir, link); err != nil {
		b.Fatal(err)
	}
	return gopath
}

// buildPlugin loads module (package pkg) from gopath into an interpreter
// of its own, as Traefik loads a local plugin, and builds a middleware in
// front of a handler that does nothing, from CreateConfig's configuration
// as set changes it (nil: unchanged).
func buildPlugin(b *testing.B, gopath, module, pkg string, set func(cfg reflect.Value)) http.Handler {
	b.Helper()
	i := interp.New(interp.Options{GoPath: gopath})
	if err := i.Use(stdlib.Symbols); err != nil {
		b.Fatal(err)
	}
	if _, err := i.Eval(fmt.Sprintf("import %q", module)); err != nil {
		b.Fatal(err)
	}
	fnNew, err := i.Eval(pkg + ".New")
	if err != nil {
		b.Fatal(err)
	}
	fnCreateConfig, err := i.Eval(pkg + ".CreateConfig")
	if err != nil {
		b.Fatal(err)
	}
	cfg := fnCreateConfig.Call(nil)[0]
	if set != nil {
		set(cfg.Elem())
	}
	next := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	results := fnNew.Call([]reflect.Value{reflect.ValueOf(context.Background()), reflect.ValueOf(next), cfg, reflect.ValueOf(pkg)})
	if err, _ := results[1].Interface().(error); err != nil {
		b.Fatal(err)
	}
	h, ok := results[0].Interface().(http.Handler)
	if !ok {
		b.Fatalf("%s.New gave %T", pkg, results[0].Interface())
	}
	return h
}

// BenchmarkInterpretedKnownTokenNewPath: a verified token (claims cache
// hit) on a path the decision memo does not hold, as with notification or
// command ids in the path: the rule walk and the scope check each time.
// (With cacheMaxEntries 1 the memo holds the first path only.)
func BenchmarkInterpretedKnownTokenNewPath(b *testing.B) {
	h, token := benchHandler(b, "          cacheMaxEntries: 1\n")
	paths := make([]*http.Request, 4096)
	for i := range paths {
		paths[i] = httptest.NewRequest(http.MethodGet, fmt.Sprintf("/device/d1/notification/%d", i), nil)
		paths[i].Header.Set("Authorization", "Bearer "+token)
	}
	w := &discard{h: http.Header{}}
	h.ServeHTTP(w, paths[0])
	if paths[0].Header.Get("X-Auth-User-Id") != "2" {
		b.Fatalf("the request was not let through: %v", paths[0].Header)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		h.ServeHTTP(w, paths[i%len(paths)])
	}
}
