package tokengate_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tokengate/tokengate"
)

func asymmetricConfig() *tokengate.Config {
	cfg := guardConfig()
	cfg.Keys = []tokengate.KeyConfig{
		{ID: "ed-2026-02", Algorithm: "EdDSA", PrivateKeyFile: "testdata/keys/ed25519.pem"},
		{ID: "es-2026-01", Algorithm: "ES256", PublicKeyFile: "testdata/keys/ec256.pub.pem", VerifyOnly: true},
		{ID: "hs-old", Algorithm: "HS256", Secret: testSecret, VerifyOnly: true},
	}
	return cfg
}

func TestJWKSEndpoint(t *testing.T) {
	cfg := asymmetricConfig()
	cfg.JWKSWellKnown = true
	h, next := newHandler(t, cfg)
	symmetric, _ := newHandler(t, guardConfig())
	tests := []struct {
		desc   string
		method string
		path   string
		code   int
		kids   string
	}{
		{desc: "base path", method: "GET", path: "/token/jwks", code: 200, kids: "ed-2026-02,es-2026-01"},
		{desc: "well-known", method: "GET", path: "/.well-known/jwks.json", code: 200, kids: "ed-2026-02,es-2026-01"},
		{desc: "HEAD", method: "HEAD", path: "/token/jwks", code: 200},
		{desc: "POST", method: "POST", path: "/token/jwks", code: 405},
	}
	for _, test := range tests {
		t.Run(test.desc, func(t *testing.T) {
			res := doMulti(t, h, test.method, test.path)
			if res.code != test.code {
				t.Fatalf("status = %d, want %d: %s", res.code, test.code, res.raw)
			}
			if test.code != 200 {
				return
			}
			if res.header.Get("Content-Type") != "application/jwk-set+json" || !strings.Contains(res.header.Get("Cache-Control"), "max-age") {
				t.Fatalf("headers = %v", res.header)
			}
			if test.kids == "" {
				return
			}
			var set struct {
				Keys []map[string]string `json:"keys"`
			}
			if err := json.Unmarshal([]byte(res.raw), &set); err != nil {
				t.Fatal(err)
			}
			var kids []string
			for _, k := range set.Keys {
				kids = append(kids, k["kid"])
			}
			if strings.Join(kids, ",") != test.kids || strings.Contains(res.raw, testSecret) {
				t.Fatalf("kids = %v: %s", kids, res.raw)
			}
		})
	}
	if res := doMulti(t, symmetric, "GET", "/token/jwks"); res.code != 404 {
		t.Fatalf("symmetric key set: %d", res.code)
	}
	// Off by default: /.well-known is an ordinary guarded route.
	if res := doMulti(t, symmetric, "GET", "/.well-known/jwks.json"); res.code != 401 {
		t.Fatalf("well-known off: %d", res.code)
	}
	if next.called {
		t.Fatal("JWKS requests must not reach the backend")
	}
}

