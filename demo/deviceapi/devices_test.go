package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestScopeGets: a get of an object outside the caller's networks or device
// types answers 403, as DeviceHive and the gateway do; an unknown one 404,
// or 403 to a restricted caller.
func TestScopeGets(t *testing.T) {
	tests := []struct {
		name    string
		path    string
		headers map[string]string
		status  int
	}{
		{"alice d1", "/device/d1", aliceHeaders, 200},
		{"alice d2", "/device/d2", aliceHeaders, 200},
		{"alice d3 (network 3)", "/device/d3", aliceHeaders, 403},
		{"alice unknown device", "/device/d9", aliceHeaders, 403},
		{"bob d3", "/device/d3", bobHeaders, 200},
		{"bob d1 (network 1)", "/device/d1", bobHeaders, 403},
		{"bob d2", "/device/d2", bobHeaders, 403},
		{"admin d3", "/device/d3", adminHeaders, 200},
		{"admin unknown device", "/device/d9", adminHeaders, 404},
		{"alice network 3", "/network/3", aliceHeaders, 403},
		{"alice network 9", "/network/9", aliceHeaders, 403},
		{"admin network 9", "/network/9", adminHeaders, 404},
		{"bob device type 20", "/devicetype/20", bobHeaders, 403},
		{"bob device type 10", "/devicetype/10", bobHeaders, 200},
		{"alice device type 20", "/devicetype/20", aliceHeaders, 200},
		{"alice notifications of d3", "/device/d3/notification", aliceHeaders, 403},
		{"alice commands of d3", "/device/d3/command", aliceHeaders, 403},
		{"alice a notification of d3", "/device/d3/notification/1", aliceHeaders, 403},
		{"alice a command of d3", "/device/d3/command/1", aliceHeaders, 403},
		{"alice poll d3", "/device/d3/notification/poll?waitTimeout=0", aliceHeaders, 403},
		{"alice command wait d3", "/device/d3/command/1/poll?waitTimeout=0", aliceHeaders, 403},
		{"empty networks header: nothing", "/device/d1", map[string]string{"X-Auth-Networks": ""}, 403},
	}
	h := newTestServer(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, got := do(t, h, http.MethodGet, tt.path, "", tt.headers)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.status, rec.Body.String())
			}
			if tt.status == http.StatusForbidden && got["message"] != "Access is denied" {
				t.Errorf("message %v, want Access is denied", got["message"])
			}
		})
	}
}

// TestScopeWrites: writes to devices out of scope are refused and change
// nothing.
func TestScopeWrites(t *testing.T) {
	tests := []struct {
		name, method, path, body string
		headers                  map[string]string
		status                   int
	}{
		{"alice posts to d3", "POST", "/device/d3/notification", `{"notification":"n"}`, aliceHeaders, 403},
		{"alice commands d3", "POST", "/device/d3/command", `{"command":"c"}`, aliceHeaders, 403},
		{"bob updates a command of d1", "PUT", "/device/d1/command/1", `{"status":"done"}`, bobHeaders, 403},
		{"bob deletes d1", "DELETE", "/device/d1", "", bobHeaders, 403},
		{"bob renames d1", "PUT", "/device/d1", `{"name":"mine"}`, bobHeaders, 403},
		{"alice moves d1 to network 3", "PUT", "/device/d1", `{"networkId":3}`, aliceHeaders, 403},
		{"bob creates a door sensor", "PUT", "/device/d9", `{"name":"x","deviceTypeId":20}`, bobHeaders, 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newTestServer(t)
			post(t, h, "/device/d1/command", `{"command":"c"}`, nil)
			rec, _ := do(t, h, tt.method, tt.path, tt.body, tt.headers)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.status, rec.Body.String())
			}
			_, d1 := do(t, h, "GET", "/device/d1", "", nil)
			if d1["networkId"] != 1.0 || d1["name"] != "thermometer in network 1" {
				t.Errorf("d1 changed: %v", d1)
			}
			if n := len(list(t, h, "/device/d3/notification", nil)) + len(list(t, h, "/device/d3/command", nil)); n != 0 {
				t.Errorf("d3 got %d messages", n)
			}
		})
	}
}

