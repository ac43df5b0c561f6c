//go:build e2e

package e2e

// Tests of the routes tokengate guards (everything off the token paths).
// Later work on the route guard (permissions, scopes, identity headers, the
// token cache) adds its end-to-end tests here: a request with a valid access
// token reaching the echo backend, and what the backend then sees (reply.echo).

import (
	"net/http"
	"strings"
	"testing"
)

func TestGuardRequiresToken(t *testing.T) {
	g := startTraefik(t, gatewayYAML())

	login := g.post(t, "/token", `{"login":"alice","password":"alice-pass"}`)
	if login.code != http.StatusCreated {
		t.Fatalf("POST /token: want 201, got %s", login)
	}
	refresh := login.str(t, "refreshToken")

	tests := []struct {
		desc   string
		header []string
	}{
		{desc: "no token"},
		{desc: "not a bearer token", header: []string{"Authorization", "Basic YWxpY2U6YWxpY2UtcGFzcw=="}},
		{desc: "garbage bearer token", header: []string{"Authorization", "Bearer abc.def.ghi"}},
		{desc: "refresh token used as access token", header: []string{"Authorization", "Bearer " + refresh}},
	}
	for _, test := range tests {
		t.Run(test.desc, func(t *testing.T) {
			r := g.do(t, http.MethodGet, "/device/1", "", test.header...)
			if r.code != http.StatusUnauthorized {
				t.Fatalf("GET /device/1: want 401, got %s", r)
			}
			if r.header.Get("X-E2e-Echo") != "" {
				t.Errorf("the request reached the backend")
			}
			if got := r.header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") {
				t.Errorf("WWW-Authenticate: want Bearer ..., got %q", got)
			}
		})
	}
}
