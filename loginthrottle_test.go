package tokengate_test

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tokengate/tokengate"
)

// throttleConfig has 2 free attempts per login (and the default 50 per
// address), in a memory store of the test's own.
func throttleConfig(t testing.TB) *tokengate.Config {
	cfg := sessionConfig(t)
	cfg.Throttle.FreeAttempts = 2
	return cfg
}

func attempt(t testing.TB, h http.Handler, body string, header ...string) response {
	t.Helper()
	return do(t, h, "POST", "/token", body, header...)
}

// TestThrottleWaitSequence: after the free attempts each further attempt
// waits, the wait doubling; an attempt during the wait gets 429 with
// Retry-After without its password being checked (the right password
// too); a success resets the login's count.
func TestThrottleWaitSequence(t *testing.T) {
	h, _ := newHandler(t, throttleConfig(t))
	clock := withClock(t, h)
	wrong := `{"login":"alice","password":"nope"}`
	right := `{"login":"alice","password":"alice-pass"}`
	for i := 0; i < 2; i++ {
		if res := attempt(t, h, wrong); res.code != 401 {
			t.Fatalf("free attempt %d: %d %s", i+1, res.code, res.raw)
		}
	}
	for _, body := range []string{wrong, right} {
		res := attempt(t, h, body)
		if res.code != 429 || res.header.Get("Retry-After") != "1" || res.str("message") != "too many failed attempts: try again later" {
			t.Fatalf("during the wait: %d %v %s", res.code, res.header, res.raw)
		}
	}
	clock.Add(1100 * time.Millisecond)
	if res := attempt(t, h, wrong); res.code != 401 {
		t.Fatalf("after the wait: %d %s", res.code, res.raw)
	}
	if res := attempt(t, h, right); res.code != 429 || res.header.Get("Retry-After") != "2" {
		t.Fatalf("the wait doubles: %d %v %s", res.code, res.header, res.raw)
	}
	clock.Add(2100 * time.Millisecond)
	if res := attempt(t, h, right); res.code != 201 {
		t.Fatalf("the right password after the wait: %d %s", res.code, res.raw)
	}
	// The success reset the login's count: two free failures again.
	for i := 0; i < 2; i++ {
		if res := attempt(t, h, wrong); res.code != 401 {
			t.Fatalf("after a success, free attempt %d: %d %s", i+1, res.code, res.raw)
		}
	}
}

// TestThrottleDialectsAndEnumeration: the 429 in each dialect's error body,
// and unknown logins throttled exactly like known ones.
func TestThrottleDialectsAndEnumeration(t *testing.T) {
	tests := []struct {
		desc, body, field string
	}{
		{desc: "REST", body: `{"login":"%s","password":"nope"}`, field: "message"},
		{desc: "message", body: `{"action":"token","requestId":1,"login":"%s","password":"nope"}`, field: "error"},
		{desc: "HarperDB", body: `{"operation":"create_authentication_tokens","username":"%s","password":"nope"}`, field: "error"},
	}
	for _, test := range tests {
		t.Run(test.desc, func(t *testing.T) {
			h, _ := newHandler(t, throttleConfig(t))
			answers := make([]string, 0, 2)
			for _, login := range []string{"alice", "nobody"} {
				body := strings.Replace(test.body, "%s", login, 1)
				attempt(t, h, body)
				attempt(t, h, body)
				res := attempt(t, h, body)
				if res.code != 429 || res.header.Get("Retry-After") == "" || res.str(test.field) != "too many failed attempts: try again later" {
					t.Fatalf("%s: %d %v %s", login, res.code, res.header, res.raw)
				}
				answers = append(answers, res.raw)
			}
			if answers[0] != answers[1] {
				t.Fatalf("known and unknown logins answered differently: %q, %q", answers[0], answers[1])
			}
		})
	}
}

