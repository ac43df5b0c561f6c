//go:build e2e

package e2e

// The audit trail and the metrics through Traefik: audit lines written to a
// file that is rotated away while Traefik writes, the metrics endpoint
// checked by promtool, its counters moving, and its refusals.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func auditLines(t *testing.T, path string) []map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		var e map[string]any
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("not a JSON line: %q", sc.Text())
		}
		out = append(out, e)
	}
	return out
}

func TestAuditThroughTraefik(t *testing.T) {
	file := filepath.Join(t.TempDir(), "audit.log")
	g := startTraefik(t, oneRouter(pluginOptions(M{"auditLog": file, "throttle": M{"freeAttempts": 1}})))
	access, refresh := g.login(t, "alice")
	g.post(t, "/token", `{"login":"bob","password":"nope"}`)
	g.post(t, "/token", `{"login":"bob","password":"nope"}`)
	g.refresh(t, refresh)
	lines := auditLines(t, file)
	events := make([]string, 0, len(lines))
	for _, e := range lines {
		events = append(events, fmt.Sprint(e["event"], "/", e["outcome"]))
		if e["router"] != "auth@file" || e["time"] == nil {
			t.Errorf("line %v: router or time missing", e)
		}
	}
	if got := strings.Join(events, " "); got != "login/success login_failed/failure login_throttled/refused refresh/success" {
		t.Errorf("events: %s", got)
	}
	data, _ := os.ReadFile(file)
	for _, secret := range []string{access, refresh, "alice-pass", "nope"} {
		if strings.Contains(string(data), secret) {
			t.Errorf("the audit log holds %.12q...", secret)
		}
	}

	// logrotate's "create": the file is renamed away and a new one made;
	// lines written after the next check (at most 1s) land in the new file.
	if err := os.Rename(file, file+".1"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond)
	g.login(t, "admin")
	g.login(t, "admin")
	if rotated := auditLines(t, file+".1"); len(rotated) < len(lines) {
		t.Errorf("the rotated file lost lines: %d < %d", len(rotated), len(lines))
	}
	if fresh := auditLines(t, file); len(fresh) == 0 || fresh[len(fresh)-1]["login"] != "admin" {
		t.Errorf("no line in the new file after rotation: %v", fresh)
	}
}

func TestMetricsThroughTraefik(t *testing.T) {
	g := startTraefik(t, oneRouter(pluginOptions(M{"metrics": true})))
	admin, _ := g.login(t, "admin")
	alice, _ := g.login(t, "alice")
	scrape := func() string {
		t.Helper()
		r := g.do(t, http.MethodGet, "/token/metrics", "", bearer(admin)...)
		if r.code != http.StatusOK {
			t.Fatalf("scrape: %s", r)
		}
		return string(r.body)
	}
	before := scrape()
	for i := 0; i < 3; i++ {
		g.do(t, http.MethodGet, "/device/d1", "", bearer(alice)...)
	}
	g.post(t, "/token", `{"login":"alice","password":"nope"}`)
	after := scrape()
	for series, delta := range map[string]float64{
		`tokengate_guard_decisions_total{answered_by="memo",outcome="allowed"}`:             2,
		`tokengate_token_requests_total{dialect="rest",endpoint="login",outcome="failure"}`: 1,
	} {
		if got := seriesValue(after, series) - seriesValue(before, series); got != delta {
			t.Errorf("%s moved by %v, want %v", series, got, delta)
		}
	}
	if !strings.Contains(after, `interpreter="yaegi"`) {
		t.Errorf("build info does not say yaegi:\n%s", after)
	}
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatal("promtool is not on PATH: run scripts/install-tools.sh promtool")
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(after)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
	expectRefused(t, "no token", g.do(t, http.MethodGet, "/token/metrics", ""), http.StatusUnauthorized, "")
	expectRefused(t, "alice's token", g.do(t, http.MethodGet, "/token/metrics", "", bearer(alice)...), http.StatusForbidden, "")
}

func seriesValue(body, series string) float64 {
	for _, line := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			var f float64
			fmt.Sscan(v, &f)
			return f
		}
	}
	return 0
}
