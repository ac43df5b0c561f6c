//go:build e2e

package e2e

// Sessions through Traefik: revocation (RFC 7009) and refresh rotation with
// the memory store, surviving a configuration reload; and the Redis store
// shared by two Traefik processes, including Redis going away mid-test.

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func (g *gateway) refresh(t *testing.T, token string) *reply {
	t.Helper()
	return g.post(t, "/token/refresh", fmt.Sprintf(`{"refreshToken":%q}`, token))
}

func (g *gateway) revoke(t *testing.T, body string, header ...string) *reply {
	t.Helper()
	return g.post(t, "/token/revoke", body, header...)
}

// TestSessionsMemoryStore: logout by either token, in JSON, form and
// message form; revocations outlive a configuration reload; rotation in
// the three dialects, reuse inside and outside the grace; revoke by user;
// logout with an expired access token; a revocation covers the leeway.
func TestSessionsMemoryStore(t *testing.T) {
	opts := pluginOptions(M{"refreshRotation": true, "refreshReuseGrace": "2s"})
	g := startTraefik(t, oneRouter(opts))

	t.Run("logout", func(t *testing.T) {
		for _, c := range []struct{ desc, body, ctype, which string }{
			{"JSON, refresh token", `{"token":%q}`, "application/json", "refresh"},
			{"form, access token", `token=%s&token_type_hint=access_token`, "application/x-www-form-urlencoded", "access"},
			{"message form", `{"action":"token/revoke","requestId":"r1","token":%q}`, "application/json", "access"},
		} {
			t.Run(c.desc, func(t *testing.T) {
				access, refresh := g.login(t, "alice")
				expectPass(t, "before", g.do(t, http.MethodGet, "/device/d1", "", bearer(access)...))
				token := access
				if c.which == "refresh" {
					token = refresh
				}
				r := g.revoke(t, fmt.Sprintf(c.body, token), "Content-Type", c.ctype)
				expectStatus(t, "POST /token/revoke", r, http.StatusOK)
				for i := 0; i < 2; i++ {
					expectRefused(t, "access after logout", g.do(t, http.MethodGet, "/device/d1", "", bearer(access)...), http.StatusUnauthorized, "token has been revoked")
				}
				expectRefused(t, "refresh after logout", g.refresh(t, refresh), http.StatusUnauthorized, "token has been revoked")
			})
		}
		for _, body := range []string{`{"token":"garbage"}`, fmt.Sprintf(`{"token":%q}`, tamper(mustLogin(t, g)))} {
			expectStatus(t, "revoke of a garbage or tampered token", g.revoke(t, body), http.StatusOK)
		}
		expectRefused(t, "revoke without a token", g.revoke(t, `{}`), http.StatusBadRequest, "token is required")
	})

	t.Run("revocations survive a configuration reload", func(t *testing.T) {
		access, _ := g.login(t, "bob")
		expectStatus(t, "revoke", g.revoke(t, fmt.Sprintf(`{"token":%q}`, access)), http.StatusOK)
		g.reconfigure(t, oneRouter(with(opts, M{"leeway": "31s"})))
		expectRefused(t, "after the reload", g.do(t, http.MethodGet, "/device/d3", "", bearer(access)...), http.StatusUnauthorized, "token has been revoked")
	})

	t.Run("rotation in three dialects", func(t *testing.T) {
		for _, c := range []struct{ desc, path, body, next string }{
			{"REST", "/token/refresh", `{"refreshToken":%q}`, "refreshToken"},
			{"message", "/token", `{"action":"token/refresh","requestId":2,"refreshToken":%q}`, "refreshToken"},
			{"HarperDB", "/token", `{"operation":"refresh_operation_token","refresh_token":%q}`, "refresh_token"},
		} {
			_, refresh := g.login(t, "alice")
			r := g.post(t, c.path, fmt.Sprintf(c.body, refresh))
			if next, _ := r.json[c.next].(string); next == "" || next == refresh {
				t.Errorf("%s: no new refresh token: %s", c.desc, r)
			}
		}
	})

	t.Run("reuse", func(t *testing.T) {
		access, r0 := g.login(t, "alice")
		r1 := g.refresh(t, r0).str(t, "refreshToken")
		expectStatus(t, "r0 again within the grace", g.refresh(t, r0), http.StatusCreated)
		time.Sleep(2100 * time.Millisecond)
		expectRefused(t, "r0 again after the grace", g.refresh(t, r0), http.StatusUnauthorized, "refresh token was already used: its session is revoked")
		expectRefused(t, "r1 then", g.refresh(t, r1), http.StatusUnauthorized, "token has been revoked")
		expectRefused(t, "the session's access token", g.do(t, http.MethodGet, "/device/d1", "", bearer(access)...), http.StatusUnauthorized, "token has been revoked")
	})

	t.Run("revoke by user", func(t *testing.T) {
		admin, _ := g.login(t, "admin")
		alice, _ := g.login(t, "alice")
		bob, _ := g.login(t, "bob")
		expectRefused(t, "alice ends bob's sessions", g.revoke(t, `{"userId":3}`, bearer(alice)...), http.StatusForbidden, "the user has rights beyond the caller's token")
		expectStatus(t, "admin ends bob's sessions", g.revoke(t, `{"userId":3}`, bearer(admin)...), http.StatusOK)
		expectRefused(t, "bob's token", g.do(t, http.MethodGet, "/device/d3", "", bearer(bob)...), http.StatusUnauthorized, "token has been revoked")
		expectPass(t, "alice's token", g.do(t, http.MethodGet, "/device/d1", "", bearer(alice)...))
	})

	t.Run("logout with an expired access token", func(t *testing.T) {
		g.reconfigure(t, oneRouter(with(opts, M{"accessTokenLifetime": "1s", "leeway": "0s"})))
		access, refresh := g.login(t, "alice")
		time.Sleep(2100 * time.Millisecond)
		expectRefused(t, "the expired access token", g.do(t, http.MethodGet, "/device/d1", "", bearer(access)...), http.StatusUnauthorized, "token has expired")
		expectStatus(t, "revoke with it", g.revoke(t, fmt.Sprintf(`{"token":%q}`, access)), http.StatusOK)
		expectRefused(t, "refresh after logout", g.refresh(t, refresh), http.StatusUnauthorized, "token has been revoked")
	})

	t.Run("a revocation lasts as long as the token is accepted, leeway included", func(t *testing.T) {
		g.reconfigure(t, oneRouter(with(opts, M{"refreshRotation": false, "refreshTokenLifetime": "2s",
			"accessTokenLifetime": "2s", "createMaxLifetime": "2s", "leeway": "10s"})))
		_, refresh := g.login(t, "alice")
		expectStatus(t, "revoke", g.revoke(t, fmt.Sprintf(`{"token":%q}`, refresh)), http.StatusOK)
		time.Sleep(3500 * time.Millisecond) // past exp, inside the leeway
		expectRefused(t, "refresh in the leeway", g.refresh(t, refresh), http.StatusUnauthorized, "token has been revoked")
	})
}

