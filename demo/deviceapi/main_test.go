package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestMain keeps the request log out of the test output.
func TestMain(m *testing.M) {
	log.SetOutput(io.Discard)
	os.Exit(m.Run())
}

// aliceHeaders are identity headers as the gateway would forward them.
var aliceHeaders = map[string]string{
	"Authorization":       "Bearer secret-token-value",
	"X-Auth-User-Id":      "2",
	"X-Auth-Login":        "alice",
	"X-Auth-Role":         "client",
	"X-Auth-Actions":      "GetDevice,GetNetwork",
	"X-Auth-Networks":     "1,2",
	"X-Auth-Device-Types": "*",
}

// bobHeaders: network 3, device type 10.
var bobHeaders = map[string]string{
	"X-Auth-User-Id":      "3",
	"X-Auth-Login":        "bob",
	"X-Auth-Role":         "client",
	"X-Auth-Networks":     "3",
	"X-Auth-Device-Types": "10",
}

// adminHeaders: everything.
var adminHeaders = map[string]string{
	"X-Auth-User-Id":      "1",
	"X-Auth-Login":        "admin",
	"X-Auth-Role":         "admin",
	"X-Auth-Networks":     "*",
	"X-Auth-Device-Types": "*",
}

// testNow is the fixed clock of the test servers: the first timestamp
// handed out is 2026-01-02T03:04:05.006, the next ones 1 ms apart.
var testNow = time.Date(2026, 1, 2, 3, 4, 5, 6e6, time.UTC)

// newTestAPI is a server with the fixed clock and 10 ms waitTimeout
// seconds.
func newTestAPI(t *testing.T) *server {
	t.Helper()
	s := newServer()
	s.store.now = func() time.Time { return testNow }
	s.waitUnit = 10 * time.Millisecond
	return s
}

func newTestServer(t *testing.T) http.Handler {
	t.Helper()
	return newTestAPI(t).routes()
}

func request(method, path, body string, headers map[string]string) *http.Request {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, rd)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	return req
}

// do sends one request; the second result is the answer when it is a JSON
// object.
func do(t *testing.T, h http.Handler, method, path, body string, headers map[string]string) (*httptest.ResponseRecorder, map[string]any) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, request(method, path, body, headers))
	var got map[string]any
	if strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") &&
		strings.HasPrefix(strings.TrimSpace(rec.Body.String()), "{") {
		if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
			t.Fatalf("%s %s: answer is not a JSON object: %v\n%s", method, path, err, rec.Body.String())
		}
	}
	return rec, got
}

// list sends a GET that must answer 200 and a JSON array.
func list(t *testing.T, h http.Handler, path string, headers map[string]string) []map[string]any {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, request(http.MethodGet, path, "", headers))
	return decodeList(t, "GET "+path, rec)
}

func decodeList(t *testing.T, what string, rec *httptest.ResponseRecorder) []map[string]any {
	t.Helper()
	if rec.Code != http.StatusOK {
		t.Fatalf("%s: status %d, want 200: %s", what, rec.Code, rec.Body.String())
	}
	var items []map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &items); err != nil || items == nil {
		t.Fatalf("%s: answer is not a JSON array (%v): %s", what, err, rec.Body.String())
	}
	return items
}

// post sends a POST that must answer 201 and returns the answer.
func post(t *testing.T, h http.Handler, path, body string, headers map[string]string) map[string]any {
	t.Helper()
	rec, got := do(t, h, http.MethodPost, path, body, headers)
	if rec.Code != http.StatusCreated {
		t.Fatalf("POST %s: status %d, want 201: %s", path, rec.Code, rec.Body.String())
	}
	return got
}

// field returns the values of key in items, as fmt.Sprint strings.
func field(items []map[string]any, key string) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = fmt.Sprint(it[key])
	}
	return out
}

