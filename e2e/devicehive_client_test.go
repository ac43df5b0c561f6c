//go:build e2e

package e2e

// A DeviceHive client through the gate: the calls a DeviceHive client
// (devicehive-python's HTTP transport, say) makes, in its order, through
// real Traefik in front of the demo device API, and the scope hole of the
// poll routes (issue 15) closed by the devicehive preset.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// deviceHiveGateway starts the demo device API and a Traefik in front of
// it with the devicehive preset, the device API as the device directory
// and the demo users (pluginOptions):
//
//   - "api", PathPrefix(`/`) -> the device API, middleware "auth";
//   - "echo", Host(`echo.e2e`) -> the echo backend, the same middleware:
//     what the backend receives, query included.
func deviceHiveGateway(t *testing.T) *gateway {
	t.Helper()
	api := startDeviceAPI(t)
	return startTraefik(t, dynamicConfig(
		[]route{
			{name: "api", rule: "PathPrefix(`/`)", middleware: "auth", service: "deviceapi"},
			{name: "echo", rule: "Host(`echo.e2e`)", middleware: "auth", priority: 2000},
		},
		map[string]M{"auth": pluginOptions(M{"deviceDirectory": M{"lookupURL": api + "/device/{deviceId}"}})},
		map[string]string{"deviceapi": api},
	))
}

// jsonList decodes a JSON array answer (DeviceHive's lists and polls) into
// objects, failing the test unless the status is 200.
func jsonList(t *testing.T, what string, r *reply) []M {
	t.Helper()
	if r.code != http.StatusOK {
		t.Fatalf("%s: want 200, got %s", what, r)
	}
	var items []M
	if err := json.Unmarshal(r.body, &items); err != nil {
		t.Fatalf("%s: not a JSON array: %v: %s", what, err, r)
	}
	return items
}

// hasFields fails the test unless obj holds every field (null counts:
// DeviceHive writes unset fields as null).
func hasFields(t *testing.T, what string, obj M, fields ...string) {
	t.Helper()
	for _, f := range fields {
		if _, ok := obj[f]; !ok {
			t.Errorf("%s: no field %q in %v", what, f, obj)
		}
	}
}

// listedIDs returns the "id" of each object as a string.
func listedIDs(items []M) []string {
	out := make([]string, 0, len(items))
	for _, it := range items {
		out = append(out, fmt.Sprint(it["id"]))
	}
	return out
}

func listsID(items []M, id string) bool {
	for _, got := range listedIDs(items) {
		if got == id {
			return true
		}
	}
	return false
}

