//go:build e2e

package e2e

// The black-box review's findings (issue #10), each through Traefik:
// impersonation at /token/create, tokens outliving their user or minter,
// second spellings of a token, duplicated bound values, identity headers
// spelled with "_", override headers, cookie tokens on unsafe methods,
// long passwords, and DeviceHive's GetDeviceState action.

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestNoImpersonation: alice (ManageToken, no ManageUser) mints only for
// herself; a minted token names its minter, which the backend receives in
// X-Auth-Actor-Id, whatever the client sent.
func TestNoImpersonation(t *testing.T) {
	g := startTraefik(t, oneRouter(pluginOptions(nil)))
	admin, _ := g.login(t, "admin")
	alice, _ := g.login(t, "alice")

	for _, body := range []string{`{"userId":1}`, `{"userId":3,"networkIds":["3"]}`, `{"userId":99}`} {
		r := g.post(t, "/token/create", body, bearer(alice)...)
		expectRefused(t, "alice mints "+body, r, http.StatusForbidden, "a token for another user needs ManageUser: without it, mint only for yourself")
	}
	tests := []struct {
		desc, caller, body, user, actor string
	}{
		{"alice for herself", alice, `{"userId":2,"actions":["GetDevice"]}`, "2", "2"},
		{"admin for alice", admin, `{"userId":2,"actions":["GetDevice"]}`, "2", "1"},
	}
	for _, test := range tests {
		t.Run(test.desc, func(t *testing.T) {
			mint := g.post(t, "/token/create", test.body, bearer(test.caller)...)
			expectStatus(t, "POST /token/create", mint, http.StatusCreated)
			access := mint.str(t, "accessToken")
			_, claims := decodeJWT(t, access)
			if act, _ := claims["act"].(map[string]any); act["sub"] != test.actor {
				t.Errorf("act claim: want sub %s, got %v", test.actor, claims["act"])
			}
			for i := 1; i <= 2; i++ { // verified, then from the memo
				r := g.do(t, http.MethodGet, "/device/d1", "", append(bearer(access), "X-Auth-Actor-Id", "666", "X-Auth-User-Id", "1")...)
				expectPass(t, fmt.Sprintf("request %d", i), r)
				if r.code != http.StatusOK {
					continue
				}
				if e := r.echo(t); e.Auth["X-Auth-User-Id"] != test.user || e.Auth["X-Auth-Actor-Id"] != test.actor || e.Auth["X-Auth-Login"] != "alice" {
					t.Errorf("request %d: backend saw %v", i, e.Auth)
				}
			}
		})
	}
	t.Run("a login's token has no actor header", func(t *testing.T) {
		r := g.do(t, http.MethodGet, "/device/d1", "", append(bearer(alice), "X-Auth-Actor-Id", "1")...)
		expectPass(t, "GET /device/d1", r)
		if e := r.echo(t); r.code == http.StatusOK {
			if v, ok := e.Auth["X-Auth-Actor-Id"]; ok {
				t.Errorf("backend saw X-Auth-Actor-Id %q", v)
			}
		}
	})
}