// TestRoutes: every route once, with its status and the fields that matter.
func TestRoutes(t *testing.T) {
	tests := []struct {
		name    string
		method  string
		path    string
		body    string
		headers map[string]string
		status  int
		want    map[string]any // top-level fields that must match (JSON-decoded)
		keys    []string       // top-level keys that must be present (null allowed)
		listLen int            // for answers that are arrays: the length; -1 for objects
	}{
		{name: "healthz", method: "GET", path: "/healthz", status: 200, listLen: -1},
		{name: "info", method: "GET", path: "/info", status: 200, listLen: -1,
			want: map[string]any{"apiVersion": apiVersion, "serverTimestamp": "2026-01-02T03:04:05.006",
				"restServerUrl": "http://example.com", "webSocketServerUrl": nil}},
		{name: "cluster info", method: "GET", path: "/info/config/cluster", status: 200, listLen: -1,
			keys: []string{"bootstrap.servers", "zookeeper.connect"}},
		{name: "networks", method: "GET", path: "/network", status: 200, listLen: 3},
		{name: "network 1", method: "GET", path: "/network/1", status: 200, listLen: -1,
			want: map[string]any{"id": 1.0, "name": "network-1", "description": "alice's first network"}, keys: []string{"devices"}},
		{name: "network 2", method: "GET", path: "/network/2", status: 200, listLen: -1,
			want: map[string]any{"id": 2.0, "name": "network-2"}},
		{name: "network 3", method: "GET", path: "/network/3", status: 200, listLen: -1,
			want: map[string]any{"id": 3.0, "name": "network-3"}},
		{name: "network unknown", method: "GET", path: "/network/4", status: 404, listLen: -1,
			want: map[string]any{"error": 404.0, "message": "Network with id = 4 not found"}},
		{name: "network not a number", method: "GET", path: "/network/abc", status: 404, listLen: -1,
			want: map[string]any{"error": 404.0}},
		{name: "create network", method: "POST", path: "/network", body: `{"name":"new-net"}`, status: 201, listLen: -1,
			want: map[string]any{"name": "new-net"}, keys: []string{"id"}},
		{name: "create network bad json", method: "POST", path: "/network", body: `{"name":`, status: 400, listLen: -1,
			want: map[string]any{"error": 400.0}},
		{name: "create network array", method: "POST", path: "/network", body: `[1,2]`, status: 400, listLen: -1},
		{name: "create network null", method: "POST", path: "/network", body: `null`, status: 400, listLen: -1},
		{name: "create network empty", method: "POST", path: "/network", status: 400, listLen: -1},
		{name: "create network trailing", method: "POST", path: "/network", body: `{} x`, status: 400, listLen: -1},
		{name: "create network too big", method: "POST", path: "/network",
			body: `{"name":"` + strings.Repeat("a", maxBodyBytes) + `"}`, status: 413, listLen: -1,
			want: map[string]any{"error": 413.0}},
		{name: "device types", method: "GET", path: "/devicetype", status: 200, listLen: 2},
		{name: "device type 10", method: "GET", path: "/devicetype/10", status: 200, listLen: -1,
			want: map[string]any{"id": 10.0, "name": "thermometer"}, keys: []string{"description", "devices"}},
		{name: "device type 20", method: "GET", path: "/devicetype/20", status: 200, listLen: -1,
			want: map[string]any{"id": 20.0}},
		{name: "device type unknown", method: "GET", path: "/devicetype/30", status: 404, listLen: -1,
			want: map[string]any{"error": 404.0, "message": "Device type with id = 30 not found"}},
		{name: "devices", method: "GET", path: "/device", status: 200, listLen: 3},
		{name: "device d1", method: "GET", path: "/device/d1", status: 200, listLen: -1,
			want: map[string]any{"id": "d1", "networkId": 1.0, "deviceTypeId": 10.0, "isBlocked": false, "data": nil},
			keys: []string{"name"}},
		{name: "device d2", method: "GET", path: "/device/d2", status: 200, listLen: -1,
			want: map[string]any{"id": "d2", "networkId": 2.0, "deviceTypeId": 20.0}},
		{name: "device d3", method: "GET", path: "/device/d3", status: 200, listLen: -1,
			want: map[string]any{"id": "d3", "networkId": 3.0, "deviceTypeId": 10.0}},
		{name: "device unknown", method: "GET", path: "/device/x", status: 404, listLen: -1,
			want: map[string]any{"error": 404.0, "message": "Device with id = x not found"}},
		{name: "put device", method: "PUT", path: "/device/d4", body: `{"name":"new one","networkId":2}`, status: 204, listLen: -1},
		{name: "delete device", method: "DELETE", path: "/device/d1", status: 204, listLen: -1},
		{name: "delete device unknown", method: "DELETE", path: "/device/x", status: 404, listLen: -1},
		{name: "notifications empty", method: "GET", path: "/device/d1/notification", status: 200, listLen: 0},
		{name: "notifications unknown device", method: "GET", path: "/device/x/notification", status: 404, listLen: -1},
		{name: "post notification", method: "POST", path: "/device/d1/notification",
			body: `{"notification":"temperature","parameters":{"value":21.5}}`, headers: aliceHeaders, status: 201, listLen: -1,
			want: map[string]any{"id": 1.0, "timestamp": "2026-01-02T03:04:05.006"}},
		{name: "post notification unknown device", method: "POST", path: "/device/x/notification", body: `{}`, status: 404, listLen: -1},
		{name: "post notification bad body", method: "POST", path: "/device/d1/notification", body: `"text"`, status: 400, listLen: -1},
		{name: "post notification without name", method: "POST", path: "/device/d1/notification", body: `{"parameters":{}}`,
			status: 400, listLen: -1, want: map[string]any{"message": "Invalid request parameters"}},
		{name: "post special notification", method: "POST", path: "/device/d1/notification", body: `{"notification":"$device-add"}`,
			status: 403, listLen: -1},
		{name: "notification unknown", method: "GET", path: "/device/d1/notification/7", status: 404, listLen: -1,
			want: map[string]any{"message": "Requested notification not found"}},
		{name: "notification id not a number", method: "GET", path: "/device/d1/notification/x", status: 404, listLen: -1},
		{name: "notification poll", method: "GET", path: "/device/d1/notification/poll?waitTimeout=0", status: 200, listLen: 0},
		{name: "notification poll many", method: "GET", path: "/device/notification/poll?waitTimeout=0", status: 200, listLen: 0},
		{name: "commands empty", method: "GET", path: "/device/d2/command", status: 200, listLen: 0},
		{name: "commands unknown device", method: "GET", path: "/device/x/command", status: 404, listLen: -1},
		{name: "post command", method: "POST", path: "/device/d2/command",
			body: `{"command":"open","parameters":{}}`, headers: aliceHeaders, status: 201, listLen: -1,
			want: map[string]any{"id": 1.0, "timestamp": "2026-01-02T03:04:05.006", "lastUpdated": "2026-01-02T03:04:05.006",
				"userId": 2.0}},
		{name: "post command without user", method: "POST", path: "/device/d2/command", body: `{"command":"open"}`,
			status: 201, listLen: -1, want: map[string]any{"userId": nil}},
		{name: "post command unknown device", method: "POST", path: "/device/x/command", body: `{}`, status: 404, listLen: -1},
		{name: "command unknown", method: "GET", path: "/device/d2/command/7", status: 404, listLen: -1,
			want: map[string]any{"message": "Command with id = 7 not found"}},
		{name: "update command unknown", method: "PUT", path: "/device/d2/command/7", body: `{"status":"done"}`, status: 404, listLen: -1},
		{name: "command poll", method: "GET", path: "/device/d2/command/poll?waitTimeout=0", status: 200, listLen: 0},
		{name: "command poll many", method: "GET", path: "/device/command/poll?waitTimeout=0", status: 200, listLen: 0},
		{name: "command wait unknown", method: "GET", path: "/device/d2/command/7/poll?waitTimeout=0", status: 204, listLen: -1},
		{name: "current user", method: "GET", path: "/user/current", headers: aliceHeaders, status: 200, listLen: -1,
			want: map[string]any{"id": 2.0, "login": "alice", "role": 1.0, "status": 0.0, "lastLogin": nil, "data": nil,
				"introReviewed": false, "allDeviceTypesAvailable": true}},
		{name: "current user without identity", method: "GET", path: "/user/current", status: 401, listLen: -1,
			want: map[string]any{"error": 401.0}},
		{name: "unknown route", method: "GET", path: "/nope", status: 404, listLen: -1,
			want: map[string]any{"error": 404.0, "message": "no route for GET /nope"}},
		{name: "wrong method", method: "PATCH", path: "/device/d1", status: 404, listLen: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newTestServer(t)
			rec, got := do(t, h, tt.method, tt.path, tt.body, tt.headers)
			if rec.Code != tt.status {
				t.Fatalf("status = %d, want %d; body: %s", rec.Code, tt.status, rec.Body.String())
			}
			switch {
			case tt.path == "/healthz":
				if rec.Body.String() != "ok" {
					t.Fatalf("healthz body = %q, want ok", rec.Body.String())
				}
				return
			case rec.Code == http.StatusNoContent:
				if rec.Body.Len() != 0 {
					t.Fatalf("204 with a body: %s", rec.Body.String())
				}
				return
			case tt.listLen >= 0:
				if items := decodeList(t, tt.name, rec); len(items) != tt.listLen {
					t.Fatalf("%d items, want %d: %s", len(items), tt.listLen, rec.Body.String())
				}
				return
			}
			if got == nil {
				t.Fatalf("answer is not a JSON object (Content-Type %q): %s", rec.Header().Get("Content-Type"), rec.Body.String())
			}
			for k, want := range tt.want {
				if v, ok := got[k]; !ok || fmt.Sprint(v) != fmt.Sprint(want) {
					t.Errorf("%s = %#v (present %t), want %#v", k, v, ok, want)
				}
			}
			for _, k := range tt.keys {
				if _, ok := got[k]; !ok {
					t.Errorf("answer lacks %q: %v", k, got)
				}
			}
			if _, ok := got["identity"].(map[string]any); !ok {
				t.Errorf("answer lacks the identity object: %v", got)
			}
		})
	}
}

