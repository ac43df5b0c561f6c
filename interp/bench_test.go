package interp_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The request path as Traefik runs it: native code calling the interpreted
// ServeHTTP, with a native next handler. Compare with the same benchmarks
// in the root package (`go test -bench .` natively), whose loop is native
// too.

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
