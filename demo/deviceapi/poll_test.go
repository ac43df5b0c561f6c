package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"
)

// waitUntil polls cond for up to 3 s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(3 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// served is a request being served in the background.
type served struct {
	rec  *httptest.ResponseRecorder
	done chan struct{}
}

func serveAsync(h http.Handler, req *http.Request) served {
	s := served{rec: httptest.NewRecorder(), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		h.ServeHTTP(s.rec, req)
	}()
	return s
}

func (s served) finished() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// TestPollReturnsOnNewItem: a waiting poll answers as soon as a matching
// message arrives, and goes on waiting through messages it must not see.
func TestPollReturnsOnNewItem(t *testing.T) {
	tests := []struct {
		name    string
		setup   string // a command to post to d1 first, if any
		path    string
		headers map[string]string
		noise   func(t *testing.T, h http.Handler) // messages the poll must not return
		trigger func(t *testing.T, h http.Handler)
		want    string // fields of the single answer
		object  bool   // the answer is an object, not a list
	}{
		{name: "device notifications", path: "/device/d1/notification/poll?waitTimeout=5", headers: aliceHeaders,
			noise: func(t *testing.T, h http.Handler) {
				post(t, h, "/device/d2/notification", `{"notification":"other device"}`, nil)
				post(t, h, "/device/d1/command", `{"command":"other kind"}`, nil)
			},
			trigger: func(t *testing.T, h http.Handler) {
				post(t, h, "/device/d1/notification", `{"notification":"temperature","parameters":{"v":1}}`, nil)
			},
			want: "d1 temperature map[v:1]"},
		{name: "device notifications by name", path: "/device/d1/notification/poll?waitTimeout=5&names=b,c",
			noise: func(t *testing.T, h http.Handler) {
				post(t, h, "/device/d1/notification", `{"notification":"a"}`, nil)
			},
			trigger: func(t *testing.T, h http.Handler) {
				post(t, h, "/device/d1/notification", `{"notification":"c"}`, nil)
			},
			want: "d1 c <nil>"},
		{name: "device commands", path: "/device/d1/command/poll?waitTimeout=5", headers: aliceHeaders,
			noise: func(t *testing.T, h http.Handler) {
				post(t, h, "/device/d2/command", `{"command":"other device"}`, nil)
			},
			trigger: func(t *testing.T, h http.Handler) {
				post(t, h, "/device/d1/command", `{"command":"reboot"}`, aliceHeaders)
			},
			want: "d1 reboot <nil> 2"},
		{name: "notifications of alice's networks", path: "/device/notification/poll?waitTimeout=5", headers: aliceHeaders,
			noise: func(t *testing.T, h http.Handler) {
				post(t, h, "/device/d3/notification", `{"notification":"network 3"}`, nil)
			},
			trigger: func(t *testing.T, h http.Handler) {
				post(t, h, "/device/d2/notification", `{"notification":"door"}`, nil)
			},
			want: "d2 door <nil>"},
		{name: "notifications of network 1", path: "/device/notification/poll?waitTimeout=5&networkIds=1", headers: aliceHeaders,
			noise: func(t *testing.T, h http.Handler) {
				post(t, h, "/device/d2/notification", `{"notification":"network 2"}`, nil)
			},
			trigger: func(t *testing.T, h http.Handler) {
				post(t, h, "/device/d1/notification", `{"notification":"t"}`, nil)
			},
			want: "d1 t <nil>"},
		{name: "commands of bob's device types", path: "/device/command/poll?waitTimeout=5&deviceTypeIds=10", headers: bobHeaders,
			noise: func(t *testing.T, h http.Handler) {
				post(t, h, "/device/d1/command", `{"command":"network 1"}`, nil)
			},
			trigger: func(t *testing.T, h http.Handler) {
				post(t, h, "/device/d3/command", `{"command":"c"}`, bobHeaders)
			},
			want: "d3 c <nil> 3"},
		{name: "commands of one device by deviceId", path: "/device/command/poll?waitTimeout=5&deviceId=d2",
			noise: func(t *testing.T, h http.Handler) {
				post(t, h, "/device/d1/command", `{"command":"d1"}`, nil)
			},
			trigger: func(t *testing.T, h http.Handler) {
				post(t, h, "/device/d2/command", `{"command":"d2"}`, nil)
			},
			want: "d2 d2 <nil> <nil>"}, //nolint:dupword // the command name, then the device id
		{name: "updated commands", setup: `{"command":"open"}`,
			path: "/device/d1/command/poll?waitTimeout=5&returnUpdatedCommands=True",
			noise: func(t *testing.T, h http.Handler) {
				post(t, h, "/device/d1/command", `{"command":"not updated"}`, nil)
			},
			trigger: func(t *testing.T, h http.Handler) {
				do(t, h, "PUT", "/device/d1/command/1", `{"status":"done"}`, nil)
			},
			want: "d1 open done <nil>"},
		{name: "command wait", setup: `{"command":"open"}`, path: "/device/d1/command/1/poll?waitTimeout=5", object: true,
			noise: func(t *testing.T, h http.Handler) {
				post(t, h, "/device/d1/command", `{"command":"another"}`, nil)
				do(t, h, "PUT", "/device/d1/command/2", `{"status":"another"}`, nil)
			},
			trigger: func(t *testing.T, h http.Handler) {
				do(t, h, "PUT", "/device/d1/command/1", `{"status":"done","result":{"ok":1}}`, nil)
			},
			want: "d1 open done <nil>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := newTestAPI(t)
			api.waitUnit = time.Second
			h := api.routes()
			if tt.setup != "" {
				post(t, h, "/device/d1/command", tt.setup, nil)
			}
			start := time.Now()
			req := request(http.MethodGet, tt.path, "", tt.headers)
			poll := serveAsync(h, req)
			waitUntil(t, "the poll to wait", func() bool { return api.store.waiterCount() == 1 || poll.finished() })
			tt.noise(t, h)
			time.Sleep(20 * time.Millisecond) // let the poll look at the noise
			if poll.finished() {
				t.Fatalf("the poll answered before its message: %d %s", poll.rec.Code, poll.rec.Body.String())
			}
			tt.trigger(t, h)
			select {
			case <-poll.done:
			case <-time.After(3 * time.Second):
				t.Fatal("the poll did not answer the new message")
			}
			if took := time.Since(start); took > 2*time.Second {
				t.Errorf("took %v", took)
			}
			var got map[string]any
			if tt.object {
				_, got = decodeObject(t, poll.rec)
			} else {
				items := decodeList(t, tt.path, poll.rec)
				if len(items) != 1 {
					t.Fatalf("%d items, want 1: %s", len(items), poll.rec.Body.String())
				}
				got = items[0]
			}
			name := got["notification"]
			if name == nil {
				name = got["command"]
			}
			summary := fmt.Sprint(got["deviceId"], " ", name, " ", got["parameters"])
			if _, isCommand := got["command"]; isCommand {
				summary = fmt.Sprint(got["deviceId"], " ", name, " ", got["status"], " ", got["userId"])
			}
			if summary != tt.want {
				t.Errorf("answer %s, want %s", summary, tt.want)
			}
			if n := api.store.waiterCount(); n != 0 {
				t.Errorf("%d waiters left", n)
			}
		})
	}
}

