//go:build e2e

package e2e

// Keys through Traefik: rotation without logging anyone out, key files
// re-read when they change, the same keys on two routers and on two Traefik
// processes, the JWK Set checked by the npm package jose, and tokens minted
// by a DeviceHive server.

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// fileKey is a key entry of the keys option whose PEM is a file of
// testdata/keys: privateKeyFile, or publicKeyFile for a ".pub.pem".
func fileKey(id, algorithm, file string, verifyOnly bool) M {
	k := M{"id": id, "algorithm": algorithm}
	if strings.HasSuffix(file, ".pub.pem") {
		k["publicKeyFile"] = testKeyFile(file)
	} else {
		k["privateKeyFile"] = testKeyFile(file)
	}
	if verifyOnly {
		k["verifyOnly"] = true
	}
	return k
}

func verifyOnly(k M) M { return with(k, M{"verifyOnly": true}) }

// expectKid fails the test unless the token's header names kid and alg.
func expectKid(t *testing.T, token, kid, alg string) {
	t.Helper()
	header, _ := decodeJWT(t, token)
	if header["kid"] != kid || header["alg"] != alg {
		t.Errorf("token header: want kid %q alg %q, got %v", kid, alg, header)
	}
}

// TestKeyRotation follows the README's rotation: HS256 key k1 signs; then
// a new EdDSA key signs and k1 only verifies (old tokens pass, new ones
// carry the new kid); then k1 is removed (its tokens answer 401). Each
// step is a new dynamic configuration of the same running Traefik.
func TestKeyRotation(t *testing.T) {
	k1 := hsKey("k1", testSecret)
	ed := fileKey("ed-2026", "EdDSA", "ed25519.pem", false)
	g := startTraefik(t, oneRouter(pluginOptions(nil)))

	oldAccess, oldRefresh := g.login(t, "alice")
	expectKid(t, oldAccess, "k1", "HS256")
	expectPass(t, "step 1: GET /device/d1 with a k1 token", g.do(t, http.MethodGet, "/device/d1", "", bearer(oldAccess)...))

	// Step 2: the new key signs, k1 verifies only.
	g.reconfigure(t, oneRouter(pluginOptions(M{"keys": []any{ed, verifyOnly(k1)}})))
	expectPass(t, "step 2: GET /device/d1 with the old k1 token", g.do(t, http.MethodGet, "/device/d1", "", bearer(oldAccess)...))
	newAccess, _ := g.login(t, "alice")
	expectKid(t, newAccess, "ed-2026", "EdDSA")
	expectPass(t, "step 2: GET /device/d1 with a new token", g.do(t, http.MethodGet, "/device/d1", "", bearer(newAccess)...))
	r := g.post(t, "/token/refresh", fmt.Sprintf(`{"refreshToken":%q}`, oldRefresh))
	expectStatus(t, "step 2: POST /token/refresh with the old k1 refresh token", r, http.StatusCreated)
	if r.code == http.StatusCreated {
		expectKid(t, r.str(t, "accessToken"), "ed-2026", "EdDSA")
	}
	// The verify-only key still signs nothing, and each key keeps its own
	// algorithm.
	edAsHS := signHMAC(sha256.New, pemBytes(t, "ed25519.pub.pem"), M{"alg": "HS256", "kid": "ed-2026"}, accessClaims())
	k1AsEdDSA := signEd25519(t, "ed25519.pem", M{"alg": "EdDSA", "kid": "k1"}, accessClaims())
	for _, bad := range []struct{ desc, token, message string }{
		{"HS256 keyed with the EdDSA key's public PEM (key confusion)", edAsHS, "token algorithm is not allowed"},
		{"EdDSA under the HS256 kid k1", k1AsEdDSA, "token algorithm is not allowed"},
		{"unknown kid", signEd25519(t, "ed25519.pem", M{"alg": "EdDSA", "kid": "ed-2027"}, accessClaims()), "token is signed with an unknown key"},
	} {
		r := g.do(t, http.MethodGet, "/device/d1", "", bearer(bad.token)...)
		expectRefused(t, "step 2: "+bad.desc, r, http.StatusUnauthorized, bad.message)
	}
	// A token signed by hand with the EdDSA key passes: the gateway checks
	// what any EdDSA signer makes, not only its own.
	expectPass(t, "step 2: hand-signed EdDSA token", g.do(t, http.MethodGet, "/device/d1", "",
		bearer(signEd25519(t, "ed25519.pem", M{"alg": "EdDSA", "kid": "ed-2026"}, with(accessClaims(), M{"aud": nil})))...))

	// Step 3: k1 removed.
	g.reconfigure(t, oneRouter(pluginOptions(M{"keys": []any{ed}})))
	r = g.do(t, http.MethodGet, "/device/d1", "", bearer(oldAccess)...)
	expectRefused(t, "step 3: GET /device/d1 with the old k1 token", r, http.StatusUnauthorized, "token is signed with an unknown key")
	r = g.post(t, "/token/refresh", fmt.Sprintf(`{"refreshToken":%q}`, oldRefresh))
	expectRefused(t, "step 3: POST /token/refresh with the old k1 refresh token", r, http.StatusUnauthorized, "token is signed with an unknown key")
	expectPass(t, "step 3: GET /device/d1 with a token of the new key", g.do(t, http.MethodGet, "/device/d1", "", bearer(newAccess)...))
}