func mustLogin(t *testing.T, g *gateway) string {
	access, _ := g.login(t, "alice")
	return access
}

// TestTokensValidAfter: the global option, through a reload, refuses the
// tokens issued before it, on every route and at refresh.
func TestTokensValidAfter(t *testing.T) {
	opts := pluginOptions(nil)
	g := startTraefik(t, oneRouter(opts))
	access, refresh := g.login(t, "alice")
	g.reconfigure(t, oneRouter(with(opts, M{"tokensValidAfter": time.Now().Add(time.Second).UTC().Format(time.RFC3339)})))
	expectRefused(t, "an older token", g.do(t, http.MethodGet, "/device/d1", "", bearer(access)...), http.StatusUnauthorized, "token was issued before tokensValidAfter: log in again")
	expectRefused(t, "an older refresh token", g.refresh(t, refresh), http.StatusUnauthorized, "")
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(2 * time.Second)))
	fresh, _ := g.login(t, "alice")
	expectPass(t, "a token issued since", g.do(t, http.MethodGet, "/device/d1", "", bearer(fresh)...))
}

// TestSessionsSharedThroughRedis: two Traefik processes, one real Redis.
func TestSessionsSharedThroughRedis(t *testing.T) {
	redis := startRedis(t)
	opts := pluginOptions(M{
		"refreshRotation": true,
		"store": M{
			"redis":        M{"endpoints": []string{redis.addr}, "timeout": "300ms", "keyPrefix": "e2e:"},
			"syncInterval": "1s",
			"maxStaleness": "3s",
		},
	})
	a := startTraefik(t, oneRouter(opts))
	b := startTraefik(t, oneRouter(opts))
	get := func(g *gateway, token string) *reply {
		return g.do(t, http.MethodGet, "/device/d1", "", bearer(token)...)
	}

	t.Run("revoked on A, refused on B within the sync interval", func(t *testing.T) {
		access, _ := a.login(t, "alice")
		expectPass(t, "B before", get(b, access))
		expectStatus(t, "revoke on A", a.revoke(t, fmt.Sprintf(`{"token":%q}`, access)), http.StatusOK)
		expectRefused(t, "A at once", get(a, access), http.StatusUnauthorized, "token has been revoked")
		r := pollUntil(t, 3*time.Second, func() *reply { return get(b, access) }, func(r *reply) bool { return r.code == http.StatusUnauthorized })
		expectRefused(t, "B within the sync interval", r, http.StatusUnauthorized, "token has been revoked")
	})

	t.Run("rotated on A, reused on B: the session ends on both", func(t *testing.T) {
		access, r0 := a.login(t, "alice")
		r1 := a.refresh(t, r0).str(t, "refreshToken")
		r2 := a.refresh(t, r1).str(t, "refreshToken")
		expectRefused(t, "r0 on B", b.refresh(t, r0), http.StatusUnauthorized, "refresh token was already used: its session is revoked")
		expectRefused(t, "r2 on A", a.refresh(t, r2), http.StatusUnauthorized, "token has been revoked")
		for name, g := range map[string]*gateway{"A": a, "B": b} {
			r := pollUntil(t, 3*time.Second, func() *reply { return get(g, access) }, func(r *reply) bool { return r.code == http.StatusUnauthorized })
			expectRefused(t, "the access token on "+name, r, http.StatusUnauthorized, "token has been revoked")
		}
	})

	t.Run("a session outlives its exp by the leeway", func(t *testing.T) {
		// Redis expires a session by its own clock, which may be ahead of
		// a replica's: the record is kept the leeway (30s) past the
		// refresh token's exp (TestReuseDetectedWithAClockBehindRedis).
		_, refresh := a.login(t, "alice")
		_, claims := decodeJWT(t, refresh)
		sid, _ := claims["sid"].(string)
		exp, _ := claims["exp"].(float64)
		ttl := redis.pttl(t, "e2e:sess:"+sid)
		want := time.Until(time.Unix(int64(exp)+30, 0))
		if d := time.Duration(ttl) * time.Millisecond; d > want+time.Second || d < want-5*time.Second {
			t.Fatalf("the session key expires in %v, want about %v (exp + leeway)", d, want)
		}
	})

	t.Run("Redis away: 503 at refresh and revoke, fail closed after maxStaleness, then back", func(t *testing.T) {
		a.expectErrors()
		b.expectErrors()
		access, _ := a.login(t, "alice")
		revoked, _ := a.login(t, "alice")
		_, outage := a.login(t, "alice")
		expectStatus(t, "revoke before", a.revoke(t, fmt.Sprintf(`{"token":%q}`, revoked)), http.StatusOK)
		expectPass(t, "B before", get(b, access))
		redis.pause(t)
		// What times out may still be applied once Redis goes on: the
		// outage's refresh and revoke use a session of their own.
		expectRefused(t, "refresh", a.refresh(t, outage), http.StatusServiceUnavailable, "session store is unavailable, try again later")
		expectRefused(t, "revoke", b.revoke(t, fmt.Sprintf(`{"token":%q}`, outage)), http.StatusServiceUnavailable, "")
		expectRefused(t, "login with rotation on", a.post(t, "/token", `{"login":"alice","password":"alice-pass"}`), http.StatusServiceUnavailable, "")
		expectPass(t, "the guard serves from its last sync", get(b, access))
		r := pollUntil(t, 6*time.Second, func() *reply { return get(b, access) }, func(r *reply) bool { return r.code == http.StatusServiceUnavailable })
		expectRefused(t, "the guard after maxStaleness", r, http.StatusServiceUnavailable, "session store is unavailable, try again later")
		redis.resume(t)
		r = pollUntil(t, 4*time.Second, func() *reply { return get(b, access) }, func(r *reply) bool { return r.code == http.StatusOK })
		expectPass(t, "back", r)
		expectRefused(t, "a revocation from before", get(b, revoked), http.StatusUnauthorized, "token has been revoked")
		_, fresh := a.login(t, "alice")
		expectStatus(t, "a new session refreshes", b.refresh(t, fresh), http.StatusCreated)
		for _, g := range []*gateway{a, b} {
			lines := strings.Join(errLines(g.logPath), "\n")
			if !strings.Contains(lines, "is unreachable") || !strings.Contains(lines, "reachable again") {
				t.Errorf("the log does not say the store was lost and found:\n%s", lines)
			}
		}
	})
}