// TestTokensEndWithTheirUsers: through the users file, a disabled minter
// ends the tokens it minted (access and refresh), a disabled user every
// token of theirs, within the file's check interval.
func TestTokensEndWithTheirUsers(t *testing.T) {
	usersFile := filepath.Join(t.TempDir(), "users.json")
	minter := func(status string, networks ...string) M {
		return M{"id": 20, "login": "minter", "passwordHash": erinHash, "status": status,
			"actions": []string{"GetDevice", "ManageToken", "ManageUser"}, "networkIds": networks, "deviceTypeIds": []string{"*"}}
	}
	holder := func(status string) M {
		return M{"id": 21, "login": "holder", "passwordHash": frankHash, "status": status,
			"actions": []string{"GetDevice", "ManageToken"}, "networkIds": []string{"1", "2", "3"}, "deviceTypeIds": []string{"*"}}
	}
	file := func(users ...M) string {
		list := make([]any, 0, len(users))
		for _, u := range users {
			list = append(list, u)
		}
		return string(mustJSON(M{"users": list}))
	}
	mtime := time.Now().Add(-time.Hour)
	write := func(users ...M) {
		mtime = mtime.Add(time.Minute)
		replaceFile(t, usersFile, file(users...), mtime)
		time.Sleep(1100 * time.Millisecond) // the file is checked every second
	}
	write(minter("active", "1", "2"), holder("active"))
	g := startTraefik(t, oneRouter(pluginOptions(M{
		"users": nil, "usersFile": usersFile, "usersFileCheckInterval": "1s", "createMaxAccessLifetime": "4000h",
	})))
	loginAs := func(login, password string) (string, string) {
		r := g.post(t, "/token", fmt.Sprintf(`{"login":%q,"password":%q}`, login, password))
		expectStatus(t, "login "+login, r, http.StatusCreated)
		return r.str(t, "accessToken"), r.str(t, "refreshToken")
	}
	minterAccess, _ := loginAs("minter", "erin-pass")
	holderAccess, _ := loginAs("holder", "frank-pass")
	mint := g.post(t, "/token/create", `{"userId":21}`, bearer(minterAccess)...)
	expectStatus(t, "minter mints for holder", mint, http.StatusCreated)
	minted, mintedRefresh := mint.str(t, "accessToken"), mint.str(t, "refreshToken")
	long := g.post(t, "/token/create", fmt.Sprintf(`{"userId":21,"expiration":%q}`, time.Now().Add(3000*time.Hour).UTC().Format(time.RFC3339)), bearer(holderAccess)...)
	expectStatus(t, "holder mints a 3000h token for itself", long, http.StatusCreated)
	selfMinted := long.str(t, "accessToken")
	get := func(token string) *reply { return g.do(t, http.MethodGet, "/device/d1", "", bearer(token)...) }
	for i := 0; i < 2; i++ { // verified, then from the memo
		for _, token := range []string{minted, selfMinted, holderAccess} {
			expectPass(t, "before any change", get(token))
		}
	}

	write(minter("active", "1"), holder("active"))
	r := g.post(t, "/token/refresh", fmt.Sprintf(`{"refreshToken":%q}`, mintedRefresh))
	expectStatus(t, "refresh after the minter lost network 2", r, http.StatusCreated)
	if _, claims := decodeJWT(t, r.str(t, "accessToken")); fmt.Sprint(claims["payload"].(map[string]any)["n"]) != "[1]" {
		t.Errorf("refreshed networks: want [1] (the minter's today), got %v", claims["payload"])
	}

	write(minter("disabled", "1"), holder("active"))
	expectRefused(t, "refresh of a disabled minter's token", g.post(t, "/token/refresh", fmt.Sprintf(`{"refreshToken":%q}`, mintedRefresh)),
		http.StatusUnauthorized, "the user who minted the token is disabled")
	for i := 0; i < 2; i++ {
		expectRefused(t, "a disabled minter's access token", get(minted), http.StatusUnauthorized, "the user who minted the token is disabled")
		expectPass(t, "the holder's own token", get(holderAccess))
	}

	write(minter("disabled", "1"), holder("disabled"))
	for _, token := range []string{selfMinted, holderAccess} {
		r := get(token)
		expectRefused(t, "a disabled user's token", r, http.StatusUnauthorized, "user is disabled")
		if got := r.header.Get("WWW-Authenticate"); !strings.Contains(got, `error="invalid_token"`) || !strings.Contains(got, "user is disabled") {
			t.Errorf("WWW-Authenticate: %q", got)
		}
	}
	write(minter("disabled", "1"))
	expectRefused(t, "a removed user's token", get(selfMinted), http.StatusUnauthorized, "user no longer exists")
}

// TestOneSpellingPerToken: a token whose signature's last character has
// its unused bits flipped decodes to the same bytes; it is refused.
func TestOneSpellingPerToken(t *testing.T) {
	g := startTraefik(t, oneRouter(pluginOptions(nil)))
	alice, _ := g.login(t, "alice")
	expectPass(t, "the token as issued", g.do(t, http.MethodGet, "/device/d1", "", bearer(alice)...))
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	sig := alice[strings.LastIndexByte(alice, '.')+1:]
	unused := map[int]int{2: 4, 3: 2}[len(sig)%4]
	if unused == 0 {
		t.Fatalf("signature of %d characters has no unused bits", len(sig))
	}
	expectRefused(t, "a line break in the signature", g.post(t, "/token/refresh", fmt.Sprintf(`{"refreshToken":%q}`, alice[:len(alice)-4]+"\n"+alice[len(alice)-4:])),
		http.StatusUnauthorized, "")
	last := strings.IndexByte(alphabet, sig[len(sig)-1])
	for k := 1; k < 1<<unused; k++ {
		other := alice[:len(alice)-1] + string(alphabet[last^k])
		expectRefused(t, fmt.Sprintf("trailing bits ^%d", k), g.do(t, http.MethodGet, "/device/d1", "", bearer(other)...), http.StatusUnauthorized, "token is malformed")
	}
}

