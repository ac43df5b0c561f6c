package tokengate

import (
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/tokengate/tokengate/permissions"
	"github.com/tokengate/tokengate/tokens"
	"github.com/tokengate/tokengate/users"
)

// guard lets a request through only with a valid access token whose
// actions allow what the request does, and forwards the caller's identity.
//
// ServeHTTP has already looked the request up in the decision memo; this
// is the full check, whose allowed outcomes the memo remembers. What is
// rare (public paths, refusals, the memo's bookkeeping) is in functions of
// its own, called only when needed (CONTRIBUTING.md, rules for the request
// path).
func guard(g *gate, w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path // each r.URL.Path costs a slot (CONTRIBUTING.md, the cost model)
	if strings.Contains(path, "/.") && hasDotSegment(path) {
		refuse(g, w, fromVerify, errDotSegment)
		return
	}
	// The map index before the call: most requests are for no public path
	// (CONTRIBUTING.md, the cost model). publicExact is nil when there are
	// no public paths.
	if (g.unlistedMayPass || g.publicExact[path] != 0) && passesUnauthenticated(g, r) {
		passUnauthenticated(g, w, r)
		return
	}
	token, refusal := requestToken(g, r)
	if refusal != nil {
		refuseRequest(g, w, fromVerify, refusal)
		return
	}
	id, source, err := identify(g, token)
	if err != nil {
		refuseToken(g, w, source, err)
		return
	}
	action := g.defaultAction
	var m permissions.Match
	matched := permissions.MatchRequest(g.rules, r.Method, path, &m)
	if !matched {
		matched = matchWithoutTrailingSlash(g, r.Method, path, &m)
	}
	if matched {
		action = m.Action
	}
	// action is at least 0 here; a shift past 31 gives 0, which denies.
	if action < 0 || id.actionMask&(uint32(1)<<uint32(action)) == 0 { //nolint:gosec // G115: see above
		refuse(g, w, source, errOutOfScope)
		return
	}
	if matched && m.Scoped {
		if refusal := checkScope(g, r, &m, &id.claims); refusal != nil {
			refuse(g, w, source, refusal)
			return
		}
	}
	if g.memo != nil {
		remember(g, r, token, &m, matched, id)
	}
	if g.metricsOn {
		g.countGuard(source, http.StatusOK)
	}
	forward(g, w, r, id.names, id.values)
}

// uncounted is the source of a refusal outside the guard, which its
// metrics do not count (the metrics endpoint's own).
const uncounted = -1

// errDotSegment refuses a path the rules could read otherwise than the
// backend.
var errDotSegment = &httpError{status: http.StatusBadRequest, msg: "path must not contain . or .. segments"}

// refuse answers a refusal of the guard with its DeviceHive error body,
// counted by where the identity came from. The guard's refusals each call
// one function, out of the common path's frame.
func refuse(g *gate, w http.ResponseWriter, source int, refusal *httpError) {
	if g.metricsOn && source != uncounted {
		g.countGuard(source, refusal.status)
	}
	deny(w, refusal.status, refusal.msg)
}

// refuseRequest answers a request whose token could not be taken from
// it: 400 with a challenge, or 403 for a cookie token without CSRF proof.
func refuseRequest(g *gate, w http.ResponseWriter, source int, refusal *httpError) {
	if g.metricsOn && source != uncounted {
		g.countGuard(source, refusal.status)
	}
	if refusal.status == http.StatusBadRequest {
		g.challenge(w, refusal.status, "invalid_request", refusal.msg)
		return
	}
	deny(w, refusal.status, refusal.msg)
}

// refuseToken answers a missing or invalid token.
func refuseToken(g *gate, w http.ResponseWriter, source int, err error) {
	if g.metricsOn && source != uncounted {
		status, _ := statusOf(err)
		g.countGuard(source, status)
	}
	if err == tokens.ErrMissing {
		g.challenge(w, http.StatusUnauthorized, "", err.Error())
		return
	}
	status, msg := statusOf(err)
	if status != http.StatusUnauthorized {
		deny(w, status, msg) // the session store is unavailable: 503
		return
	}
	g.challenge(w, http.StatusUnauthorized, "invalid_token", msg)
}