// TestThrottleAddresses: one address failing over many logins is slowed
// too; the address comes from X-Forwarded-For only from a trusted proxy.
func TestThrottleAddresses(t *testing.T) {
	tests := []struct {
		desc    string
		trusted []string
		peers   []string // RemoteAddr of the attempts, in turn
		xff     []string // X-Forwarded-For of the attempts, in turn
		last    int      // the status of the 5th attempt
	}{
		{desc: "one peer, many logins", peers: []string{"198.51.100.7:1000"}, last: 429},
		{desc: "an untrusted peer's spoofed headers are ignored", peers: []string{"198.51.100.7:1000"},
			xff: []string{"203.0.113.1", "203.0.113.2", "203.0.113.3", "203.0.113.4", "203.0.113.5"}, last: 429},
		{desc: "a trusted proxy's header names the clients", trusted: []string{"10.0.0.0/8"}, peers: []string{"10.1.2.3:1000"},
			xff: []string{"203.0.113.1", "203.0.113.2", "203.0.113.3", "203.0.113.4", "203.0.113.5"}, last: 401},
		{desc: "behind a trusted proxy, one client", trusted: []string{"10.0.0.0/8"}, peers: []string{"10.1.2.3:1000"},
			xff: []string{"203.0.113.9"}, last: 429},
	}
	for _, test := range tests {
		t.Run(test.desc, func(t *testing.T) {
			cfg := throttleConfig(t)
			cfg.Throttle.AddressFreeAttempts = 4
			cfg.Throttle.ClientIPHeader = "X-Forwarded-For"
			cfg.Throttle.TrustedProxies = test.trusted
			h, _ := newHandler(t, cfg)
			for i := 0; i < 5; i++ {
				req := httptest.NewRequest(http.MethodPost, "/token", strings.NewReader(`{"login":"user`+strconv.Itoa(i)+`","password":"nope"}`))
				req.RemoteAddr = test.peers[i%len(test.peers)]
				if len(test.xff) > 0 {
					req.Header.Set("X-Forwarded-For", test.xff[i%len(test.xff)])
				}
				res := doRequest(t, h, req)
				want := 401
				if i == 4 {
					want = test.last
				}
				if res.code != want {
					t.Fatalf("attempt %d: %d, want %d: %s", i+1, res.code, want, res.raw)
				}
			}
		})
	}
}

// TestThrottleCountsBadRefreshes: invalid refresh tokens count against the
// address, as failed logins do.
func TestThrottleCountsBadRefreshes(t *testing.T) {
	cfg := throttleConfig(t)
	cfg.Throttle.AddressFreeAttempts = 4
	h, _ := newHandler(t, cfg)
	for i := 0; i < 4; i++ {
		if res := do(t, h, "POST", "/token/refresh", `{"refreshToken":"not.a.token"}`); res.code != 401 {
			t.Fatalf("refresh %d: %d", i+1, res.code)
		}
	}
	if res := attempt(t, h, `{"login":"alice","password":"alice-pass"}`); res.code != 429 {
		t.Fatalf("login from the address: %d %s", res.code, res.raw)
	}
}

func TestThrottleConfigErrors(t *testing.T) {
	tests := []struct {
		desc   string
		change func(cfg *tokengate.Config)
		want   string
	}{
		{desc: "free attempts", change: func(cfg *tokengate.Config) { cfg.Throttle.FreeAttempts = 0 }, want: "throttle.freeAttempts:"},
		{desc: "max delay", change: func(cfg *tokengate.Config) { cfg.Throttle.MaxDelay = "soon" }, want: "throttle.maxDelay:"},
		{desc: "reset after", change: func(cfg *tokengate.Config) { cfg.Throttle.ResetAfter = "1s" }, want: "throttle.resetAfter:"},
		{desc: "proxy", change: func(cfg *tokengate.Config) { cfg.Throttle.TrustedProxies = []string{"10.0.0.0/33"} }, want: "throttle.trustedProxies[0]"},
		{desc: "header", change: func(cfg *tokengate.Config) { cfg.Throttle.ClientIPHeader = "X Forwarded" }, want: "throttle.clientIPHeader"},
	}
	for _, test := range tests {
		t.Run(test.desc, func(t *testing.T) {
			cfg := sessionConfig(t)
			test.change(cfg)
			expectConfigError(t, cfg, test.want)
		})
	}
}
