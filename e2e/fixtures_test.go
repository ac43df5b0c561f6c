//go:build e2e

package e2e

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Test users. The hashes were made with
//
//	openssl passwd -6 -salt somesalt alice-pass
//	openssl passwd -6 -salt bobsalt bob-pass
const (
	testSecret = "tokengate-e2e-test-secret-0123456789abcdef"
	aliceHash  = "$6$somesalt$WNRn7BpyH2W5C1OZA59seXupviTT1XYJ3/wF/iEsmOf6d18NFkw7yKq2lZzeBaEe4aABGlDIb4Rn93lVy7HaW0"
	bobHash    = "$6$bobsalt$gZZna9vMclzbZE2d2Aw9fuSfmGww/5J5DIn7wgoVrNysLHDz4zPpniOhEw76siLmdEz5wXHU3TkrKF6BNKAWh1"
)

// gatewayYAML is a dynamic configuration with one router "api" that sends
// every path through the tokengate middleware "auth" to the echo backend.
// options are extra YAML lines for the plugin, indented as its options
// (10 spaces), e.g. "maxBodyBytes: 1024".
func gatewayYAML(options ...string) string {
	var extra strings.Builder
	for _, o := range options {
		extra.WriteString("          " + o + "\n")
	}
	return apiRouterYAML + fmt.Sprintf(`          issuer: tokengate-e2e
%s          keys:
            - id: k1
              algorithm: HS256
              secret: %q
          users:
            - id: 1
              login: alice
              passwordHash: %q
              role: admin
            - id: 2
              login: bob
              passwordHash: %q
              role: client
              networkIds: "1,2"
`, extra.String(), testSecret, aliceHash, bobHash)
}

// apiRouterYAML opens a dynamic configuration with one router "api" that
// sends every path through the tokengate middleware "auth" to the echo
// backend; the plugin's options follow, indented by 10 spaces.
const apiRouterYAML = `http:
  routers:
    api:
      rule: "PathPrefix(` + "`/`" + `)"
      entryPoints: [web]
      middlewares: [auth]
      service: echo
  middlewares:
    auth:
      plugin:
        tokengate:
`

// ---------------------------------------------------------------------------
// Dynamic configurations built from Go values.
//
// dynamicConfig writes them as JSON, which is YAML too: the file provider
// reads it as any .yml file, and the plugin options stay Go maps the tests
// can vary field by field.

// M is a JSON object: plugin options, users, keys, claims.
type M = map[string]any

const (
	// e2eIssuer and e2eAudience are the iss and aud of the gateways built
	// with pluginOptions.
	e2eIssuer   = "tokengate-e2e"
	e2eAudience = "tokengate-e2e-devices"
)

// The demo users (demo/users.json, password = login + "-pass"), and two
// more with bob's password: carol (locked) and dave (disabled).
const (
	adminHash     = "$6$DemoSaltAdmin$/EKmSoWbAprbiqeTfyUW7MA8nXC8BpDcinLUFhD0MUp5gzeQwKBmwh4lmKkmWVUQSADAhPuj21.8kdg.irLO7."
	demoAliceHash = "$6$DemoSaltAlice$CIaVpRZovcnBS.seLm55.lE.MwZ2aPb.D77Q1211sCVYZHwouNN.7J6DXNRxxDPGjjtzVOrNil6SVEIxwOlEJ0"
	demoBobHash   = "$6$DemoSaltBob$itlhzMbzi8U.POdXHUznqKS4dCQtZjsRQ0Zxdq8MCuevWg3hHACSz3bHfDNzCLUup5H/afb05rH/ipyoAJIS40"
)

// demoUsers: admin (1, admin), alice (2, client, networks 1 and 2, every
// device type), bob (3, client, network 3, device type 10), carol (4,
// locked) and dave (5, disabled), both like bob otherwise.
func demoUsers() []any {
	return []any{
		M{"id": 1, "login": "admin", "passwordHash": adminHash, "role": "admin"},
		M{"id": 2, "login": "alice", "passwordHash": demoAliceHash, "role": "client",
			"networkIds": []string{"1", "2"}, "deviceTypeIds": []string{"*"}},
		M{"id": 3, "login": "bob", "passwordHash": demoBobHash, "role": "client",
			"networkIds": []string{"3"}, "deviceTypeIds": []string{"10"}},
		M{"id": 4, "login": "carol", "passwordHash": demoBobHash, "role": "client", "status": "locked",
			"networkIds": []string{"3"}, "deviceTypeIds": []string{"10"}},
		M{"id": 5, "login": "dave", "passwordHash": demoBobHash, "role": "client", "status": "disabled",
			"networkIds": []string{"3"}, "deviceTypeIds": []string{"10"}},
	}
}