func decodeObject(t *testing.T, rec *httptest.ResponseRecorder) (int, map[string]any) {
	t.Helper()
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", rec.Header().Get("Content-Type"))
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	})
	r, got := do(t, h, http.MethodGet, "/", "", nil)
	if got == nil {
		t.Fatalf("not a JSON object: %d %s", rec.Code, rec.Body.String())
	}
	return r.Code, got
}

// pollPaths are the five waiting routes, each with waitTimeout w.
func pollPaths(w string) []string {
	return []string{
		"/device/d1/notification/poll?waitTimeout=" + w,
		"/device/d1/command/poll?waitTimeout=" + w,
		"/device/notification/poll?waitTimeout=" + w,
		"/device/command/poll?waitTimeout=" + w + "&returnUpdatedCommands=true",
		"/device/d1/command/1/poll?waitTimeout=" + w,
	}
}

// TestPollTimeout: with nothing new, a poll answers [] (200) after
// waitTimeout seconds (10 ms each here); the command wait answers 204.
func TestPollTimeout(t *testing.T) {
	for _, wait := range []string{"0", "1", "3"} {
		for _, path := range pollPaths(wait) {
			t.Run(path, func(t *testing.T) {
				api := newTestAPI(t)
				h := api.routes()
				post(t, h, "/device/d1/command", `{"command":"never updated"}`, nil)
				post(t, h, "/device/d1/notification", `{"notification":"old"}`, nil)
				start := time.Now()
				rec, _ := do(t, h, http.MethodGet, path, "", aliceHeaders)
				took := time.Since(start)
				n := time.Duration(int64(wait[0]-'0') * int64(api.waitUnit))
				if took < n || took > n+time.Second {
					t.Errorf("answered after %v, want %v", took, n)
				}
				if strings.Contains(path, "/command/1/poll") {
					if rec.Code != http.StatusNoContent || rec.Body.Len() != 0 {
						t.Errorf("command wait: %d %q, want 204", rec.Code, rec.Body.String())
					}
					return
				}
				if items := decodeList(t, path, rec); len(items) != 0 {
					t.Errorf("answer %s, want []", rec.Body.String())
				}
			})
		}
	}
}