// TestKeyFileReload: an HMAC secret in a file, checked every second. A new
// secret ends the old tokens (also cached ones) and signs the new; a file
// that turns invalid keeps the last good key and logs exactly one ERR line.
func TestKeyFileReload(t *testing.T) {
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "hs256.secret")
	secretA := "file-secret-A-0123456789abcdefghijklmnopq"
	secretB := "file-secret-B-0123456789abcdefghijklmnopqrstuvwxyz"
	writeFile(t, secretFile, secretA+"\n")
	g := startTraefik(t, oneRouter(pluginOptions(M{
		"keys":                  []any{M{"id": "k1", "algorithm": "HS256", "secretFile": secretFile}},
		"keysFileCheckInterval": "1s",
	})))
	g.expectErrors() // the invalid file below; asserted at the end

	tokenA, _ := g.login(t, "alice")
	for i := 0; i < 2; i++ { // the second from the cache
		expectPass(t, "GET /device/d1 with a token of secret A", g.do(t, http.MethodGet, "/device/d1", "", bearer(tokenA)...))
	}

	// A new secret: tokens of the old one stop passing once it is seen.
	writeFile(t, secretFile, secretB+"\n")
	changed := time.Now()
	r := pollUntil(t, 5*time.Second, func() *reply {
		return g.do(t, http.MethodGet, "/device/d1", "", bearer(tokenA)...)
	}, func(r *reply) bool { return r.code != http.StatusOK })
	t.Logf("secret A refused %v after the file changed", time.Since(changed).Round(time.Millisecond))
	expectRefused(t, "GET /device/d1 with a token of secret A after the change", r, http.StatusUnauthorized, "token signature is invalid")
	tokenB, _ := g.login(t, "alice")
	expectPass(t, "GET /device/d1 with a token of secret B", g.do(t, http.MethodGet, "/device/d1", "", bearer(tokenB)...))
	forged := signHMAC(sha256.New, []byte(secretB), M{"alg": "HS256", "kid": "k1"}, with(accessClaims(), M{"aud": nil}))
	expectPass(t, "GET /device/d1 with a token forged with secret B", g.do(t, http.MethodGet, "/device/d1", "", bearer(forged)...))
	if lines := errLines(g.logPath); len(lines) != 0 {
		t.Errorf("ERR lines before the key file went bad:\n%s", strings.Join(lines, "\n"))
	}

	// An invalid file (too short for HS256): the last good key stays.
	writeFile(t, secretFile, "too-short\n")
	deadline := time.Now().Add(3500 * time.Millisecond) // three check intervals and more
	for time.Now().Before(deadline) {
		r := g.do(t, http.MethodGet, "/device/d1", "", bearer(tokenB)...)
		if r.code != http.StatusOK {
			t.Fatalf("with an invalid key file, a token of the last good key: want 200, got %s", r)
		}
		time.Sleep(250 * time.Millisecond)
	}
	fresh, _ := g.login(t, "alice")
	expectKid(t, fresh, "k1", "HS256")
	expectPass(t, "GET /device/d1 with a token signed after the file went bad", g.do(t, http.MethodGet, "/device/d1", "", bearer(fresh)...))
	expectRefused(t, "GET /device/d1 with a token of secret A", g.do(t, http.MethodGet, "/device/d1", "", bearer(tokenA)...),
		http.StatusUnauthorized, "token signature is invalid")

	lines := errLines(g.logPath)
	if len(lines) != 1 {
		t.Fatalf("want exactly one ERR line about the invalid key file, got %d:\n%s", len(lines), strings.Join(lines, "\n"))
	}
	line := lines[0]
	for _, want := range []string{"key", "secretFile", "keeping the previous keys"} {
		if !strings.Contains(line, want) {
			t.Errorf("the ERR line does not say %q: %s", want, line)
		}
	}
	for _, secret := range []string{"too-short", secretA, secretB} {
		if strings.Contains(line, secret) {
			t.Errorf("the ERR line shows key material %q: %s", secret, line)
		}
	}
	t.Logf("ERR line: %s", line)
}

