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

	"github.com/tokengate/tokengate/internal/testclock"
	"github.com/tokengate/tokengate/tokens"
)

func writeFile(t testing.TB, path, content string, mtime time.Time) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, mtime, mtime); err != nil {
		t.Fatal(err)
	}
}

// TestKeyRingReload: the key files are re-read when they change, once the
// check interval has passed on the ring's clock; a file that cannot be used
// keeps the last good keys, and each problem is logged once.
func TestKeyRingReload(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "secret")
	old := time.Now().Add(-time.Hour)
	writeFile(t, file, testSecret, old)
	ring, err := tokens.NewKeyRing([]tokens.KeySpec{{ID: "k1", Algorithm: "HS256", SecretFile: file}}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	var logged []string
	ring.Logf = func(format string, args ...any) { logged = append(logged, fmt.Sprintf(format, args...)) }
	reloads := 0
	ring.OnReload = func(keys int) { reloads++ }
	if !ring.Reloads() {
		t.Fatal("a ring with a key file reloads")
	}
	// One clock for the ring's checks and the tokens' lifetimes.
	c := testclock.New(time.Now())
	ring.SetClock(c.Now)
	s, err := tokens.NewService(tokens.Options{Keys: ring, Issuer: "tokengate", AccessLifetime: time.Hour, RefreshLifetime: time.Hour, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	before, _, err := s.Issue(aliceClaims(tokens.Access))
	if err != nil {
		t.Fatal(err)
	}
	first := ring.Current()

	const (
		keep   = "keep"   // leave the file alone
		remove = "remove" // remove the file
	)
	steps := []struct {
		desc        string
		content     string // or keep, or remove
		mtime       time.Duration
		advance     time.Duration // the clock moves this much first
		oldVerifies bool
		sameKeys    bool
		logs        int // lines logged so far
		reloads     int // key sets swapped in so far
	}{
		{desc: "unchanged", content: testSecret, advance: time.Minute, oldVerifies: true, sameKeys: true},
		{desc: "secret rotated, check not due", content: strings.Repeat("n", 40), mtime: time.Minute, advance: time.Minute - time.Nanosecond, oldVerifies: true, sameKeys: true},
		{desc: "check due: rotated secret in force", content: keep, advance: time.Nanosecond, oldVerifies: false, reloads: 1},
		{desc: "file becomes invalid: last good keys stay", content: "short", mtime: 2 * time.Minute, advance: time.Minute, oldVerifies: false, sameKeys: true, logs: 1, reloads: 1},
		{desc: "touched, same problem: logged once", content: "short", mtime: 3 * time.Minute, advance: time.Minute, oldVerifies: false, sameKeys: true, logs: 1, reloads: 1},
		{desc: "file removed: last good keys stay", content: remove, advance: time.Minute, oldVerifies: false, sameKeys: true, logs: 2, reloads: 1},
		{desc: "still removed: nothing new", content: keep, advance: time.Minute, oldVerifies: false, sameKeys: true, logs: 2, reloads: 1},
		{desc: "old secret back", content: testSecret, mtime: 4 * time.Minute, advance: time.Minute, oldVerifies: true, logs: 2, reloads: 2},
	}
	prev := first
	for _, step := range steps {
		t.Run(step.desc, func(t *testing.T) {
			switch step.content {
			case keep:
			case remove:
				if err := os.Remove(file); err != nil {
					t.Fatal(err)
				}
			default:
				writeFile(t, file, step.content, old.Add(step.mtime))
			}
			c.Add(step.advance)
			cur := ring.Current()
			if (cur == prev) != step.sameKeys {
				t.Fatalf("key set replaced = %v, want %v", cur != prev, !step.sameKeys)
			}
			prev = cur
			if want := c.Now().Add(time.Minute); step.advance == time.Minute && !ring.NextCheck().Equal(want) {
				t.Errorf("NextCheck = %v, want a minute after the check, %v", ring.NextCheck(), want)
			}
			_, err := s.Verify(before, tokens.Access)
			if (err == nil) != step.oldVerifies {
				t.Fatalf("old token verifies: %v (%v), want %v", err == nil, err, step.oldVerifies)
			}
			if len(logged) != step.logs {
				t.Fatalf("logged %d lines, want %d: %q", len(logged), step.logs, logged)
			}
			if reloads != step.reloads {
				t.Fatalf("OnReload told of %d reloads, want %d", reloads, step.reloads)
			}
			for _, line := range logged {
				if !strings.HasPrefix(line, "key files changed but cannot be loaded, keeping the previous keys: keys[0].secretFile: ") {
					t.Errorf("log line %q", line)
				}
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
	c := testclock.New(time.Unix(1_800_000_000, 0))
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
				ring.SetClock(time.Now) // no file: no use for a clock
				if !next.IsZero() || !ring.NextCheck().IsZero() {
					t.Fatalf("NextCheck = %v, want the zero time", next)
				}
				return
			}
			if next.Before(before) || next.After(time.Now().Add(time.Minute)) {
				t.Fatalf("NextCheck = %v, want within a minute from %v", next, before)
			}
			c := testclock.New(time.Unix(1_800_000_000, 0))
			ring.SetClock(c.Now)
			if next := ring.NextCheck(); !next.Equal(c.Now().Add(time.Minute)) {
				t.Fatalf("NextCheck after SetClock = %v, want a minute after %v", next, c.Now())
			}
		})
	}
}

// BenchmarkKeyRingCurrent is the request path's key set lookup: Current
// checks the key files when due, so what it costs when not due is paid on
// every verification (NextCheck, which never checks, on every decision
// memoised). Under the interpreter: `scripts/yaegi-test.sh -run '^$' -bench
// KeyRingCurrent -benchmem -- github.com/tokengate/tokengate/tokens`.
func BenchmarkKeyRingCurrent(b *testing.B) {
	file := filepath.Join(b.TempDir(), "secret")
	writeFile(b, file, testSecret, time.Now().Add(-time.Hour))
	specs := []struct {
		name string
		spec tokens.KeySpec
	}{
		{name: "no file", spec: tokens.KeySpec{ID: "k1", Algorithm: "HS256", Secret: testSecret}},
		{name: "file not due", spec: tokens.KeySpec{ID: "k1", Algorithm: "HS256", SecretFile: file}},
	}
	ops := []struct {
		name string
		op   func(r *tokens.KeyRing) bool
	}{
		{name: "Current", op: func(r *tokens.KeyRing) bool { return r.Current() != nil }},
		{name: "NextCheck", op: func(r *tokens.KeyRing) bool { r.NextCheck(); return true }},
	}
	for _, o := range ops {
		for _, sp := range specs {
			b.Run(o.name+"/"+sp.name, func(b *testing.B) {
				ring, err := tokens.NewKeyRing([]tokens.KeySpec{sp.spec}, time.Hour)
				if err != nil {
					b.Fatal(err)
				}
				op := o.op
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if !op(ring) {
						b.Fatal(o.name, " failed")
					}
				}
			})
		}
	}
}
