package tokens_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tokengate/tokengate/internal/testclock"

	"github.com/golang-jwt/jwt/v5"
	"github.com/tokengate/tokengate/permissions"
	"github.com/tokengate/tokengate/tokens"
)

const testSecret = "test-only-hmac-secret-0123456789abcdef-0123456789"

func readKey(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile("../testdata/keys/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func mustKey(t testing.TB, spec tokens.KeySpec) *tokens.Key {
	t.Helper()
	k, err := tokens.ParseKey(spec)
	if err != nil {
		t.Fatalf("ParseKey(%s): %v", spec.ID, err)
	}
	return k
}

func newService(t testing.TB, c *testclock.Clock, keys ...*tokens.Key) *tokens.Service {
	t.Helper()
	ks, err := tokens.NewKeySet(keys)
	if err != nil {
		t.Fatal(err)
	}
	s, err := tokens.NewService(tokens.Options{
		Keys: ks, Issuer: "tokengate", Audience: "devices",
		AccessLifetime: 30 * time.Minute, RefreshLifetime: 4380 * time.Hour,
		Leeway: 30 * time.Second, MaxTokenBytes: 8192, Now: c.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func hsKey(t testing.TB, id string) *tokens.Key {
	return mustKey(t, tokens.KeySpec{ID: id, Algorithm: "HS256", Secret: testSecret})
}

func aliceClaims(typ tokens.Type) tokens.Claims {
	return tokens.Claims{
		Type: typ, UserID: 2, Login: "alice", Role: "client",
		Actions:    []permissions.Action{permissions.GetDevice, permissions.GetNetwork},
		NetworkIDs: []string{"1", "2"}, DeviceTypeIDs: []string{"*"},
	}
}

func TestParseKey(t *testing.T) {
	tests := []struct {
		desc    string
		spec    tokens.KeySpec
		wantErr string // substring; "" = success
	}{
		{desc: "HS256", spec: tokens.KeySpec{ID: "k", Algorithm: "HS256", Secret: testSecret}},
		{desc: "HS256 from file", spec: tokens.KeySpec{ID: "k", Algorithm: "HS256", SecretFile: "../testdata/keys/hs256.secret"}},
		{desc: "HS256 short secret", spec: tokens.KeySpec{ID: "k", Algorithm: "HS256", Secret: "short"}, wantErr: "secret: HS256 needs a secret of at least 32 bytes, got 5"},
		{desc: "HS384 short secret", spec: tokens.KeySpec{ID: "k", Algorithm: "HS384", Secret: testSecret[:40]}, wantErr: "at least 48 bytes"},
		{desc: "HS512 short secret", spec: tokens.KeySpec{ID: "k", Algorithm: "HS512", Secret: testSecret}, wantErr: "at least 64 bytes"},
		{desc: "missing id", spec: tokens.KeySpec{Algorithm: "HS256", Secret: testSecret}, wantErr: "id: required"},
		{desc: "missing algorithm", spec: tokens.KeySpec{ID: "k", Secret: testSecret}, wantErr: "algorithm: required"},
		{desc: "none refused", spec: tokens.KeySpec{ID: "k", Algorithm: "none"}, wantErr: `algorithm: "none" is not allowed`},
		{desc: "PS256 refused", spec: tokens.KeySpec{ID: "k", Algorithm: "PS256"}, wantErr: "not allowed"},
		{desc: "secret and file", spec: tokens.KeySpec{ID: "k", Algorithm: "HS256", Secret: testSecret, SecretFile: "x"}, wantErr: "give one, not both"},
		{desc: "secret file missing", spec: tokens.KeySpec{ID: "k", Algorithm: "HS256", SecretFile: "/nonexistent/secret"}, wantErr: "secretFile:"},
		{desc: "no secret", spec: tokens.KeySpec{ID: "k", Algorithm: "HS256"}, wantErr: "secret or secretFile: required"},
		{desc: "HS with PEM", spec: tokens.KeySpec{ID: "k", Algorithm: "HS256", PrivateKeyFile: "../testdata/keys/rsa2048.pem"}, wantErr: "not a PEM key"},
		{desc: "RS256 file", spec: tokens.KeySpec{ID: "k", Algorithm: "RS256", PrivateKeyFile: "../testdata/keys/rsa2048.pem"}},
		{desc: "RS256 1024 bits", spec: tokens.KeySpec{ID: "k", Algorithm: "RS256", PrivateKeyFile: "../testdata/keys/rsa1024.pem"}, wantErr: "1024 bits, need at least 2048"},
		{desc: "RS256 with EC key", spec: tokens.KeySpec{ID: "k", Algorithm: "RS256", PrivateKeyFile: "../testdata/keys/ec256.pem"}, wantErr: "privateKeyFile: not a PEM RSA private key"},
		{desc: "RS256 with secret", spec: tokens.KeySpec{ID: "k", Algorithm: "RS256", Secret: testSecret}, wantErr: "not a secret"},
		{desc: "RS256 without key", spec: tokens.KeySpec{ID: "k", Algorithm: "RS256"}, wantErr: "privateKey: required"},
		{desc: "RS256 garbage PEM", spec: tokens.KeySpec{ID: "k", Algorithm: "RS256", PrivateKey: "not pem"}, wantErr: "privateKey: not a PEM RSA private key"},
		{desc: "RS256 verify-only", spec: tokens.KeySpec{ID: "k", Algorithm: "RS256", PublicKeyFile: "../testdata/keys/rsa2048.pub.pem", VerifyOnly: true}},
		{desc: "RS256 private and public", spec: tokens.KeySpec{ID: "k", Algorithm: "RS256", PrivateKeyFile: "../testdata/keys/rsa2048.pem", PublicKeyFile: "../testdata/keys/rsa2048.pub.pem"}, wantErr: "not both"},
		{desc: "ES256", spec: tokens.KeySpec{ID: "k", Algorithm: "ES256", PrivateKeyFile: "../testdata/keys/ec256.pem"}},
		{desc: "ES256 P-384", spec: tokens.KeySpec{ID: "k", Algorithm: "ES256", PrivateKeyFile: "../testdata/keys/ec384.pem"}, wantErr: "P-256"},
		{desc: "ES256 verify-only", spec: tokens.KeySpec{ID: "k", Algorithm: "ES256", PublicKeyFile: "../testdata/keys/ec256.pub.pem", VerifyOnly: true}},
		{desc: "EdDSA", spec: tokens.KeySpec{ID: "k", Algorithm: "EdDSA", PrivateKeyFile: "../testdata/keys/ed25519.pem"}},
		{desc: "EdDSA with RSA key", spec: tokens.KeySpec{ID: "k", Algorithm: "EdDSA", PrivateKeyFile: "../testdata/keys/rsa2048.pem"}, wantErr: "Ed25519"},
		{desc: "EdDSA verify-only", spec: tokens.KeySpec{ID: "k", Algorithm: "EdDSA", PublicKeyFile: "../testdata/keys/ed25519.pub.pem", VerifyOnly: true}},
	}
	for _, test := range tests {
		t.Run(test.desc, func(t *testing.T) {
			_, err := tokens.ParseKey(test.spec)
			if test.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), test.wantErr) {
				t.Fatalf("error = %v, want it to contain %q", err, test.wantErr)
			}
			if strings.Contains(err.Error(), testSecret) {
				t.Fatalf("error leaks the secret: %v", err)
			}
		})
	}
}

func TestNewKeySet(t *testing.T) {
	signer := hsKey(t, "a")
	verifyOnly := mustKey(t, tokens.KeySpec{ID: "b", Algorithm: "HS256", Secret: testSecret, VerifyOnly: true})
	tests := []struct {
		desc    string
		keys    []*tokens.Key
		wantErr string
	}{
		{desc: "one signer", keys: []*tokens.Key{signer}},
		{desc: "signer and verify-only", keys: []*tokens.Key{verifyOnly, signer}},
		{desc: "no keys", wantErr: "need one signing key"},
		{desc: "only verify-only", keys: []*tokens.Key{verifyOnly}, wantErr: "need one signing key"},
		{desc: "two signers", keys: []*tokens.Key{signer, hsKey(t, "c")}, wantErr: "keys[1]: only one key may sign"},
		{desc: "duplicate id", keys: []*tokens.Key{signer, signer}, wantErr: `keys[1].id: "a" is used twice`},
	}
	for _, test := range tests {
		t.Run(test.desc, func(t *testing.T) {
			_, err := tokens.NewKeySet(test.keys)
			if test.wantErr == "" && err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if test.wantErr != "" && (err == nil || !strings.Contains(err.Error(), test.wantErr)) {
				t.Fatalf("error = %v, want %q", err, test.wantErr)
			}
		})
	}
}

func TestRoundTripEveryAlgorithm(t *testing.T) {
	specs := []tokens.KeySpec{
		{ID: "hs256", Algorithm: "HS256", Secret: testSecret},
		{ID: "hs384", Algorithm: "HS384", Secret: testSecret},
		{ID: "hs512", Algorithm: "HS512", Secret: testSecret + testSecret[:15]},
		{ID: "rs256", Algorithm: "RS256", PrivateKeyFile: "../testdata/keys/rsa2048.pem"},
		{ID: "es256", Algorithm: "ES256", PrivateKeyFile: "../testdata/keys/ec256.pem"},
		{ID: "eddsa", Algorithm: "EdDSA", PrivateKeyFile: "../testdata/keys/ed25519.pem"},
	}
	c := testclock.New(time.Unix(1_800_000_000, 0))
	for _, spec := range specs {
		t.Run(spec.Algorithm, func(t *testing.T) {
			s := newService(t, c, mustKey(t, spec))
			for _, typ := range []tokens.Type{tokens.Access, tokens.Refresh} {
				signed, issued, err := s.Issue(aliceClaims(typ))
				if err != nil {
					t.Fatal(err)
				}
				got, err := s.Verify(signed, typ)
				if err != nil {
					t.Fatalf("Verify(%s): %v", typ, err)
				}
				// Under the interpreter, struct-decoded claims came back empty:
				// check every field really arrives.
				if got.UserID != 2 || got.Login != "alice" || got.Role != "client" || got.ID == "" || got.ID != issued.ID ||
					got.IssuedAt != 1_800_000_000 || got.ExpiresAt != issued.ExpiresAt || got.Type != typ ||
					len(got.Actions) != 2 || got.Actions[0] != permissions.GetNetwork ||
					strings.Join(got.NetworkIDs, ",") != "1,2" || strings.Join(got.DeviceTypeIDs, ",") != "*" {
					t.Fatalf("claims = %+v, issued %+v", got, issued)
				}
				header := decodeSegment(t, signed, 0)
				if !strings.Contains(header, `"kid":"`+spec.ID+`"`) || !strings.Contains(header, `"alg":"`+spec.Algorithm+`"`) {
					t.Fatalf("header = %s", header)
				}
			}
		})
	}
}

func TestIssuedLayout(t *testing.T) {
	c := testclock.New(time.Unix(1_800_000_000, 0))
	s := newService(t, c, hsKey(t, "k1"))
	access, _, err := s.Issue(aliceClaims(tokens.Access))
	if err != nil {
		t.Fatal(err)
	}
	refresh, _, err := s.Issue(aliceClaims(tokens.Refresh))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		desc  string
		token string
		want  []string
	}{
		{desc: "access", token: access, want: []string{
			`"iss":"tokengate"`, `"sub":"2"`, `"aud":"devices"`, `"iat":1800000000`, `"exp":1800001800`,
			`"token_type":"access"`, `"login":"alice"`, `"role":"client"`,
			`"payload":{"a":[2,3],"dt":["*"],"e":1800001800000,"n":["1","2"],"t":1,"u":2}`,
		}},
		{desc: "refresh", token: refresh, want: []string{
			`"exp":1815768000`, `"token_type":"refresh"`, `"e":1815768000000`, `"t":0`,
		}},
	}
	for _, test := range tests {
		t.Run(test.desc, func(t *testing.T) {
			payload := decodeSegment(t, test.token, 1)
			for _, w := range test.want {
				if !strings.Contains(payload, w) {
					t.Errorf("payload %s lacks %s", payload, w)
				}
			}
		})
	}
}

func decodeSegment(t testing.TB, token string, i int) string {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[i])
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// sign makes a token by hand, so tests can forge what Issue never would.
func sign(t testing.TB, method jwt.SigningMethod, kid string, key any, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func validClaims(now int64) jwt.MapClaims {
	return jwt.MapClaims{
		"iss": "tokengate", "aud": "devices", "sub": "2", "iat": now, "exp": now + 600, "jti": "x",
		"token_type": "access",
		"payload":    map[string]any{"u": 2, "a": []int{3}, "n": []string{"1"}, "dt": []string{"*"}, "e": (now + 600) * 1000, "t": 1},
	}
}

func with(base jwt.MapClaims, key string, value any) jwt.MapClaims {
	out := jwt.MapClaims{}
	for k, v := range base {
		out[k] = v
	}
	if value == nil {
		delete(out, key)
	} else {
		out[key] = value
	}
	return out
}

func TestVerifyRejects(t *testing.T) {
	now := int64(1_800_000_000)
	c := testclock.New(time.Unix(now, 0))
	rsKey := mustKey(t, tokens.KeySpec{ID: "rs", Algorithm: "RS256", PrivateKeyFile: "../testdata/keys/rsa2048.pem", VerifyOnly: true})
	s := newService(t, c, hsKey(t, "k1"), rsKey)
	secret := []byte(testSecret)
	good := sign(t, jwt.SigningMethodHS256, "k1", secret, validClaims(now))
	if _, err := s.Verify(good, tokens.Access); err != nil {
		t.Fatalf("the baseline token must verify: %v", err)
	}
	refresh, _, err := s.Issue(aliceClaims(tokens.Refresh))
	if err != nil {
		t.Fatal(err)
	}
	access, _, err := s.Issue(aliceClaims(tokens.Access))
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, ".")
	payloadWith := func(claims jwt.MapClaims) string {
		return strings.Split(sign(t, jwt.SigningMethodHS256, "k1", secret, claims), ".")[1]
	}
	payload := validClaims(now)["payload"].(map[string]any)
	withPayload := func(key string, v any) jwt.MapClaims {
		p := map[string]any{}
		for k, val := range payload {
			p[k] = val
		}
		p[key] = v
		return with(validClaims(now), "payload", p)
	}

	tests := []struct {
		desc  string
		token string
		want  tokens.Type
		err   error
	}{
		{desc: "empty", token: "", err: tokens.ErrMissing},
		{desc: "oversized", token: good + strings.Repeat("A", 8192), err: tokens.ErrTooLarge},
		{desc: "garbage", token: "not.a.jwt", err: tokens.ErrMalformed},
		{desc: "two segments", token: parts[0] + "." + parts[1], err: tokens.ErrMalformed},
		{desc: "truncated signature", token: good[:len(good)-4], err: tokens.ErrSignature},
		{desc: "signature cut mid-character", token: good[:len(good)-5], err: tokens.ErrMalformed},
		{desc: "tampered payload", token: parts[0] + "." + payloadWith(with(validClaims(now), "sub", "1")) + "." + parts[2], err: tokens.ErrSignature},
		{desc: "refresh as access", token: refresh, want: tokens.Access, err: tokens.ErrWrongType},
		{desc: "access as refresh", token: access, want: tokens.Refresh, err: tokens.ErrWrongType},
		{desc: "type claims disagree", token: sign(t, jwt.SigningMethodHS256, "k1", secret, with(validClaims(now), "token_type", "refresh")), err: tokens.ErrWrongType},
		{desc: "expired", token: sign(t, jwt.SigningMethodHS256, "k1", secret, with(validClaims(now), "exp", now-31)), err: tokens.ErrExpired},
		{desc: "missing exp", token: sign(t, jwt.SigningMethodHS256, "k1", secret, with(validClaims(now), "exp", nil)), err: tokens.ErrInvalidClaims},
		{desc: "text exp", token: sign(t, jwt.SigningMethodHS256, "k1", secret, with(validClaims(now), "exp", "2099-01-01")), err: tokens.ErrInvalidClaims},
		{desc: "not yet valid", token: sign(t, jwt.SigningMethodHS256, "k1", secret, with(validClaims(now), "nbf", now+31)), err: tokens.ErrNotYetValid},
		{desc: "issued in the future", token: sign(t, jwt.SigningMethodHS256, "k1", secret, with(validClaims(now), "iat", now+120)), err: tokens.ErrNotYetValid},
		{desc: "wrong issuer", token: sign(t, jwt.SigningMethodHS256, "k1", secret, with(validClaims(now), "iss", "evil")), err: tokens.ErrIssuer},
		{desc: "missing issuer", token: sign(t, jwt.SigningMethodHS256, "k1", secret, with(validClaims(now), "iss", nil)), err: tokens.ErrIssuer},
		{desc: "wrong audience", token: sign(t, jwt.SigningMethodHS256, "k1", secret, with(validClaims(now), "aud", []string{"other"})), err: tokens.ErrAudience},
		{desc: "missing audience", token: sign(t, jwt.SigningMethodHS256, "k1", secret, with(validClaims(now), "aud", nil)), err: tokens.ErrAudience},
		{desc: "unknown kid", token: sign(t, jwt.SigningMethodHS256, "k9", secret, validClaims(now)), err: tokens.ErrUnknownKey},
		{desc: "no kid", token: sign(t, jwt.SigningMethodHS256, "", secret, validClaims(now)), err: tokens.ErrUnknownKey},
		{desc: "alg none", token: sign(t, jwt.SigningMethodNone, "k1", jwt.UnsafeAllowNoneSignatureType, validClaims(now)), err: tokens.ErrAlgorithm},
		{desc: "HS384 under an HS256 kid", token: sign(t, jwt.SigningMethodHS384, "k1", secret, validClaims(now)), err: tokens.ErrAlgorithm},
		{desc: "HS/RS confusion: HS256 keyed with the RSA public key", token: sign(t, jwt.SigningMethodHS256, "rs", []byte(readKey(t, "rsa2048.pub.pem")), validClaims(now)), err: tokens.ErrAlgorithm},
		{desc: "RS256 signed by another key", token: forgeRS(t, now), err: tokens.ErrSignature},
		{desc: "sub and u disagree", token: sign(t, jwt.SigningMethodHS256, "k1", secret, with(validClaims(now), "sub", "3")), err: tokens.ErrInvalidClaims},
		{desc: "no payload", token: sign(t, jwt.SigningMethodHS256, "k1", secret, with(validClaims(now), "payload", nil)), err: tokens.ErrInvalidClaims},
		{desc: "unknown action id", token: sign(t, jwt.SigningMethodHS256, "k1", secret, withPayload("a", []int{99})), err: tokens.ErrInvalidClaims},
		{desc: "bad network list", token: sign(t, jwt.SigningMethodHS256, "k1", secret, withPayload("n", "1")), err: tokens.ErrInvalidClaims},
		{desc: "bad type", token: sign(t, jwt.SigningMethodHS256, "k1", secret, withPayload("t", 7)), err: tokens.ErrInvalidClaims},
		{desc: "user zero", token: sign(t, jwt.SigningMethodHS256, "k1", secret, with(withPayload("u", 0), "sub", "0")), err: tokens.ErrInvalidClaims},
	}
	for _, test := range tests {
		t.Run(test.desc, func(t *testing.T) {
			want := test.want
			if want == 0 && test.err != tokens.ErrWrongType {
				want = tokens.Access
			}
			_, err := s.Verify(test.token, want)
			if !errors.Is(err, test.err) {
				t.Fatalf("Verify = %v, want %v", err, test.err)
			}
		})
	}
}

// forgeRS signs an RS256 token under kid "rs" with a key that is not rs's.
func forgeRS(t testing.TB, now int64) string {
	t.Helper()
	other, err := jwt.ParseRSAPrivateKeyFromPEM([]byte(readKey(t, "rsa1024.pem")))
	if err != nil {
		t.Fatal(err)
	}
	return sign(t, jwt.SigningMethodRS256, "rs", other, validClaims(now))
}

// TestInterpreterTrapExpiredRejected: under Yaegi, jwt's errors.Is on
// ErrTokenExpired is false and struct claims decode empty, so an expired
// token once passed. Verify must refuse it at every boundary.
func TestInterpreterTrapExpiredRejected(t *testing.T) {
	c := testclock.New(time.Unix(1_800_000_000, 0))
	s := newService(t, c, hsKey(t, "k1"))
	signed, issued, err := s.Issue(aliceClaims(tokens.Access))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		desc string
		at   int64
		err  error
	}{
		{desc: "just issued", at: issued.IssuedAt},
		{desc: "at exp", at: issued.ExpiresAt},
		{desc: "within leeway", at: issued.ExpiresAt + 30},
		{desc: "past leeway", at: issued.ExpiresAt + 31, err: tokens.ErrExpired},
		{desc: "long expired", at: issued.ExpiresAt + 86400, err: tokens.ErrExpired},
	}
	for _, test := range tests {
		t.Run(test.desc, func(t *testing.T) {
			c.Set(time.Unix(test.at, 0))
			got, err := s.Verify(signed, tokens.Access)
			if err != test.err {
				t.Fatalf("Verify at %d = %v, want %v", test.at, err, test.err)
			}
			if err == nil && got.UserID != 2 {
				t.Fatalf("claims came back empty: %+v", got)
			}
		})
	}
}

