package tokengate_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/tokengate/tokengate"
)

// The hot path: what a request that is not for /token costs in ServeHTTP.
// Run natively with `go test -bench . -run '^$'` and under the interpreter
// with `scripts/yaegi-test.sh -bench . -run '^$'`; the README quotes both.

func benchGate(b *testing.B, mutate func(cfg *tokengate.Config)) (http.Handler, string) {
	b.Helper()
	cfg := guardConfig()
	if mutate != nil {
		mutate(cfg)
	}
	h, _ := newHandler(b, cfg)
	access, _ := login(b, h, "alice")
	return h, access
}

func benchRequests(b *testing.B, h http.Handler, method, path, token string, want int) {
	b.Helper()
	req := httptest.NewRequest(method, path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != want {
		b.Fatalf("status %d, want %d: %s", rec.Code, want, rec.Body.String())
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req.Header.Set("Authorization", "Bearer "+token)
		h.ServeHTTP(discard{}, req)
	}
}

// discard is a ResponseWriter that keeps nothing.
type discard struct{}

func (discard) Header() http.Header         { return http.Header{} }
func (discard) Write(b []byte) (int, error) { return len(b), nil }
func (discard) WriteHeader(int)             {}

func BenchmarkServeHTTPCacheHit(b *testing.B) {
	h, token := benchGate(b, nil)
	benchRequests(b, h, "POST", "/device/d1/notification", token, 418)
}

func BenchmarkServeHTTPVerify(b *testing.B) {
	h, token := benchGate(b, func(cfg *tokengate.Config) { cfg.CacheTTL = "0s" })
	benchRequests(b, h, "POST", "/device/d1/notification", token, 418)
}

func BenchmarkServeHTTPNetworkRoute(b *testing.B) {
	h, token := benchGate(b, nil)
	benchRequests(b, h, "GET", "/network/1", token, 418)
}

func BenchmarkServeHTTPUnboundRoute(b *testing.B) {
	h, token := benchGate(b, nil)
	benchRequests(b, h, "GET", "/network", token, 418)
}

// BenchmarkLogin and BenchmarkLoginThrottled: a login that checks the
// password (SHA-512-crypt, the default 5000 rounds) against an attempt the
// throttle refuses before any password check (429). The README quotes
// both, natively and under the interpreter.
func BenchmarkLogin(b *testing.B) {
	h, _ := newHandler(b, guardConfig())
	body := `{"login":"alice","password":"alice-pass"}`
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if res := do(b, h, "POST", "/token", body); res.code != http.StatusCreated {
			b.Fatalf("login: %d %s", res.code, res.raw)
		}
	}
}

func BenchmarkLoginThrottled(b *testing.B) {
	cfg := guardConfig()
	cfg.Issuer = "bench-login-throttled" // a memory store of its own
	cfg.Throttle.FreeAttempts = 1
	h, _ := newHandler(b, cfg)
	body := `{"login":"bob","password":"wrong"}`
	do(b, h, "POST", "/token", body) // the free attempt; the next ones wait
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if res := do(b, h, "POST", "/token", body); res.code != http.StatusTooManyRequests {
			b.Fatalf("attempt: %d %s", res.code, res.raw)
		}
	}
}

// BenchmarkRefresh: a refresh (rotation off) through ServeHTTP, the
// token-service path bench/load.sh measures through Traefik.
func BenchmarkRefresh(b *testing.B) {
	h, _ := newHandler(b, guardConfig())
	_, refresh := login(b, h, "alice")
	body := `{"refreshToken":"` + refresh + `"}`
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if res := do(b, h, "POST", "/token/refresh", body); res.code != http.StatusCreated {
			b.Fatalf("refresh: %d %s", res.code, res.raw)
		}
	}
}

// BenchmarkRefreshRotated: the same with refreshRotation on (memory
// store), each refresh presenting the token the previous one gave.
func BenchmarkRefreshRotated(b *testing.B) {
	cfg := guardConfig()
	cfg.Issuer = "bench-refresh-rotated" // a memory store of its own
	cfg.RefreshRotation = true
	h, _ := newHandler(b, cfg)
	_, refresh := login(b, h, "alice")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res := do(b, h, "POST", "/token/refresh", `{"refreshToken":"`+refresh+`"}`)
		if res.code != http.StatusCreated {
			b.Fatalf("refresh: %d %s", res.code, res.raw)
		}
		refresh = res.str("refreshToken")
	}
}