// TestRotationThroughTheGate: a gate signing with a new key still accepts
// tokens of the old one while it is listed verify-only, and refuses them
// once it is gone. Two instances with the same keys accept each other's
// tokens (as two Traefik routers would).
func TestRotationThroughTheGate(t *testing.T) {
	before, _ := newHandler(t, guardConfig()) // signs with HS256 "test-1"
	oldToken, _ := login(t, before, "alice")

	during := asymmetricConfig()
	during.Keys[2].ID = "test-1" // the old key, now verify-only
	h1, _ := newHandler(t, during)
	h2, _ := newHandler(t, during)
	after := asymmetricConfig()
	after.Keys = after.Keys[:2] // the old key removed
	h3, _ := newHandler(t, after)

	newToken, _ := login(t, h1, "alice")
	tests := []struct {
		desc string
		h    func() (code int)
		want int
	}{
		{desc: "old token, old key verify-only", h: func() int { return get(t, h1, oldToken) }, want: 418},
		{desc: "new token on the other instance", h: func() int { return get(t, h2, newToken) }, want: 418},
		{desc: "new token after rotation", h: func() int { return get(t, h3, newToken) }, want: 418},
		{desc: "old token after removal", h: func() int { return get(t, h3, oldToken) }, want: 401},
		{desc: "new token on a gate without the new key", h: func() int { return get(t, before, newToken) }, want: 401},
	}
	for _, test := range tests {
		t.Run(test.desc, func(t *testing.T) {
			if got := test.h(); got != test.want {
				t.Fatalf("status = %d, want %d", got, test.want)
			}
		})
	}
	// An unknown kid and an algorithm that is not the kid's are refused.
	parts := strings.Split(newToken, ".")
	header, _ := base64.RawURLEncoding.DecodeString(parts[0])
	for desc, swap := range map[string][2]string{
		"unknown kid":        {`"kid":"ed-2026-02"`, `"kid":"ed-2099"`},
		"algorithm mismatch": {`"alg":"EdDSA"`, `"alg":"ES256"`},
	} {
		forged := base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(header), swap[0], swap[1], 1))) + "." + parts[1] + "." + parts[2]
		res := doMulti(t, h1, "GET", "/device/d1", "Authorization", "Bearer "+forged)
		if res.code != 401 {
			t.Errorf("%s: status %d", desc, res.code)
		}
	}
}

func get(t testing.TB, h http.Handler, token string) int {
	t.Helper()
	return doMulti(t, h, "GET", "/device/d1", "Authorization", "Bearer "+token).code
}