func TestIssueExplicitExpiry(t *testing.T) {
	c := testclock.New(time.Unix(1_800_000_000, 0))
	s := newService(t, c, hsKey(t, "k1"))
	claims := aliceClaims(tokens.Access)
	claims.ExpiresAt = 1_800_000_100
	_, issued, err := s.Issue(claims)
	if err != nil {
		t.Fatal(err)
	}
	if issued.ExpiresAt != 1_800_000_100 {
		t.Fatalf("ExpiresAt = %d", issued.ExpiresAt)
	}
}

func TestNewServiceRejects(t *testing.T) {
	ks, err := tokens.NewKeySet([]*tokens.Key{hsKey(t, "k")})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		desc string
		opts tokens.Options
	}{
		{desc: "no keys", opts: tokens.Options{AccessLifetime: time.Minute, RefreshLifetime: time.Hour}},
		{desc: "zero lifetime", opts: tokens.Options{Keys: ks, RefreshLifetime: time.Hour}},
		{desc: "negative leeway", opts: tokens.Options{Keys: ks, AccessLifetime: time.Minute, RefreshLifetime: time.Hour, Leeway: -time.Second}},
	}
	for _, test := range tests {
		t.Run(test.desc, func(t *testing.T) {
			if _, err := tokens.NewService(test.opts); err == nil {
				t.Fatal("want an error")
			}
		})
	}
}

