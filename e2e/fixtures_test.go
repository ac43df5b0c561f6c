//go:build e2e

package e2e

import (
	"fmt"
	"strings"
)

// Test users. The hashes were made with
//
//	openssl passwd -6 -salt somesalt alice-pass
//	openssl passwd -6 -salt bobsalt bob-pass
const (
	testSecret = "tokengate-e2e-test-secret-0123456789abcdef"
	aliceHash  = "$6$somesalt$WNRn7BpyH2W5C1OZA59seXupviTT1XYJ3/wF/iEsmOf6d18NFkw7yKq2lZzeBaEe4aABGlDIb4Rn93lVy7HaW0"
	bobHash    = "$6$bobsalt$gZZna9vMclzbZE2d2Aw9fuSfmGww/5J5DIn7wgoVrNysLHDz4zPpniOhEw76siLmdEz5wXHU3TkrKF6BNKAWh1"
)

// gatewayYAML is a dynamic configuration with one router "api" that sends
// every path through the tokengate middleware "auth" to the echo backend.
// options are extra YAML lines for the plugin, indented as its options
// (10 spaces), e.g. "maxBodyBytes: 1024".
func gatewayYAML(options ...string) string {
	var extra strings.Builder
	for _, o := range options {
		extra.WriteString("          " + o + "\n")
	}
	return fmt.Sprintf(`http:
  routers:
    api:
      rule: "PathPrefix(%s)"
      entryPoints: [web]
      middlewares: [auth]
      service: echo
  middlewares:
    auth:
      plugin:
        tokengate:
          issuer: tokengate-e2e
%s          keys:
            - id: k1
              algorithm: HS256
              secret: %q
          users:
            - id: 1
              login: alice
              passwordHash: %q
              role: admin
            - id: 2
              login: bob
              passwordHash: %q
              role: client
              networkIds: "1,2"
`, "`/`", extra.String(), testSecret, aliceHash, bobHash)
}
