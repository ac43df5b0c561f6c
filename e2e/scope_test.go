//go:build e2e

package e2e

// Scopes through Traefik: device routes checked against the device
// directory (the demo device API, and stubs that are slow, failing or
// counting), and request values bound by query and header rules.

import (
	"fmt"
	"net/http"
	"testing"
	"time"
)

// scopeGateway starts the demo device API and a Traefik in front of it:
//
//   - "api", PathPrefix(`/`) -> the device API, middleware "auth": the
//     devicehive preset with the device API as lookupURL, and three rules
//     of its own: /q binds the network from the query (networkId), /h from
//     the header X-Network-Id, /t the device type from the query
//     (deviceTypeId);
//   - "bindings", Path(`/q`) || Path(`/h`) || Path(`/t`) -> the echo
//     backend, same middleware options;
//   - "slow", Host(`slow.e2e`) -> echo, middleware "auth-slow": lookups go
//     to slow, which answers too late for deviceDirectory.timeout 200ms
//     (and 500 for device "broken", a redirect for "moved");
//   - "count", Host(`count.e2e`) -> echo, middleware "auth-count": lookups
//     go to count, which counts them.
func scopeGateway(t *testing.T, slow, count *lookupStub) *gateway {
	t.Helper()
	api := startDeviceAPI(t)
	rules := []any{
		M{"path": "/q", "action": "GetNetwork", "networkFrom": "query:networkId"},
		M{"path": "/h", "action": "GetNetwork", "networkFrom": "header:X-Network-Id"},
		M{"path": "/t", "action": "GetDeviceType", "deviceTypeFrom": "query:deviceTypeId"},
	}
	lookup := func(base string, extra M) M {
		dir := M{"lookupURL": base + "/device/{deviceId}"}
		for k, v := range extra {
			dir[k] = v
		}
		return pluginOptions(M{"rules": rules, "deviceDirectory": dir})
	}
	return startTraefik(t, dynamicConfig(
		[]route{
			{name: "api", rule: "PathPrefix(`/`)", middleware: "auth", service: "deviceapi"},
			{name: "bindings", rule: "Path(`/q`) || Path(`/h`) || Path(`/t`)", middleware: "auth", priority: 1000},
			{name: "slow", rule: "Host(`slow.e2e`)", middleware: "auth-slow", priority: 2000},
			{name: "count", rule: "Host(`count.e2e`)", middleware: "auth-count", priority: 2000},
		},
		map[string]M{
			"auth":       lookup(api, nil),
			"auth-slow":  lookup(slow.URL, M{"timeout": "200ms"}),
			"auth-count": lookup(count.URL, nil),
		},
		map[string]string{"deviceapi": api},
	))
}

// scopeStubs are the lookup stubs of scopeGateway.
func scopeStubs(t *testing.T) (slow, count *lookupStub) {
	slow = startLookupStub(t, map[string]string{
		"d1":     `{"id":"d1","networkId":1,"deviceTypeId":10}`,
		"broken": "status:500",
		"moved":  "status:302",
	}, 0)
	slow.slowIDs = map[string]bool{"d1": true}
	slow.delay = time.Second
	count = startLookupStub(t, map[string]string{
		"d1": `{"id":"d1","networkId":1,"deviceTypeId":10}`,
	}, 0)
	return slow, count
}

