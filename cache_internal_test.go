package tokengate

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokengate/tokengate/internal/testclock"
	"github.com/tokengate/tokengate/permissions"
	"github.com/tokengate/tokengate/tokens"
)

func TestTokenCacheBounds(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	tests := []struct {
		desc      string
		max       int
		ttl       time.Duration
		expiresAt int64
		adds      int
		wantLen   int
	}{
		{desc: "caches valid tokens", max: 10, ttl: time.Minute, expiresAt: now.Unix() + 600, adds: 3, wantLen: 3},
		{desc: "stops at the bound", max: 2, ttl: time.Minute, expiresAt: now.Unix() + 600, adds: 5, wantLen: 2},
		{desc: "never caches an expired token", max: 10, ttl: time.Minute, expiresAt: now.Unix() - 1, adds: 3, wantLen: 0},
		{desc: "off", max: 0, ttl: time.Minute, expiresAt: now.Unix() + 600, adds: 3, wantLen: 0},
	}
	for _, test := range tests {
		t.Run(test.desc, func(t *testing.T) {
			c := newTokenCache(test.ttl, test.max)
			for i := 0; i < test.adds; i++ {
				cacheAdd(c, "token-"+strconv.Itoa(i), &identity{claims: tokens.Claims{ExpiresAt: test.expiresAt}}, now.UnixNano())
			}
			if got := c.len(); got != test.wantLen {
				t.Fatalf("len = %d, want %d", got, test.wantLen)
			}
		})
	}
}

func TestTokenCacheEntryLifetime(t *testing.T) {
	c := newTokenCache(time.Hour, 10)
	now := time.Now()
	// The token expires in 1s: the entry must not outlive it, whatever the TTL.
	cacheAdd(c, "short", &identity{claims: tokens.Claims{ExpiresAt: now.Unix() + 1}}, now.UnixNano())
	if _, ok := cacheGet(c, "short", now.UnixNano()); !ok {
		t.Fatal("fresh entry missing")
	}
	// go-cache expires entries on the wall clock, from its own reading of
	// it (a few microseconds after now): its expiry is read rather than
	// waited for. The guard also compares exp on its clock (clock_test.go).
	if exp := c.items.Items()["short"].Expiration; exp > (now.Unix()+1)*int64(time.Second)+int64(time.Since(now)) {
		t.Fatalf("entry expires at %d, after its token (%d)", exp, now.Unix()+1)
	}
	// Nor on the gate's clock, whatever go-cache's says.
	if _, ok := cacheGet(c, "short", (now.Unix()+1)*int64(time.Second)); ok {
		t.Fatal("entry answered at its token's exp")
	}
}

func TestTokenCacheSweepsWhenFull(t *testing.T) {
	c := newTokenCache(time.Hour, 2)
	now := time.Now()
	cacheAdd(c, "a", &identity{claims: tokens.Claims{ExpiresAt: now.Unix() + 1}}, now.UnixNano())
	cacheAdd(c, "b", &identity{claims: tokens.Claims{ExpiresAt: now.Unix() + 1}}, now.UnixNano())
	time.Sleep(1100 * time.Millisecond) // go-cache's entries expire on the wall clock
	later := time.Now()
	cacheAdd(c, "c", &identity{claims: tokens.Claims{ExpiresAt: later.Unix() + 600}}, later.UnixNano())
	if _, ok := cacheGet(c, "c", later.UnixNano()); !ok {
		t.Fatal("a full cache of expired entries must make room")
	}
}

// TestGuardCachesOnlyValidTokens drives the gate and looks at its cache:
// a valid token is cached on first use and served from the cache after;
// an invalid one is never cached.
func TestGuardCachesOnlyValidTokens(t *testing.T) {
	cfg := internalConfig()
	cfg.DefaultAction = "GetDevice"
	cfg.CacheMaxEntries = 2
	g, tokens := internalGate(t, cfg, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}), 3)
	get := func(token string) int {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, "/x", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		g.ServeHTTP(rec, req)
		return rec.Code
	}
	if code := get("garbage"); code != 401 || g.cache.len() != 0 {
		t.Fatalf("invalid token: %d, cache %d", code, g.cache.len())
	}
	if code := get(tokens[0]); code != 200 || g.cache.len() != 1 {
		t.Fatalf("first use: %d, cache %d", code, g.cache.len())
	}
	if _, ok := cacheGet(g.cache, tokens[0], time.Now().UnixNano()); !ok {
		t.Fatal("valid token not cached")
	}
	if code := get(tokens[0]); code != 200 || g.cache.len() != 1 {
		t.Fatalf("cache hit: %d, cache %d", code, g.cache.len())
	}
	for _, tok := range tokens {
		if code := get(tok); code != 200 {
			t.Fatalf("status %d", code)
		}
	}
	if g.cache.len() != 2 {
		t.Fatalf("cache must stop at its bound, has %d", g.cache.len())
	}
}