// TestListsFilteredByScope: lists never show what is outside the caller's
// networks and device types.
func TestListsFilteredByScope(t *testing.T) {
	tests := []struct {
		name    string
		path    string
		headers map[string]string
		key     string
		want    string
	}{
		{"devices, alice", "/device", aliceHeaders, "id", "[d1 d2]"},
		{"devices, bob", "/device", bobHeaders, "id", "[d3]"},
		{"devices, admin", "/device", adminHeaders, "id", "[d1 d2 d3]"},
		{"devices, no identity (the gateway's lookups)", "/device", nil, "id", "[d1 d2 d3]"},
		{"devices, no networks", "/device", map[string]string{"X-Auth-Networks": ""}, "id", "[]"},
		{"devices, alice asks for network 3", "/device?networkId=3", aliceHeaders, "id", "[]"},
		{"networks, alice", "/network", aliceHeaders, "id", "[1 2]"},
		{"networks, bob", "/network", bobHeaders, "id", "[3]"},
		{"device types, alice", "/devicetype", aliceHeaders, "id", "[10 20]"},
		{"device types, bob", "/devicetype", bobHeaders, "id", "[10]"},
	}
	h := newTestServer(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := fmt.Sprint(field(list(t, h, tt.path, tt.headers), tt.key)); got != tt.want {
				t.Errorf("%s = %s, want %s", tt.key, got, tt.want)
			}
		})
	}
	t.Run("network 1 lists its devices the caller sees", func(t *testing.T) {
		_, got := do(t, h, "GET", "/network/1", "", aliceHeaders)
		devs, _ := got["devices"].([]any)
		if len(devs) != 1 || fmt.Sprint(devs[0].(map[string]any)["id"]) != "d1" {
			t.Errorf("devices = %v", got["devices"])
		}
		_, got = do(t, h, "GET", "/devicetype/10", "", bobHeaders)
		if devs, _ = got["devices"].([]any); len(devs) != 1 {
			t.Errorf("bob's device type 10 lists %v, want d3 only", got["devices"])
		}
	})
}

func TestDeviceList(t *testing.T) {
	tests := []struct {
		query  string
		want   string // ids in order
		status int
	}{
		{"", "[d1 d2 d3]", 200},
		{"?networkId=1", "[d1]", 200},
		{"?deviceTypeId=10", "[d1 d3]", 200},
		{"?networkName=network-2", "[d2]", 200},
		{"?deviceTypeName=thermometer", "[d1 d3]", 200},
		{"?name=door%20sensor%20in%20network%202", "[d2]", 200},
		{"?namePattern=thermometer%25", "[d1 d3]", 200},
		{"?namePattern=%25network_3", "[d3]", 200},
		{"?take=2", "[d1 d2]", 200},
		{"?skip=1", "[d2 d3]", 200},
		{"?skip=1&take=1", "[d2]", 200},
		{"?take=0", "[]", 200},
		{"?skip=5", "[]", 200},
		{"?sortField=name", "[d2 d1 d3]", 200},
		{"?sortField=name&sortOrder=DESC", "[d3 d1 d2]", 200},
		{"?sortField=network&sortOrder=desc", "[d3 d2 d1]", 200},
		{"?sortField=deviceType", "[d1 d3 d2]", 200},
		{"?sortOrder=DESC", "[d3 d2 d1]", 200},
		{"?sortField=color", "", 400},
		{"?take=-1", "", 400},
		{"?skip=x", "", 400},
		{"?networkId=x", "", 400},
	}
	h := newTestServer(t)
	for _, tt := range tests {
		t.Run("GET /device"+tt.query, func(t *testing.T) {
			if tt.status != http.StatusOK {
				if rec, _ := do(t, h, "GET", "/device"+tt.query, "", nil); rec.Code != tt.status {
					t.Fatalf("status %d, want %d", rec.Code, tt.status)
				}
				return
			}
			items := list(t, h, "/device"+tt.query, nil)
			if got := fmt.Sprint(field(items, "id")); got != tt.want {
				t.Errorf("ids %s, want %s", got, tt.want)
			}
			for _, it := range items {
				for _, k := range []string{"id", "name", "data", "networkId", "deviceTypeId", "isBlocked"} {
					if _, ok := it[k]; !ok {
						t.Errorf("device lacks %q: %v", k, it)
					}
				}
			}
		})
	}
}