// TestHeaderForms: a header written otherwise than Issue writes it (other
// member order, extra members) is decoded and checked the same way: the
// known-header shortcut accepts nothing the full check would refuse.
func TestHeaderForms(t *testing.T) {
	now := time.Now()
	hs := mustKey(t, tokens.KeySpec{ID: "hs", Algorithm: "HS256", Secret: testSecret})
	s := newService(t, testclock.New(now), hs)
	enc := base64.RawURLEncoding
	payload := enc.EncodeToString([]byte(`{"iss":"tokengate","aud":"devices","sub":"2","iat":` + strconv.FormatInt(now.Unix(), 10) +
		`,"exp":` + strconv.FormatInt(now.Unix()+600, 10) + `,"jti":"x","token_type":"access","payload":{"u":2,"a":[3],"n":["1"],"dt":["*"],"t":1}}`))
	tests := []struct {
		desc    string
		header  string
		wantErr error
	}{
		{desc: "as Issue writes it", header: `{"alg":"HS256","kid":"hs","typ":"JWT"}`},
		{desc: "members reordered", header: `{"typ":"JWT","kid":"hs","alg":"HS256"}`},
		{desc: "no typ", header: `{"alg":"HS256","kid":"hs"}`},
		{desc: "whitespace", header: `{ "alg": "HS256", "kid": "hs", "typ": "JWT" }`},
		{desc: "other algorithm", header: `{"alg":"HS384","kid":"hs","typ":"JWT"}`, wantErr: tokens.ErrAlgorithm},
		{desc: "alg none", header: `{"alg":"none","kid":"hs","typ":"JWT"}`, wantErr: tokens.ErrAlgorithm},
		{desc: "unknown kid", header: `{"alg":"HS256","kid":"other","typ":"JWT"}`, wantErr: tokens.ErrUnknownKey},
		{desc: "no kid", header: `{"alg":"HS256","typ":"JWT"}`, wantErr: tokens.ErrUnknownKey},
		{desc: "not an object", header: `["HS256"]`, wantErr: tokens.ErrMalformed},
	}
	for _, test := range tests {
		t.Run(test.desc, func(t *testing.T) {
			signing := enc.EncodeToString([]byte(test.header)) + "." + payload
			mac := hmac.New(sha256.New, []byte(testSecret))
			mac.Write([]byte(signing))
			token := signing + "." + enc.EncodeToString(mac.Sum(nil))
			_, err := s.Verify(token, tokens.Access)
			if err != test.wantErr {
				t.Fatalf("Verify: %v, want %v", err, test.wantErr)
			}
		})
	}
}