func TestDecisionMemoBounds(t *testing.T) {
	now := time.Now()
	live := &decision{method: "GET", deadline: now.Add(time.Minute)}
	m := newDecisionMemo(2)
	m.add("/a", "Bearer x", live, now, 0)
	m.add("/a", "Bearer x", live, now, 0) // replacing an entry does not count twice
	m.add("/b", "Bearer x", &decision{method: "GET", deadline: now.Add(time.Millisecond)}, now, 0)
	m.add("/c", "Bearer x", live, now, 0)
	if m.len() != 2 {
		t.Fatalf("len = %d, want the bound 2", m.len())
	}
	if m.lookup("/c", "Bearer x") != nil {
		t.Fatal("a full memo of live entries must not grow")
	}
	// Once "/b" has expired, a sweep makes room.
	later := now.Add(2 * time.Second)
	m.add("/c", "Bearer x", live, later, 0)
	if m.lookup("/c", "Bearer x") == nil || m.len() != 2 {
		t.Fatalf("after the sweep: len %d", m.len())
	}
	if _, ok := m.routes["/b"]; ok {
		t.Fatal("a path whose entries all expired must be dropped")
	}
	// The keys are compared whole: no other path or Authorization value
	// finds the entry.
	for _, k := range [][2]string{{"/a", "Bearer"}, {"/a", "Bearer x "}, {"/a ", "Bearer x"}, {"/", "a\nBearer x"}} {
		if m.lookup(k[0], k[1]) != nil {
			t.Fatalf("lookup(%q, %q) found an entry", k[0], k[1])
		}
	}
	if newDecisionMemo(0) != nil {
		t.Fatal("a zero bound turns the memo off")
	}
}

// TestDecisionMemoClearRefusesEarlierChecks: a decision whose checks began
// before a clear (a revocation) is not added after it; one that began after
// is.
func TestDecisionMemoClearRefusesEarlierChecks(t *testing.T) {
	now := time.Now()
	live := &decision{method: "GET", deadline: now.Add(time.Minute)}
	m := newDecisionMemo(10)
	before := m.generation
	m.clear()
	m.add("/a", "Bearer x", live, now, before)
	if m.len() != 0 {
		t.Fatal("a decision checked before the clear was added after it")
	}
	m.add("/a", "Bearer x", live, now, m.generation)
	if m.lookup("/a", "Bearer x") == nil {
		t.Fatal("a decision checked after the clear was not added")
	}
}

// TestGuardConcurrent drives one gate from several goroutines with a memo
// and a claims cache small enough to be full, so that hits, misses, adds,
// replacements and sweeps interleave (run natively with -race): every
// answer must still be the one a lone request gets, and the bounds hold.
func TestGuardConcurrent(t *testing.T) {
	cfg := internalConfig()
	cfg.Users[0].Role = "client"
	cfg.Users[0].NetworkIDs = []string{"1"}
	cfg.Preset = "devicehive"
	cfg.CacheMaxEntries = 3
	cfg.DeviceDirectory.Devices = []DeviceConfig{{ID: "d1", NetworkID: "1", DeviceTypeID: "10"}, {ID: "d3", NetworkID: "3", DeviceTypeID: "10"}}
	g, tokens := internalGate(t, cfg, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Auth-User-Id") != "2" {
			w.WriteHeader(http.StatusInternalServerError)
		}
	}), 2)
	type result struct {
		path string
		code int
	}
	results := make(chan result, 8*60)
	var wg sync.WaitGroup
	for worker := 0; worker < 8; worker++ {
		wg.Add(1)
		go func(worker int) {
			defer wg.Done()
			for i := 0; i < 60; i++ {
				path := "/device/d1/notification/" + strconv.Itoa(i%7)
				if i%5 == 0 {
					path = "/device/d3"
				}
				req := httptest.NewRequest(http.MethodGet, path, nil)
				req.Header.Set("Authorization", "Bearer "+tokens[(worker+i)%2])
				rec := httptest.NewRecorder()
				g.ServeHTTP(rec, req)
				results <- result{path, rec.Code}
			}
		}(worker)
	}
	wg.Wait()
	close(results)
	for res := range results {
		want := http.StatusOK
		if res.path == "/device/d3" {
			want = http.StatusForbidden
		}
		if res.code != want {
			t.Fatalf("%s: %d, want %d", res.path, res.code, want)
		}
	}
	if n := g.memo.len(); n > 3 {
		t.Fatalf("memo holds %d entries, bound 3", n)
	}
	if n := g.cache.len(); n > 3 {
		t.Fatalf("cache holds %d entries, bound 3", n)
	}
}

