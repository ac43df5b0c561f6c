package tokengate

import (
	"time"

	"github.com/patrickmn/go-cache"

	"github.com/tokengate/tokengate/bounded"
)

// tokenCache keeps verified access tokens, keyed by the token itself, so
// that a repeated token costs a lookup instead of a signature check.
//
// Entries never outlive the token's exp nor the configured TTL. The cache
// is bounded (package bounded): when full, expired entries are swept (at
// most once a second, so a flood cannot make every request pay for a sweep)
// and, if it is still full, new tokens are verified but not cached.
// go-cache runs without its janitor goroutine: Traefik builds a middleware
// per router and per reload, and goroutines started in New would leak.
type tokenCache struct {
	items *cache.Cache
	ttl   time.Duration
	bound *bounded.Admission
}

// newTokenCache returns nil (no caching) when ttl or max is zero.
func newTokenCache(ttl time.Duration, limit int) *tokenCache {
	if ttl <= 0 || limit <= 0 {
		return nil
	}
	items := cache.New(ttl, 0)
	sweep := func(_ int64) int {
		items.DeleteExpired()
		return items.ItemCount()
	}
	return &tokenCache{items: items, ttl: ttl, bound: bounded.New(limit, sweep)}
}

// cacheGet and cacheAdd are functions, not methods: they run for every
// request the memo does not answer (CONTRIBUTING.md, the cost model).
//
// cacheGet answers nothing for a token expired at ns (Unix nanoseconds on
// the gate's clock): go-cache expires its entries on the wall clock, which
// tests do not move.
func cacheGet(c *tokenCache, token string, ns int64) (*identity, bool) {
	if c == nil {
		return nil, false
	}
	v, ok := c.items.Get(token)
	if !ok {
		return nil, false
	}
	id, ok := v.(*identity)
	if !ok || id.claims.ExpiresAt*int64(time.Second) <= ns {
		return nil, false
	}
	return id, true
}

// cachedIdentity returns the cached identity of token, or nil when the
// cache holds none or holds one verified with keys or users since
// reloaded; ns is now, Unix nanoseconds. It is identify's, with the checks
// in a frame of their own, paid only with the cache on (CONTRIBUTING.md,
// the cost model).
func cachedIdentity(g *gate, token string, ns int64) *identity {
	id, ok := cacheGet(g.cache, token, ns)
	if !ok || (g.keysReload && id.keys != g.tokens.Keys()) || (g.usersReload && id.usersVersion != g.users.Version()) {
		return nil
	}
	return id
}

// cacheAdd caches id until its token expires or the TTL runs out,
// whichever comes first; ns is now, Unix nanoseconds.
func cacheAdd(c *tokenCache, token string, id *identity, ns int64) {
	if c == nil {
		return
	}
	ttl := time.Duration(id.claims.ExpiresAt*int64(time.Second) - ns)
	if ttl > c.ttl {
		ttl = c.ttl
	}
	if ttl <= 0 {
		return
	}
	if c.items.ItemCount() >= c.bound.Max && !bounded.Room(c.bound, ns) {
		return
	}
	c.items.Set(token, id, ttl)
}

// len returns the number of entries, expired ones included.
func (c *tokenCache) len() int {
	if c == nil {
		return 0
	}
	return c.items.ItemCount()
}
