package tokengate_test

import (
	"strings"
	"testing"
	"time"
)

func TestCreate(t *testing.T) {
	h, _ := newHandler(t, guardConfig())
	admin, adminRefresh := login(t, h, "admin")
	alice, _ := login(t, h, "alice")
	future := time.Now().UTC().Add(20 * time.Minute).Format("2006-01-02T15:04:05.000")
	tooFar := time.Now().UTC().Add(5000 * time.Hour).Format(time.RFC3339)
	narrow := `{"userId":2,"actions":["GetDevice",4],"networkIds":[1],"deviceTypeIds":["10"],"expiration":"` + future + `"}`

	// A narrow token for a caller without ManageToken.
	res := do(t, h, "POST", "/token/create", narrow, "Authorization", "Bearer "+admin)
	if res.code != 201 {
		t.Fatalf("mint: %d %s", res.code, res.raw)
	}
	noManage := res.str("accessToken")

	tests := []struct {
		desc    string
		path    string
		body    string
		token   string
		code    int
		message string
	}{
		{desc: "admin mints for alice", path: "/token/create", body: narrow, token: admin, code: 201},
		{desc: "defaults", path: "/token/create", body: `{"userId":3}`, token: admin, code: 201},
		{desc: "userId as string", path: "/token/create", body: `{"userId":"3"}`, token: admin, code: 201},
		{desc: "alice mints within her rights for herself", path: "/token/create", body: `{"userId":2,"actions":["GetDevice"],"networkIds":["2"]}`, token: alice, code: 201},
		{desc: "no token", path: "/token/create", body: narrow, code: 401, message: "token is missing"},
		{desc: "refresh token as caller", path: "/token/create", body: narrow, token: adminRefresh, code: 401, message: "wrong type"},
		{desc: "no ManageToken", path: "/token/create", body: narrow, token: noManage, code: 403, message: "Access is denied"},
		{desc: "unknown user", path: "/token/create", body: `{"userId":99}`, token: admin, code: 404, message: "User with id = 99 not found"},
		{desc: "locked user", path: "/token/create", body: `{"userId":4}`, token: admin, code: 403, message: "user is locked"},
		{desc: "disabled user", path: "/token/create", body: `{"userId":5}`, token: admin, code: 403, message: "user is disabled"},
		{desc: "missing userId", path: "/token/create", body: `{}`, token: admin, code: 400, message: "userId is required"},
		{desc: "bad userId", path: "/token/create", body: `{"userId":-1}`, token: admin, code: 400, message: "positive integer"},
		{desc: "client mints * for admin", path: "/token/create", body: `{"userId":1,"actions":["*"]}`, token: alice, code: 403, message: "needs ManageUser"},
		{desc: "admin mints more than the user has", path: "/token/create", body: `{"userId":2,"actions":["ManageUser"]}`, token: admin, code: 403, message: "action ManageUser"},
		{desc: "network beyond the user", path: "/token/create", body: `{"userId":2,"networkIds":["3"]}`, token: admin, code: 403, message: "networkIds 3"},
		{desc: "all networks for a scoped user", path: "/token/create", body: `{"userId":3,"networkIds":["*"]}`, token: admin, code: 403, message: "networkIds *"},
		{desc: "device type beyond the caller", path: "/token/create", body: `{"userId":2,"deviceTypeIds":["20"]}`, token: noManage, code: 403},
		{desc: "alice mints for bob's network", path: "/token/create", body: `{"userId":3,"networkIds":[3]}`, token: alice, code: 403, message: "needs ManageUser"},
		{desc: "unknown action", path: "/token/create", body: `{"userId":2,"actions":["GetDevice","Fly"]}`, token: admin, code: 400, message: "actions[1]: unknown action"},
		{desc: "actions not a list", path: "/token/create", body: `{"userId":2,"actions":"GetDevice"}`, token: admin, code: 400, message: "actions must be a list"},
		{desc: "expiration too far", path: "/token/create", body: `{"userId":2,"expiration":"` + tooFar + `"}`, token: admin, code: 403, message: "expiration exceeds"},
		{desc: "refresh expiration too far", path: "/token/create", body: `{"userId":2,"refreshExpiration":"` + tooFar + `"}`, token: admin, code: 403, message: "refreshExpiration exceeds"},
		{desc: "expiration past", path: "/token/create", body: `{"userId":2,"expiration":"2020-01-01T00:00:00.000"}`, token: admin, code: 400, message: "in the future"},
		{desc: "expiration garbage", path: "/token/create", body: `{"userId":2,"expiration":"tomorrow"}`, token: admin, code: 400, message: "must be a date"},
	}
	for _, test := range tests {
		t.Run(test.desc, func(t *testing.T) {
			var header []string
			if test.token != "" {
				header = []string{"Authorization", "Bearer " + test.token}
			}
			res := do(t, h, "POST", test.path, test.body, header...)
			if res.code != test.code {
				t.Fatalf("status = %d, want %d: %s", res.code, test.code, res.raw)
			}
			if test.code == 201 {
				if res.str("accessToken") == "" || res.str("refreshToken") == "" {
					t.Fatalf("tokens missing: %s", res.raw)
				}
				return
			}
			if !strings.Contains(res.str("message"), test.message) {
				t.Fatalf("message = %q, want %q", res.str("message"), test.message)
			}
		})
	}
}

