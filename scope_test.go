package tokengate_test

import (
	"bufio"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokengate/tokengate"
)

// TestScopesDemoUsers runs the devicehive preset for the demo users:
// alice (networks 1 and 2, every device type) and bob (network 3, device
// type 10), against the demo devices d1 (1, 10), d2 (2, 20), d3 (3, 10).
func TestScopesDemoUsers(t *testing.T) {
	h, _ := newHandler(t, guardConfig())
	alice, _ := login(t, h, "alice")
	bob, _ := login(t, h, "bob")
	admin, _ := login(t, h, "admin")
	tests := []struct {
		token  string
		user   string
		method string
		path   string
		code   int
	}{
		{alice, "alice", "GET", "/device/d1", 418},
		{alice, "alice", "GET", "/device/d2", 418},
		{alice, "alice", "GET", "/device/d3", 403},
		{alice, "alice", "POST", "/device/d1/notification", 418},
		{alice, "alice", "POST", "/device/d3/command", 403},
		{alice, "alice", "GET", "/device/d9", 404},
		{alice, "alice", "GET", "/network/1", 418},
		{alice, "alice", "GET", "/network/3", 403},
		{alice, "alice", "GET", "/devicetype/20", 418},
		{alice, "alice", "GET", "/device", 400}, // two networks, one networkId: see TestScopeNarrowing
		{alice, "alice", "GET", "/device?networkId=2", 418},
		{bob, "bob", "GET", "/device/d1", 403},
		{bob, "bob", "GET", "/device/d2", 403},
		{bob, "bob", "GET", "/device/d3", 418},
		{bob, "bob", "GET", "/device/d3/command/poll", 418},
		{bob, "bob", "GET", "/network/3", 418},
		{bob, "bob", "GET", "/devicetype/10", 418},
		{bob, "bob", "GET", "/devicetype/20", 403},
		{admin, "admin", "GET", "/device/d3", 418},
		{admin, "admin", "DELETE", "/network/7", 418},
		{admin, "admin", "GET", "/device/d9", 404},
	}
	for _, test := range tests {
		t.Run(test.user+" "+test.method+" "+test.path, func(t *testing.T) {
			res := doMulti(t, h, test.method, test.path, "Authorization", "Bearer "+test.token)
			if res.code != test.code {
				t.Fatalf("status = %d, want %d: %s", res.code, test.code, res.raw)
			}
		})
	}
}

func TestScopeBindings(t *testing.T) {
	cfg := guardConfig()
	cfg.Preset = ""
	cfg.Rules = []tokengate.RuleConfig{
		{Path: "/q/network", Action: "GetNetwork", NetworkFrom: "query:networkId"},
		{Path: "/h/network", Action: "GetNetwork", NetworkFrom: "header:X-Network-Id"},
		{Path: "/q/type", Action: "GetDeviceType", DeviceTypeFrom: "query:type"},
		{Path: "/q/device", Action: "GetDevice", DeviceFrom: "query:device"},
		{Path: "/both/{networkId}/{deviceTypeId}", Action: "GetDevice", NetworkFrom: "path:networkId", DeviceTypeFrom: "path:deviceTypeId"},
	}
	h, _ := newHandler(t, cfg)
	bob, _ := login(t, h, "bob")
	admin, _ := login(t, h, "admin")
	tests := []struct {
		desc   string
		token  string
		path   string
		header []string
		code   int
	}{
		{desc: "query network in scope", token: bob, path: "/q/network?networkId=3", code: 418},
		{desc: "query network out of scope", token: bob, path: "/q/network?networkId=1", code: 403},
		{desc: "query network missing", token: bob, path: "/q/network", code: 403},
		{desc: "query network missing, admin", token: admin, path: "/q/network", code: 418},
		{desc: "header network in scope", token: bob, path: "/h/network", header: []string{"X-Network-Id", "3"}, code: 418},
		{desc: "header network out of scope", token: bob, path: "/h/network", header: []string{"X-Network-Id", "2"}, code: 403},
		{desc: "query device type", token: bob, path: "/q/type?type=10", code: 418},
		{desc: "query device type out of scope", token: bob, path: "/q/type?type=20", code: 403},
		{desc: "query device", token: bob, path: "/q/device?device=d3", code: 418},
		{desc: "query device out of scope", token: bob, path: "/q/device?device=d1", code: 403},
		{desc: "query device missing", token: bob, path: "/q/device", code: 403},
		{desc: "query device unknown", token: bob, path: "/q/device?device=zz", code: 404},
		{desc: "two path bindings", token: bob, path: "/both/3/10", code: 418},
		{desc: "two path bindings, type out", token: bob, path: "/both/3/20", code: 403},
	}
	for _, test := range tests {
		t.Run(test.desc, func(t *testing.T) {
			header := append([]string{"Authorization", "Bearer " + test.token}, test.header...)
			res := doMulti(t, h, "GET", test.path, header...)
			if res.code != test.code {
				t.Fatalf("status = %d, want %d: %s", res.code, test.code, res.raw)
			}
		})
	}
}

