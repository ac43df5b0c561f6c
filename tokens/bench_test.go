package tokens_test

import (
	"testing"
	"time"

	"github.com/tokengate/tokengate/internal/testclock"
	"github.com/tokengate/tokengate/tokens"
)

// Sign and verify costs per algorithm. Run natively with
// `go test -bench . -run '^$' ./tokens` and under the interpreter with
// `scripts/yaegi-test.sh -bench . -run '^$'`; the README quotes both.

func benchSpecs() []tokens.KeySpec {
	return []tokens.KeySpec{
		{ID: "hs", Algorithm: "HS256", Secret: testSecret},
		{ID: "rs", Algorithm: "RS256", PrivateKeyFile: "../testdata/keys/rsa2048.pem"},
		{ID: "es", Algorithm: "ES256", PrivateKeyFile: "../testdata/keys/ec256.pem"},
		{ID: "ed", Algorithm: "EdDSA", PrivateKeyFile: "../testdata/keys/ed25519.pem"},
	}
}

func BenchmarkIssue(b *testing.B) {
	for _, spec := range benchSpecs() {
		b.Run(spec.Algorithm, func(b *testing.B) {
			s := newService(b, testclock.New(time.Now()), mustKey(b, spec))
			claims := aliceClaims(tokens.Access)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, _, err := s.Issue(claims); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkVerify(b *testing.B) {
	for _, spec := range benchSpecs() {
		b.Run(spec.Algorithm, func(b *testing.B) {
			s := newService(b, testclock.New(time.Now()), mustKey(b, spec))
			token, _, err := s.Issue(aliceClaims(tokens.Access))
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := s.Verify(token, tokens.Access); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
