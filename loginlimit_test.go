package tokengate_test

import (
	"bufio"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestLoginLengthCap: a login over 256 bytes is refused with 400, the same
// answer for every such login and in every dialect, before the throttle
// and before the audit trail: it writes no audit line and counts no
// failure. A 256-byte login is an ordinary wrong login (401).
func TestLoginLengthCap(t *testing.T) {
	logPath := filepath.Join(t.TempDir(), "audit.log")
	cfg := throttleConfig(t) // 2 free attempts per login
	cfg.Throttle.AddressFreeAttempts = 2
	cfg.AuditLog = logPath
	h, _ := newHandler(t, cfg)

	const msg = "login is longer than 256 bytes"
	long := strings.Repeat("A", 257)
	for i := 0; i < 5; i++ {
		for _, body := range []string{
			`{"login":"` + long + `","password":"x"}`,
			`{"login":"` + strconv.Itoa(i) + strings.Repeat("B", 60<<10) + `","password":"alice-pass"}`,
		} {
			res := do(t, h, "POST", "/token", body)
			if res.code != http.StatusBadRequest || res.str("message") != msg {
				t.Fatalf("REST, over-long login: %d %s", res.code, res.raw)
			}
		}
		res := do(t, h, "POST", "/token", `{"action":"token","requestId":1,"login":"`+long+`","password":"x"}`)
		if res.code != http.StatusBadRequest || res.body["code"] != float64(400) || res.body["error"] != msg {
			t.Fatalf("message, over-long login: %d %s", res.code, res.raw)
		}
		res = do(t, h, "POST", "/token", `{"operation":"create_authentication_tokens","username":"`+long+`","password":"x"}`)
		if res.code != http.StatusBadRequest || res.body["error"] != msg {
			t.Fatalf("HarperDB, over-long login: %d %s", res.code, res.raw)
		}
	}
	if fi, err := os.Stat(logPath); err == nil && fi.Size() > 0 {
		t.Errorf("over-long logins wrote %d bytes of audit log, want none", fi.Size())
	}

	// 20 refusals from one address, past both free-attempt counts: none
	// was counted, so alice still logs in.
	if res := do(t, h, "POST", "/token", `{"login":"alice","password":"alice-pass"}`); res.code != http.StatusCreated {
		t.Fatalf("alice after over-long logins: %d %s", res.code, res.raw)
	}
	// At the limit: an ordinary unknown login, counted and audited.
	at := strings.Repeat("A", 256)
	if res := do(t, h, "POST", "/token", `{"login":"`+at+`","password":"x"}`); res.code != http.StatusUnauthorized {
		t.Fatalf("256-byte login: %d %s", res.code, res.raw)
	}
	f, err := os.Open(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) != 2 || !strings.Contains(lines[0], `"event":"login"`) || !strings.Contains(lines[1], `"login_failed"`) {
		t.Errorf("audit log = %q, want alice's login and the 256-byte login's failure", lines)
	}
}

// TestLoginLengthCapAuditAmplification is the review's demonstration: 200
// logins of 60 KiB wrote 12.3 MB of audit log.
func TestLoginLengthCapAuditAmplification(t *testing.T) {
	logPath := filepath.Join(t.TempDir(), "audit.log")
	cfg := testConfig()
	cfg.AuditLog = logPath
	h, _ := newHandler(t, cfg)
	const n = 200
	for i := 0; i < n; i++ {
		login := strconv.Itoa(i) + strings.Repeat("A", 60<<10)
		do(t, h, "POST", "/token", `{"login":"`+login+`","password":"x"}`)
	}
	if fi, err := os.Stat(logPath); err == nil && fi.Size() > int64(n)*4096 {
		t.Errorf("audit log grew by %d bytes per request", fi.Size()/n)
	}
}
