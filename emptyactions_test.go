package tokengate_test

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/tokengate/tokengate"
)

// TestEmptyActionsGrantNothing: a client user configured with "actions": []
// (users file or inline) holds no action: it may log in, but its token
// reaches no guarded route and mints nothing at /token/create. Before, an
// empty list gave the default client set, ManageToken included.
func TestEmptyActionsGrantNothing(t *testing.T) {
	file := filepath.Join(t.TempDir(), "users.json")
	users := `{"users": [{"id": 7, "login": "viewer", "passwordHash": "` + testHashes["alice"] + `",
		"actions": [], "networkIds": ["1"], "deviceTypeIds": ["*"]}]}`
	if err := os.WriteFile(file, []byte(users), 0o600); err != nil {
		t.Fatal(err)
	}
	fromFile := guardConfig()
	fromFile.UsersFile = file
	inline := guardConfig()
	inline.Users = append(inline.Users, tokengate.UserConfig{ID: 7, Login: "viewer", PasswordHash: testHashes["alice"],
		Actions: []string{}, NetworkIDs: []string{"1"}, DeviceTypeIDs: []string{"*"}})
	for _, tc := range []struct {
		name string
		cfg  *tokengate.Config
	}{{"users file", fromFile}, {"inline", inline}} {
		t.Run(tc.name, func(t *testing.T) {
			h, next := newHandler(t, tc.cfg)
			res := do(t, h, "POST", "/token", `{"login":"viewer","password":"alice-pass"}`)
			if res.code != http.StatusCreated {
				t.Fatalf("login: %d %s", res.code, res.raw)
			}
			access := res.str("accessToken")
			res = do(t, h, "POST", "/device/d1/command", `{}`, "Authorization", "Bearer "+access)
			if next.called || res.code != http.StatusForbidden {
				t.Errorf("user with \"actions\": [] at POST /device/d1/command: %d %s, want 403", res.code, res.raw)
			}
			res = do(t, h, "GET", "/device/d1", "", "Authorization", "Bearer "+access)
			if next.called || res.code != http.StatusForbidden {
				t.Errorf("user with \"actions\": [] at GET /device/d1: %d %s, want 403", res.code, res.raw)
			}
			res = do(t, h, "POST", "/token/create", `{"userId": 7}`, "Authorization", "Bearer "+access)
			if res.code != http.StatusForbidden {
				t.Errorf("user with \"actions\": [] at /token/create: %d %s, want 403", res.code, res.raw)
			}
		})
	}
}
