package tokengate

import (
	"context"
	"net/http"
	"path/filepath"
	"runtime"
	"testing"
)

// GateName gives the gate, in tests only, an exported method besides
// ServeHTTP, for TestInterpreterTrapHandlerInterface (clock_test.go).
func (g *gate) GateName() string { return g.name }

// TestInterpreterTrapTypeSwitchOnHandler: under Yaegi v0.16.1, a type
// switch in the package on the handler New returned (the interpreter's
// wrapper of http.Handler) matches none of the package's types, where an
// assertion to each type works: gateOf asserts, one type at a time.
func TestInterpreterTrapTypeSwitchOnHandler(t *testing.T) {
	_, file, _, ok := runtime.Caller(0)
	interpreted := !ok || filepath.Base(file) != "trap_internal_test.go"
	for _, kind := range []struct{ ttl, cookie string }{{"5m", ""}, {"0s", ""}, {"5m", "tg"}} { // a *gate, an *uncached, an *unmemoised
		cfg := internalConfig()
		cfg.CacheTTL = kind.ttl
		cfg.TokenCookie = kind.cookie
		h, err := New(context.Background(), http.NotFoundHandler(), cfg, "t")
		if err != nil {
			t.Fatal(err)
		}
		found := false
		switch h.(type) {
		case *gate:
			found = true
		case *unmemoised:
			found = true
		case *uncached:
			found = true
		}
		switch {
		case !interpreted && !found:
			t.Errorf("cacheTTL %s, tokenCookie %q: natively, the type switch must find the gate", kind.ttl, kind.cookie)
		case interpreted && found:
			t.Errorf("cacheTTL %s, tokenCookie %q: the interpreter no longer has this trap: drop the rule from CONTRIBUTING.md", kind.ttl, kind.cookie)
		}
		if _, ok := gateOf(h); !ok {
			t.Errorf("cacheTTL %s, tokenCookie %q: gateOf must find the gate", kind.ttl, kind.cookie)
		}
	}
}