// TestDeviceHiveClientFlow drives, in order, what a DeviceHive client does:
// log in, read the server information (no token), the current user and a
// device, send and list notifications, send and update a command, poll
// with and without filters, refresh, mint a narrower token for itself at
// /token/create and use it.
func TestDeviceHiveClientFlow(t *testing.T) {
	g := deviceHiveGateway(t)

	// 1. Log in.
	access, refresh := g.login(t, "alice")
	auth := bearer(access)

	// 2. Server information: public, as in DeviceHive, with client-sent
	// identity headers removed; a token sent along is not verified.
	r := g.do(t, http.MethodGet, "/info", "")
	expectStatus(t, "GET /info without a token", r, http.StatusOK)
	hasFields(t, "GET /info", r.json, "apiVersion", "serverTimestamp", "restServerUrl", "webSocketServerUrl")
	start := r.str(t, "serverTimestamp") // where this client's polls start
	r = g.do(t, http.MethodGet, "/info", "", "X-Auth-Login", "admin", "X-Auth-Networks", "*", "Authorization", "Bearer not-a-token")
	expectStatus(t, "GET /info with forged identity headers", r, http.StatusOK)
	if id, _ := r.json["identity"].(M); id == nil || id["X-Auth-Login"] != nil || id["X-Auth-Networks"] != nil {
		t.Errorf("GET /info: the device API saw identity %v: forged headers must be removed", r.json["identity"])
	}
	expectStatus(t, "HEAD /info", g.do(t, http.MethodHead, "/info", ""), http.StatusOK)
	r = g.do(t, http.MethodGet, "/info/config/cluster", "")
	expectStatus(t, "GET /info/config/cluster", r, http.StatusOK)
	hasFields(t, "GET /info/config/cluster", r.json, "bootstrap.servers", "zookeeper.connect")
	expectRefused(t, "POST /info", g.post(t, "/info", `{}`), http.StatusUnauthorized, "token is missing")

	// 3. The current user and a device, in DeviceHive's shapes.
	r = g.do(t, http.MethodGet, "/user/current", "", auth...)
	expectStatus(t, "GET /user/current", r, http.StatusOK)
	hasFields(t, "GET /user/current", r.json, "id", "login", "role", "status", "lastLogin", "data", "introReviewed", "allDeviceTypesAvailable")
	if r.json["login"] != "alice" {
		t.Errorf("GET /user/current: login %v, want alice", r.json["login"])
	}
	r = g.do(t, http.MethodGet, "/device/d1", "", auth...)
	expectStatus(t, "GET /device/d1", r, http.StatusOK)
	hasFields(t, "GET /device/d1", r.json, "id", "name", "data", "networkId", "deviceTypeId", "isBlocked")
	if r.json["id"] != "d1" || r.json["networkId"] != float64(1) {
		t.Errorf("GET /device/d1: %s", r)
	}

	// 4. Send a notification and list it.
	r = g.post(t, "/device/d1/notification", `{"notification":"temperature","parameters":{"value":21.5}}`, auth...)
	expectStatus(t, "POST /device/d1/notification", r, http.StatusCreated)
	hasFields(t, "POST /device/d1/notification", r.json, "id", "timestamp")
	notificationID := fmt.Sprint(r.json["id"])
	notes := jsonList(t, "GET /device/d1/notification", g.do(t, http.MethodGet, "/device/d1/notification", "", auth...))
	if !listsID(notes, notificationID) {
		t.Fatalf("GET /device/d1/notification: %v lacks notification %s", listedIDs(notes), notificationID)
	}
	for _, n := range notes {
		hasFields(t, "a listed notification", n, "id", "notification", "deviceId", "networkId", "deviceTypeId", "timestamp", "parameters")
	}
	r = g.do(t, http.MethodGet, "/device/d1/notification/"+notificationID, "", auth...)
	expectStatus(t, "GET one notification", r, http.StatusOK)
	if r.json["notification"] != "temperature" {
		t.Errorf("GET one notification: %s", r)
	}
	// bob's device gets one too: alice's polls must never show it.
	bobAccess, _ := g.login(t, "bob")
	expectStatus(t, "bob: POST /device/d3/notification",
		g.post(t, "/device/d3/notification", `{"notification":"bob-only"}`, bearer(bobAccess)...), http.StatusCreated)

	// 5. Send a command and update it, as the device would.
	r = g.post(t, "/device/d1/command", `{"command":"reboot","parameters":{"delay":1}}`, auth...)
	expectStatus(t, "POST /device/d1/command", r, http.StatusCreated)
	hasFields(t, "POST /device/d1/command", r.json, "id", "timestamp", "lastUpdated", "userId")
	commandID := fmt.Sprint(r.json["id"])
	r = g.do(t, http.MethodPut, "/device/d1/command/"+commandID, `{"status":"done","result":{"ok":true}}`, auth...)
	expectStatus(t, "PUT /device/d1/command/"+commandID, r, http.StatusNoContent)
	r = g.do(t, http.MethodGet, "/device/d1/command/"+commandID, "", auth...)
	expectStatus(t, "GET the command", r, http.StatusOK)
	hasFields(t, "GET the command", r.json, "id", "command", "timestamp", "lastUpdated", "userId", "deviceId", "networkId", "deviceTypeId", "parameters", "lifetime", "status", "result")
	if r.json["status"] != "done" {
		t.Errorf("the updated command: %s", r)
	}

	// 6. Poll: per device, across devices with and without filters.
	since := "timestamp=" + url.QueryEscape(start) + "&waitTimeout=0"
	polls := []struct {
		path, want, notWant string
	}{
		{"/device/d1/notification/poll?" + since, notificationID, ""},
		{"/device/notification/poll?" + since, notificationID, "bob-only"},
		{"/device/notification/poll?networkIds=1&" + since, notificationID, ""},
		{"/device/notification/poll?networkIds=2&" + since, "", notificationID},
		{"/device/notification/poll?deviceId=d1&names=temperature&" + since, notificationID, ""},
		{"/device/notification/poll?networkIds=1,2&deviceTypeIds=10&waitTimeout=1&timestamp=" + url.QueryEscape(start), notificationID, ""},
		{"/device/command/poll?" + since, commandID, ""},
		{"/device/command/poll?deviceId=d1&" + since, commandID, ""},
		{"/device/d1/command/poll?" + since, commandID, ""},
	}
	for _, p := range polls {
		items := jsonList(t, "GET "+p.path, g.do(t, http.MethodGet, p.path, "", auth...))
		if p.want != "" && !listsID(items, p.want) {
			t.Errorf("GET %s: %v lacks %s", p.path, listedIDs(items), p.want)
		}
		for _, it := range items {
			if p.notWant != "" && (fmt.Sprint(it["id"]) == p.notWant || it["notification"] == p.notWant) {
				t.Errorf("GET %s: answered %v", p.path, it)
			}
			if it["networkId"] != float64(1) && it["networkId"] != float64(2) {
				t.Errorf("GET %s: a message of network %v reached alice", p.path, it["networkId"])
			}
		}
	}
	r = g.do(t, http.MethodGet, "/device/d1/command/"+commandID+"/poll?waitTimeout=0", "", auth...)
	expectStatus(t, "wait for the updated command", r, http.StatusOK)
	if r.json["status"] != "done" {
		t.Errorf("wait for the updated command: %s", r)
	}
	expectRefused(t, "alice polls network 3", g.do(t, http.MethodGet, "/device/notification/poll?networkIds=3&"+since, "", auth...),
		http.StatusForbidden, "Access is denied")

	// 7. Refresh, and go on with the new access token.
	r = g.post(t, "/token/refresh", fmt.Sprintf(`{"refreshToken":%q}`, refresh))
	expectStatus(t, "POST /token/refresh", r, http.StatusCreated)
	auth = bearer(r.str(t, "accessToken"))
	expectStatus(t, "GET /device/d1 with the refreshed token", g.do(t, http.MethodGet, "/device/d1", "", auth...), http.StatusOK)

	// 8. A narrower token for herself: reading, network 1 only.
	r = g.post(t, "/token/create", `{"userId":2,"actions":["GetDevice","GetDeviceNotification","GetDeviceCommand"],"networkIds":[1]}`, auth...)
	expectStatus(t, "POST /token/create", r, http.StatusCreated)
	narrow := bearer(r.str(t, "accessToken"))
	r.str(t, "refreshToken")
	expectStatus(t, "narrow token: GET /device/d1", g.do(t, http.MethodGet, "/device/d1", "", narrow...), http.StatusOK)
	expectRefused(t, "narrow token: GET /device/d2 (network 2)", g.do(t, http.MethodGet, "/device/d2", "", narrow...), http.StatusForbidden, "Access is denied")
	expectRefused(t, "narrow token: POST a notification", g.post(t, "/device/d1/notification", `{"notification":"x"}`, narrow...), http.StatusForbidden, "Access is denied")
	expectRefused(t, "narrow token: poll network 2", g.do(t, http.MethodGet, "/device/notification/poll?networkIds=2&"+since, "", narrow...), http.StatusForbidden, "Access is denied")
	items := jsonList(t, "narrow token: poll", g.do(t, http.MethodGet, "/device/notification/poll?"+since, "", narrow...))
	if !listsID(items, notificationID) {
		t.Errorf("narrow token: poll: %v lacks %s", listedIDs(items), notificationID)
	}
	// One network: the device list gets networkId=1 added, so it shows d1 only.
	devices := jsonList(t, "narrow token: GET /device", g.do(t, http.MethodGet, "/device", "", narrow...))
	if got := strings.Join(listedIDs(devices), ","); got != "d1" {
		t.Errorf("narrow token: GET /device answered devices %s, want d1", got)
	}
	for _, d := range devices {
		hasFields(t, "a listed device", d, "id", "name", "data", "networkId", "deviceTypeId", "isBlocked")
	}
	e := g.do(t, http.MethodGet, "/device/command/poll?waitTimeout=0", "", append([]string{"Host", "echo.e2e"}, narrow...)...).echo(t)
	if e.URI != "/device/command/poll?waitTimeout=0&networkIds=1" {
		t.Errorf("narrow token: the backend received %q, want the token's network added", e.URI)
	}
}

