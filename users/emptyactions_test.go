package users_test

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/tokengate/tokengate/internal/testclock"
	"github.com/tokengate/tokengate/permissions"
	"github.com/tokengate/tokengate/users"
)

// TestEmptyActionsGrantNone: a client's "actions": [] means no action, not
// the default client set (13 actions, ManageToken among them); absent or
// null still means the default set.
func TestEmptyActionsGrantNone(t *testing.T) {
	h := hashOf(t, "pw")
	s := newStore(t, []users.Spec{
		{ID: 1, Login: "empty", PasswordHash: h, Actions: []string{}},
		{ID: 2, Login: "absent", PasswordHash: h},
	}, "", 0)
	if u, _ := s.ByID(1); len(u.Actions) != 0 {
		t.Errorf("configured user with actions [] has %v, want none", permissions.Names(u.Actions))
	}
	if u, _ := s.ByID(2); fmt.Sprint(u.Actions) != fmt.Sprint(permissions.ClientActions()) {
		t.Errorf("configured user without actions has %v, want the default client set", permissions.Names(u.Actions))
	}

	path := filepath.Join(t.TempDir(), "users.json")
	user := func(id int64, login, actions string) string {
		return fmt.Sprintf(`{"id": %d, "login": %q, "passwordHash": %q%s}`, id, login, h, actions)
	}
	mtime := time.Now().Add(-time.Hour)
	writeFile(t, path, `{"users": [`+user(3, "viewer", `, "actions": ["GetDevice"]`)+`, `+
		user(4, "null", `, "actions": null`)+`]}`, mtime)
	fs := newStore(t, nil, path, time.Minute)
	clock := testclock.New(time.Now())
	fs.SetClock(clock.Now)
	if u, _ := fs.ByID(3); fmt.Sprint(permissions.Names(u.Actions)) != "[GetDevice]" {
		t.Fatalf("file user has %v, want [GetDevice]", permissions.Names(u.Actions))
	}
	if u, _ := fs.ByID(4); fmt.Sprint(u.Actions) != fmt.Sprint(permissions.ClientActions()) {
		t.Errorf("file user with actions null has %v, want the default client set", permissions.Names(u.Actions))
	}

	// The operator edits ["GetDevice"] to []: the next reload narrows the
	// user to nothing, never widens it to the default set.
	writeFile(t, path, `[`+user(3, "viewer", `, "actions": []`)+`]`, mtime.Add(time.Second))
	clock.Add(time.Minute)
	u, ok := fs.ByID(3)
	if !ok {
		t.Fatal("file user gone after the reload")
	}
	if len(u.Actions) != 0 {
		t.Errorf("file user edited to actions [] has %v, want none", permissions.Names(u.Actions))
	}
}
