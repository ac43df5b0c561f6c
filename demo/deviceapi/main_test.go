package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

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

func newTestServer(t *testing.T) http.Handler {
	t.Helper()
	s := newServer()
	s.now = func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 6e6, time.UTC) }
	return s.routes()
}

func do(t *testing.T, h http.Handler, method, path, body string, headers map[string]string) (*httptest.ResponseRecorder, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, rd)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var got map[string]any
	if strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
			t.Fatalf("%s %s: answer is not a JSON object: %v\n%s", method, path, err, rec.Body.String())
		}
	}
	return rec, got
}

func TestRoutes(t *testing.T) {
	tests := []struct {
		name    string
		method  string
		path    string
		body    string
		headers map[string]string
		status  int
		want    map[string]any // top-level fields that must match (JSON-decoded)
		wantKey string         // a top-level key that must be present
	}{
		{name: "healthz", method: "GET", path: "/healthz", status: 200},
		{name: "network 1", method: "GET", path: "/network/1", status: 200,
			want: map[string]any{"id": 1.0, "name": "network-1"}},
		{name: "network 2", method: "GET", path: "/network/2", status: 200,
			want: map[string]any{"id": 2.0, "name": "network-2"}},
		{name: "network 3", method: "GET", path: "/network/3", status: 200,
			want: map[string]any{"id": 3.0, "name": "network-3"}},
		{name: "network unknown", method: "GET", path: "/network/4", status: 404,
			want: map[string]any{"error": 404.0, "message": "Network with id = 4 not found"}},
		{name: "network not a number", method: "GET", path: "/network/abc", status: 404,
			want: map[string]any{"error": 404.0}},
		{name: "create network", method: "POST", path: "/network", body: `{"name":"new-net"}`, status: 201,
			want: map[string]any{"name": "new-net"}, wantKey: "id"},
		{name: "create network bad json", method: "POST", path: "/network", body: `{"name":`, status: 400,
			want: map[string]any{"error": 400.0}},
		{name: "create network array", method: "POST", path: "/network", body: `[1,2]`, status: 400},
		{name: "create network null", method: "POST", path: "/network", body: `null`, status: 400},
		{name: "create network empty", method: "POST", path: "/network", status: 400},
		{name: "create network trailing", method: "POST", path: "/network", body: `{} x`, status: 400},
		{name: "create network too big", method: "POST", path: "/network",
			body: `{"name":"` + strings.Repeat("a", maxBodyBytes) + `"}`, status: 413,
			want: map[string]any{"error": 413.0}},
		{name: "device type 10", method: "GET", path: "/devicetype/10", status: 200,
			want: map[string]any{"id": 10.0, "name": "thermometer"}},
		{name: "device type 20", method: "GET", path: "/devicetype/20", status: 200,
			want: map[string]any{"id": 20.0}},
		{name: "device type unknown", method: "GET", path: "/devicetype/30", status: 404,
			want: map[string]any{"error": 404.0, "message": "Device type with id = 30 not found"}},
		{name: "device d1", method: "GET", path: "/device/d1", status: 200,
			want: map[string]any{"id": "d1", "networkId": 1.0, "deviceTypeId": 10.0}, wantKey: "name"},
		{name: "device d2", method: "GET", path: "/device/d2", status: 200,
			want: map[string]any{"id": "d2", "networkId": 2.0, "deviceTypeId": 20.0}},
		{name: "device d3", method: "GET", path: "/device/d3", status: 200,
			want: map[string]any{"id": "d3", "networkId": 3.0, "deviceTypeId": 10.0}},
		{name: "device unknown", method: "GET", path: "/device/x", status: 404,
			want: map[string]any{"error": 404.0, "message": "Device with id = x not found"}},
		{name: "notifications empty", method: "GET", path: "/device/d1/notification", status: 200,
			want: map[string]any{"deviceId": "d1", "notifications": []any{}}},
		{name: "notifications unknown device", method: "GET", path: "/device/x/notification", status: 404},
		{name: "post notification", method: "POST", path: "/device/d1/notification",
			body: `{"notification":"temperature","parameters":{"value":21.5}}`, headers: aliceHeaders, status: 201,
			want: map[string]any{"notification": "temperature", "deviceId": "d1", "userId": 2.0,
				"timestamp": "2026-01-02T03:04:05.006Z"}, wantKey: "id"},
		{name: "post notification unknown device", method: "POST", path: "/device/x/notification", body: `{}`, status: 404},
		{name: "post notification bad body", method: "POST", path: "/device/d1/notification", body: `"text"`, status: 400},
		{name: "commands empty", method: "GET", path: "/device/d2/command", status: 200,
			want: map[string]any{"deviceId": "d2", "commands": []any{}}},
		{name: "commands unknown device", method: "GET", path: "/device/x/command", status: 404},
		{name: "post command", method: "POST", path: "/device/d2/command",
			body: `{"command":"open","parameters":{}}`, status: 201,
			want: map[string]any{"command": "open", "deviceId": "d2"}, wantKey: "timestamp"},
		{name: "post command unknown device", method: "POST", path: "/device/x/command", body: `{}`, status: 404},
		{name: "current user", method: "GET", path: "/user/current", headers: aliceHeaders, status: 200,
			want: map[string]any{"id": 2.0, "login": "alice", "role": "client"}},
		{name: "current user without identity", method: "GET", path: "/user/current", status: 401,
			want: map[string]any{"error": 401.0}},
		{name: "unknown route", method: "GET", path: "/nope", status: 404,
			want: map[string]any{"error": 404.0, "message": "no route for GET /nope"}},
		{name: "wrong method", method: "DELETE", path: "/device/d1", status: 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newTestServer(t)
			rec, got := do(t, h, tt.method, tt.path, tt.body, tt.headers)
			if rec.Code != tt.status {
				t.Fatalf("status = %d, want %d; body: %s", rec.Code, tt.status, rec.Body.String())
			}
			if tt.path == "/healthz" {
				if rec.Body.String() != "ok" {
					t.Fatalf("healthz body = %q, want ok", rec.Body.String())
				}
				return
			}
			if got == nil {
				t.Fatalf("answer is not JSON (Content-Type %q): %s", rec.Header().Get("Content-Type"), rec.Body.String())
			}
			for k, want := range tt.want {
				if fmt.Sprint(got[k]) != fmt.Sprint(want) {
					t.Errorf("%s = %#v, want %#v", k, got[k], want)
				}
			}
			if tt.wantKey != "" {
				if _, ok := got[tt.wantKey]; !ok {
					t.Errorf("answer lacks %q: %v", tt.wantKey, got)
				}
			}
			if _, ok := got["identity"].(map[string]any); !ok {
				t.Errorf("answer lacks the identity object: %v", got)
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
			for _, path := range []string{"/device/d1", "/device/nope", "/network/1"} {
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

func TestMessagesStoredAndBounded(t *testing.T) {
	for _, kind := range []string{"notification", "command"} {
		t.Run(kind, func(t *testing.T) {
			h := newTestServer(t)
			const n = maxPerDevice + 5
			for i := range n {
				rec, _ := do(t, h, "POST", "/device/d1/"+kind, fmt.Sprintf(`{"%s":"m%d"}`, kind, i), nil)
				if rec.Code != http.StatusCreated {
					t.Fatalf("post %d: status %d", i, rec.Code)
				}
			}
			_, got := do(t, h, "GET", "/device/d1/"+kind, "", nil)
			items, _ := got[kind+"s"].([]any)
			if len(items) != maxPerDevice {
				t.Fatalf("kept %d %ss, want %d", len(items), kind, maxPerDevice)
			}
			first, _ := items[0].(map[string]any)
			last, _ := items[len(items)-1].(map[string]any)
			if first[kind] != "m5" || last[kind] != fmt.Sprintf("m%d", n-1) {
				t.Errorf("kept %v .. %v, want m5 .. m%d (oldest dropped first)", first[kind], last[kind], n-1)
			}
			if _, ok := first["identity"]; ok {
				t.Errorf("stored message carries the identity of the request that posted it: %v", first)
			}
			// Other devices and the other kind are untouched.
			_, other := do(t, h, "GET", "/device/d2/"+kind, "", nil)
			if items, _ := other[kind+"s"].([]any); len(items) != 0 {
				t.Errorf("d2 has %d %ss, want 0", len(items), kind)
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
				req := httptest.NewRequest(http.MethodPost, "/device/"+dev+"/"+kind, strings.NewReader(`{"x":1}`))
				h.ServeHTTP(httptest.NewRecorder(), req)
				h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/device/"+dev+"/"+kind, nil))
			}
		}(i)
	}
	wg.Wait()
	total := 0
	ids := map[float64]bool{}
	for _, dev := range []string{"d1", "d2", "d3"} {
		for _, kind := range []string{"notification", "command"} {
			_, got := do(t, h, "GET", "/device/"+dev+"/"+kind, "", nil)
			items, _ := got[kind+"s"].([]any)
			total += len(items)
			for _, it := range items {
				m, _ := it.(map[string]any)
				id, _ := m["id"].(float64)
				ids[id] = true
			}
		}
	}
	if total != 200 || len(ids) != 200 {
		t.Errorf("stored %d messages with %d distinct ids, want 200 and 200", total, len(ids))
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