func TestNetworkAndDeviceTypeLists(t *testing.T) {
	tests := []struct {
		path, want string
		status     int
	}{
		{"/network?sortField=name&sortOrder=DESC", "[network-3 network-2 network-1]", 200},
		{"/network?namePattern=%25-2", "[network-2]", 200},
		{"/network?name=network-1", "[network-1]", 200},
		{"/network?take=1&skip=1", "[network-2]", 200},
		{"/network?sortField=size", "", 400},
		{"/devicetype?sortField=name", "[door-sensor thermometer]", 200},
		{"/devicetype?sortField=id&sortOrder=DESC", "[door-sensor thermometer]", 200},
	}
	h := newTestServer(t)
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			if tt.status != http.StatusOK {
				if rec, _ := do(t, h, "GET", tt.path, "", nil); rec.Code != tt.status {
					t.Fatalf("status %d, want %d", rec.Code, tt.status)
				}
				return
			}
			items := list(t, h, tt.path, nil)
			if got := fmt.Sprint(field(items, "name")); got != tt.want {
				t.Errorf("names %s, want %s", got, tt.want)
			}
			for _, it := range items {
				if _, ok := it["description"]; !ok || len(it) != 3 {
					t.Errorf("want exactly id, name, description: %v", it)
				}
			}
		})
	}
}

// TestPutDevice: create or update as DeviceHive's deviceSaveByUser, 204.
func TestPutDevice(t *testing.T) {
	tests := []struct {
		name    string
		path    string
		body    string
		headers map[string]string
		status  int
		want    string // the device afterwards, as GET /device/{id} fields
		special string // the special notification posted
	}{
		{name: "create with everything", path: "/device/d4",
			body:   `{"name":"lamp","data":{"room":"hall"},"networkId":2,"deviceTypeId":20,"isBlocked":true}`,
			status: 204, want: `lamp map[room:hall] 2 20 true`, special: "$device-add"},
		{name: "create with defaults (the caller's first network and device type)", path: "/device/d4",
			body: `{"name":"lamp"}`, headers: bobHeaders, status: 204, want: `lamp <nil> 3 10 false`, special: "$device-add"},
		{name: "create as alice: network 1, device type 10", path: "/device/new-1",
			body: `{"name":"n","data":null,"networkId":null}`, headers: aliceHeaders, status: 204, want: `n <nil> 1 10 false`},
		{name: "create without name", path: "/device/d4", body: `{"networkId":1}`, status: 400},
		{name: "create with empty name", path: "/device/d4", body: `{"name":""}`, status: 400},
		{name: "create in unknown network", path: "/device/d4", body: `{"name":"x","networkId":9}`, status: 400},
		{name: "create with unknown device type", path: "/device/d4", body: `{"name":"x","deviceTypeId":99}`, status: 400},
		{name: "create with a bad id", path: "/device/d_4", body: `{"name":"x"}`, status: 400},
		{name: "create with a bad network id", path: "/device/d4", body: `{"name":"x","networkId":"one"}`, status: 400},
		{name: "create without any network", path: "/device/d4", body: `{"name":"x"}`,
			headers: map[string]string{"X-Auth-Networks": ""}, status: 403},
		{name: "update name and block", path: "/device/d1", body: `{"name":"renamed","isBlocked":true}`,
			status: 204, want: `renamed <nil> 1 10 true`, special: "$device-update"},
		{name: "update data only", path: "/device/d2", body: `{"data":[1,2]}`, headers: aliceHeaders,
			status: 204, want: `door sensor in network 2 [1 2] 2 20 false`},
		{name: "move to another network", path: "/device/d2", body: `{"networkId":1}`, headers: aliceHeaders,
			status: 204, want: `door sensor in network 2 <nil> 1 20 false`},
		{name: "not an object", path: "/device/d1", body: `[]`, status: 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newTestServer(t)
			rec, _ := do(t, h, "PUT", tt.path, tt.body, tt.headers)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.status, rec.Body.String())
			}
			if tt.status != http.StatusNoContent {
				return
			}
			_, d := do(t, h, "GET", tt.path, "", nil)
			got := fmt.Sprint(d["name"], " ", d["data"], " ", d["networkId"], " ", d["deviceTypeId"], " ", d["isBlocked"])
			if got != tt.want {
				t.Errorf("device %s, want %s", got, tt.want)
			}
			if tt.special != "" {
				items := list(t, h, tt.path+"/notification", nil)
				if len(items) != 1 || items[0]["notification"] != tt.special {
					t.Fatalf("notifications %v, want one %s", items, tt.special)
				}
				params, _ := items[0]["parameters"].(map[string]any)
				if params["id"] != strings.TrimPrefix(tt.path, "/device/") || params["name"] != d["name"] {
					t.Errorf("%s parameters %v, want the device", tt.special, params)
				}
			}
		})
	}
}

