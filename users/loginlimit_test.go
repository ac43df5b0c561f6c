package users_test

import (
	"strings"
	"testing"

	"github.com/tokengate/tokengate/users"
)

// TestLoginLengthLimit: a configured login may be MaxLoginBytes long, not
// longer, so the token service's refusal of longer logins never locks out
// a real user.
func TestLoginLengthLimit(t *testing.T) {
	h := hashOf(t, "pw")
	at := strings.Repeat("a", users.MaxLoginBytes)
	s := newStore(t, []users.Spec{{ID: 1, Login: at, PasswordHash: h}}, "", 0)
	if _, err := s.Authenticate(at, "pw"); err != nil {
		t.Errorf("%d-byte login: %v", users.MaxLoginBytes, err)
	}
	_, err := users.NewStore([]users.Spec{{ID: 1, Login: "alice", PasswordHash: h}, {ID: 2, Login: at + "a", PasswordHash: h}}, "", 0)
	if err == nil || !strings.Contains(err.Error(), "users[1].login: longer than 256 bytes") {
		t.Errorf("NewStore with a 257-byte login: %v, want users[1].login: longer than 256 bytes", err)
	}
}
