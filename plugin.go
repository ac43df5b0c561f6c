// Package tokengate is a Traefik middleware that issues DeviceHive-style JWTs
// on its token paths and guards every other route with them.
//
// On the token paths (default /token, /token/refresh) it trades a login and
// password for an access and a refresh token, and a refresh token for a new
// access token, in three dialects: DeviceHive REST, DeviceHive messages and
// HarperDB operations.
//
// Traefik runs plugins in the Yaegi interpreter: New validates and
// precompiles everything, and ServeHTTP only looks things up.
package tokengate

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/tokengate/tokengate/audit"
	"github.com/tokengate/tokengate/directory"
	"github.com/tokengate/tokengate/metrics"
	"github.com/tokengate/tokengate/permissions"
	"github.com/tokengate/tokengate/tokens"
	"github.com/tokengate/tokengate/users"
)

// gate is the middleware instance Traefik builds for one router.
type gate struct {
	next http.Handler
	name string
	now  func() time.Time // time.Now but in tests (SetClock)
	// until is time.Until on the gate's clock: ServeHTTP's fast path reads
	// the clock in one call.
	until    func(time.Time) time.Duration
	basePath string
	maxBody  int64
	tokens   *tokens.Service
	// accessLifetime and refreshLifetime are the tokens' default
	// lifetimes; keysEvery is how often the key files are checked.
	accessLifetime, refreshLifetime, keysEvery time.Duration
	// createMaxLifetime and createMaxAccess cap the refresh and access
	// tokens minted at <basePath>/create.
	createMaxLifetime time.Duration
	createMaxAccess   time.Duration
	jwksWellKnown     bool
	keysReload        bool            // key files are watched: cached tokens carry their key set
	keyRing           *tokens.KeyRing // its next check bounds memoised decisions
	users             *users.Store
	usersReload       bool  // a users file is watched: cached tokens carry its version
	validAfter        int64 // tokensValidAfter, Unix s: tokens issued before are refused

	// Sessions: the state store's view, rotation and revocation.
	view        *view
	rotation    bool
	reuseGrace  time.Duration
	maxLifetime time.Duration // the longest any token is accepted (lifetime and leeway): revocations are kept that long
	// sessionMargin (s, the leeway rounded up) is how long the store keeps
	// a session past its refresh token's exp: the store's clock (Redis's)
	// may be ahead of this replica's by up to the leeway.
	sessionMargin int64
	throttle      *loginThrottle

	// Telemetry: the audit log (nil when off) and the metrics.
	audit           *audit.Log
	m               *gateMetrics
	metricsOn       bool
	telemetry       bool             // metricsOn or an audit log: token events are noted
	memoAllowed     *metrics.Counter // m.guard[fromMemo][0], for ServeHTTP
	metricsAction   permissions.Action
	metricsNetworks []netip.Prefix

	// The route guard.
	rules                *permissions.Table
	defaultAction        permissions.Action // -1: deny unmatched routes
	public               *permissions.Table // nil: no public paths
	publicExact          map[string]uint16  // public.Exact(): a path absent here is not public...
	publicPatterns       bool               // ...unless some public rule is a pattern
	allowPreflight       bool
	unlistedMayPass      bool // allowPreflight || publicPatterns: a path publicExact lacks may pass without a token
	tokenCookie          string
	csrfHeader           string          // canonical; proves a cookie token is not cross-site
	allowedOrigins       map[string]bool // may use a cookie token without csrfHeader
	tokenQuery           string
	tokenQueryAnyRequest bool // else the query token is read on WebSocket upgrades only
	realm                string
	headers              []identityHeader
	headerNames          []string        // the headers' canonical names, for the hot path
	loginPlan, mintPlan  *headerPlan     // what a login's and a minted token set (headerValues)
	drop                 map[string]bool // canonical names removed from forwarded requests
	forwardAuthorization bool
	cache                *tokenCache
	cacheTTL             time.Duration
	memo                 *decisionMemo                   // nil when off
	memoMu               *sync.RWMutex                   // memo.mu, read by ServeHTTP
	memoRoutes           map[string]map[string]*decision // memo.routes, read by ServeHTTP
	devices              *directory.Directory
	staticDevices        map[string]directory.Device // devices.Static(), read by checkScope
	boundSpellings       map[string][]string         // a bound header's other spellings ("_" for "-"), refused
	deviceTTL            time.Duration               // how long a looked-up device may be trusted
}