// pollUntil calls do every 100ms until done holds for its reply or the
// time is up, and returns the last reply.
func pollUntil(t *testing.T, limit time.Duration, do func() *reply, done func(*reply) bool) *reply {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		r := do()
		if done(r) || time.Now().After(deadline) {
			return r
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestKeysSharedAcrossRouters: two routers with two middleware instances
// and the same keys accept each other's tokens; a third with other keys
// accepts none of them.
func TestKeysSharedAcrossRouters(t *testing.T) {
	keys := M{"keys": []any{fileKey("es-1", "ES256", "ec256.pem", false), verifyOnly(hsKey("k1", testSecret))}}
	other := M{"keys": []any{hsKey("k1", strings.Repeat("another-secret-", 3))}}
	g := startTraefik(t, dynamicConfig(
		[]route{
			{name: "a", rule: "Host(`a.e2e`)", middleware: "auth-a"},
			{name: "b", rule: "Host(`b.e2e`)", middleware: "auth-b"},
			{name: "c", rule: "Host(`c.e2e`)", middleware: "auth-c"},
		},
		map[string]M{"auth-a": pluginOptions(keys), "auth-b": pluginOptions(keys), "auth-c": pluginOptions(other)},
		nil,
	))
	hosts := map[string][]string{"a": {"Host", "a.e2e"}, "b": {"Host", "b.e2e"}, "c": {"Host", "c.e2e"}}
	for _, pair := range [][2]string{{"a", "b"}, {"b", "a"}} {
		from, to := pair[0], pair[1]
		t.Run(fmt.Sprintf("token of %s used at %s", from, to), func(t *testing.T) {
			access, refresh := g.login(t, "alice", hosts[from]...)
			expectKid(t, access, "es-1", "ES256")
			r := g.do(t, http.MethodGet, "/device/d1", "", append(bearer(access), hosts[to]...)...)
			expectPass(t, "GET /device/d1 at "+to, r)
			r = g.post(t, "/token/refresh", fmt.Sprintf(`{"refreshToken":%q}`, refresh), hosts[to]...)
			expectStatus(t, "POST /token/refresh at "+to, r, http.StatusCreated)
			r = g.do(t, http.MethodGet, "/device/d1", "", append(bearer(access), hosts["c"]...)...)
			expectRefused(t, "GET /device/d1 at c (other keys)", r, http.StatusUnauthorized, "token is signed with an unknown key")
		})
	}
}

// TestKeysSharedAcrossProcesses: two Traefik processes with the same
// configuration accept each other's tokens.
func TestKeysSharedAcrossProcesses(t *testing.T) {
	config := oneRouter(pluginOptions(M{"keys": []any{fileKey("rs-1", "RS256", "rsa2048.pem", false), verifyOnly(hsKey("k1", testSecret))}}))
	g1 := startTraefik(t, config)
	g2 := startTraefik(t, config)
	gateways := map[string]*gateway{"first": g1, "second": g2}
	for _, pair := range [][2]string{{"first", "second"}, {"second", "first"}} {
		from, to := gateways[pair[0]], gateways[pair[1]]
		t.Run(fmt.Sprintf("token of the %s Traefik used at the %s", pair[0], pair[1]), func(t *testing.T) {
			access, refresh := from.login(t, "bob")
			expectKid(t, access, "rs-1", "RS256")
			expectPass(t, "GET /device/d3", to.do(t, http.MethodGet, "/device/d3", "", bearer(access)...))
			expectRefused(t, "GET /device/d1", to.do(t, http.MethodGet, "/device/d1", "", bearer(access)...), http.StatusForbidden, "Access is denied")
			r := to.post(t, "/token/refresh", fmt.Sprintf(`{"refreshToken":%q}`, refresh))
			expectStatus(t, "POST /token/refresh", r, http.StatusCreated)
			if r.code == http.StatusCreated {
				expectPass(t, "GET /device/d3 with the refreshed token, back at the first",
					from.do(t, http.MethodGet, "/device/d3", "", bearer(r.str(t, "accessToken"))...))
			}
		})
	}
}

// jwksKeys are the keys of TestJWKS: an EdDSA key signs; an ES256 and an
// RS256 public key and an HMAC secret only verify.
func jwksKeys() []any {
	return []any{
		fileKey("ed-1", "EdDSA", "ed25519.pem", false),
		fileKey("es-1", "ES256", "ec256.pub.pem", true),
		fileKey("rs-1", "RS256", "rsa2048.pub.pem", true),
		verifyOnly(hsKey("k1", testSecret)),
	}
}

// TestJWKS: the public keys at /token/jwks (and /.well-known/jwks.json when
// asked for), and a JOSE client nobody here wrote, the npm package jose,
// verifying the gateway's tokens with them.
func TestJWKS(t *testing.T) {
	opts := M{"keys": jwksKeys(), "audience": e2eAudience}
	g := startTraefik(t, dynamicConfig(
		[]route{
			{name: "api", rule: "PathPrefix(`/`)", middleware: "auth"},
			{name: "wk", rule: "Host(`wk.e2e`)", middleware: "auth-wk", priority: 1000},
			{name: "hmac", rule: "Host(`hmac.e2e`)", middleware: "auth-hmac", priority: 1000},
		},
		map[string]M{
			"auth":      pluginOptions(opts),
			"auth-wk":   pluginOptions(with(opts, M{"jwksWellKnown": true})),
			"auth-hmac": pluginOptions(nil),
		},
		nil,
	))

	jwks := g.do(t, http.MethodGet, "/token/jwks", "")
	t.Run("GET /token/jwks", func(t *testing.T) {
		if jwks.code != http.StatusOK {
			t.Fatalf("want 200, got %s", jwks)
		}
		header("Content-Type", "application/jwk-set+json")(t, jwks)
		header("Cache-Control", "public, max-age=300")(t, jwks)
		var set struct {
			Keys []map[string]string `json:"keys"`
		}
		if err := json.Unmarshal(jwks.body, &set); err != nil {
			t.Fatalf("not a JWK Set: %v: %s", err, jwks)
		}
		want := []map[string]string{
			publicJWK(t, "ed-1", "EdDSA", "ed25519.pub.pem"),
			publicJWK(t, "es-1", "ES256", "ec256.pub.pem"),
			publicJWK(t, "rs-1", "RS256", "rsa2048.pub.pem"),
		}
		if !reflect.DeepEqual(set.Keys, want) {
			t.Errorf("JWK Set (signing key first, public members only, no HMAC key):\n got %v\nwant %v", set.Keys, want)
		}
		if strings.Contains(string(jwks.body), `"k1"`) || strings.Contains(string(jwks.body), b64([]byte(testSecret))) {
			t.Errorf("the JWK Set publishes the HMAC key: %s", jwks)
		}
	})
	t.Run("HEAD /token/jwks", func(t *testing.T) {
		r := g.do(t, http.MethodHead, "/token/jwks", "")
		expectStatus(t, "HEAD /token/jwks", r, http.StatusOK)
		if len(r.body) != 0 {
			t.Errorf("HEAD answered a body: %s", r.body)
		}
	})
	t.Run("POST /token/jwks", func(t *testing.T) {
		r := g.do(t, http.MethodPost, "/token/jwks", "{}")
		expectStatus(t, "POST /token/jwks", r, http.StatusMethodNotAllowed)
		header("Allow", "GET, HEAD")(t, r)
	})
	t.Run("/.well-known/jwks.json only with jwksWellKnown", func(t *testing.T) {
		r := g.do(t, http.MethodGet, "/.well-known/jwks.json", "")
		expectRefused(t, "GET /.well-known/jwks.json without jwksWellKnown (a guarded route)", r, http.StatusUnauthorized, "token is missing")
		r = g.do(t, http.MethodGet, "/.well-known/jwks.json", "", "Host", "wk.e2e")
		expectStatus(t, "GET /.well-known/jwks.json with jwksWellKnown", r, http.StatusOK)
		if string(r.body) != string(jwks.body) {
			t.Errorf("/.well-known/jwks.json differs from /token/jwks:\n%s\n%s", r.body, jwks.body)
		}
		header("Content-Type", "application/jwk-set+json")(t, r)
	})
	t.Run("an HMAC-only key set publishes nothing", func(t *testing.T) {
		r := g.do(t, http.MethodGet, "/token/jwks", "", "Host", "hmac.e2e")
		expectRefused(t, "GET /token/jwks", r, http.StatusNotFound, "")
	})

	// jose, against the JWK Set the gateway serves.
	jwksURL := g.URL + "/token/jwks"
	access, refresh := g.login(t, "alice")
	expectKid(t, access, "ed-1", "EdDSA")
	handSigned := func(alg, kid, file string) string {
		return signAsymmetric(t, alg, file, M{"alg": alg, "kid": kid, "typ": "JWT"}, accessClaims())
	}
	tests := []struct {
		desc, token, audience string
		pass                  bool
		tokenType             string // when it passes
		joseErr               string // when it fails: jose's error code
	}{
		{"gateway-issued access token (EdDSA)", access, e2eAudience, true, "access", ""},
		{"gateway-issued refresh token", refresh, e2eAudience, true, "refresh", ""},
		{"hand-signed ES256 token under the verify-only es-1", handSigned("ES256", "es-1", "ec256.pem"), e2eAudience, true, "access", ""},
		{"hand-signed RS256 token under the verify-only rs-1", handSigned("RS256", "rs-1", "rsa2048.pem"), e2eAudience, true, "access", ""},
		{"tampered gateway-issued token", tamper(access), e2eAudience, false, "", "ERR_JWS_SIGNATURE_VERIFICATION_FAILED"},
		{"gateway-issued token, another audience expected", access, "another-api", false, "", "ERR_JWT_CLAIM_VALIDATION_FAILED"},
		// k1, the gate's HMAC key, is not in the JWK Set: jose finds no
		// key for the kid.
		{"token under kid k1 (an HMAC key: not published)", signEd25519(t, "ed25519.pem", M{"alg": "EdDSA", "kid": "k1"}, accessClaims()), e2eAudience, false, "", "ERR_JWKS_NO_MATCHING_KEY"},
		{"token under an unknown kid", signEd25519(t, "ed25519.pem", M{"alg": "EdDSA", "kid": "ed-0"}, accessClaims()), e2eAudience, false, "", "ERR_JWKS_NO_MATCHING_KEY"},
	}
	for _, test := range tests {
		t.Run("jose: "+test.desc, func(t *testing.T) {
			out, errOut, ok := joseVerify(t, jwksURL, test.token, e2eIssuer, test.audience)
			if ok != test.pass {
				t.Fatalf("jose accepted=%v, want %v\nstdout: %s\nstderr: %s", ok, test.pass, out, errOut)
			}
			if !ok {
				if !strings.Contains(errOut, test.joseErr) {
					t.Errorf("jose refused the token, but not with %s: %s", test.joseErr, errOut)
				}
				return
			}
			var verified struct {
				Header  map[string]any `json:"header"`
				Payload map[string]any `json:"payload"`
			}
			if err := json.Unmarshal([]byte(out), &verified); err != nil {
				t.Fatalf("verify.mjs printed %q: %v", out, err)
			}
			if verified.Payload["sub"] != "2" || verified.Payload["token_type"] != test.tokenType {
				t.Errorf("jose's payload: want sub 2, token_type %s, got %v", test.tokenType, verified.Payload)
			}
			// The gate agrees with jose about the access tokens.
			if test.tokenType == "access" {
				expectPass(t, "GET /device/d1 with the same token", g.do(t, http.MethodGet, "/device/d1", "", bearer(test.token)...))
			}
		})
	}
}

// publicJWK is the JWK the README promises for a public key of
// testdata/keys, computed here from the PEM.
func publicJWK(t *testing.T, kid, alg, file string) map[string]string {
	t.Helper()
	block, _ := pem.Decode(pemBytes(t, file))
	if block == nil {
		t.Fatalf("%s: no PEM", file)
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	jwk := map[string]string{"kid": kid, "alg": alg, "use": "sig"}
	switch k := pub.(type) {
	case ed25519.PublicKey:
		jwk["kty"], jwk["crv"], jwk["x"] = "OKP", "Ed25519", b64(k)
	case *ecdsa.PublicKey:
		jwk["kty"], jwk["crv"] = "EC", "P-256"
		jwk["x"], jwk["y"] = b64(k.X.FillBytes(make([]byte, 32))), b64(k.Y.FillBytes(make([]byte, 32)))
	case *rsa.PublicKey:
		jwk["kty"], jwk["n"], jwk["e"] = "RSA", b64(k.N.Bytes()), b64(big.NewInt(int64(k.E)).Bytes())
	default:
		t.Fatalf("%s: unexpected key type %T", file, pub)
	}
	return jwk
}

func pemBytes(t *testing.T, file string) []byte {
	t.Helper()
	data, err := os.ReadFile(testKeyFile(file))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func privateKey(t *testing.T, file string) crypto.Signer {
	t.Helper()
	block, _ := pem.Decode(pemBytes(t, file))
	if block == nil {
		t.Fatalf("%s: no PEM", file)
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		t.Fatalf("%s: %T cannot sign", file, key)
	}
	return signer
}

// signAsymmetric signs a JWT by hand with a private key of testdata/keys:
// EdDSA (Ed25519), ES256 (r||s, 32 bytes each) or RS256 (PKCS #1 v1.5).
func signAsymmetric(t *testing.T, alg, file string, header, claims M) string {
	t.Helper()
	input := b64(mustJSON(header)) + "." + b64(mustJSON(claims))
	key := privateKey(t, file)
	var sig []byte
	var err error
	switch alg {
	case "EdDSA":
		sig, err = key.Sign(rand.Reader, []byte(input), crypto.Hash(0))
	case "ES256":
		digest := sha256.Sum256([]byte(input))
		r, s, e := ecdsa.Sign(rand.Reader, key.(*ecdsa.PrivateKey), digest[:])
		// tokengate takes ES256 signatures with the low s only (one
		// spelling per token): an outside signer normalises s.
		if n := elliptic.P256().Params().N; s.Cmp(new(big.Int).Rsh(n, 1)) > 0 {
			s.Sub(n, s)
		}
		sig, err = append(r.FillBytes(make([]byte, 32)), s.FillBytes(make([]byte, 32))...), e
	case "RS256":
		digest := sha256.Sum256([]byte(input))
		sig, err = rsa.SignPKCS1v15(rand.Reader, key.(*rsa.PrivateKey), crypto.SHA256, digest[:])
	default:
		t.Fatalf("signAsymmetric: unsupported alg %s", alg)
	}
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + b64(sig)
}

func signEd25519(t *testing.T, file string, header, claims M) string {
	t.Helper()
	return signAsymmetric(t, "EdDSA", file, header, claims)
}

// ---------------------------------------------------------------------------
// DeviceHive tokens.

// deviceHiveSecret is a DeviceHive JWT_SECRET as configured there: Base64
// text, which JJWT's signWith(HS256, String) decodes into the HMAC key.
var deviceHiveSecret = base64.StdEncoding.EncodeToString([]byte("devicehive-jwt-secret-for-tests-0123456789"))

// deviceHiveToken signs a token exactly as a DeviceHive server (JJWT)
// does: header {"alg":"HS256"} (no kid, no typ), claims {"payload": ...}
// only (no exp, iss, aud), HMAC-SHA256 keyed with the Base64-decoded secret.
func deviceHiveToken(t *testing.T, payload M) string {
	t.Helper()
	key, err := base64.StdEncoding.DecodeString(deviceHiveSecret)
	if err != nil {
		t.Fatal(err)
	}
	return signHMAC(sha256.New, key, M{"alg": "HS256"}, M{"payload": payload})
}

// dhPayload is a DeviceHive payload for alice (user 2): GetDevice in
// network 1, every device type, valid for an hour; t 1 = access.
func dhPayload(set M) M {
	p := M{"u": 2, "a": []int{3}, "n": []string{"1"}, "dt": []string{"*"}, "e": time.Now().Add(time.Hour).UnixMilli(), "t": 1}
	for k, v := range set {
		if v == nil {
			delete(p, k)
			continue
		}
		p[k] = v
	}
	return p
}

// TestDeviceHiveTokens: with deviceHiveSecret, tokens minted by a
// DeviceHive server pass the gate with their own scopes, and their refresh
// tokens trade for tokengate access tokens; without it, they are refused.
func TestDeviceHiveTokens(t *testing.T) {
	g := startTraefik(t, dynamicConfig(
		[]route{
			{name: "api", rule: "PathPrefix(`/`)", middleware: "auth"},
			{name: "off", rule: "Host(`off.e2e`)", middleware: "auth-off", priority: 1000},
		},
		map[string]M{
			"auth":     pluginOptions(M{"deviceHiveSecret": deviceHiveSecret}),
			"auth-off": pluginOptions(nil),
		},
		nil,
	))
	access := deviceHiveToken(t, dhPayload(nil))
	refresh := deviceHiveToken(t, dhPayload(M{"t": 0, "n": []string{"1", "3"}, "a": []int{3, 14}}))
	off := []string{"Host", "off.e2e"}

	t.Run("access token", func(t *testing.T) {
		r := g.do(t, http.MethodGet, "/device/d1", "", bearer(access)...)
		expectPass(t, "GET /device/d1", r)
		if r.code == http.StatusOK {
			e := r.echo(t)
			want := map[string]string{"X-Auth-User-Id": "2", "X-Auth-Actions": "GetDevice", "X-Auth-Networks": "1", "X-Auth-Device-Types": "*"}
			for k, v := range want {
				if e.Auth[k] != v {
					t.Errorf("%s: want %q, got %q (all: %v)", k, v, e.Auth[k], e.Auth)
				}
			}
		}
		expectRefused(t, "GET /device/d2 (network 2)", g.do(t, http.MethodGet, "/device/d2", "", bearer(access)...), http.StatusForbidden, "Access is denied")
		expectRefused(t, "POST /device/d1/notification (action)", g.do(t, http.MethodPost, "/device/d1/notification", "{}", bearer(access)...), http.StatusForbidden, "Access is denied")
		expectPass(t, "GET /device/d1 again (cache)", g.do(t, http.MethodGet, "/device/d1", "", bearer(access)...))
	})

	wrongKey := signHMAC(sha256.New, []byte(deviceHiveSecret), M{"alg": "HS256"}, M{"payload": dhPayload(nil)})
	hs512 := func() string {
		key, _ := base64.StdEncoding.DecodeString(deviceHiveSecret)
		return signHMAC(sha512.New, key, M{"alg": "HS512"}, M{"payload": dhPayload(nil)})
	}()
	for _, test := range []struct {
		desc, token string
		header      []string
		message     string
	}{
		{"expired (e an hour ago)", deviceHiveToken(t, dhPayload(M{"e": time.Now().Add(-time.Hour).UnixMilli()})), nil, "token has expired"},
		{"no e", deviceHiveToken(t, dhPayload(M{"e": nil})), nil, "token claims are invalid"},
		{"keyed with the secret's text, not its Base64 decoding", wrongKey, nil, "token signature is invalid"},
		{"HS512", hs512, nil, "token algorithm is not allowed"},
		{"refresh token used as access token", refresh, nil, "token is of the wrong type"},
		{"tampered", tamper(access), nil, "token signature is invalid"},
		{"deviceHiveSecret not configured", access, off, "token is signed with an unknown key"},
	} {
		t.Run(test.desc, func(t *testing.T) {
			r := g.do(t, http.MethodGet, "/device/d1", "", append(bearer(test.token), test.header...)...)
			expectRefused(t, "GET /device/d1", r, http.StatusUnauthorized, test.message)
		})
	}
	t.Run("expired within the 30s leeway passes", func(t *testing.T) {
		token := deviceHiveToken(t, dhPayload(M{"e": time.Now().Add(-10 * time.Second).UnixMilli()}))
		expectPass(t, "GET /device/d1", g.do(t, http.MethodGet, "/device/d1", "", bearer(token)...))
	})

	t.Run("refresh token at /token/refresh", func(t *testing.T) {
		for _, form := range []struct {
			desc, body string
			code       int
			field      string
		}{
			{"REST", fmt.Sprintf(`{"refreshToken":%q}`, refresh), http.StatusCreated, "accessToken"},
			{"message", fmt.Sprintf(`{"action":"token/refresh","requestId":1,"refreshToken":%q}`, refresh), http.StatusOK, "accessToken"},
			{"HarperDB", fmt.Sprintf(`{"operation":"refresh_operation_token","refresh_token":%q}`, refresh), http.StatusOK, "operation_token"},
		} {
			r := g.post(t, "/token/refresh", form.body)
			if r.code != form.code {
				t.Errorf("%s: want %d, got %s", form.desc, form.code, r)
				continue
			}
			token := r.str(t, form.field)
			header, claims := decodeJWT(t, token)
			p, _ := claims["payload"].(map[string]any)
			if header["kid"] != "k1" || claims["token_type"] != "access" || claims["sub"] != "2" || p == nil {
				t.Errorf("%s: the new token is not a tokengate access token for user 2: %v %v", form.desc, header, claims)
				continue
			}
			// Narrowed to alice's own rights: network 3 and ManageNetwork
			// (14) are not hers.
			if !reflect.DeepEqual(p["n"], []any{"1"}) || !reflect.DeepEqual(p["a"], []any{float64(3)}) {
				t.Errorf("%s: want n [1] and a [3], got n %v a %v", form.desc, p["n"], p["a"])
			}
			expectPass(t, form.desc+": GET /device/d1", g.do(t, http.MethodGet, "/device/d1", "", bearer(token)...))
			expectRefused(t, form.desc+": GET /device/d2", g.do(t, http.MethodGet, "/device/d2", "", bearer(token)...), http.StatusForbidden, "Access is denied")
		}
	})
	t.Run("refresh token of a user unknown here keeps its scopes", func(t *testing.T) {
		r := g.post(t, "/token/refresh", fmt.Sprintf(`{"refreshToken":%q}`, deviceHiveToken(t, dhPayload(M{"u": 77, "t": 0, "n": []string{"3"}}))))
		if r.code != http.StatusCreated {
			t.Fatalf("POST /token/refresh: want 201, got %s", r)
		}
		token := r.str(t, "accessToken")
		expectPass(t, "GET /device/d3", g.do(t, http.MethodGet, "/device/d3", "", bearer(token)...))
		expectRefused(t, "GET /device/d1", g.do(t, http.MethodGet, "/device/d1", "", bearer(token)...), http.StatusForbidden, "Access is denied")
	})
	t.Run("refresh refusals", func(t *testing.T) {
		for _, test := range []struct {
			desc, token string
			header      []string
		}{
			{"access token at /token/refresh", access, nil},
			{"expired refresh token", deviceHiveToken(t, dhPayload(M{"t": 0, "e": time.Now().Add(-time.Hour).UnixMilli()})), nil},
			{"deviceHiveSecret not configured", refresh, off},
		} {
			r := g.post(t, "/token/refresh", fmt.Sprintf(`{"refreshToken":%q}`, test.token), test.header...)
			expectRefused(t, test.desc, r, http.StatusUnauthorized, "")
			lacks("accessToken")(t, r)
		}
	})
}
