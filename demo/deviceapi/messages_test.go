package main

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// TestMessageShapes: notifications and commands carry DeviceHive's fields,
// null when unset, in lists and gets alike.
func TestMessageShapes(t *testing.T) {
	h := newTestServer(t)
	post(t, h, "/device/d1/notification", `{"notification":"temperature","parameters":{"value":21.5},"timestamp":"1999-01-01T00:00:00"}`, aliceHeaders)
	post(t, h, "/device/d1/command", `{"command":"set","parameters":{"t":20},"lifetime":60}`, aliceHeaders)

	wantNotification := map[string]string{
		"id": "1", "notification": "temperature", "deviceId": "d1", "networkId": "1", "deviceTypeId": "10",
		"timestamp": "2026-01-02T03:04:05.006", "parameters": "map[value:21.5]",
	}
	wantCommand := map[string]string{
		"id": "2", "command": "set", "timestamp": "2026-01-02T03:04:05.007", "lastUpdated": "2026-01-02T03:04:05.007",
		"userId": "2", "deviceId": "d1", "networkId": "1", "deviceTypeId": "10", "parameters": "map[t:20]",
		"lifetime": "60", "status": "<nil>", "result": "<nil>",
	}
	check := func(t *testing.T, got map[string]any, want map[string]string) {
		t.Helper()
		for k, v := range want {
			if g, ok := got[k]; !ok || fmt.Sprint(g) != v {
				t.Errorf("%s = %v (present %t), want %s", k, g, ok, v)
			}
		}
		extra := len(got) - len(want)
		if _, ok := got["identity"]; ok {
			extra--
		}
		if extra != 0 {
			t.Errorf("fields %v, want exactly %v (and identity)", got, want)
		}
	}
	t.Run("notification list", func(t *testing.T) {
		items := list(t, h, "/device/d1/notification", nil)
		if len(items) != 1 {
			t.Fatalf("%d items", len(items))
		}
		check(t, items[0], wantNotification)
	})
	t.Run("notification get", func(t *testing.T) {
		_, got := do(t, h, "GET", "/device/d1/notification/1", "", aliceHeaders)
		check(t, got, wantNotification)
	})
	t.Run("command list", func(t *testing.T) {
		items := list(t, h, "/device/d1/command", nil)
		if len(items) != 1 {
			t.Fatalf("%d items", len(items))
		}
		check(t, items[0], wantCommand)
	})
	t.Run("command get", func(t *testing.T) {
		_, got := do(t, h, "GET", "/device/d1/command/2", "", nil)
		check(t, got, wantCommand)
	})
	t.Run("a notification of another device", func(t *testing.T) {
		if rec, _ := do(t, h, "GET", "/device/d2/notification/1", "", nil); rec.Code != http.StatusNotFound {
			t.Errorf("status %d, want 404", rec.Code)
		}
	})
	t.Run("insert answers", func(t *testing.T) {
		n := post(t, h, "/device/d2/notification", `{"notification":"x"}`, nil)
		c := post(t, h, "/device/d3/command", `{"command":"x"}`, bobHeaders)
		check(t, n, map[string]string{"id": "3", "timestamp": "2026-01-02T03:04:05.008"})
		check(t, c, map[string]string{"id": "4", "timestamp": "2026-01-02T03:04:05.009",
			"lastUpdated": "2026-01-02T03:04:05.009", "userId": "3"})
	})
}

func TestCommandUpdate(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		status int
		want   string // status result lastUpdated
	}{
		{"status and result", `{"status":"done","result":{"ok":true}}`, 204, "done map[ok:true] 2026-01-02T03:04:05.007"},
		{"status only", `{"status":"failed"}`, 204, "failed <nil> 2026-01-02T03:04:05.007"},
		{"nothing", `{}`, 204, "<nil> <nil> 2026-01-02T03:04:05.007"},
		{"not an object", `"done"`, 400, ""},
		{"bad status type", `{"status":1}`, 400, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newTestServer(t)
			post(t, h, "/device/d1/command", `{"command":"c"}`, nil)
			rec, _ := do(t, h, "PUT", "/device/d1/command/1", tt.body, nil)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.status, rec.Body.String())
			}
			if tt.status != http.StatusNoContent {
				return
			}
			if rec.Body.Len() != 0 {
				t.Errorf("204 with a body %q", rec.Body.String())
			}
			_, c := do(t, h, "GET", "/device/d1/command/1", "", nil)
			if got := fmt.Sprint(c["status"], " ", c["result"], " ", c["lastUpdated"]); got != tt.want {
				t.Errorf("command %s, want %s", got, tt.want)
			}
			if c["timestamp"] != "2026-01-02T03:04:05.006" {
				t.Errorf("timestamp changed: %v", c["timestamp"])
			}
		})
	}
	t.Run("command of another device", func(t *testing.T) {
		h := newTestServer(t)
		post(t, h, "/device/d1/command", `{"command":"c"}`, nil)
		if rec, _ := do(t, h, "PUT", "/device/d2/command/1", `{"status":"x"}`, nil); rec.Code != http.StatusNotFound {
			t.Errorf("status %d, want 404", rec.Code)
		}
		if rec, _ := do(t, h, "PUT", "/device/d1/command/abc", `{"status":"x"}`, nil); rec.Code != http.StatusNotFound {
			t.Errorf("non-numeric id: status %d, want 404", rec.Code)
		}
	})
}

