package users_test

import (
	"strings"
	"testing"

	"github.com/tokengate/tokengate/users"
)

// TestMakeHashSaltLikeRounds: with the default rounds, MakeHash wrote a salt
// starting with "rounds=" right after "$6$", where ParseHash (and crypt(3))
// read it as the rounds parameter, so the hash did not parse (found by
// FuzzCryptHash). The default is now spelled out for such salts; the
// expected hashes are perl's crypt(3) with that setting.
func TestMakeHashSaltLikeRounds(t *testing.T) {
	tests := []struct {
		kind       byte
		salt, want string
	}{
		{'6', "rounds=5000", "$6$rounds=5000$rounds=5000$JZJjc53H.9TPZXCQJN7YgpejO6tbVXrmvVWdW1CIwUdWqEUDnYOE26vOysNWDmBdDau3AjYsiqhmJDmcmlYUh/"},
		{'5', "rounds=1000", "$5$rounds=5000$rounds=1000$EdU2ossaa9EawSG4JQMwP04D3ziZ7rvNgwq8ZTZOL27"},
		{'6', "rounds=", ""},
		{'6', "rounds=x$y", ""},
	}
	for _, test := range tests {
		t.Run(test.salt, func(t *testing.T) {
			made, err := users.MakeHash(test.kind, "pw", test.salt, 0)
			if err != nil {
				t.Fatal(err)
			}
			if test.want != "" && made != test.want {
				t.Fatalf("MakeHash = %q, want %q", made, test.want)
			}
			if !strings.HasPrefix(made, "$"+string(test.kind)+"$rounds=5000$rounds=") {
				t.Fatalf("MakeHash = %q: the default rounds are not spelled out", made)
			}
			h, err := users.ParseHash(made)
			if err != nil {
				t.Fatalf("ParseHash(%q): %v", made, err)
			}
			if !h.Verify("pw") || h.Verify("pw2") {
				t.Fatalf("%q does not verify exactly its password", made)
			}
		})
	}
	// Other salts keep the short form.
	made, err := users.MakeHash('6', "pw", "round=5000", 0)
	if err != nil || !strings.HasPrefix(made, "$6$round=5000$") {
		t.Fatalf("MakeHash = %q, %v", made, err)
	}
}