// TestPollClientGoesAway: a poll whose client disconnects ends at once and
// leaves no goroutine behind.
func TestPollClientGoesAway(t *testing.T) {
	api := newTestAPI(t)
	api.waitUnit = time.Second // waitTimeout=60: the polls could wait a minute
	before := runtime.NumGoroutine()
	ts := httptest.NewServer(api.routes())
	transport := &http.Transport{}
	client := &http.Client{Transport: transport}
	post(t, api.routes(), "/device/d1/command", `{"command":"never updated"}`, nil)
	for _, path := range pollPaths("60") {
		t.Run(path, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, ts.URL+path, nil)
			if err != nil {
				t.Fatal(err)
			}
			errc := make(chan error, 1)
			go func() {
				resp, err := client.Do(req)
				if err == nil {
					resp.Body.Close()
				}
				errc <- err
			}()
			waitUntil(t, "the poll to wait", func() bool { return api.store.waiterCount() == 1 })
			start := time.Now()
			cancel()
			if err := <-errc; !errors.Is(err, context.Canceled) {
				t.Errorf("client: %v, want context.Canceled", err)
			}
			waitUntil(t, "the handler to return", func() bool { return api.store.waiterCount() == 0 })
			if took := time.Since(start); took > time.Second {
				t.Errorf("the handler returned %v after the client left", took)
			}
		})
	}
	ts.Close()
	transport.CloseIdleConnections()
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if after := runtime.NumGoroutine(); after > before {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines before, %d after:\n%s", before, after, buf[:runtime.Stack(buf, true)])
	}
}

// TestPollContextCancelled: the same at the handler, for a request whose
// context ends (as at server shutdown): the poll answers [] at once.
func TestPollContextCancelled(t *testing.T) {
	for _, path := range pollPaths("60") {
		t.Run(path, func(t *testing.T) {
			api := newTestAPI(t)
			api.waitUnit = time.Second
			h := api.routes()
			post(t, h, "/device/d1/command", `{"command":"never updated"}`, nil)
			ctx, cancel := context.WithCancel(context.Background())
			poll := serveAsync(h, request(http.MethodGet, path, "", nil).WithContext(ctx))
			waitUntil(t, "the poll to wait", func() bool { return api.store.waiterCount() == 1 })
			cancel()
			select {
			case <-poll.done:
			case <-time.After(time.Second):
				t.Fatal("the poll did not end with its context")
			}
			if poll.rec.Code != http.StatusOK && poll.rec.Code != http.StatusNoContent {
				t.Errorf("status %d", poll.rec.Code)
			}
		})
	}
}