// TestCreatedTokensStayNarrow: a minted token, and the access token its
// refresh token gives, reach only what was minted.
func TestCreatedTokensStayNarrow(t *testing.T) {
	h, _ := newHandler(t, guardConfig())
	admin, _ := login(t, h, "admin")
	res := do(t, h, "POST", "/token/create", `{"userId":2,"actions":["GetDevice"],"networkIds":["1"]}`, "Authorization", "Bearer "+admin)
	if res.code != 201 {
		t.Fatalf("mint: %d %s", res.code, res.raw)
	}
	minted := res.str("accessToken")
	res = do(t, h, "POST", "/token/refresh", `{"refreshToken":"`+res.str("refreshToken")+`"}`)
	if res.code != 201 {
		t.Fatalf("refresh: %d %s", res.code, res.raw)
	}
	refreshed := res.str("accessToken")
	for _, token := range []string{minted, refreshed} {
		for _, c := range []struct {
			method, path string
			code         int
		}{
			{"GET", "/device/d1", 418},
			{"GET", "/device/d2", 403},
			{"POST", "/device/d1/notification", 403},
			{"GET", "/network/1", 403},
		} {
			if got := doMulti(t, h, c.method, c.path, "Authorization", "Bearer "+token); got.code != c.code {
				t.Errorf("%s %s: %d, want %d", c.method, c.path, got.code, c.code)
			}
		}
	}
}

func TestCreateMessage(t *testing.T) {
	h, _ := newHandler(t, guardConfig())
	admin, _ := login(t, h, "admin")
	alice, _ := login(t, h, "alice")
	tests := []struct {
		desc  string
		path  string
		body  string
		token string
		code  int
	}{
		{desc: "at /token", path: "/token", body: `{"action":"token/create","requestId":"m1","payload":{"userId":2,"actions":["GetDevice"]}}`, token: admin, code: 200},
		{desc: "at /token/create", path: "/token/create", body: `{"action":"token/create","requestId":"m2","payload":{"userId":2}}`, token: admin, code: 200},
		{desc: "no payload", path: "/token", body: `{"action":"token/create","requestId":"m3"}`, token: admin, code: 400},
		{desc: "exceeds", path: "/token", body: `{"action":"token/create","requestId":"m4","payload":{"userId":1,"actions":["*"]}}`, token: alice, code: 403},
		{desc: "unknown user", path: "/token", body: `{"action":"token/create","requestId":"m5","payload":{"userId":42}}`, token: admin, code: 404},
		{desc: "login at /token/create", path: "/token/create", body: `{"action":"token","requestId":"m6","login":"alice","password":"alice-pass"}`, token: admin, code: 400},
	}
	for _, test := range tests {
		t.Run(test.desc, func(t *testing.T) {
			res := do(t, h, "POST", test.path, test.body, "Authorization", "Bearer "+test.token)
			if res.code != test.code {
				t.Fatalf("status = %d, want %d: %s", res.code, test.code, res.raw)
			}
			if res.str("action") != strings.Split(strings.Split(test.body, `"action":"`)[1], `"`)[0] || res.str("requestId") == "" {
				t.Fatalf("action/requestId not echoed: %s", res.raw)
			}
			wantStatus := "success"
			if test.code != 200 {
				wantStatus = "error"
			}
			if res.str("status") != wantStatus {
				t.Fatalf("status field = %q: %s", res.str("status"), res.raw)
			}
			if test.code == 200 && (res.str("accessToken") == "" || res.str("refreshToken") == "") {
				t.Fatalf("tokens missing: %s", res.raw)
			}
		})
	}
}