// TestOneSpellingPerToken: a segment whose unused trailing bits are set,
// or padded, or in the standard alphabet decodes leniently to the same
// bytes; every such second spelling of a valid token is refused.
func TestOneSpellingPerToken(t *testing.T) {
	c := testclock.New(time.Unix(1_800_000_000, 0))
	s := newService(t, c, hsKey(t, "k1"))
	good, _, err := s.Issue(aliceClaims(tokens.Access))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Verify(good, tokens.Access); err != nil {
		t.Fatalf("the original: %v", err)
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	parts := strings.Split(good, ".")
	var spellings []string
	for i, seg := range parts {
		respell := func(seg string) string {
			out := append([]string(nil), parts...)
			out[i] = seg
			return strings.Join(out, ".")
		}
		if unused := map[int]int{2: 4, 3: 2}[len(seg)%4]; unused > 0 {
			last := strings.IndexByte(alphabet, seg[len(seg)-1])
			for k := 1; k < 1<<unused; k++ {
				spellings = append(spellings, respell(seg[:len(seg)-1]+string(alphabet[last^k])))
			}
		}
		spellings = append(spellings, respell(seg+"="), respell(seg+"=="), respell(strings.NewReplacer("-", "+", "_", "/").Replace(seg)+"A"),
			// Go's base64 decoders skip CR and LF, Strict() included.
			respell(seg[:4]+"\n"+seg[4:]), respell(seg+"\r\n"))
	}
	for _, token := range spellings {
		if token == good {
			continue
		}
		if _, err := s.Verify(token, tokens.Access); err == nil {
			t.Errorf("a second spelling verifies: %s", token)
		}
	}
	if len(spellings) < 6 {
		t.Fatalf("only %d spellings tried", len(spellings))
	}
}

// TestSignPair: the two tokens of a pair verify as their own type only,
// with the same claims but the type, the expiry and the jti.
func TestSignPair(t *testing.T) {
	c := testclock.New(time.Unix(1_800_000_000, 0))
	s := newService(t, c, hsKey(t, "k1"))
	tests := []struct {
		desc       string
		refreshExp int64
		wantExp    int64
	}{
		{desc: "default lifetime", refreshExp: 0, wantExp: 1_800_000_000 + int64((4380 * time.Hour).Seconds())},
		{desc: "given expiry", refreshExp: 1_800_000_600, wantExp: 1_800_000_600},
	}
	for _, test := range tests {
		t.Run(test.desc, func(t *testing.T) {
			access := aliceClaims(tokens.Access)
			access.SessionID = "s1"
			access.Actions = []permissions.Action{permissions.GetNetwork, permissions.GetDevice, permissions.GetDevice}
			refresh := access
			refresh.ExpiresAt = test.refreshExp
			at, rt, err := tokens.SignPair(s, &access, &refresh)
			if err != nil {
				t.Fatal(err)
			}
			gotA, err := s.Verify(at, tokens.Access)
			if err != nil {
				t.Fatalf("access: %v", err)
			}
			gotR, err := s.Verify(rt, tokens.Refresh)
			if err != nil {
				t.Fatalf("refresh: %v", err)
			}
			if _, err := s.Verify(rt, tokens.Access); err != tokens.ErrWrongType {
				t.Fatalf("refresh token as access: %v", err)
			}
			if gotR.ExpiresAt != test.wantExp || refresh.ExpiresAt != test.wantExp {
				t.Fatalf("refresh exp = %d (claims %d), want %d", gotR.ExpiresAt, refresh.ExpiresAt, test.wantExp)
			}
			if gotA.ID == gotR.ID || gotA.ID != access.ID || gotR.ID != refresh.ID {
				t.Fatalf("jti: access %q (%q), refresh %q (%q)", gotA.ID, access.ID, gotR.ID, refresh.ID)
			}
			gotA.Type = gotR.Type
			gotA.ExpiresAt = gotR.ExpiresAt
			gotA.ID = gotR.ID
			if !reflect.DeepEqual(gotA, gotR) || len(gotR.Actions) != 2 {
				t.Fatalf("claims differ: access %+v, refresh %+v", gotA, gotR)
			}
		})
	}
}

// TestSessionOf: a token of either type names its session while it is
// valid and for grace after it expires (logging out with an expired access
// token), never when it is otherwise invalid.
func TestSessionOf(t *testing.T) {
	now := int64(1_800_000_000)
	c := testclock.New(time.Unix(now, 0))
	s := newService(t, c, hsKey(t, "k1"))
	other := newService(t, c, mustKey(t, tokens.KeySpec{ID: "k1", Algorithm: "HS256", Secret: strings.Repeat("x", 32)}))
	issue := func(svc *tokens.Service, typ tokens.Type, sid string) (string, tokens.Claims) {
		claims := aliceClaims(typ)
		claims.SessionID = sid
		token, issued, err := svc.Issue(claims)
		if err != nil {
			t.Fatal(err)
		}
		return token, issued
	}
	access, issued := issue(s, tokens.Access, "s1")
	refresh, _ := issue(s, tokens.Refresh, "s1")
	noSession, _ := issue(s, tokens.Access, "")
	forged, _ := issue(other, tokens.Access, "s1")
	const grace = time.Hour
	tests := []struct {
		desc, token string
		at          int64
		want        string
	}{
		{desc: "access token", token: access, at: now, want: "s1"},
		{desc: "refresh token", token: refresh, at: now, want: "s1"},
		{desc: "access token just expired", token: access, at: issued.ExpiresAt + 31, want: "s1"},
		{desc: "access token expired within grace and leeway", token: access, at: issued.ExpiresAt + 3600 + 30, want: "s1"},
		{desc: "access token expired beyond grace", token: access, at: issued.ExpiresAt + 3600 + 31},
		{desc: "no session", token: noSession, at: now},
		{desc: "signed with another key", token: forged, at: now},
		{desc: "garbage", token: "not.a.token", at: now},
		{desc: "empty", at: now},
	}
	for _, test := range tests {
		t.Run(test.desc, func(t *testing.T) {
			c.Set(time.Unix(test.at, 0))
			if got := s.SessionOf(test.token, grace); got != test.want {
				t.Fatalf("SessionOf = %q, want %q", got, test.want)
			}
		})
	}
	c.Set(time.Unix(issued.ExpiresAt+31, 0))
	if _, err := s.Verify(access, tokens.Access); err != tokens.ErrExpired {
		t.Fatalf("SessionOf must leave the service's own leeway as it was: Verify = %v", err)
	}
}