// remember adds an allowed request to the decision memo when its outcome
// depends on nothing but the path, the method and the Authorization
// header, until the earliest of the token's exp, the cache TTL, the
// directory's TTL (device routes) and the key files' next check.
//
// A revocation is recorded in the view, then clears the memo. remember
// reads the memo's generation, checks the revocations again, and add,
// under the memo's lock, refuses the decision if a clear came since: a
// revocation during the checks is either seen here or clears the memo
// after the generation was read. (Read here, not in guard: without a memo
// the request path does not pay for it.)
//
// What may not be memoised is sorted out here; memoise, in a frame of its
// own, does the rest, so that requests never memoised (query or header
// bindings: polls) do not pay for it (CONTRIBUTING.md, the cost model).
func remember(g *gate, r *http.Request, token string, m *permissions.Match, matched bool, id *identity) {
	auth := r.Header["Authorization"]
	if len(auth) != 1 || token != bearerValue(auth[0]) {
		return // the token came from elsewhere
	}
	if matched && m.Scoped && !m.LineOnly {
		return // a query or header binding was checked
	}
	memoise(g, r, auth[0], m, matched, id)
}

// memoise is remember for a request whose decision may be memoised, under
// its Authorization value auth.
func memoise(g *gate, r *http.Request, auth string, m *permissions.Match, matched bool, id *identity) {
	// Unix nanoseconds, not time.Time methods (CONTRIBUTING.md, rules for
	// the request path).
	now := g.now().UnixNano()
	deadline := id.claims.ExpiresAt * int64(time.Second)
	if t := now + int64(g.cacheTTL); t < deadline {
		deadline = t
	}
	if t := now + int64(g.deviceTTL); matched && m.Scope.Device.Kind != "" && t < deadline {
		deadline = t
	}
	if g.keysReload {
		// A decision must not outlive the keys that verified it: it lasts
		// until the key files' next check, read before the keys are
		// compared, so that keys reloaded since the token was verified
		// (whose next check is later) are seen and nothing is memoised.
		t := g.keyRing.NextCheck().UnixNano()
		if id.keys != g.tokens.Keys() {
			return
		}
		if t < deadline {
			deadline = t
		}
	}
	if g.usersReload {
		// Nor the users file's state of the token's user, likewise.
		t := g.users.NextCheck()
		if id.usersVersion != g.users.Version() {
			return
		}
		if t < deadline {
			deadline = t
		}
	}
	// Nor the revocations known here: other replicas' arrive at the next
	// sync, and this instance forgets its memo when it revokes.
	if t := now + g.view.every; t < deadline {
		deadline = t
	}
	if deadline <= now {
		return
	}
	gen := atomic.LoadUint64(&g.memo.generation)
	if checkRevoked(g.view, &id.claims, now) != nil {
		return
	}
	d := &decision{method: r.Method, deadline: time.Unix(0, deadline), names: id.names, values: id.values}
	g.memo.add(r.URL.Path, auth, d, time.Unix(0, now), gen)
}

// passesUnauthenticated reports whether a request may pass without a token:
// a public path, or an allowed CORS preflight.
func passesUnauthenticated(g *gate, r *http.Request) bool {
	// Has, not Match: a third of the allocations under Yaegi, on every
	// request the memo does not answer.
	if g.public != nil && g.public.Has(r.Method, r.URL.Path) {
		return true
	}
	return g.allowPreflight && r.Method == http.MethodOptions &&
		r.Header.Get("Origin") != "" && r.Header.Get("Access-Control-Request-Method") != ""
}

// identify returns the identity of an access token, from the cache or by
// verifying it. Only valid tokens are ever cached.
//
// The source it returns says where the identity came from: fromCache or
// fromVerify (also for a refused token), for the metrics.
func identify(g *gate, token string) (*identity, int, error) {
	if token == "" {
		return nil, fromVerify, tokens.ErrMissing
	}
	ns := g.now().UnixNano()
	source := fromCache
	var id *identity
	if g.cache != nil {
		id = cachedIdentity(g, token, ns)
	}
	if id == nil {
		source = fromVerify
		var err error
		if id, err = verify(g, token, ns); err != nil {
			return nil, source, err
		}
	}
	if err := checkRevoked(g.view, &id.claims, ns); err != nil {
		return nil, source, err
	}
	return id, source, nil
}

