//go:build e2e

package e2e

import (
	"fmt"
	"net/http"
	"reflect"
	"testing"
)

// TestGuardUncached: a router without caches (cacheTTL 0s, where the
// middleware checks the common request in one frame, checkCommon, and
// every other through the guard) answers every request as a router with
// caches, of the same keys and users, does: the same status, and the same
// identity reaching the backend.
func TestGuardUncached(t *testing.T) {
	common := M{"audience": e2eAudience, "publicPaths": []string{"/healthz"}}
	g := startTraefik(t, dynamicConfig(
		[]route{
			{name: "api", rule: "PathPrefix(`/`)", middleware: "auth"},
			{name: "uncached", rule: "Host(`uncached.e2e`)", middleware: "auth-uncached", priority: 1000},
		},
		map[string]M{"auth": pluginOptions(common), "auth-uncached": pluginOptions(with(common, M{"cacheTTL": "0s"}))},
		nil,
	))
	alice, aliceRefresh := g.login(t, "alice")
	admin, _ := g.login(t, "admin")
	revoked, revokedRefresh := g.login(t, "bob")
	if r := g.revoke(t, fmt.Sprintf(`{"token":%q}`, revokedRefresh)); r.code != http.StatusOK {
		t.Fatalf("revoke: %s", r)
	}
	bob, _ := g.login(t, "bob")
	mint := g.post(t, "/token/create", `{"userId":2,"actions":["GetDevice"]}`, bearer(admin)...)
	if mint.code != http.StatusCreated {
		t.Fatalf("mint: %s", mint)
	}
	minted := mint.str(t, "accessToken")

	tests := []struct {
		desc         string
		method, path string
		header       []string
		code         int
	}{
		{"allowed", http.MethodGet, "/device/d1", bearer(alice), 200},
		{"allowed, client identity headers dropped", http.MethodGet, "/device/d3",
			append(bearer(bob), "X-Auth-Role", "admin", "X-Auth-Actor-Id", "1", "X_Auth_Login", "eve"), 200},
		{"allowed, poll narrowed", http.MethodGet, "/device/notification/poll?networkIds=3", bearer(bob), 200},
		{"allowed, minted token", http.MethodGet, "/device/d1", bearer(minted), 200},
		{"device out of scope", http.MethodGet, "/device/d3", bearer(alice), 403},
		{"action not granted", http.MethodPost, "/network", bearer(alice), 403},
		{"no rule", http.MethodGet, "/no/rule/here", bearer(alice), 403},
		{"forged signature", http.MethodGet, "/device/d1", bearer(tamper(alice)), 401},
		{"refresh token", http.MethodGet, "/device/d1", bearer(aliceRefresh), 401},
		{"revoked session", http.MethodGet, "/device/d1", bearer(revoked), 401},
		{"no token", http.MethodGet, "/device/d1", nil, 401},
		{"lower-case scheme", http.MethodGet, "/device/d1", []string{"Authorization", "bearer " + alice}, 200},
		{"two Authorization headers", http.MethodGet, "/device/d1", append(bearer(alice), bearer(alice)...), 400},
		{"public path", http.MethodGet, "/healthz", nil, 200},
	}
	for _, test := range tests {
		t.Run(test.desc, func(t *testing.T) {
			got := g.do(t, test.method, test.path, "", append([]string{"Host", "uncached.e2e"}, test.header...)...)
			want := g.do(t, test.method, test.path, "", test.header...)
			if got.code != test.code || want.code != test.code {
				t.Fatalf("uncached %s, cached %s; want %d from both", got, want, test.code)
			}
			if test.code != http.StatusOK {
				if string(got.body) != string(want.body) {
					t.Errorf("uncached answered %s, cached %s", got.body, want.body)
				}
				return
			}
			if ge, we := got.echo(t), want.echo(t); !reflect.DeepEqual(ge.Auth, we.Auth) || ge.URI != we.URI {
				t.Errorf("the backend saw %v %s uncached, %v %s cached", ge.Auth, ge.URI, we.Auth, we.URI)
			}
		})
	}
}