// redisServer is a redis-server on a free 127.0.0.1 port, without
// persistence, stopped when the test ends.
type redisServer struct {
	addr string
	cmd  *exec.Cmd
}

func startRedis(t *testing.T) *redisServer {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatal("redis-server is not on PATH: run scripts/install-tools.sh redis")
	}
	port := freePort(t)
	dir := t.TempDir()
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", dir, "--logfile", filepath.Join(dir, "redis.log"))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &redisServer{addr: "127.0.0.1:" + strconv.Itoa(port), cmd: cmd}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGCONT)
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if s.ping() {
			return s
		}
	}
	log, _ := os.ReadFile(filepath.Join(dir, "redis.log"))
	t.Fatalf("redis-server did not answer on %s:\n%s", s.addr, log)
	return nil
}

func (s *redisServer) ping() bool {
	conn, err := net.DialTimeout("tcp", s.addr, 200*time.Millisecond)
	if err != nil {
		return false
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(200 * time.Millisecond))
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	return err == nil && strings.HasPrefix(line, "+PONG")
}

// pttl returns a key's PTTL (ms; -2 when absent, -1 without expiry).
func (s *redisServer) pttl(t *testing.T, key string) int64 {
	t.Helper()
	conn, err := net.DialTimeout("tcp", s.addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(time.Second))
	if _, err := fmt.Fprintf(conn, "*2\r\n$4\r\nPTTL\r\n$%d\r\n%s\r\n", len(key), key); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, ":") {
		t.Fatalf("PTTL %s: %q %v", key, line, err)
	}
	n, err := strconv.ParseInt(strings.TrimSpace(line[1:]), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// pause stops the server's process (SIGSTOP): connections stay open and
// nothing answers, as when a Redis host hangs. resume continues it with
// its data intact.
func (s *redisServer) pause(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
}

func (s *redisServer) resume(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
}