// internalConfig has one key and alice (id 2, admin, every network and
// device type); tests change what they need.
func internalConfig() *Config {
	cfg := CreateConfig()
	cfg.Keys = []KeyConfig{{ID: "k", Algorithm: "HS256", Secret: strings.Repeat("s", 32)}}
	cfg.Users = []UserConfig{{ID: 2, Login: "alice", Role: "admin", NetworkIDs: []string{"*"}, DeviceTypeIDs: []string{"*"},
		PasswordHash: "$6$tg-test-alice$U6.AT1FUHj5Da9ZpZ5QUuqoxdeyzkXnbITerO6JjcwRY972npsCl..YKzFM6e8cIwkds6dnvUrq/8P7gUjOgM."}}
	return cfg
}

// internalGate builds the gate of cfg in front of next and logs alice in
// n times (n distinct access tokens).
func internalGate(t *testing.T, cfg *Config, next http.Handler, n int) (*gate, []string) {
	t.Helper()
	h, err := New(context.Background(), next, cfg, "t")
	if err != nil {
		t.Fatal(err)
	}
	g, _ := gateOf(h)
	var tokens []string
	for i := 0; i < n; i++ {
		p, err := g.loginFrom(httptest.NewRequest(http.MethodPost, "/token", nil), map[string]any{"login": "alice", "password": "alice-pass"}, "login")
		if err != nil {
			t.Fatal(err)
		}
		tokens = append(tokens, p.access)
	}
	return g, tokens
}

// lookup is ServeHTTP's read of the memo, for the tests.
func (m *decisionMemo) lookup(path, authorization string) *decision {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.routes[path][authorization]
}

// The benchmarks below measure the bounded caches' add paths, natively and
// under the interpreter (scripts/yaegi-test.sh -run '^$' -bench 'Cache(Add|Get)|MemoAdd' -benchmem -- github.com/tokengate/tokengate):
// the not-full add runs for every token verified and every decision
// memoised; the full one, refused, for each of them while a flood of live
// entries keeps the cache full.

func BenchmarkCacheAdd(b *testing.B) {
	now := time.Unix(1_800_000_000, 0)
	c := newTokenCache(time.Hour, 1000)
	id := &identity{claims: tokens.Claims{ExpiresAt: now.Unix() + 600}}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		cacheAdd(c, "token", id, now.UnixNano())
	}
}

func BenchmarkCacheAddFull(b *testing.B) {
	now := time.Unix(1_800_000_000, 0)
	c := newTokenCache(time.Hour, 1)
	id := &identity{claims: tokens.Claims{ExpiresAt: now.Unix() + 600}}
	cacheAdd(c, "live", id, now.UnixNano())
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		cacheAdd(c, "token", id, now.UnixNano())
	}
}

func BenchmarkCacheGet(b *testing.B) {
	now := time.Now()
	c := newTokenCache(time.Hour, 1000)
	cacheAdd(c, "token", &identity{claims: tokens.Claims{ExpiresAt: now.Unix() + 600}}, now.UnixNano())
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		cacheGet(c, "token", now.UnixNano())
	}
}