// TestPollBacklog: what was stored after the timestamp is answered at
// once, oldest first, at most limit of it.
func TestPollBacklog(t *testing.T) {
	h := newTestServer(t)
	// Stamped .006 .. .011: n1 (d1) c2 (d1) n3 (d2) c4 (d2) n5 (d3) c6 (d3).
	for _, d := range []string{"d1", "d2", "d3"} {
		post(t, h, "/device/"+d+"/notification", `{"notification":"n-`+d+`"}`, nil)
		post(t, h, "/device/"+d+"/command", `{"command":"c-`+d+`"}`, nil)
	}
	do(t, h, "PUT", "/device/d1/command/2", `{"status":"done"}`, nil) // lastUpdated .012
	const t0 = "2026-01-02T03:04:05.006"
	tests := []struct {
		path    string
		headers map[string]string
		want    string // ids
	}{
		{"/device/notification/poll?timestamp=" + t0, nil, "[3 5]"},
		{"/device/notification/poll?timestamp=2026-01-02T03:04:05.005", nil, "[1 3 5]"},
		{"/device/notification/poll?timestamp=2026-01-02T03:04:05.005&limit=2", nil, "[1 3]"},
		{"/device/notification/poll?timestamp=2026-01-02T03:04:05.005&limit=0", nil, "[1 3 5]"}, // 0: up to maxPollItems
		{"/device/command/poll?timestamp=2026-01-02T03:04:05.005&limit=0&waitTimeout=0", nil, "[2 4 6]"},
		{"/device/notification/poll?timestamp=2026-01-02T03:04:05.005Z", aliceHeaders, "[1 3]"},
		{"/device/notification/poll?timestamp=1767323045005", bobHeaders, "[5]"},
		{"/device/notification/poll?timestamp=" + t0 + "&names=n-d3,x", nil, "[5]"},
		{"/device/notification/poll?timestamp=" + t0 + "&networkIds=2,3&deviceTypeIds=20", nil, "[3]"},
		{"/device/command/poll?timestamp=" + t0, nil, "[2 4 6]"},
		{"/device/command/poll?timestamp=" + t0 + "&returnUpdatedCommands=true", nil, "[2]"},
		{"/device/command/poll?timestamp=2026-01-02T03:04:05.012&returnUpdatedCommands=true&waitTimeout=0", nil, "[]"},
		{"/device/d2/command/poll?timestamp=" + t0, aliceHeaders, "[4]"},
		{"/device/d1/notification/poll?timestamp=" + t0 + "&waitTimeout=0", nil, "[]"},
		{"/device/notification/poll?waitTimeout=0", nil, "[]"}, // no timestamp: from now on
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			start := time.Now()
			items := list(t, h, tt.path, tt.headers)
			if got := fmt.Sprint(field(items, "id")); got != tt.want {
				t.Errorf("ids %s, want %s", got, tt.want)
			}
			if took := time.Since(start); took > time.Second {
				t.Errorf("took %v: the backlog must be answered at once", took)
			}
		})
	}
}

// TestPollBound: a poll answers at most maxPollItems, the oldest first.
func TestPollBound(t *testing.T) {
	h := newTestServer(t)
	for i := range maxPollItems + 5 {
		post(t, h, []string{"/device/d1/notification", "/device/d2/notification"}[i%2], `{"notification":"n"}`, nil)
	}
	for _, limit := range []string{"0", "5000"} {
		items := list(t, h, "/device/notification/poll?timestamp=2026-01-02T03:04:05.005&limit="+limit, nil)
		if len(items) != maxPollItems || items[0]["id"] != 1.0 {
			t.Errorf("limit=%s: %d items from id %v, want %d from id 1", limit, len(items), items[0]["id"], maxPollItems)
		}
	}
}

