//go:build e2e

package e2e

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestRequestTargetsAsSent: request targets a client library would clean
// or cut, written on the wire as an attacker writes them, through real
// Traefik: the gate must see what the backend would, and refuse what a
// backend could read otherwise (a '#' after which the ids the gate adds
// would be a fragment; a "..;" segment a servlet container resolves).
func TestRequestTargetsAsSent(t *testing.T) {
	g := deviceHiveGateway(t)
	alice, _ := g.login(t, "alice") // networks 1 and 2; d3 is in network 3
	tests := []struct {
		target string
		code   int
	}{
		{"/device/notification/poll?x=#", http.StatusBadRequest},
		{"/device/notification/poll?waitTimeout=0#frag", http.StatusBadRequest},
		{"/device/d1/command/..;/..;/d3/command", http.StatusBadRequest},
		{"/device/d1/notification/..;x/..;y/d3/notification", http.StatusBadRequest},
		{"/device/d3/", http.StatusForbidden}, // d3's rule, not a weaker one
	}
	for _, test := range tests {
		t.Run(test.target, func(t *testing.T) {
			code, head, body := rawGet(t, g, test.target, "Host: echo.e2e", "Authorization: Bearer "+alice)
			if code != test.code {
				t.Fatalf("GET %s = %d, want %d\n%s%s", test.target, code, test.code, head, body)
			}
			if strings.Contains(head, "X-E2e-Echo: 1") {
				t.Fatalf("GET %s reached the backend", test.target)
			}
			if !strings.Contains(body, `"error":`) {
				t.Fatalf("GET %s: the refusal is not the gate's (Traefik's own?): %s", test.target, body)
			}
		})
	}
}

// rawGet writes a GET request line with target as is (no client library
// between) and returns the status, the response head and the body.
func rawGet(t *testing.T, g *gateway, target string, header ...string) (int, string, string) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", strings.TrimPrefix(g.URL, "http://"), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	req := "GET " + target + " HTTP/1.1\r\n" + strings.Join(header, "\r\n") + "\r\nConnection: close\r\n\r\n"
	if _, err := conn.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("GET %s: %v", target, err)
	}
	defer resp.Body.Close()
	var head strings.Builder
	_ = resp.Header.Write(&head)
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", target, err)
	}
	return resp.StatusCode, head.String(), string(body)
}

// TestTrailingSlashAndLongLogin: through real Traefik, a path that only a
// trailing slash keeps from a rule is checked by that rule (alice may read
// d1, so /device/d1/ reaches the backend, where no rule would have refused
// it), and a login over 256 bytes is refused before the throttle and the
// audit trail.
func TestTrailingSlashAndLongLogin(t *testing.T) {
	g := deviceHiveGateway(t)
	alice, _ := g.login(t, "alice")
	r := g.do(t, http.MethodGet, "/device/d1/", "", "Host", "echo.e2e", "Authorization", "Bearer "+alice)
	if r.code != http.StatusOK || r.header.Get("X-E2e-Echo") != "1" {
		t.Fatalf("GET /device/d1/ = %s, want the backend's answer", r)
	}
	long := strings.Repeat("a", 257)
	r = g.post(t, "/token", `{"login":"`+long+`","password":"x"}`, "Host", "echo.e2e")
	if r.code != http.StatusBadRequest || r.json["message"] != "login is longer than 256 bytes" {
		t.Fatalf("a 257-byte login = %s, want 400 login is longer than 256 bytes", r)
	}
}
