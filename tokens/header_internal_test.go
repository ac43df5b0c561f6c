package tokens

import (
	"strings"
	"testing"
	"time"
)

// TestIssuedHeaderIsKnown: the tokens Issue writes carry exactly the header
// segment KeySet.byHeader maps to their key, so that Verify skips decoding
// it; a key id JSON escapes (<, &) must map the same way.
func TestIssuedHeaderIsKnown(t *testing.T) {
	for _, id := range []string{"k1", "key<&>\"2\""} {
		t.Run(id, func(t *testing.T) {
			k, err := ParseKey(KeySpec{ID: id, Algorithm: "HS256", Secret: strings.Repeat("s", 32)})
			if err != nil {
				t.Fatal(err)
			}
			ks, err := NewKeySet([]*Key{k})
			if err != nil {
				t.Fatal(err)
			}
			s, err := NewService(Options{Keys: ks, Issuer: "i", AccessLifetime: time.Minute, RefreshLifetime: time.Hour})
			if err != nil {
				t.Fatal(err)
			}
			token, _, err := s.Issue(Claims{Type: Access, UserID: 1})
			if err != nil {
				t.Fatal(err)
			}
			if ks.byHeader[strings.Split(token, ".")[0]] != k {
				t.Fatalf("header %q is not the key's known header", strings.Split(token, ".")[0])
			}
			if _, err := s.Verify(token, Access); err != nil {
				t.Fatal(err)
			}
		})
	}
}