// aliceActions is the default client action set (README, Users), in id
// order: what X-Auth-Actions carries for alice.
const aliceActions = "GetNetwork,GetDevice,GetDeviceNotification,GetDeviceCommand,RegisterDevice," +
	"CreateDeviceCommand,UpdateDeviceCommand,CreateDeviceNotification,GetCurrentUser,UpdateCurrentUser," +
	"ManageToken,ManagePlugin,GetDeviceType"

// demoDevices is the demo device API's devices as a static directory.
func demoDevices() []any {
	return []any{
		M{"id": "d1", "networkId": "1", "deviceTypeId": "10"},
		M{"id": "d2", "networkId": "2", "deviceTypeId": "20"},
		M{"id": "d3", "networkId": "3", "deviceTypeId": "10"},
	}
}

// hsKey is an HMAC key entry of the keys option.
func hsKey(id, secret string) M {
	return M{"id": id, "algorithm": "HS256", "secret": secret}
}

// testKeyFile is the absolute path of a key under testdata/keys.
func testKeyFile(name string) string {
	return filepath.Join(repoRoot, "testdata", "keys", name)
}

// pluginOptions is a guard configuration: issuer e2eIssuer, HS256 key k1
// (testSecret), the demo users, the devicehive preset and the demo devices
// as a static directory, with extra options set over them (a nil value
// removes an option).
func pluginOptions(extra M) M {
	opts := M{
		"issuer":          e2eIssuer,
		"keys":            []any{hsKey("k1", testSecret)},
		"users":           demoUsers(),
		"preset":          "devicehive",
		"deviceDirectory": M{"devices": demoDevices()},
	}
	for k, v := range extra {
		if v == nil {
			delete(opts, k)
			continue
		}
		opts[k] = v
	}
	return opts
}

// route is a router of a dynamic configuration, on the "web" entrypoint.
type route struct {
	name       string
	rule       string // e.g. "PathPrefix(`/`)" or "Host(`b.e2e`)"
	middleware string // a tokengate middleware, or "" for none
	service    string // default "echo", the in-process echo backend
	priority   int    // 0: Traefik's default (the rule's length)
}

