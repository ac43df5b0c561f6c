package interp_test

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// The peer plugins, loaded as Traefik loads a local plugin and measured
// beside BenchmarkInterpretedVerifyEveryRequest on the same token, each
// verifying every request and setting six identity headers from its
// claims (bench/load.sh's peer routes, in-process). They are not part of
// this repository: TOKENGATE_PEERS names a local plugins' source tree
// holding github.com/agilezebra/jwt-middleware and
// github.com/traefik-plugins/traefik-jwt-plugin (bench/README.md, peer
// plugins); without it these benchmarks are skipped.

// peerHeaders are the six claims the peers forward, as tokengate forwards
// six identity headers.
var peerHeaders = map[string]string{
	"X-Auth-User-Id": "sub", "X-Auth-Login": "login", "X-Auth-Role": "role",
	"X-Auth-Token-Id": "jti", "X-Auth-Issuer": "iss", "X-Auth-Token-Type": "token_type",
}

func BenchmarkPeerAgilezebra(b *testing.B) {
	benchPeer(b, "github.com/agilezebra/jwt-middleware", "jwt_middleware", func(cfg reflect.Value, _ string) {
		cfg.FieldByName("Secret").SetString(testSecret)
		cfg.FieldByName("ValidMethods").Set(reflect.ValueOf([]string{"HS256"}))
		cfg.FieldByName("HeaderMap").Set(reflect.ValueOf(peerHeaders))
		cfg.FieldByName("RemoveMissingHeaders").SetBool(true)
		cfg.FieldByName("CookieName").SetString("")
	})
}

func BenchmarkPeerTraefikJWTPlugin(b *testing.B) {
	benchPeer(b, "github.com/traefik-plugins/traefik-jwt-plugin", "traefik_jwt_plugin", func(cfg reflect.Value, jwks string) {
		cfg.FieldByName("Keys").Set(reflect.ValueOf([]string{jwks})) // HMAC keys come only from a JWKS URL
		cfg.FieldByName("Alg").SetString("HS256")
		cfg.FieldByName("PayloadFields").Set(reflect.ValueOf([]string{"exp"}))
		cfg.FieldByName("JwtHeaders").Set(reflect.ValueOf(peerHeaders))
	})
}

// benchPeer loads the peer module (package pkg) from TOKENGATE_PEERS,
// configures it with set (given a JWKS URL serving the test secret as an
// "oct" key) and measures it on a token tokengate issued.
func benchPeer(b *testing.B, module, pkg string, set func(cfg reflect.Value, jwks string)) {
	peers := os.Getenv("TOKENGATE_PEERS")
	if peers == "" {
		b.Skip("TOKENGATE_PEERS is not set (bench/README.md, peer plugins)")
	}
	if _, err := os.Stat(filepath.Join(peers, "src", module)); err != nil {
		b.Skipf("no %s under TOKENGATE_PEERS/src: %v", module, err)
	}
	_, token := benchHandler(b, "          cacheTTL: 0s\n")
	k := base64.RawURLEncoding.EncodeToString([]byte(testSecret))
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, `{"keys":[{"kty":"oct","kid":"k1","alg":"HS256","k":%q}]}`, k)
	}))
	defer jwks.Close()
	h := buildPlugin(b, peers, module, pkg, func(cfg reflect.Value) { set(cfg, jwks.URL+"/jwks.json") })
	req := httptest.NewRequest(http.MethodGet, "/device/d1", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	// traefik-jwt-plugin fetches its keys in the background.
	code := 0
	for try := 0; try < 50 && code != http.StatusOK; try++ {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if code = rec.Code; code != http.StatusOK {
			time.Sleep(50 * time.Millisecond)
		}
	}
	if code != http.StatusOK {
		b.Fatalf("%s refuses the token: %d", module, code)
	}
	serveLoop(b, h, &discard{h: http.Header{}}, req)
}
