package interp_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestEmptyActionsThroughTraefikDecoding: an inline user's `actions: []`,
// decoded from YAML as Traefik's file provider and createConfig do, reaches
// the plugin as an empty list (not as absent) and so grants no action,
// while a user without the key keeps the default client set.
func TestEmptyActionsThroughTraefikDecoding(t *testing.T) {
	p := loadPlugin(t)
	h := mustBuild(t, p, strings.Replace(goodDynamic, "          keys:", benchDynamic, 1)+`              deviceTypeIds: "*"
            - id: 3
              login: carol
              passwordHash: "`+bobHash+`"
              actions: []
              networkIds: "1"
              deviceTypeIds: "*"
`)
	for _, test := range []struct {
		login string
		code  int
	}{{"bob", http.StatusOK}, {"carol", http.StatusForbidden}} {
		res := do(t, h, http.MethodPost, "/token", fmt.Sprintf(`{"login":%q,"password":"bob-pass"}`, test.login), nil)
		if res.code != http.StatusCreated {
			t.Fatalf("login %s: %s", test.login, res)
		}
		token := stringField(t, res, "accessToken")
		res = do(t, h, http.MethodGet, "/device/d1", "", map[string]string{"Authorization": "Bearer " + token})
		if res.code != test.code {
			t.Errorf("%s (actions %s) GET /device/d1: want %d, got %s", test.login,
				map[bool]string{true: "absent", false: "[]"}[test.login == "bob"], test.code, res)
		}
	}
}