// verify checks a token the cache does not hold and caches its identity;
// ns is now, Unix nanoseconds.
func verify(g *gate, token string, ns int64) (*identity, error) {
	// The key set and the users' version as they are before the checks:
	// reloaded meanwhile, the cached identity is checked again.
	id := &identity{}
	if g.keysReload {
		id.keys = g.tokens.Keys()
	}
	if g.usersReload {
		id.usersVersion = g.users.Version()
	}
	c := &id.claims
	if err := tokens.VerifyInto(g.tokens, token, tokens.Access, ns/int64(time.Second), c); err != nil {
		return nil, err
	}
	if _, err := checkHolders(g, c); err != nil {
		return nil, err
	}
	var actionNames string
	id.actionMask, actionNames = permissions.MaskNames(c.Actions)
	id.names, id.values = headerValues(g, c, actionNames)
	if g.cache != nil {
		cacheAdd(g.cache, token, id, ns)
	}
	return id, nil
}

// checkHolders refuses a token whose user, or whose minter, was removed,
// locked or disabled since it was issued. A DeviceHive token names only the
// user id: its login and role come from the users configured here, when
// the user is one; the DeviceHive server vouches for users unknown here.
//
// It returns the token's user as the users store has it now (nil for a
// DeviceHive user unknown here), for the caller that needs it next.
//
// A login's token of an active user known here, the common case, is
// passed here; checkHoldersOf judges any other, in a frame of its own
// (CONTRIBUTING.md, the cost model).
func checkHolders(g *gate, c *tokens.Claims) (*users.User, error) {
	u := users.Find(g.users, c.UserID)
	if u != nil && u.Status == users.StatusActive && c.ActorID == 0 && !c.FromDeviceHive &&
		c.IssuedAt >= g.validAfter && c.IssuedAt >= u.TokensValidAfter {
		return u, nil
	}
	return checkHoldersOf(g, c, u)
}

// checkHoldersOf is checkHolders for any token; u is its user as found.
func checkHoldersOf(g *gate, c *tokens.Claims, u *users.User) (*users.User, error) {
	if c.FromDeviceHive && u != nil {
		c.Login = u.Login
		c.Role = u.Role
	}
	if err := holderState(u, !c.FromDeviceHive, "user"); err != nil {
		return nil, err
	}
	if c.IssuedAt < g.validAfter || (u != nil && c.IssuedAt < u.TokensValidAfter) {
		return nil, errIssuedBefore
	}
	if c.ActorID == 0 || c.ActorID == c.UserID {
		return u, nil
	}
	if err := holderState(users.Find(g.users, c.ActorID), true, "the user who minted the token"); err != nil {
		return nil, err
	}
	return u, nil
}

// errIssuedBefore refuses a token issued before tokensValidAfter.
var errIssuedBefore = &httpError{status: http.StatusUnauthorized, msg: "token was issued before tokensValidAfter: log in again"}

// holderState refuses a token held for u (nil: no such user), who must
// exist when required; who names u in the message.
func holderState(u *users.User, required bool, who string) error {
	if u == nil {
		if required {
			return &httpError{status: http.StatusUnauthorized, msg: who + " no longer exists"}
		}
		return nil
	}
	switch u.Status {
	case users.StatusLocked:
		return &httpError{status: http.StatusUnauthorized, msg: who + " is locked"}
	case users.StatusDisabled:
		return &httpError{status: http.StatusUnauthorized, msg: who + " is disabled"}
	}
	return nil
}

// hasDotSegment reports whether a path holds a "." or ".." segment, which
// would let the rule seen here differ from the route the backend serves.
// A segment's ";" parameters do not count: servlet containers (Tomcat,
// Jetty) drop them before they resolve dot segments, so "..;x" is "..".
func hasDotSegment(path string) bool {
	if !strings.Contains(path, "/.") {
		return false
	}
	for _, seg := range strings.Split(path, "/") {
		if i := strings.IndexByte(seg, ';'); i >= 0 {
			seg = seg[:i]
		}
		if seg == "." || seg == ".." {
			return true
		}
	}
	return false
}

// matchWithoutTrailingSlash matches a path no rule matched by the rule of
// the same path without its trailing slashes, if any: JAX-RS (DeviceHive's
// own server) and many other frameworks serve /device/d1/ as /device/d1,
// which must not fall to defaultAction, a weaker check. It runs only for
// requests no rule matched.
func matchWithoutTrailingSlash(g *gate, method, path string, m *permissions.Match) bool {
	trimmed := strings.TrimRight(path, "/")
	if trimmed == path || trimmed == "" {
		return false
	}
	return permissions.MatchRequest(g.rules, method, trimmed, m)
}