// BenchmarkMemoAdd adds a new entry to a memo that is not full, then takes
// it out again (the delete is part of what it measures).
func BenchmarkMemoAdd(b *testing.B) {
	now := time.Unix(1_800_000_000, 0)
	m := newDecisionMemo(1000)
	d := &decision{method: "GET", deadline: now.Add(time.Minute)}
	m.add("/a", "Bearer y", d, now, 0)
	byAuth := m.routes["/a"]
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		m.add("/a", "Bearer x", d, now, 0)
		delete(byAuth, "Bearer x")
		m.count--
	}
}

func BenchmarkMemoAddFull(b *testing.B) {
	now := time.Unix(1_800_000_000, 0)
	m := newDecisionMemo(1)
	d := &decision{method: "GET", deadline: now.Add(time.Minute)}
	m.add("/a", "Bearer y", d, now, 0)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		m.add("/b", "Bearer x", d, now, 0)
	}
}

// TestMemoSkipsDecisionsOfReloadedState: a decision whose users or keys
// were reloaded between its checks and the memo is not memoised. Another
// request's reload has moved the next check on, and the decision would
// otherwise last until then on the state the reload replaced.
func TestMemoSkipsDecisionsOfReloadedState(t *testing.T) {
	dir := t.TempDir()
	usersFile, keyFile := filepath.Join(dir, "users.json"), filepath.Join(dir, "secret")
	write := func(file, content string, mtime time.Time) {
		if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(file, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	usersJSON := func(status string) string {
		return `{"users":[{"id":2,"login":"alice","passwordHash":"` + internalConfig().Users[0].PasswordHash +
			`","status":"` + status + `","networkIds":["*"],"deviceTypeIds":["*"]}]}`
	}
	start := time.Now()
	write(usersFile, usersJSON("active"), start.Add(-time.Hour))
	write(keyFile, strings.Repeat("s", 32), start.Add(-time.Hour))
	cfg := internalConfig()
	cfg.Issuer = "tokengate-" + t.Name() // the gate's own sessions view: its clock moves
	cfg.Users = nil
	cfg.UsersFile = usersFile
	cfg.UsersFileCheckInterval = "1s"
	cfg.Keys = []KeyConfig{{ID: "file-key", Algorithm: "HS256", SecretFile: keyFile}}
	cfg.KeysFileCheckInterval = "1s"
	h, err := New(context.Background(), http.NotFoundHandler(), cfg, "t")
	if err != nil {
		t.Fatal(err)
	}
	clock := testclock.New(start)
	SetClock(h, clock.Now)
	g, _ := gateOf(h)
	p, err := g.loginFrom(httptest.NewRequest(http.MethodPost, "/token", nil), map[string]any{"login": "alice", "password": "alice-pass"}, "login")
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, "/device/d1", nil)
	req.Header.Set("Authorization", "Bearer "+p.access)
	var m permissions.Match
	steps := []struct {
		desc   string
		reload func()
	}{
		{"users file", func() {
			write(usersFile, usersJSON("locked"), clock.Now())
			clock.Add(1100 * time.Millisecond)
			g.users.Version() // another request's checks reload it...
			g.tokens.Keys()   // ...and find the key file as it was
		}},
		{"key file", func() {
			write(keyFile, strings.Repeat("r", 40), clock.Now())
			clock.Add(1100 * time.Millisecond)
			g.tokens.Keys() // likewise, and the users file as it was
			g.users.Version()
		}},
	}
	for _, step := range steps {
		id, err := verify(g, p.access, clock.Now().UnixNano())
		if err != nil {
			t.Fatalf("%s: %v", step.desc, err)
		}
		remember(g, req, p.access, &m, false, id)
		if g.memo.len() != 1 {
			t.Fatalf("%s: a decision on the state in force is memoised, memo has %d", step.desc, g.memo.len())
		}
		g.forgetDecisions()
		step.reload()
		remember(g, req, p.access, &m, false, id)
		if g.memo.len() != 0 {
			t.Fatalf("%s reloaded before the memo: the decision was memoised", step.desc)
		}
		if step.desc == "users file" { // the key step needs a user again
			write(usersFile, usersJSON("active"), clock.Now())
			clock.Add(1100 * time.Millisecond)
			p, err = g.loginFrom(httptest.NewRequest(http.MethodPost, "/token", nil), map[string]any{"login": "alice", "password": "alice-pass"}, "login")
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer "+p.access)
		}
	}
}