// TestRoutesNotShadowed: every route of the table is reached by its own
// pattern (none answers "no route").
func TestRoutesNotShadowed(t *testing.T) {
	api := newTestAPI(t)
	h := api.routes()
	for _, rt := range api.routeTable() {
		method, path, _ := strings.Cut(rt.pattern, " ")
		path = strings.NewReplacer("{id}", "d1", "{notificationId}", "1", "{commandId}", "1").Replace(path)
		t.Run(rt.pattern, func(t *testing.T) {
			_, got := do(t, h, method, path+"?waitTimeout=0", "{}", nil)
			if msg, _ := got["message"].(string); strings.HasPrefix(msg, "no route") {
				t.Errorf("%s %s answered %q", method, path, msg)
			}
		})
	}
}

func TestIdentityEcho(t *testing.T) {
	tests := []struct {
		name    string
		headers map[string]string
		want    map[string]any
	}{
		{name: "nothing forwarded", headers: nil, want: map[string]any{"authorization": false}},
		{name: "authorization only", headers: map[string]string{"Authorization": "Bearer abc"},
			want: map[string]any{"authorization": true}},
		{name: "all identity headers", headers: aliceHeaders, want: map[string]any{
			"authorization":       true,
			"X-Auth-User-Id":      "2",
			"X-Auth-Login":        "alice",
			"X-Auth-Role":         "client",
			"X-Auth-Actions":      "GetDevice,GetNetwork",
			"X-Auth-Networks":     "1,2",
			"X-Auth-Device-Types": "*",
		}},
		{name: "some identity headers", headers: map[string]string{"X-Auth-User-Id": "3", "X-Other": "x"},
			want: map[string]any{"authorization": false, "X-Auth-User-Id": "3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newTestServer(t)
			for _, path := range []string{"/device/d1", "/device/nope", "/network/1", "/info", "/device/d1/notification/9"} {
				rec, got := do(t, h, "GET", path, "", tt.headers)
				id, ok := got["identity"].(map[string]any)
				if !ok {
					t.Fatalf("%s: no identity object: %s", path, rec.Body.String())
				}
				if len(id) != len(tt.want) {
					t.Errorf("%s: identity = %v, want exactly %v", path, id, tt.want)
				}
				for k, v := range tt.want {
					if id[k] != v {
						t.Errorf("%s: identity[%s] = %#v, want %#v", path, k, id[k], v)
					}
				}
				if strings.Contains(rec.Body.String(), "secret-token-value") || strings.Contains(rec.Body.String(), "Bearer") {
					t.Errorf("%s: the Authorization value leaked into the answer: %s", path, rec.Body.String())
				}
			}
		})
	}
}