// TestKeyFileReloadThroughTheGate: a secret file changed in place takes
// effect without a new instance, and cached tokens of the old secret stop
// passing at once; a broken file keeps the last good key.
func TestKeyFileReloadThroughTheGate(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "secret")
	write := func(content string, age time.Duration) {
		if err := os.WriteFile(file, []byte(content+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		mtime := time.Now().Add(-age)
		if err := os.Chtimes(file, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	write(testSecret, time.Hour)
	cfg := guardConfig()
	cfg.Issuer = "tokengate-" + t.Name() // the gate's own sessions view: its clock moves
	cfg.Keys = []tokengate.KeyConfig{{ID: "file-key", Algorithm: "HS256", SecretFile: file}}
	cfg.KeysFileCheckInterval = "1s"
	h, _ := newHandler(t, cfg)
	clock := withClock(t, h)
	oldToken, _ := login(t, h, "alice")
	if code := get(t, h, oldToken); code != 418 {
		t.Fatalf("before: %d", code)
	}
	write(strings.Repeat("r", 40), 30*time.Minute)
	clock.Add(1100 * time.Millisecond)
	if code := get(t, h, oldToken); code != 401 {
		t.Fatalf("cached token of a replaced secret: %d", code)
	}
	newToken, _ := login(t, h, "alice")
	write("broken", 10*time.Minute)
	clock.Add(1100 * time.Millisecond)
	if code := get(t, h, newToken); code != 418 {
		t.Fatalf("a broken key file must keep the last good key: %d", code)
	}
}

// deviceHiveToken builds a DeviceHive-minted token by hand: JJWT HS256 with
// the Base64-decoded JWT_SECRET, header {"alg":"HS256"}, claims only in
// "payload", expiry "e" in epoch milliseconds.
func deviceHiveToken(secretB64, payload string) string {
	key, _ := base64.StdEncoding.DecodeString(secretB64)
	enc := base64.RawURLEncoding
	signing := enc.EncodeToString([]byte(`{"alg":"HS256"}`)) + "." + enc.EncodeToString([]byte(`{"payload":`+payload+`}`))
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(signing))
	return signing + "." + enc.EncodeToString(mac.Sum(nil))
}

func TestDeviceHiveTokensThroughTheGate(t *testing.T) {
	secret := base64.StdEncoding.EncodeToString([]byte("devicehive-jwt-secret-for-tests-0123456789"))
	e := func(d time.Duration) string { return strconv.FormatInt(time.Now().Add(d).UnixMilli(), 10) }
	access := deviceHiveToken(secret, `{"u":2,"a":[3],"n":["1"],"dt":["*"],"e":`+e(time.Hour)+`,"t":1}`)
	unknownUser := deviceHiveToken(secret, `{"u":77,"a":[3,4],"n":["2"],"dt":["*"],"e":`+e(time.Hour)+`,"t":0}`)
	refresh := deviceHiveToken(secret, `{"u":2,"a":[3],"n":["1"],"dt":["*"],"e":`+e(time.Hour)+`,"t":0}`)
	expired := deviceHiveToken(secret, `{"u":2,"a":[3],"n":["1"],"dt":["*"],"e":`+e(-time.Hour)+`,"t":1}`)
	noExpiry := deviceHiveToken(secret, `{"u":2,"a":[3],"n":["1"],"dt":["*"],"t":1}`)

	on := guardConfig()
	on.DeviceHiveSecret = secret
	hOn, next := newHandler(t, on)
	hOff, _ := newHandler(t, guardConfig())
	tests := []struct {
		desc  string
		h     http.Handler
		token string
		path  string
		code  int
	}{
		{desc: "on: access token passes", h: hOn, token: access, path: "/device/d1", code: 418},
		{desc: "on: same permission checks", h: hOn, token: access, path: "/device/d2", code: 403},
		{desc: "on: wrong action", h: hOn, token: access, path: "/device/d1/notification", code: 403},
		{desc: "on: refresh as access", h: hOn, token: refresh, path: "/device/d1", code: 401},
		{desc: "on: expired", h: hOn, token: expired, path: "/device/d1", code: 401},
		{desc: "on: e missing", h: hOn, token: noExpiry, path: "/device/d1", code: 401},
		{desc: "off: rejected", h: hOff, token: access, path: "/device/d1", code: 401},
	}
	for _, test := range tests {
		t.Run(test.desc, func(t *testing.T) {
			if got := doMulti(t, test.h, "GET", test.path, "Authorization", "Bearer "+test.token).code; got != test.code {
				t.Fatalf("status = %d, want %d", got, test.code)
			}
		})
	}
	if got := next.header.Get("X-Auth-User-Id") + "/" + next.header.Get("X-Auth-Login"); got != "2/alice" {
		t.Fatalf("identity of a DeviceHive token: %q, want 2/alice", got)
	}

	// Refresh tokens exchange for gateway tokens with the same scopes.
	for _, c := range []struct {
		desc, token string
		code        int
		devices     map[string]int
	}{
		{desc: "known user", token: refresh, code: 201, devices: map[string]int{"/device/d1": 418, "/device/d2": 403}},
		{desc: "user unknown here", token: unknownUser, code: 201, devices: map[string]int{"/device/d2": 418, "/device/d1": 403}},
		{desc: "access token", token: access, code: 401},
	} {
		t.Run("refresh "+c.desc, func(t *testing.T) {
			res := do(t, hOn, "POST", "/token/refresh", `{"refreshToken":"`+c.token+`"}`)
			if res.code != c.code {
				t.Fatalf("status = %d, want %d: %s", res.code, c.code, res.raw)
			}
			for path, want := range c.devices {
				if got := doMulti(t, hOn, "GET", path, "Authorization", "Bearer "+res.str("accessToken")).code; got != want {
					t.Errorf("%s: %d, want %d", path, got, want)
				}
			}
		})
	}
	if res := do(t, hOff, "POST", "/token/refresh", `{"refreshToken":"`+refresh+`"}`); res.code != 401 {
		t.Fatalf("off: refresh %d", res.code)
	}
}

func TestDeviceHiveSecretConfig(t *testing.T) {
	tests := []struct {
		desc, secret, wantErr string
	}{
		{desc: "not base64", secret: "not base64!!", wantErr: "deviceHiveSecret: must be DeviceHive's JWT_SECRET"},
		{desc: "too short", secret: base64.StdEncoding.EncodeToString([]byte("short")), wantErr: "decodes to 5"},
	}
	for _, test := range tests {
		t.Run(test.desc, func(t *testing.T) {
			cfg := guardConfig()
			cfg.DeviceHiveSecret = test.secret
			expectConfigError(t, cfg, test.wantErr)
		})
	}
}
