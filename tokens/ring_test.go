package tokens_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tokengate/tokengate/tokens"
)

func writeFile(t *testing.T, path, content string, mtime time.Time) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, mtime, mtime); err != nil {
		t.Fatal(err)
	}
}

func TestKeyRingReload(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "secret")
	old := time.Now().Add(-time.Hour)
	writeFile(t, file, testSecret, old)
	ring, err := tokens.NewKeyRing([]tokens.KeySpec{{ID: "k1", Algorithm: "HS256", SecretFile: file}}, time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	var logged []string
	ring.Logf = func(format string, args ...any) { logged = append(logged, fmt.Sprintf(format, args...)) }
	if !ring.Reloads() {
		t.Fatal("a ring with a key file reloads")
	}
	c := &clock{now: time.Now()}
	s, err := tokens.NewService(tokens.Options{Keys: ring, Issuer: "tokengate", AccessLifetime: time.Minute, RefreshLifetime: time.Hour, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	before, _, err := s.Issue(aliceClaims(tokens.Access))
	if err != nil {
		t.Fatal(err)
	}
	first := ring.Current()

	steps := []struct {
		desc        string
		content     string // "" = remove the file
		oldVerifies bool
		sameKeys    bool
		logs        int // lines logged so far
	}{
		{desc: "unchanged", content: testSecret, oldVerifies: true, sameKeys: true},
		{desc: "secret rotated in place", content: strings.Repeat("n", 40), oldVerifies: false},
		{desc: "file becomes invalid: last good keys stay", content: "short", oldVerifies: false, sameKeys: true, logs: 1},
		{desc: "touched, same problem: logged once", content: "short", oldVerifies: false, sameKeys: true, logs: 1},
		{desc: "file removed: last good keys stay", content: "", oldVerifies: false, sameKeys: true, logs: 2},
		{desc: "old secret back", content: testSecret, oldVerifies: true, logs: 2},
	}
	prev := first
	for i, step := range steps {
		t.Run(step.desc, func(t *testing.T) {
			mtime := old.Add(time.Duration(i+1) * time.Minute)
			if step.desc == "unchanged" {
				mtime = old
			}
			if step.content == "" {
				_ = os.Remove(file)
			} else {
				writeFile(t, file, step.content, mtime)
			}
			time.Sleep(2 * time.Millisecond)
			cur := ring.Current()
			if (cur == prev) != step.sameKeys {
				t.Fatalf("key set replaced = %v, want %v", cur != prev, !step.sameKeys)
			}
			prev = cur
			_, err := s.Verify(before, tokens.Access)
			if (err == nil) != step.oldVerifies {
				t.Fatalf("old token verifies: %v (%v), want %v", err == nil, err, step.oldVerifies)
			}
			if len(logged) != step.logs {
				t.Fatalf("logged %d lines, want %d: %q", len(logged), step.logs, logged)
			}
			for _, line := range logged {
				if strings.Contains(line, testSecret) || strings.Contains(line, "short") && !strings.Contains(line, "bytes") {
					t.Fatalf("log leaks key material: %s", line)
				}
			}
		})
	}
}

func TestKeyRingErrors(t *testing.T) {
	tests := []struct {
		desc    string
		specs   []tokens.KeySpec
		wantErr string
	}{
		{desc: "none", wantErr: "keys: at least one signing key"},
		{desc: "second key bad", specs: []tokens.KeySpec{{ID: "a", Algorithm: "HS256", Secret: testSecret}, {ID: "b", Algorithm: "HS256", Secret: "x"}}, wantErr: "keys[1].secret:"},
		{desc: "missing file", specs: []tokens.KeySpec{{ID: "a", Algorithm: "RS256", PrivateKeyFile: "/nonexistent.pem"}}, wantErr: "keys[0].privateKeyFile:"},
	}
	for _, test := range tests {
		t.Run(test.desc, func(t *testing.T) {
			_, err := tokens.NewKeyRing(test.specs, time.Second)
			if err == nil || !strings.Contains(err.Error(), test.wantErr) {
				t.Fatalf("err = %v, want %q", err, test.wantErr)
			}
		})
	}
}

// TestRotation: tokens signed by a key that became verify-only still pass;
// once the key is gone they fail with ErrUnknownKey.
func TestRotation(t *testing.T) {
	c := &clock{now: time.Unix(1_800_000_000, 0)}
	oldKey := tokens.KeySpec{ID: "2026-01", Algorithm: "ES256", PrivateKeyFile: "../testdata/keys/ec256.pem"}
	newKey := tokens.KeySpec{ID: "2026-02", Algorithm: "EdDSA", PrivateKeyFile: "../testdata/keys/ed25519.pem"}
	service := func(specs ...tokens.KeySpec) *tokens.Service {
		ring, err := tokens.NewKeyRing(specs, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		s, err := tokens.NewService(tokens.Options{Keys: ring, AccessLifetime: time.Hour, RefreshLifetime: time.Hour, Now: c.Now})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	before := service(oldKey)
	old, _, err := before.Issue(aliceClaims(tokens.Access))
	if err != nil {
		t.Fatal(err)
	}
	retired := oldKey
	retired.VerifyOnly = true
	during := service(newKey, retired)
	fresh, _, err := during.Issue(aliceClaims(tokens.Access))
	if err != nil {
		t.Fatal(err)
	}
	after := service(newKey)
	tests := []struct {
		desc  string
		s     *tokens.Service
		token string
		err   error
	}{
		{desc: "old token, old key signing", s: before, token: old},
		{desc: "old token, old key verify-only", s: during, token: old},
		{desc: "new token during rotation", s: during, token: fresh},
		{desc: "new token after rotation", s: after, token: fresh},
		{desc: "old token after the old key is removed", s: after, token: old, err: tokens.ErrUnknownKey},
		{desc: "new token on a gateway without the new key", s: before, token: fresh, err: tokens.ErrUnknownKey},
	}
	for _, test := range tests {
		t.Run(test.desc, func(t *testing.T) {
			if _, err := test.s.Verify(test.token, tokens.Access); !errors.Is(err, test.err) {
				t.Fatalf("Verify = %v, want %v", err, test.err)
			}
		})
	}
	if header := decodeSegment(t, fresh, 0); !strings.Contains(header, `"kid":"2026-02"`) {
		t.Fatalf("new tokens must be signed by the active key: %s", header)
	}
}

func TestJWKS(t *testing.T) {
	keys := []*tokens.Key{
		mustKey(t, tokens.KeySpec{ID: "rs", Algorithm: "RS256", PrivateKeyFile: "../testdata/keys/rsa2048.pem"}),
		mustKey(t, tokens.KeySpec{ID: "es", Algorithm: "ES256", PublicKeyFile: "../testdata/keys/ec256.pub.pem", VerifyOnly: true}),
		mustKey(t, tokens.KeySpec{ID: "ed", Algorithm: "EdDSA", PublicKeyFile: "../testdata/keys/ed25519.pub.pem", VerifyOnly: true}),
		mustKey(t, tokens.KeySpec{ID: "hs", Algorithm: "HS256", Secret: testSecret, VerifyOnly: true}),
	}
	ks, err := tokens.NewKeySet(keys)
	if err != nil {
		t.Fatal(err)
	}
	body, n, err := ks.JWKS()
	if err != nil || n != 3 {
		t.Fatalf("JWKS: %d keys, %v", n, err)
	}
	if strings.Contains(string(body), testSecret) || strings.Contains(string(body), `"hs"`) || strings.Contains(string(body), `"d"`) {
		t.Fatalf("JWKS publishes a secret or a private part: %s", body)
	}
	var set struct {
		Keys []map[string]string `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil {
		t.Fatal(err)
	}
	want := []struct{ kid, kty, alg, crv string }{
		{"rs", "RSA", "RS256", ""}, {"es", "EC", "ES256", "P-256"}, {"ed", "OKP", "EdDSA", "Ed25519"},
	}
	if len(set.Keys) != len(want) {
		t.Fatalf("keys = %d: %s", len(set.Keys), body)
	}
	for i, w := range want {
		k := set.Keys[i]
		if k["kid"] != w.kid || k["kty"] != w.kty || k["alg"] != w.alg || k["crv"] != w.crv || k["use"] != "sig" {
			t.Errorf("key %d = %v, want %+v", i, k, w)
		}
	}
	if set.Keys[0]["e"] != "AQAB" || len(set.Keys[0]["n"]) != 342 {
		t.Errorf("RSA key: e=%s, len(n)=%d", set.Keys[0]["e"], len(set.Keys[0]["n"]))
	}
	if len(set.Keys[1]["x"]) != 43 || len(set.Keys[1]["y"]) != 43 || len(set.Keys[2]["x"]) != 43 {
		t.Errorf("EC/OKP coordinates have the wrong size: %s", body)
	}
	hsOnly, _ := tokens.NewKeySet([]*tokens.Key{hsKey(t, "hs")})
	if _, n, _ := hsOnly.JWKS(); n != 0 {
		t.Fatal("symmetric keys must never be published")
	}
}

// TestKeyRingNextCheck: what is derived from the key set (the gate's
// decision memo) may be reused until NextCheck, and not beyond the check
// interval; a ring without files never needs a check.
func TestKeyRingNextCheck(t *testing.T) {
	file := filepath.Join(t.TempDir(), "secret")
	writeFile(t, file, testSecret, time.Now().Add(-time.Hour))
	tests := []struct {
		desc string
		spec tokens.KeySpec
		zero bool
	}{
		{desc: "inline secret", spec: tokens.KeySpec{ID: "k1", Algorithm: "HS256", Secret: testSecret}, zero: true},
		{desc: "secret file", spec: tokens.KeySpec{ID: "k1", Algorithm: "HS256", SecretFile: file}},
	}
	for _, test := range tests {
		t.Run(test.desc, func(t *testing.T) {
			before := time.Now()
			ring, err := tokens.NewKeyRing([]tokens.KeySpec{test.spec}, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			next := ring.NextCheck()
			if test.zero {
				if !next.IsZero() {
					t.Fatalf("NextCheck = %v, want the zero time", next)
				}
				return
			}
			if next.Before(before) || next.After(time.Now().Add(time.Minute)) {
				t.Fatalf("NextCheck = %v, want within a minute from %v", next, before)
			}
		})
	}
}