// TestRequestSmuggledPastTheRules: a bound value given twice, identity
// headers spelled with "_", override headers, a cookie token on POST
// without CSRF proof, an over-long password, GetDeviceState.
func TestRequestSmuggledPastTheRules(t *testing.T) {
	common := M{"rules": []any{
		M{"path": "/reports", "action": "GetNetwork", "networkFrom": "query:networkId"},
		M{"path": "/feeds", "action": "GetNetwork", "networkFrom": "header:X-Network"},
	}}
	g := startTraefik(t, dynamicConfig(
		[]route{
			{name: "api", rule: "PathPrefix(`/`)", middleware: "auth"},
			{name: "cookie", rule: "Host(`cookie.e2e`)", middleware: "auth-cookie", priority: 1000},
		},
		map[string]M{
			"auth":        pluginOptions(common),
			"auth-cookie": pluginOptions(with(common, M{"tokenCookie": "tg_token", "allowedOrigins": []string{"https://app.example"}})),
		},
		nil,
	))
	alice, _ := g.login(t, "alice")
	admin, _ := g.login(t, "admin")

	t.Run("bound values given twice", func(t *testing.T) {
		expectPass(t, "networkId once", g.do(t, http.MethodGet, "/reports?networkId=1", "", bearer(alice)...))
		expectRefused(t, "networkId twice", g.do(t, http.MethodGet, "/reports?networkId=1&networkId=3", "", bearer(alice)...), http.StatusBadRequest, "")
		expectPass(t, "X-Network once", g.do(t, http.MethodGet, "/feeds", "", append(bearer(alice), "X-Network", "1")...))
		expectRefused(t, "X-Network twice", g.do(t, http.MethodGet, "/feeds", "", append(bearer(alice), "X-Network", "1", "X-Network", "3")...), http.StatusBadRequest, "")
	})
	t.Run("identity and override headers in every spelling", func(t *testing.T) {
		sent := []string{"X_Auth_User_Id", "1", "X-Auth_Role", "admin", "X_AUTH_NETWORKS", "*", "X_Auth_Actor_Id", "1",
			"X-Http-Method-Override", "DELETE", "X_Http_Method", "DELETE", "X-Original-Url", "/user/1", "X_Rewrite_Url", "/user/1"}
		for i := 1; i <= 2; i++ {
			r := g.do(t, http.MethodGet, "/device/d1", "", append(bearer(alice), sent...)...)
			expectPass(t, "GET /device/d1", r)
			if r.code != http.StatusOK {
				continue
			}
			for name, value := range r.echo(t).Header {
				folded := strings.ToLower(strings.ReplaceAll(name, "_", "-"))
				if strings.Contains(name, "_") && strings.HasPrefix(folded, "x-auth-") ||
					strings.Contains(folded, "override") || strings.HasPrefix(folded, "x-original") || strings.HasPrefix(folded, "x-rewrite") ||
					folded == "x-http-method" {
					t.Errorf("request %d: backend saw %s: %s", i, name, value)
				}
			}
		}
	})
	t.Run("cookie token on unsafe methods", func(t *testing.T) {
		cookie := []string{"Host", "cookie.e2e", "Cookie", "tg_token=" + alice}
		body := `{"notification":"temperature"}`
		expectRefused(t, "POST without CSRF proof", g.post(t, "/device/d1/notification", body, cookie...), http.StatusForbidden,
			"a token from a cookie needs the CSRF header or an allowed Origin on this method")
		expectRefused(t, "POST from another origin", g.post(t, "/device/d1/notification", body, append(cookie, "Origin", "https://evil.example")...), http.StatusForbidden, "")
		expectPass(t, "POST with X-Requested-With", g.post(t, "/device/d1/notification", body, append(cookie, "X-Requested-With", "XMLHttpRequest")...))
		expectPass(t, "POST from an allowed origin", g.post(t, "/device/d1/notification", body, append(cookie, "Origin", "https://app.example")...))
		expectPass(t, "GET needs no proof", g.do(t, http.MethodGet, "/device/d1", "", cookie...))
	})
	t.Run("passwords over 256 bytes", func(t *testing.T) {
		answers := make([]string, 0, 2)
		for _, login := range []string{"alice", "nobody"} {
			r := g.post(t, "/token", fmt.Sprintf(`{"login":%q,"password":%q}`, login, strings.Repeat("x", 1024)))
			expectRefused(t, login, r, http.StatusBadRequest, "password is longer than 256 bytes")
			answers = append(answers, string(r.body))
		}
		if answers[0] != answers[1] {
			t.Errorf("known and unknown logins differ: %q vs %q", answers[0], answers[1])
		}
	})
	t.Run("GetDeviceState", func(t *testing.T) {
		r := g.post(t, "/token/create", `{"userId":2,"actions":["GetDeviceState"]}`, bearer(admin)...)
		expectStatus(t, "POST /token/create", r, http.StatusCreated)
		if r.code == http.StatusCreated {
			expectPass(t, "GET /device/d1 with it", g.do(t, http.MethodGet, "/device/d1", "", bearer(r.str(t, "accessToken"))...))
		}
	})
}
