package tokengate_test

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestAuditTrail: every token event writes one JSON line with its fields,
// and no line holds a token or a password.
func TestAuditTrail(t *testing.T) {
	file := filepath.Join(t.TempDir(), "audit.log")
	cfg := throttleConfig(t)
	cfg.AuditLog = file
	cfg.RefreshRotation = true
	cfg.RefreshReuseGrace = "0s"
	h, _ := newHandler(t, cfg)
	secrets := make([]string, 0, 9)
	admin, _ := login(t, h, "admin")
	access, r0 := login(t, h, "alice")
	secrets = append(secrets, admin, access, r0, "alice-pass", "admin-pass", "wrong-pass")
	attempt(t, h, `{"login":"bob","password":"wrong-pass"}`)
	attempt(t, h, `{"login":"bob","password":"wrong-pass"}`)
	attempt(t, h, `{"login":"bob","password":"wrong-pass"}`) // throttled
	r1 := refreshWith(t, h, r0).str("refreshToken")
	time.Sleep(5 * time.Millisecond)
	refreshWith(t, h, r0) // reuse: the session ends
	secrets = append(secrets, r1)
	minted := do(t, h, "POST", "/token/create", `{"userId":2,"actions":["GetDevice"]}`, "Authorization", "Bearer "+admin)
	secrets = append(secrets, minted.str("accessToken"), minted.str("refreshToken"))
	do(t, h, "POST", "/token/revoke", `{"token":"`+minted.str("accessToken")+`"}`)
	do(t, h, "POST", "/token/revoke", `{"userId":3}`, "Authorization", "Bearer "+admin)

	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(string(data), s) {
			t.Fatalf("the audit log holds a secret %.12q...", s)
		}
	}
	var events []map[string]any
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	for sc.Scan() {
		var e map[string]any
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("not a JSON line: %q", sc.Text())
		}
		events = append(events, e)
	}
	want := []struct {
		event, outcome string
		fields         map[string]any
	}{
		{"login", "success", map[string]any{"user_id": 1.0, "login": "admin", "client": "192.0.2.1"}},
		{"login", "success", map[string]any{"user_id": 2.0, "login": "alice"}},
		{"login_failed", "failure", map[string]any{"login": "bob", "reason": "invalid login or password"}},
		{"login_failed", "failure", map[string]any{"login": "bob"}},
		{"login_throttled", "refused", map[string]any{"login": "bob"}},
		{"rotation", "success", map[string]any{"user_id": 2.0}},
		{"reuse_detected", "failure", map[string]any{"user_id": 2.0}},
		{"create", "success", map[string]any{"user_id": 2.0, "actor_id": 1.0, "target_user_id": 2.0}},
		{"revoke", "success", nil},
		{"revoke_user", "success", map[string]any{"actor_id": 1.0, "target_user_id": 3.0}},
	}
	if len(events) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(events), len(want), data)
	}
	stamp := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)
	for i, w := range want {
		e := events[i]
		if e["event"] != w.event || e["outcome"] != w.outcome || !stamp.MatchString(e["time"].(string)) || e["router"] != "test" {
			t.Errorf("line %d: %v, want event %s outcome %s", i+1, e, w.event, w.outcome)
		}
		for k, v := range w.fields {
			if e[k] != v {
				t.Errorf("line %d (%s): %s = %v, want %v", i+1, w.event, k, e[k], v)
			}
		}
	}
	if sid, _ := events[1]["sid"].(string); sid == "" || events[5]["sid"] != sid {
		t.Errorf("the rotation's session %v is not the login's %v", events[5]["sid"], sid)
	}
	if actions, _ := events[7]["actions"].([]any); len(actions) != 1 || actions[0] != "GetDevice" {
		t.Errorf("create's granted actions: %v", events[7]["actions"])
	}
}

// metricValue reads one series of an exposition ("" when absent).
func metricValue(t *testing.T, body, series string) float64 {
	t.Helper()
	for _, line := range strings.Split(body, "\n") {
		if strings.HasPrefix(line, series+" ") {
			v, err := strconv.ParseFloat(strings.TrimPrefix(line, series+" "), 64)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
	}
	return 0
}

// TestMetricsEndpoint: who may read <basePath>/metrics, and counters that
// move with the traffic.
func TestMetricsEndpoint(t *testing.T) {
	cfg := throttleConfig(t)
	cfg.Metrics = true
	h, _ := newHandler(t, cfg)
	admin, _ := login(t, h, "admin")
	alice, _ := login(t, h, "alice")
	scrape := func() string {
		t.Helper()
		res := do(t, h, "GET", "/token/metrics", "", "Authorization", "Bearer "+admin)
		if res.code != 200 || !strings.HasPrefix(res.header.Get("Content-Type"), "text/plain; version=0.0.4") {
			t.Fatalf("scrape: %d %v %s", res.code, res.header, res.raw)
		}
		return res.raw
	}
	logins := `tokengate_token_requests_total{dialect="rest",endpoint="login",outcome="success"}`
	memo := `tokengate_guard_decisions_total{answered_by="memo",outcome="allowed"}`
	denied := `tokengate_guard_decisions_total{answered_by="cache",outcome="403"}`
	before := scrape()
	login(t, h, "bob")
	for i := 0; i < 3; i++ {
		doMulti(t, h, "GET", "/device/d1", "Authorization", "Bearer "+alice)
	}
	doMulti(t, h, "GET", "/device/d3", "Authorization", "Bearer "+alice)
	after := scrape()
	for _, c := range []struct {
		series string
		delta  float64
	}{{logins, 1}, {memo, 2}, {denied, 1}} {
		if got := metricValue(t, after, c.series) - metricValue(t, before, c.series); got != c.delta {
			t.Errorf("%s moved by %v, want %v", c.series, got, c.delta)
		}
	}
	for _, name := range []string{"tokengate_build_info", "tokengate_store_up 1", "tokengate_token_cache_entries{router=\"test\"}"} {
		if !strings.Contains(after, name) {
			t.Errorf("no %s in\n%s", name, after)
		}
	}
	for _, c := range []struct {
		desc   string
		header []string
		code   int
	}{
		{desc: "no token", code: 401},
		{desc: "alice lacks ManageConfiguration", header: []string{"Authorization", "Bearer " + alice}, code: 403},
	} {
		if res := do(t, h, "GET", "/token/metrics", "", c.header...); res.code != c.code {
			t.Errorf("%s: %d, want %d", c.desc, res.code, c.code)
		}
	}
	t.Run("a scraper's network needs no token", func(t *testing.T) {
		cfg := throttleConfig(t)
		cfg.Metrics = true
		cfg.MetricsAllowedNetworks = []string{"192.0.2.0/24"} // httptest's client address
		h, _ := newHandler(t, cfg)
		if res := do(t, h, "GET", "/token/metrics", ""); res.code != 200 {
			t.Fatalf("%d %s", res.code, res.raw)
		}
	})
	t.Run("off: 404", func(t *testing.T) {
		h, _ := newHandler(t, throttleConfig(t))
		if res := do(t, h, "GET", "/token/metrics", ""); res.code != 404 {
			t.Fatalf("%d %s", res.code, res.raw)
		}
	})
}