// TestPollRefusals: bad parameters and filters outside the caller's scope.
func TestPollRefusals(t *testing.T) {
	tests := []struct {
		path    string
		headers map[string]string
		status  int
		message string
	}{
		{"/device/notification/poll?waitTimeout=61", nil, 400, "Timeout can't be more than 60 seconds. "},
		{"/device/command/poll?waitTimeout=-1", nil, 400, "Timeout can't be less than 0 seconds. "},
		{"/device/d1/notification/poll?waitTimeout=soon", nil, 400, ""},
		{"/device/d1/command/poll?limit=-1", nil, 400, ""},
		{"/device/notification/poll?timestamp=yesterday", nil, 400, "Unparseable timestamp"},
		{"/device/notification/poll?networkIds=1,x", nil, 400, ""},
		{"/device/notification/poll?networkIds=3", aliceHeaders, 403, "Access is denied"},
		{"/device/notification/poll?networkIds=9", aliceHeaders, 403, "Access is denied"},
		{"/device/notification/poll?networkIds=9,1", nil, 404, "Networks with such networkIds wasn't found: {[9]}"},
		{"/device/command/poll?deviceTypeIds=20", bobHeaders, 403, "Access is denied"},
		{"/device/command/poll?deviceTypeIds=30", adminHeaders, 404, "Device types with such deviceTypeIds wasn't found: {[30]}"},
		{"/device/command/poll?deviceId=d3", aliceHeaders, 403, "Access is denied"},
		{"/device/command/poll?deviceId=d9", nil, 404, "Device with id = d9 not found"},
		{"/device/d9/notification/poll", nil, 404, ""},
		{"/device/d3/command/poll", aliceHeaders, 403, ""},
		{"/device/d1/command/x/poll", nil, 404, "Command with id = x not found"},
		{"/device/d9/command/1/poll", nil, 404, ""},
	}
	h := newTestServer(t)
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			start := time.Now()
			rec, got := do(t, h, http.MethodGet, tt.path, "", tt.headers)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.status, rec.Body.String())
			}
			if tt.message != "" && got["message"] != tt.message {
				t.Errorf("message %q, want %q", got["message"], tt.message)
			}
			if took := time.Since(start); took > time.Second {
				t.Errorf("a refusal took %v", took)
			}
		})
	}
}

// TestDeviceHiveClientFlow follows what devicehive-python's HTTP transport
// does: GET /info for serverTimestamp, a probe poll (waitTimeout=0,
// limit=0), then polls that continue from the last timestamp received
// (lastUpdated for updated commands). Nothing is missed or repeated.
func TestDeviceHiveClientFlow(t *testing.T) {
	api := newTestAPI(t)
	h := api.routes()
	_, info := do(t, h, http.MethodGet, "/info", "", aliceHeaders)
	ts, _ := info["serverTimestamp"].(string)
	poll := func(path, timestamp string) []map[string]any {
		t.Helper()
		return list(t, h, path+"&timestamp="+url.QueryEscape(timestamp), aliceHeaders)
	}
	if items := poll("/device/notification/poll?waitTimeout=0&limit=0", ts); len(items) != 0 {
		t.Fatalf("probe: %v", items)
	}
	post(t, h, "/device/d1/notification", `{"notification":"a"}`, aliceHeaders)
	post(t, h, "/device/d3/notification", `{"notification":"not alice's"}`, nil)
	post(t, h, "/device/d2/notification", `{"notification":"b"}`, aliceHeaders)
	// The client's polls keep the probe's waitTimeout=0&limit=0.
	items := poll("/device/notification/poll?waitTimeout=0&limit=0", ts)
	if got := fmt.Sprint(field(items, "notification")); got != "[a b]" {
		t.Fatalf("first poll: %s", got)
	}
	last, _ := items[len(items)-1]["timestamp"].(string)
	if items := poll("/device/notification/poll?waitTimeout=0", last); len(items) != 0 {
		t.Errorf("repeated: %v", items)
	}
	post(t, h, "/device/d1/notification", `{"notification":"c"}`, aliceHeaders)
	if got := fmt.Sprint(field(poll("/device/notification/poll?waitTimeout=1", last), "notification")); got != "[c]" {
		t.Errorf("next poll: %s", got)
	}

	// Updated commands: continue from lastUpdated.
	cmd := post(t, h, "/device/d1/command", `{"command":"open"}`, aliceHeaders)
	do(t, h, "PUT", fmt.Sprintf("/device/d1/command/%v", cmd["id"]), `{"status":"done"}`, nil)
	items = poll("/device/command/poll?returnUpdatedCommands=True&waitTimeout=0&limit=0", ts)
	if len(items) != 1 || items[0]["status"] != "done" {
		t.Fatalf("updated commands: %v", items)
	}
	lastUpdated, _ := items[0]["lastUpdated"].(string)
	if items := poll("/device/command/poll?returnUpdatedCommands=True&waitTimeout=0", lastUpdated); len(items) != 0 {
		t.Errorf("repeated update: %v", items)
	}
}