// TestMessageQueries: start, end, name, status, sortField, sortOrder, take
// and skip, DeviceHive's default being newest first.
func TestMessageQueries(t *testing.T) {
	h := newTestServer(t)
	// Notifications 1 3 5 7 9 (a b a b a, stamped .006 .008 .010 .012 .014),
	// commands 2 4 6 8 10 (a b a b a); commands 2 and 6 get a status.
	for _, name := range []string{"a", "b", "a", "b", "a"} {
		post(t, h, "/device/d1/notification", `{"notification":"`+name+`"}`, nil)
		post(t, h, "/device/d2/command", `{"command":"`+name+`"}`, nil)
	}
	do(t, h, "PUT", "/device/d2/command/2", `{"status":"Done"}`, nil)
	do(t, h, "PUT", "/device/d2/command/6", `{"status":"failed"}`, nil)
	tests := []struct {
		path string
		want string // ids in order
	}{
		{"/device/d1/notification", "[9 7 5 3 1]"},
		{"/device/d1/notification?sortOrder=ASC", "[1 3 5 7 9]"},
		{"/device/d1/notification?sortOrder=DESC", "[9 7 5 3 1]"},
		{"/device/d1/notification?notification=b", "[7 3]"},
		{"/device/d1/notification?sortField=notification&sortOrder=ASC", "[1 5 9 3 7]"},
		{"/device/d1/notification?start=2026-01-02T03:04:05.008&end=2026-01-02T03:04:05.012", "[7 5 3]"},
		{"/device/d1/notification?start=2026-01-02T03:04:05.014Z", "[9]"},
		{"/device/d1/notification?take=2", "[9 7]"},
		{"/device/d1/notification?take=2&skip=2", "[5 3]"},
		{"/device/d1/notification?take=0", "[]"},
		{"/device/d2/command?status=done", "[2]"},
		{"/device/d2/command?command=a&sortOrder=asc", "[2 6 10]"},
		{"/device/d2/command?sortField=status&sortOrder=ASC", "[4 8 10 2 6]"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			if got := fmt.Sprint(field(list(t, h, tt.path, nil), "id")); got != tt.want {
				t.Errorf("ids %s, want %s", got, tt.want)
			}
		})
	}
	for _, path := range []string{"/device/d1/notification?start=yesterday", "/device/d1/notification?take=x", "/device/d2/command?skip=-2"} {
		t.Run(path, func(t *testing.T) {
			if rec, _ := do(t, h, "GET", path, "", nil); rec.Code != http.StatusBadRequest {
				t.Errorf("status %d, want 400", rec.Code)
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
			items := list(t, h, fmt.Sprintf("/device/d1/%s?take=%d&sortOrder=ASC", kind, 2*n), nil)
			if len(items) != maxPerDevice {
				t.Fatalf("kept %d %ss, want %d", len(items), kind, maxPerDevice)
			}
			first, last := items[0], items[len(items)-1]
			if first[kind] != "m5" || last[kind] != fmt.Sprintf("m%d", n-1) {
				t.Errorf("kept %v .. %v, want m5 .. m%d (oldest dropped first)", first[kind], last[kind], n-1)
			}
			if _, ok := first["identity"]; ok {
				t.Errorf("stored message carries the identity of the request that posted it: %v", first)
			}
			// Other devices are untouched.
			if items := list(t, h, "/device/d2/"+kind, nil); len(items) != 0 {
				t.Errorf("d2 has %d %ss, want 0", len(items), kind)
			}
		})
	}
	t.Run("bytes", func(t *testing.T) {
		h := newTestServer(t)
		big := `{"notification":"big","parameters":"` + strings.Repeat("x", maxBodyBytes-100) + `"}`
		const n = 2 * maxBytesPerDevice / maxBodyBytes
		for range n {
			post(t, h, "/device/d1/notification", big, nil)
		}
		items := list(t, h, "/device/d1/notification?take=1000", nil)
		if len(items) >= n || len(items)*(maxBodyBytes-100) > maxBytesPerDevice || fmt.Sprint(items[0]["id"]) != strconv.Itoa(n) {
			t.Errorf("kept %d of %d notifications of ~64 KiB, newest %v: want at most %d bytes, the newest kept",
				len(items), n, items[0]["id"], maxBytesPerDevice)
		}
	})
}