// TestScopeDeviceDirectory: device routes name no network; the gate asks
// the device API which network and device type each device belongs to.
func TestScopeDeviceDirectory(t *testing.T) {
	slow, count := scopeStubs(t)
	g := scopeGateway(t, slow, count)
	tokens := map[string]string{}
	for _, u := range []string{"admin", "alice", "bob"} {
		tokens[u], _ = g.login(t, u)
	}
	tests := []struct {
		user, method, path string
		code               int
	}{
		// alice: networks 1 and 2, every device type.
		{"alice", http.MethodGet, "/device/d1", 200},
		{"alice", http.MethodGet, "/device/d2", 200},
		{"alice", http.MethodGet, "/device/d3", 403},
		{"alice", http.MethodPost, "/device/d2/notification", 201},
		{"alice", http.MethodGet, "/device/d2/notification/1", 200}, // the one just posted
		{"alice", http.MethodPost, "/device/d3/notification", 403},
		// bob: network 3, device type 10.
		{"bob", http.MethodGet, "/device/d1", 403},
		{"bob", http.MethodGet, "/device/d2", 403},
		{"bob", http.MethodGet, "/device/d3", 200},
		{"bob", http.MethodPost, "/device/d3/command", 201},
		{"bob", http.MethodGet, "/device/d1/command", 403},
		// admin: everything.
		{"admin", http.MethodGet, "/device/d3", 200},
		// Unknown devices: the directory is sure they do not exist.
		{"alice", http.MethodGet, "/device/d9", 404},
		{"bob", http.MethodGet, "/device/nope/notification", 404},
		{"admin", http.MethodGet, "/device/d9", 404},
		// Again: found and unknown devices now come from the cache.
		{"alice", http.MethodGet, "/device/d1", 200},
		{"admin", http.MethodGet, "/device/d1", 200},
		{"bob", http.MethodGet, "/device/d1", 403},
		{"alice", http.MethodGet, "/device/d9", 404},
	}
	for _, test := range tests {
		t.Run(fmt.Sprintf("%s %s %s", test.user, test.method, test.path), func(t *testing.T) {
			body := ""
			if test.method == http.MethodPost {
				body = `{"notification":"temperature","command":"reboot","parameters":{"value":21.5}}`
			}
			r := g.do(t, test.method, test.path, body, bearer(tokens[test.user])...)
			switch test.code {
			case http.StatusOK, http.StatusCreated:
				expectStatus(t, test.method+" "+test.path, r, test.code)
				// The device API echoes the identity it was given.
				if id, _ := r.json["identity"].(map[string]any); id == nil || id["X-Auth-Login"] != test.user {
					t.Errorf("the device API saw identity %v, want login %s: %s", r.json["identity"], test.user, r)
				}
			case http.StatusNotFound:
				expectRefused(t, test.method+" "+test.path, r, test.code, "Device not found")
			default:
				expectRefused(t, test.method+" "+test.path, r, test.code, "Access is denied")
			}
		})
	}
}

// TestScopeLookupFailures: a directory that cannot answer is a 503, never
// a pass, and the failure is not cached.
func TestScopeLookupFailures(t *testing.T) {
	slow, count := scopeStubs(t)
	g := scopeGateway(t, slow, count)
	admin, _ := g.login(t, "admin")
	onSlow := append([]string{"Host", "slow.e2e"}, bearer(admin)...)
	for _, test := range []struct{ desc, device string }{
		{"lookup slower than deviceDirectory.timeout 200ms", "d1"},
		{"lookup answers 500", "broken"},
		{"lookup answers a redirect", "moved"},
	} {
		t.Run(test.desc, func(t *testing.T) {
			for attempt := 1; attempt <= 2; attempt++ {
				start := time.Now()
				r := g.do(t, http.MethodGet, "/device/"+test.device, "", onSlow...)
				took := time.Since(start)
				expectRefused(t, fmt.Sprintf("attempt %d: GET /device/%s", attempt, test.device), r,
					http.StatusServiceUnavailable, "device directory is unavailable, try again later")
				if took > 900*time.Millisecond {
					t.Errorf("attempt %d: took %v: the 200ms lookup timeout was not applied", attempt, took)
				}
			}
			if n := slow.count(test.device); n != 2 {
				t.Errorf("the directory asked %d times for %s, want 2 (failures are never cached)", n, test.device)
			}
		})
	}
}

