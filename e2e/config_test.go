//go:build e2e

package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestBrokenConfigIsDetected proves the harness sees a plugin that Traefik
// refused: Traefik keeps running, the route answers 404, and the only other
// trace is an ERR line in its log.
func TestBrokenConfigIsDetected(t *testing.T) {
	tests := []struct {
		desc    string
		yaml    string
		wantErr string // in the ERR line and the router's error
	}{
		{
			desc:    "HS256 secret shorter than 32 bytes",
			yaml:    brokenYAML("keys:\n            - id: k1\n              algorithm: HS256\n              secret: too-short"),
			wantErr: "secret",
		},
		{
			desc:    "option of the wrong type (a decode error in Traefik)",
			yaml:    brokenYAML("maxBodyBytes: lots\n          keys:\n            - id: k1\n              algorithm: HS256\n              secret: " + testSecret),
			wantErr: "maxBodyBytes",
		},
	}
	for _, test := range tests {
		t.Run(test.desc, func(t *testing.T) {
			g := startTraefik(t, test.yaml)
			g.expectErrors()

			r := g.post(t, "/token", `{"login":"alice","password":"alice-pass"}`)
			if r.code != http.StatusNotFound {
				t.Errorf("POST /token: want 404 from Traefik (router refused), got %s", r)
			}
			r = g.do(t, http.MethodGet, "/device/1", "")
			if r.code != http.StatusNotFound {
				t.Errorf("GET /device/1: want 404 from Traefik (router refused), got %s", r)
			}

			status, errs, found := g.routerStatus("api")
			if !found || status != "disabled" {
				t.Errorf("router api: want status disabled, got %q (found %v, errors %q)", status, found, errs)
			}
			if !containsFold(errs, test.wantErr) {
				t.Errorf("router api errors %q do not name %q", errs, test.wantErr)
			}

			lines := errLines(g.logPath)
			if len(lines) == 0 {
				t.Fatalf("errLines found no ERR line in %s", g.logPath)
			}
			if !containsFold(lines, test.wantErr) {
				t.Errorf("no ERR line names %q:\n%s", test.wantErr, strings.Join(lines, "\n"))
			}
			t.Logf("ERR line: %s", lines[0])
		})
	}
}

// TestCleanStartHasNoErrors is the other half of the detector: a good
// configuration logs no ERR line at all (the harness checks it on cleanup),
// and its router is enabled.
func TestCleanStartHasNoErrors(t *testing.T) {
	g := startTraefik(t, gatewayYAML())
	if status, errs, found := g.routerStatus("api"); !found || status != "enabled" {
		t.Errorf("router api: want status enabled, got %q (found %v, errors %q)", status, found, errs)
	}
	// The harness's own route reaches the echo backend untouched.
	if e := g.do(t, http.MethodGet, readyPath+"?x=1", "").echo(t); e.Path != readyPath || e.Query != "x=1" {
		t.Errorf("backend saw %+v", e)
	}
	if lines := errLines(g.logPath); len(lines) != 0 {
		t.Errorf("ERR lines on a clean start:\n%s", strings.Join(lines, "\n"))
	}
}

// brokenYAML is gatewayYAML with the plugin options replaced by options.
func brokenYAML(options string) string {
	return apiRouterYAML + fmt.Sprintf(`          %s
          users:
            - id: 1
              login: alice
              passwordHash: %q
`, options, aliceHash)
}

func containsFold(list []string, want string) bool {
	for _, s := range list {
		if strings.Contains(strings.ToLower(s), strings.ToLower(want)) {
			return true
		}
	}
	return false
}