func TestDeleteDevice(t *testing.T) {
	h := newTestServer(t)
	post(t, h, "/device/d2/notification", `{"notification":"n"}`, aliceHeaders)
	if rec, _ := do(t, h, "DELETE", "/device/d2", "", aliceHeaders); rec.Code != http.StatusNoContent {
		t.Fatalf("delete: status %d", rec.Code)
	}
	for _, path := range []string{"/device/d2", "/device/d2/notification"} {
		if rec, _ := do(t, h, "GET", path, "", nil); rec.Code != http.StatusNotFound {
			t.Errorf("GET %s after delete: status %d, want 404", path, rec.Code)
		}
	}
	if got := fmt.Sprint(field(list(t, h, "/device", nil), "id")); got != "[d1 d3]" {
		t.Errorf("devices %s after delete", got)
	}
	// Created again, it starts without messages.
	do(t, h, "PUT", "/device/d2", `{"name":"again"}`, nil)
	if items := list(t, h, "/device/d2/notification", nil); len(items) != 1 || items[0]["notification"] != "$device-add" {
		t.Errorf("notifications of the new d2: %v", items)
	}
}

func TestDeviceBound(t *testing.T) {
	h := newTestServer(t)
	for i := len(seedDevices()); i < maxDevices; i++ {
		if rec, _ := do(t, h, "PUT", fmt.Sprintf("/device/x%d", i), `{"name":"x"}`, nil); rec.Code != http.StatusNoContent {
			t.Fatalf("device %d: status %d", i, rec.Code)
		}
	}
	if rec, _ := do(t, h, "PUT", "/device/one-too-many", `{"name":"x"}`, nil); rec.Code != http.StatusInsufficientStorage {
		t.Errorf("device %d: status %d, want 507", maxDevices+1, rec.Code)
	}
	if rec, _ := do(t, h, "PUT", "/device/d1", `{"name":"still updatable"}`, nil); rec.Code != http.StatusNoContent {
		t.Errorf("update at the bound: status %d", rec.Code)
	}
}

func TestCurrentUser(t *testing.T) {
	tests := []struct {
		name    string
		headers map[string]string
		want    string // id login role allDeviceTypesAvailable networks
	}{
		{"alice", aliceHeaders, "2 alice 1 true [1 2]"},
		{"bob", bobHeaders, "3 bob 1 false [3]"},
		{"admin", adminHeaders, "1 admin 0 true [1 2 3]"},
		{"unknown role", map[string]string{"X-Auth-User-Id": "7", "X-Auth-Role": "robot"}, "7 <nil> <nil> true [1 2 3]"},
		{"non-numeric id", map[string]string{"X-Auth-User-Id": "u-7"}, "u-7 <nil> <nil> true [1 2 3]"},
	}
	h := newTestServer(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, u := do(t, h, "GET", "/user/current", "", tt.headers)
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d", rec.Code)
			}
			networks, _ := u["networks"].([]any)
			nets := make([]string, 0, len(networks))
			for _, n := range networks {
				nets = append(nets, fmt.Sprint(n.(map[string]any)["id"]))
			}
			got := fmt.Sprint(u["id"], " ", u["login"], " ", u["role"], " ", u["allDeviceTypesAvailable"], " ", nets)
			if got != tt.want {
				t.Errorf("user %s, want %s", got, tt.want)
			}
			for _, k := range []string{"status", "lastLogin", "data", "introReviewed"} {
				if _, ok := u[k]; !ok {
					t.Errorf("lacks %s", k)
				}
			}
		})
	}
}

func TestInfoBehindGateway(t *testing.T) {
	h := newTestServer(t)
	_, got := do(t, h, "GET", "/info", "", map[string]string{"X-Forwarded-Proto": "https"})
	if got["restServerUrl"] != "https://example.com" {
		t.Errorf("restServerUrl %v", got["restServerUrl"])
	}
	// Every message stored after /info is stamped after its serverTimestamp.
	n := post(t, h, "/device/d1/notification", `{"notification":"n"}`, nil)
	if fmt.Sprint(n["timestamp"]) <= fmt.Sprint(got["serverTimestamp"]) {
		t.Errorf("notification %v not after serverTimestamp %v", n["timestamp"], got["serverTimestamp"])
	}
}