func TestConcurrentPosts(t *testing.T) {
	h := newTestServer(t)
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for j := range 10 {
				dev := []string{"d1", "d2", "d3"}[(i+j)%3]
				kind := []string{"notification", "command"}[j%2]
				req := httptest.NewRequest(http.MethodPost, "/device/"+dev+"/"+kind, strings.NewReader(`{"`+kind+`":"x"}`))
				h.ServeHTTP(httptest.NewRecorder(), req)
				h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/device/"+dev+"/"+kind, nil))
				h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/device/"+kind+"/poll?waitTimeout=0", nil))
			}
		}(i)
	}
	wg.Wait()
	total := 0
	ids := map[string]bool{}
	stamps := map[string]bool{}
	for _, dev := range []string{"d1", "d2", "d3"} {
		for _, kind := range []string{"notification", "command"} {
			items := list(t, h, "/device/"+dev+"/"+kind+"?take=1000", nil)
			total += len(items)
			for _, it := range items {
				ids[fmt.Sprint(it["id"])] = true
				stamps[fmt.Sprint(it["timestamp"])] = true
			}
		}
	}
	if total != 200 || len(ids) != 200 || len(stamps) != 200 {
		t.Errorf("stored %d messages with %d distinct ids and %d distinct timestamps, want 200 of each", total, len(ids), len(stamps))
	}
}

// TestOverHTTP runs the handler behind a real listener once, as the gateway
// reaches it.
func TestOverHTTP(t *testing.T) {
	h := newTestServer(t)
	ts := httptest.NewServer(h)
	defer ts.Close()
	req, _ := http.NewRequest(http.MethodGet, ts.URL+"/device/d1", nil)
	req.Header.Set("X-Auth-Login", "bob")
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	id, _ := got["identity"].(map[string]any)
	if resp.StatusCode != http.StatusOK || got["id"] != "d1" || id["X-Auth-Login"] != "bob" {
		t.Errorf("status %d, answer %v", resp.StatusCode, got)
	}
}