// TestScopeDirectoryCache: a device looked up once is not looked up again
// for other tokens and paths, and neither is an unknown one.
func TestScopeDirectoryCache(t *testing.T) {
	slow, count := scopeStubs(t)
	g := scopeGateway(t, slow, count)
	alice, _ := g.login(t, "alice")
	admin, _ := g.login(t, "admin")
	bob, _ := g.login(t, "bob")
	onCount := func(token string) []string { return append([]string{"Host", "count.e2e"}, bearer(token)...) }
	steps := []struct {
		desc, token, path string
		code              int
		lookups           int // of the device so far
	}{
		{"alice, d1", alice, "/device/d1", 200, 1},
		{"alice, d1 again", alice, "/device/d1", 200, 1},
		{"admin, d1 (another token)", admin, "/device/d1", 200, 1},
		{"alice, d1 notifications (another route)", alice, "/device/d1/notification", 200, 1},
		{"bob, d1 (cached, out of his scope)", bob, "/device/d1", 403, 1},
		{"alice, unknown d9", alice, "/device/d9", 404, 1},
		{"admin, unknown d9 again (negative cache)", admin, "/device/d9", 404, 1},
	}
	for _, s := range steps {
		r := g.do(t, http.MethodGet, s.path, "", onCount(s.token)...)
		if s.code == http.StatusOK {
			expectPass(t, s.desc, r)
		} else {
			expectRefused(t, s.desc, r, s.code, "")
		}
		device := "d1"
		if s.code == http.StatusNotFound {
			device = "d9"
		}
		if n := count.count(device); n != s.lookups {
			t.Errorf("%s: %d lookups of %s so far, want %d", s.desc, n, device, s.lookups)
		}
	}
}

// TestScopeBindings: rules that bind a network or device type from the
// query or a header. Such decisions depend on more than the request line,
// so an allowed request must not open the same line with another value.
func TestScopeBindings(t *testing.T) {
	slow, count := scopeStubs(t)
	g := scopeGateway(t, slow, count)
	tokens := map[string]string{}
	for _, u := range []string{"admin", "alice", "bob"} {
		tokens[u], _ = g.login(t, u)
	}
	tests := []struct {
		user, path string
		header     []string
		code       int
	}{
		{"alice", "/q?networkId=1", nil, 200},
		{"alice", "/q?networkId=2", nil, 200},
		{"alice", "/q?networkId=3", nil, 403},
		{"alice", "/q?networkId=1", nil, 200},
		{"alice", "/q?networkId=3", nil, 403}, // right after an allowed /q
		{"alice", "/q", nil, 403},             // no value: only * passes
		{"alice", "/q?networkId=", nil, 403},
		{"bob", "/q?networkId=3", nil, 200},
		{"bob", "/q?networkId=1", nil, 403},
		{"admin", "/q", nil, 200},
		{"admin", "/q?networkId=42", nil, 200},
		{"alice", "/h", []string{"X-Network-Id", "2"}, 200},
		{"alice", "/h", []string{"X-Network-Id", "3"}, 403}, // same request line as the allowed one
		{"alice", "/h", nil, 403},
		{"bob", "/h", []string{"X-Network-Id", "3"}, 200},
		{"bob", "/h", []string{"X-Network-Id", "2"}, 403},
		{"admin", "/h", nil, 200},
		{"bob", "/t?deviceTypeId=10", nil, 200},
		{"bob", "/t?deviceTypeId=20", nil, 403},
		{"alice", "/t?deviceTypeId=20", nil, 200}, // device types *
		{"alice", "/t", nil, 200},
	}
	for i, test := range tests {
		t.Run(fmt.Sprintf("%d %s %s %v", i, test.user, test.path, test.header), func(t *testing.T) {
			r := g.do(t, http.MethodGet, test.path, "", append(bearer(tokens[test.user]), test.header...)...)
			if test.code == http.StatusOK {
				expectPass(t, "GET "+test.path, r)
				return
			}
			expectRefused(t, "GET "+test.path, r, test.code, "Access is denied")
		})
	}
}