// TestScopeNoListMeansNoAccess: a user without networkIds reaches no
// network-scoped route (fail closed).
func TestScopeNoListMeansNoAccess(t *testing.T) {
	cfg := guardConfig()
	cfg.Users[1].NetworkIDs = nil
	h, _ := newHandler(t, cfg)
	alice, _ := login(t, h, "alice")
	for _, path := range []string{"/network/1", "/device/d1"} {
		if res := doMulti(t, h, "GET", path, "Authorization", "Bearer "+alice); res.code != 403 {
			t.Fatalf("%s: status %d", path, res.code)
		}
	}
}

func TestDeviceDirectoryLookup(t *testing.T) {
	var calls int64
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		atomic.AddInt64(&calls, 1)
		if r.Header.Get("X-Service-Token") != "svc" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		switch r.URL.Path {
		case "/device/d1":
			_, _ = w.Write([]byte(`{"id":"d1","networkId":1,"deviceTypeId":10}`))
		case "/device/d3":
			_, _ = w.Write([]byte(`{"id":"d3","networkId":3,"deviceTypeId":10}`))
		case "/device/slow":
			time.Sleep(500 * time.Millisecond)
			_, _ = w.Write([]byte(`{"networkId":1,"deviceTypeId":10}`))
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	defer api.Close()
	cfg := guardConfig()
	cfg.DeviceDirectory.Devices = nil
	cfg.DeviceDirectory.LookupURL = api.URL + "/device/{deviceId}"
	cfg.DeviceDirectory.LookupHeader = "X-Service-Token"
	cfg.DeviceDirectory.LookupHeaderValue = "svc"
	cfg.DeviceDirectory.Timeout = "100ms"
	h, _ := newHandler(t, cfg)
	alice, _ := login(t, h, "alice")
	tests := []struct {
		desc  string
		path  string
		code  int
		calls int64 // lookups so far
	}{
		{desc: "looked up", path: "/device/d1", code: 418, calls: 1},
		{desc: "cache hit", path: "/device/d1/notification", code: 418, calls: 1},
		{desc: "out of scope", path: "/device/d3", code: 403, calls: 2},
		{desc: "unknown", path: "/device/d9", code: 404, calls: 3},
		{desc: "unknown, cached", path: "/device/d9", code: 404, calls: 3},
		{desc: "timeout", path: "/device/slow", code: 503, calls: 4},
	}
	for _, test := range tests {
		t.Run(test.desc, func(t *testing.T) {
			res := doMulti(t, h, "GET", test.path, "Authorization", "Bearer "+alice)
			if res.code != test.code {
				t.Fatalf("status = %d, want %d: %s", res.code, test.code, res.raw)
			}
			if got := atomic.LoadInt64(&calls); got != test.calls {
				t.Fatalf("lookups = %d, want %d", got, test.calls)
			}
			if test.code == 503 && !strings.Contains(res.str("message"), "unavailable") {
				t.Fatalf("message = %q", res.str("message"))
			}
		})
	}
}

// TestScopeQueryFragment: a '#' in the query of a route bound to the query
// is refused. Go's server keeps it in the query, and an RFC 3986 backend
// (Jetty, Express, WSGI) reads the rest as a fragment: the ids the gate
// added, or the device it checked, would never reach it.
func TestScopeQueryFragment(t *testing.T) {
	const poll = "/device/notification/poll"
	req, err := http.ReadRequest(bufio.NewReader(strings.NewReader("GET " + poll + "?x=# HTTP/1.1\r\nHost: gw\r\n\r\n")))
	if err != nil || req.URL.RawQuery != "x=#" {
		t.Fatalf("Go's server reads the request line otherwise: %v, query %q", err, req.URL.RawQuery)
	}
	h, next := newHandler(t, guardConfig())
	alice, _ := login(t, h, "alice")
	bob, _ := login(t, h, "bob")
	tests := []struct {
		token  string
		target string
	}{
		{alice, poll + "?x=#"}, // networkIds=1,2 would follow the '#'
		{alice, poll + "?deviceId=d1&x=#"},
		{bob, "/device?name=x#"}, // networkId=3&deviceTypeId=10
		{bob, "/device/command/poll?waitTimeout=0#"},
		{bob, "/device?networkId=3&name=%23"}, // an escaped '#' is data: control
	}
	for _, test := range tests {
		t.Run(test.target, func(t *testing.T) {
			*next = backend{}
			res := doMulti(t, h, "GET", test.target, "Authorization", "Bearer "+test.token)
			if !strings.Contains(test.target, "#") {
				if res.code != 418 {
					t.Fatalf("status = %d, want 418: %s", res.code, res.raw)
				}
				return
			}
			if res.code != 400 || next.called || !strings.Contains(res.str("message"), "'#'") {
				t.Fatalf("status = %d (backend called: %v, forwarded %q), want 400: %s", res.code, next.called, next.url, res.raw)
			}
		})
	}
}

// TestScopeBoundHeaderSpellings: a bound header is read in one spelling
// only. CGI, WSGI, PHP and nginx with underscores_in_headers read
// X_Network_Id as X-Network-Id, so another spelling beside it is a second
// value (the gate would check one, the backend might read the other), and
// alone it is a header the gate and a backend would disagree on.
func TestScopeBoundHeaderSpellings(t *testing.T) {
	cfg := guardConfig()
	cfg.Preset = ""
	cfg.Rules = []tokengate.RuleConfig{
		{Path: "/h/network", Action: "GetNetwork", NetworkFrom: "header:X-Network-Id"},
		{Path: "/h/type", Action: "GetDeviceType", DeviceTypeFrom: "header:x_device_type"}, // configured with '_'
	}
	h, next := newHandler(t, cfg)
	bob, _ := login(t, h, "bob") // network 3, device type 10
	tests := []struct {
		path   string
		header []string
		code   int
	}{
		{"/h/network", []string{"X-Network-Id", "3"}, 418},
		{"/h/network", []string{"X-Network-Id", "3", "X-Network-Id", "1"}, 400},
		{"/h/network", []string{"X-Network-Id", "3", "X_Network_Id", "1"}, 400},
		{"/h/network", []string{"X-Network-Id", "3", "x-network_id", "1"}, 400},
		{"/h/network", []string{"X_Network-Id", "1", "X-Network-Id", "3"}, 400},
		{"/h/network", []string{"X_Network_Id", "3"}, 400}, // alone: a Go backend would read no network
		{"/h/network", []string{"X-Network-Id", "3", "X-Network-Ids", "1"}, 418},
		{"/h/type", []string{"X_Device_Type", "10"}, 418},
		{"/h/type", []string{"X_Device_Type", "10", "X-Device-Type", "20"}, 400},
		{"/h/type", []string{"X-Device_Type", "10"}, 400},
	}
	for _, test := range tests {
		t.Run(test.path+" "+strings.Join(test.header, " "), func(t *testing.T) {
			*next = backend{}
			res := doMulti(t, h, "GET", test.path, append([]string{"Authorization", "Bearer " + bob}, test.header...)...)
			if res.code != test.code || (test.code != 418 && next.called) {
				t.Fatalf("status = %d, want %d (backend called: %v): %s", res.code, test.code, next.called, res.raw)
			}
		})
	}
}