// dynamicConfig is a dynamic configuration: routers, tokengate
// middlewares (name -> plugin options) and services (name -> URL) besides
// the harness's "echo".
func dynamicConfig(routes []route, middlewares map[string]M, services map[string]string) string {
	routers := M{}
	for _, r := range routes {
		router := M{"rule": r.rule, "entryPoints": []string{"web"}, "service": "echo"}
		if r.service != "" {
			router["service"] = r.service
		}
		if r.middleware != "" {
			router["middlewares"] = []string{r.middleware}
		}
		if r.priority != 0 {
			router["priority"] = r.priority
		}
		routers[r.name] = router
	}
	mws := M{}
	for name, opts := range middlewares {
		mws[name] = M{"plugin": M{pluginName: opts}}
	}
	httpConf := M{"routers": routers, "middlewares": mws}
	if len(services) > 0 {
		svcs := M{}
		for name, url := range services {
			svcs[name] = M{"loadBalancer": M{"servers": []any{M{"url": url}}}}
		}
		httpConf["services"] = svcs
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(M{"http": httpConf}); err != nil {
		panic(err)
	}
	return "# JSON is YAML: the file provider reads this as a .yml file.\n" + buf.String()
}

// oneRouter is a dynamic configuration with one router "api" sending every
// path through the tokengate middleware "auth", with these options, to
// the echo backend.
func oneRouter(opts M) string {
	return dynamicConfig([]route{{name: "api", rule: "PathPrefix(`/`)", middleware: "auth"}},
		map[string]M{"auth": opts}, nil)
}

// ---------------------------------------------------------------------------
// Tokens made by hand, as an attacker or another issuer would.

// b64 is unpadded base64url, as JWTs use it.
func b64(data []byte) string { return base64.RawURLEncoding.EncodeToString(data) }

func mustJSON(v any) []byte {
	data, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return data
}

// signHMAC makes a JWT with this header and claims, signed with HMAC
// (HS256, HS384 or HS512 as the hash) keyed with key. The header is used as
// given: its alg need not match the hash.
func signHMAC(hash func() hash.Hash, key []byte, header, claims M) string {
	signingInput := b64(mustJSON(header)) + "." + b64(mustJSON(claims))
	mac := hmac.New(hash, key)
	mac.Write([]byte(signingInput))
	return signingInput + "." + b64(mac.Sum(nil))
}

// hs256 signs header and claims with HS256 under kid "k1" and testSecret,
// as the gateways of pluginOptions do.
func hs256(claims M) string {
	return signHMAC(sha256.New, []byte(testSecret), M{"alg": "HS256", "kid": "k1", "typ": "JWT"}, claims)
}

// accessClaims are the claims of an access token for alice as the README's
// claims table describes them, valid for an hour, issued by e2eIssuer for
// e2eAudience. Tests change single claims to forge bad tokens.
func accessClaims() M {
	now := time.Now()
	exp := now.Add(time.Hour).Unix()
	return M{
		"iss":        e2eIssuer,
		"aud":        e2eAudience,
		"sub":        "2",
		"iat":        now.Unix(),
		"exp":        exp,
		"jti":        "e2e-forged-0123456789abcdef",
		"token_type": "access",
		"login":      "alice",
		"role":       "client",
		"payload": M{
			"u":  2,
			"a":  []int{3}, // GetDevice
			"n":  []string{"1", "2"},
			"dt": []string{"*"},
			"e":  exp * 1000,
			"t":  1,
		},
	}
}

// with returns a copy of claims with the given claims set (nil deletes).
func with(claims M, set M) M {
	out := M{}
	for k, v := range claims {
		out[k] = v
	}
	for k, v := range set {
		if v == nil {
			delete(out, k)
			continue
		}
		out[k] = v
	}
	return out
}

// decodeJWT returns a token's header and claims, failing the test if it is
// not a JWT.
func decodeJWT(t *testing.T, token string) (header, claims M) {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", token)
	}
	for i, dst := range []*M{&header, &claims} {
		raw, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatalf("JWT part %d: %v", i, err)
		}
		if err := json.Unmarshal(raw, dst); err != nil {
			t.Fatalf("JWT part %d: %v: %s", i, err, raw)
		}
	}
	return header, claims
}

// tamper changes one character in the middle of a token's signature.
func tamper(token string) string {
	i := strings.LastIndexByte(token, '.') + 10
	c := byte('A')
	if token[i] == 'A' {
		c = 'B'
	}
	return token[:i] + string(c) + token[i+1:]
}

// ---------------------------------------------------------------------------
// Logins and checks.

// login trades a password for tokens at POST /token and fails the test
// unless it gets both. header is passed on (e.g. "Host", "b.e2e").
func (g *gateway) login(t *testing.T, login string, header ...string) (access, refresh string) {
	t.Helper()
	r := g.post(t, "/token", fmt.Sprintf(`{"login":%q,"password":%q}`, login, login+"-pass"), header...)
	if r.code != http.StatusCreated {
		t.Fatalf("POST /token as %s: want 201, got %s", login, r)
	}
	return r.str(t, "accessToken"), r.str(t, "refreshToken")
}

// bearer is the header pair for a bearer token.
func bearer(token string) []string { return []string{"Authorization", "Bearer " + token} }

// expectStatus fails the test unless the reply has this status.
func expectStatus(t *testing.T, what string, r *reply, code int) {
	t.Helper()
	if r.code != code {
		t.Errorf("%s: want %d, got %s", what, code, r)
	}
}

// expectPass fails the test unless the request reached the backend with
// 200.
func expectPass(t *testing.T, what string, r *reply) {
	t.Helper()
	if r.code != http.StatusOK {
		t.Errorf("%s: want 200 from the backend, got %s", what, r)
	}
}

// expectRefused checks a refusal by the gate: the status, DeviceHive's
// error body {"error": code, "message": message} (message "" skips the
// message check), and that the backend never saw the request.
func expectRefused(t *testing.T, what string, r *reply, code int, message string) {
	t.Helper()
	if r.code != code {
		t.Errorf("%s: want %d, got %s", what, code, r)
		return
	}
	if r.header.Get("X-E2e-Echo") != "" {
		t.Errorf("%s: the request reached the backend: %s", what, r)
	}
	if got, _ := r.json["error"].(float64); int(got) != code {
		t.Errorf("%s: want body {\"error\":%d,...}, got %s", what, code, r)
	}
	if msg, _ := r.json["message"].(string); message != "" && msg != message {
		t.Errorf("%s: want message %q, got %s", what, message, r)
	}
}