// TestMintedTokenKeepsItsMinter: a minted token holding ManageToken mints
// for its own user in its minter's name, not its user's, so that the
// minter's being disabled ends both tokens, and the backend and the audit
// trail see who really minted them.
func TestMintedTokenKeepsItsMinter(t *testing.T) {
	const minterActions = `["GetDevice","ManageToken","ManageUser"]`
	file := newUsersFile(t)
	file.write(
		user("10", "minter", "active", minterActions, `["1","2"]`),
		user("11", "holder", "active", `["GetDevice","ManageToken"]`, `["1","2","3"]`),
	)
	cfg := sessionConfig(t)
	cfg.UsersFile = file.path
	cfg.UsersFileCheckInterval = "1s"
	h, next := newHandler(t, cfg)
	clock := withClock(t, h)
	res := do(t, h, "POST", "/token", `{"login":"minter","password":"alice-pass"}`)
	if res.code != 201 {
		t.Fatalf("login: %d %s", res.code, res.raw)
	}
	res = do(t, h, "POST", "/token/create", `{"userId":11}`, "Authorization", "Bearer "+res.str("accessToken"))
	if res.code != 201 {
		t.Fatalf("mint for holder: %d %s", res.code, res.raw)
	}
	forHolder := res.str("accessToken")
	res = do(t, h, "POST", "/token/create", `{"userId":11}`, "Authorization", "Bearer "+forHolder)
	if res.code != 201 {
		t.Fatalf("mint again with the minted token: %d %s", res.code, res.raw)
	}
	again, againRefresh := res.str("accessToken"), res.str("refreshToken")
	for _, token := range []string{forHolder, again, againRefresh} {
		if act, _ := payloadOf(t, token)["act"].(map[string]any); act["sub"] != "10" {
			t.Fatalf("act = %v, want the minter, 10", act)
		}
	}
	if got := doMulti(t, h, "GET", "/device/d1", "Authorization", "Bearer "+again); got.code != 418 || next.header.Get("X-Auth-Actor-Id") != "10" {
		t.Fatalf("guard: %d, actor header %q, want 418 and 10", got.code, next.header.Get("X-Auth-Actor-Id"))
	}

	file.write(
		user("10", "minter", "disabled", minterActions, `["1","2"]`),
		user("11", "holder", "active", `["GetDevice","ManageToken"]`, `["1","2","3"]`),
	)
	clock.Add(1100 * time.Millisecond)
	for _, token := range []string{forHolder, again} {
		if got := doMulti(t, h, "GET", "/device/d1", "Authorization", "Bearer "+token); got.code != 401 {
			t.Errorf("a token minted by a disabled minter: %d, want 401", got.code)
		}
	}
	if res := do(t, h, "POST", "/token/refresh", `{"refreshToken":"`+againRefresh+`"}`); res.code != 401 {
		t.Errorf("its refresh token: %d, want 401", res.code)
	}
}