// New validates the configuration and builds the middleware. Any error names
// the option at fault, and Traefik then refuses to serve the router.
func New(_ context.Context, next http.Handler, config *Config, name string) (http.Handler, error) {
	g, err := newGate(next, config, name)
	if err != nil {
		return nil, fmt.Errorf("tokengate %q: %w", name, err)
	}
	if g.memo != nil {
		return g, nil
	}
	if g.cache == nil && g.tokenCookie == "" && g.tokenQuery == "" {
		return &uncached{g: g}, nil
	}
	return &unmemoised{g: g}, nil
}

// unmemoised is the middleware when decisions are not memoised because a
// cookie or a query token may come with a request (uncached is the one
// without any cache): its ServeHTTP goes straight to serve, without the
// frame and the read lock of a memo lookup that could find nothing
// (CONTRIBUTING.md, the cost model).
type unmemoised struct{ g *gate }

func (u *unmemoised) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	serve(u.g, w, r)
}

// gateOf returns the gate of a middleware New built.
//
// Two assertions, not a type switch: on the interpreter's wrapper of a
// handler (CONTRIBUTING.md, traps) a type switch matches no case.
func gateOf(h http.Handler) (*gate, bool) {
	if g, ok := h.(*gate); ok {
		return g, true
	}
	if u, ok := h.(*unmemoised); ok {
		return u.g, true
	}
	if u, ok := h.(*uncached); ok {
		return u.g, true
	}
	return nil, false
}

// SetClock makes the middleware h, built by New, read the time from now
// instead of time.Now: the gate, its token service, users store, key ring
// and login throttle. It exists for tests, which move time rather than
// sleep: call it before the first request, and give the middleware an
// issuer of its own, as its sessions' view is shared by issuer. It reports
// whether h is such a middleware. Traefik never calls it.
//
// A function, not a method reached through an interface.
// Yaegi: see CONTRIBUTING.md, traps (the handler New returns).
func SetClock(h http.Handler, now func() time.Time) bool {
	g, ok := gateOf(h)
	if !ok {
		return false
	}
	g.now = now
	g.until = func(t time.Time) time.Duration { return t.Sub(now()) }
	g.tokens.SetClock(now)
	g.users.SetClock(now)
	g.keyRing.SetClock(now)
	if g.throttle != nil {
		g.throttle.now = now
	}
	return true
}

// ServeHTTP answers the token paths itself and guards everything else. It
// is the middleware's when decisions are memoised (New returns uncached or
// unmemoised otherwise).
//
// Its first step is the fast path: a request allowed before (same path,
// Authorization value and method) is forwarded after a lookup in the
// decision memo. It is written inline, with as few expressions as will do,
// and the rest of the work is in serve (CONTRIBUTING.md, rules for the
// request path).
func (g *gate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if a := r.Header["Authorization"]; len(a) == 1 {
		g.memoMu.RLock()
		d := g.memoRoutes[r.URL.Path][a[0]]
		g.memoMu.RUnlock()
		if d != nil && d.method == r.Method && g.until(d.deadline) > 0 {
			// scrub, then forward's header loop, written out: two calls
			// less on the fast path.
			for name := range r.Header {
				if g.drop[name] {
					delete(r.Header, name)
				}
			}
			if !g.forwardAuthorization {
				delete(r.Header, "Authorization")
			}
			for i, name := range d.names {
				r.Header[name] = d.values[i]
			}
			if g.metricsOn {
				g.memoAllowed.Add(1)
			}
			g.next.ServeHTTP(w, r)
			return
		}
	}
	serve(g, w, r)
}

// serve handles what the decision memo does not. A path under the base
// path names a token endpoint: "" for the base path itself, else the rest
// after the slash.
func serve(g *gate, w http.ResponseWriter, r *http.Request) {
	if rest, under := strings.CutPrefix(r.URL.Path, g.basePath); under && (rest == "" || rest[0] == '/') {
		if rest != "" {
			rest = rest[1:]
		}
		serveToken(g, w, r, rest)
		return
	}
	if g.jwksWellKnown && r.URL.Path == "/.well-known/jwks.json" {
		g.serveJWKS(w, r)
		return
	}
	guard(g, w, r)
}