// TestDeviceHivePollScope: the poll routes and the device list check every
// network, device type and device their query names (the scope hole of
// issue 15), and the backend receives the token's own ids when the query
// names none. The echo backend shows what the backend received.
func TestDeviceHivePollScope(t *testing.T) {
	g := deviceHiveGateway(t)
	tokens := map[string]string{}
	for _, u := range []string{"admin", "alice", "bob"} {
		tokens[u], _ = g.login(t, u)
	}
	const notif, cmd = "/device/notification/poll", "/device/command/poll"
	tests := []struct {
		user, target string
		code         int
		received     string // the request target the backend received; "" = as sent
		message      string // of a refusal
	}{
		{user: "alice", target: notif + "?networkIds=3", code: 403, message: "Access is denied"},
		{user: "alice", target: notif + "?networkIds=1,3", code: 403, message: "Access is denied"},
		{user: "alice", target: notif + "?networkIds=1", code: 200},
		{user: "alice", target: notif + "?networkIds=3", code: 403, message: "Access is denied"}, // right after an allowed poll: never memoised
		{user: "alice", target: notif, code: 200, received: notif + "?networkIds=1,2"},
		{user: "alice", target: notif, code: 200, received: notif + "?networkIds=1,2"}, // again: narrowed again
		{user: "alice", target: notif + "?waitTimeout=0&networkIds=", code: 200, received: notif + "?waitTimeout=0&networkIds=1,2"},
		{user: "alice", target: notif + "?networkIds=1&networkIds=3", code: 400, message: "a parameter or header the route is bound to appears more than once, or spelt with '_' for '-'"},
		{user: "alice", target: notif + "?networkIds=1&x=1;networkIds=3", code: 400},
		{user: "alice", target: notif + "?deviceId=d3", code: 403, message: "Access is denied"},
		{user: "alice", target: notif + "?deviceId=d9", code: 404, message: "Device not found"},
		{user: "alice", target: notif + "?deviceId=d1", code: 200, received: notif + "?deviceId=d1&networkIds=1,2"},
		{user: "alice", target: cmd + "?networkIds=3", code: 403, message: "Access is denied"},
		{user: "alice", target: cmd + "?waitTimeout=1", code: 200, received: cmd + "?waitTimeout=1&networkIds=1,2"},
		{user: "bob", target: notif, code: 200, received: notif + "?networkIds=3&deviceTypeIds=10"},
		{user: "bob", target: cmd + "?deviceTypeIds=20", code: 403, message: "Access is denied"},
		{user: "admin", target: notif, code: 200},
		{user: "admin", target: notif + "?networkIds=42", code: 200},
		// GET /device takes one networkId.
		{user: "alice", target: "/device", code: 400, message: "the token grants several networks and this route takes one: name it with the query parameter networkId"},
		{user: "alice", target: "/device?networkId=2", code: 200},
		{user: "alice", target: "/device?networkId=3", code: 403, message: "Access is denied"},
		{user: "bob", target: "/device?take=10", code: 200, received: "/device?take=10&networkId=3&deviceTypeId=10"},
		{user: "admin", target: "/device", code: 200},
	}
	for i, test := range tests {
		t.Run(fmt.Sprintf("%d %s %s", i, test.user, test.target), func(t *testing.T) {
			r := g.do(t, http.MethodGet, test.target, "", "Host", "echo.e2e", "Authorization", "Bearer "+tokens[test.user])
			if test.code != http.StatusOK {
				expectRefused(t, "GET "+test.target, r, test.code, test.message)
				return
			}
			want := test.received
			if want == "" {
				want = test.target
			}
			e := r.echo(t)
			target := e.Path
			if e.Query != "" {
				target += "?" + e.Query
			}
			if e.URI != want || target != want {
				t.Errorf("the backend received %q (query %q), want %q", e.URI, e.Query, want)
			}
			if e.Auth["X-Auth-Login"] != test.user {
				t.Errorf("the backend saw login %q, want %s", e.Auth["X-Auth-Login"], test.user)
			}
		})
	}
}
