package tokengate

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tokengate/tokengate/directory"
	"github.com/tokengate/tokengate/permissions"
	"github.com/tokengate/tokengate/tokens"
)

// identity is a verified access token, ready to be forwarded: the header
// values are computed once, when the token is first verified.
type identity struct {
	keys          *tokens.KeySet // the key set that verified the token
	actions       []permissions.Action
	actionMask    uint32 // bit a set when the token allows action a
	networkIDs    []string
	deviceTypeIDs []string
	expiresAt     int64      // the token's exp, Unix seconds
	values        [][]string // header values, aligned with gate.headers
}

// identityHeader is one configured identity header, canonicalised in New.
type identityHeader struct {
	name string
	kind int // one of the header* constants: which claim it carries
}

// The claims an identity header can carry.
const (
	headerUserID = iota
	headerLogin
	headerRole
	headerActions
	headerNetworks
	headerDeviceTypes
)

// defaultIdentityHeaders are the default identity header names. A client
// copy of any of them is removed even when the configuration renames or
// drops that header, so that a backend still reading a default name never
// sees a value the gate did not set.
func defaultIdentityHeaders() IdentityHeaders {
	return IdentityHeaders{
		UserID:      "X-Auth-User-Id",
		Login:       "X-Auth-Login",
		Role:        "X-Auth-Role",
		Actions:     "X-Auth-Actions",
		Networks:    "X-Auth-Networks",
		DeviceTypes: "X-Auth-Device-Types",
	}
}

// stripNames lists the default identity header names the configured headers
// do not set, canonicalised: they are removed from every forwarded request.
func stripNames(headers []identityHeader) []string {
	var out []string
	for _, d := range identityHeaders(defaultIdentityHeaders()) {
		set := false
		for _, h := range headers {
			if h.name == d.name {
				set = true
			}
		}
		if !set {
			out = append(out, d.name)
		}
	}
	return out
}

func identityHeaders(cfg IdentityHeaders) []identityHeader {
	names := []string{cfg.UserID, cfg.Login, cfg.Role, cfg.Actions, cfg.Networks, cfg.DeviceTypes}
	var out []identityHeader
	for kind, name := range names {
		if name != "" {
			out = append(out, identityHeader{name: http.CanonicalHeaderKey(name), kind: kind})
		}
	}
	return out
}

// headerValues computes the identity header values of verified claims,
// once per token: straight-line code, as this runs for every token
// verified and under Yaegi each call costs.
func headerValues(headers []identityHeader, c tokens.Claims) [][]string {
	var all [6]string
	all[headerUserID] = strconv.FormatInt(c.UserID, 10)
	all[headerLogin] = c.Login
	all[headerRole] = c.Role
	all[headerActions] = strings.Join(permissions.Names(c.Actions), ",")
	all[headerNetworks] = strings.Join(c.NetworkIDs, ",")
	all[headerDeviceTypes] = strings.Join(c.DeviceTypeIDs, ",")
	values := make([][]string, len(headers))
	for i, h := range headers {
		// One-element slices with no spare capacity: forwarded requests
		// share them, and an append downstream must copy, not write here.
		values[i] = []string{all[h.kind]}
	}
	return values
}

// guard lets a request through only with a valid access token whose
// actions allow what the request does, and forwards the caller's identity.
//
// ServeHTTP has already looked the request up in the decision memo; this
// is the full check, whose allowed outcomes the memo remembers. Under
// Yaegi every call allocates all of a function's temporaries, so what is
// rare (public paths, refusals, the memo's bookkeeping) is in functions of
// its own, called only when needed.
func guard(g *gate, w http.ResponseWriter, r *http.Request) {
	if strings.Contains(r.URL.Path, "/.") && hasDotSegment(r.URL.Path) {
		deny(w, http.StatusBadRequest, "path must not contain . or .. segments")
		return
	}
	if (g.public != nil || g.allowPreflight) && passesUnauthenticated(g, r) {
		passUnauthenticated(g, w, r)
		return
	}
	token, ok := requestToken(g, r)
	if !ok {
		g.challenge(w, http.StatusBadRequest, "invalid_request", "request carries more than one token")
		return
	}
	id, err := identify(g, token)
	if err != nil {
		refuseToken(g, w, err)
		return
	}
	action := g.defaultAction
	m, matched := g.rules.Match(r.Method, r.URL.Path)
	if matched {
		action = m.Action
	}
	// action is at least 0 here; a shift past 31 gives 0, which denies.
	if action < 0 || id.actionMask&(uint32(1)<<uint32(action)) == 0 { //nolint:gosec // G115: see above
		deny(w, http.StatusForbidden, "Access is denied")
		return
	}
	if matched && m.Scoped {
		if status := checkScope(g, r, m, id); status != 0 {
			deny(w, status, scopeMessage(status))
			return
		}
	}
	if g.memo != nil {
		remember(g, r, token, m, matched, id)
	}
	forward(g, w, r, id.values)
}

// passUnauthenticated forwards a request that needs no token. Identity
// headers come only from the gate: client-sent copies are dropped.
func passUnauthenticated(g *gate, w http.ResponseWriter, r *http.Request) {
	for _, name := range g.headerNames {
		delete(r.Header, name)
	}
	scrub(g, r)
	g.next.ServeHTTP(w, r)
}

// refuseToken answers a missing or invalid token.
func refuseToken(g *gate, w http.ResponseWriter, err error) {
	if err == tokens.ErrMissing {
		g.challenge(w, http.StatusUnauthorized, "", err.Error())
		return
	}
	_, msg := statusOf(err)
	g.challenge(w, http.StatusUnauthorized, "invalid_token", msg)
}

// deny answers status with a DeviceHive error body.
func deny(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, restError(status, msg))
}

// remember adds an allowed request to the decision memo when its outcome
// depends on nothing but the path, the method and the Authorization
// header, until the earliest of the token's exp, the cache TTL, the
// directory's TTL (device routes) and the key files' next check.
func remember(g *gate, r *http.Request, token string, m permissions.Match, matched bool, id *identity) {
	auth := r.Header["Authorization"]
	if len(auth) != 1 || token != bearerValue(auth[0]) {
		return // the token came from elsewhere
	}
	if matched && m.Scoped && !m.LineOnly {
		return // a query or header binding was checked
	}
	// Unix nanoseconds: integer compares are cheaper than time.Time
	// methods under Yaegi.
	now := time.Now().UnixNano()
	deadline := id.expiresAt * int64(time.Second)
	if t := now + int64(g.cacheTTL); t < deadline {
		deadline = t
	}
	if t := now + int64(g.deviceTTL); matched && m.Scope.Device.Kind != "" && t < deadline {
		deadline = t
	}
	if g.keysReload {
		// identify has just checked the key files if due, and a decision
		// must not outlive the keys that verified it.
		if t := g.keyRing.NextCheck().UnixNano(); t < deadline {
			deadline = t
		}
	}
	if deadline > now {
		d := &decision{method: r.Method, deadline: time.Unix(0, deadline), values: id.values}
		g.memo.add(r.URL.Path, auth[0], d, time.Unix(0, now))
	}
}

// forward sets the identity headers, which replaces any client-sent
// copies, and passes the request on.
func forward(g *gate, w http.ResponseWriter, r *http.Request, values [][]string) {
	h := r.Header
	for i, name := range g.headerNames {
		h[name] = values[i]
	}
	scrub(g, r)
	g.next.ServeHTTP(w, r)
}

// scrub removes the default identity header names the configuration does
// not set, and the Authorization header when it is not to be forwarded.
func scrub(g *gate, r *http.Request) {
	for _, name := range g.stripNames {
		delete(r.Header, name)
	}
	if !g.forwardAuthorization {
		delete(r.Header, "Authorization")
	}
}

// passesUnauthenticated reports whether a request may pass without a token:
// a public path, or an allowed CORS preflight.
func passesUnauthenticated(g *gate, r *http.Request) bool {
	if g.public != nil {
		if _, ok := g.public.Match(r.Method, r.URL.Path); ok {
			return true
		}
	}
	return g.allowPreflight && r.Method == http.MethodOptions &&
		r.Header.Get("Origin") != "" && r.Header.Get("Access-Control-Request-Method") != ""
}

// identify returns the identity of an access token, from the cache or by
// verifying it. Only valid tokens are ever cached.
func identify(g *gate, token string) (*identity, error) {
	if token == "" {
		return nil, tokens.ErrMissing
	}
	if id, ok := g.cache.get(token); ok && (!g.keysReload || id.keys == g.tokens.Keys()) {
		return id, nil
	}
	return verify(g, token)
}

// verify checks a token the cache does not hold and caches its identity.
func verify(g *gate, token string) (*identity, error) {
	keys := g.tokens.Keys()
	claims, err := g.tokens.Verify(token, tokens.Access)
	if err != nil {
		return nil, err
	}
	if claims.FromDeviceHive {
		// A DeviceHive token names only the user id: take the login and
		// role from the users configured here, when the user is one.
		if u, ok := g.users.ByID(claims.UserID); ok {
			claims.Login = u.Login
			claims.Role = u.Role
		}
	}
	id := &identity{
		keys:          keys,
		actions:       claims.Actions,
		actionMask:    permissions.Mask(claims.Actions),
		networkIDs:    claims.NetworkIDs,
		deviceTypeIDs: claims.DeviceTypeIDs,
		expiresAt:     claims.ExpiresAt,
		values:        headerValues(g.headers, claims),
	}
	g.cache.add(token, id, time.Now())
	return id, nil
}

// checkScope enforces a matched rule's bindings against the token's
// networks and device types. It returns 0 when the request may pass, else
// the status to refuse it with. Path-bound values come from the match,
// written out per binding rather than through a helper: under Yaegi a call
// per binding costs more than the check itself.
func checkScope(g *gate, r *http.Request, m permissions.Match, id *identity) int {
	if b := m.Scope.Network; b.Kind != "" {
		v := m.NetworkID
		if b.Kind != "path" {
			v = boundValue(r, b)
		}
		if !inScope(id.networkIDs, v) {
			return http.StatusForbidden
		}
	}
	if b := m.Scope.DeviceType; b.Kind != "" {
		v := m.DeviceTypeID
		if b.Kind != "path" {
			v = boundValue(r, b)
		}
		if !inScope(id.deviceTypeIDs, v) {
			return http.StatusForbidden
		}
	}
	if b := m.Scope.Device; b.Kind != "" {
		deviceID := m.DeviceID
		if b.Kind != "path" {
			deviceID = boundValue(r, b)
		}
		if deviceID == "" {
			// No device named: only a token scoped to everything may pass.
			if permissions.ContainsAll(id.networkIDs) && permissions.ContainsAll(id.deviceTypeIDs) {
				return 0
			}
			return http.StatusForbidden
		}
		dev, err := g.devices.Lookup(r.Context(), deviceID)
		if err == directory.ErrUnknownDevice {
			return http.StatusNotFound
		}
		if err != nil {
			return http.StatusServiceUnavailable
		}
		if !permissions.ContainsID(id.networkIDs, dev.NetworkID) || !permissions.ContainsID(id.deviceTypeIDs, dev.DeviceTypeID) {
			return http.StatusForbidden
		}
	}
	return 0
}

// boundValue returns the value a query or header binding names in the
// request (checkScope reads path bindings from the match itself).
func boundValue(r *http.Request, b permissions.Binding) string {
	if b.Kind == "query" {
		return r.URL.Query().Get(b.Name)
	}
	return r.Header.Get(b.Name)
}

// inScope: a named id must be in the list (or the list holds "*"); a
// request that names no id passes only with "*". An empty list grants
// nothing: fail closed.
func inScope(list []string, id string) bool {
	if id == "" {
		return permissions.ContainsAll(list)
	}
	return permissions.ContainsID(list, id)
}

func scopeMessage(status int) string {
	switch status {
	case http.StatusNotFound:
		return "Device not found"
	case http.StatusServiceUnavailable:
		return "device directory is unavailable, try again later"
	}
	return "Access is denied"
}

// requestToken collects the token from the Authorization header and, when
// configured, a cookie and a query parameter. It returns false when the
// request carries two different tokens or several Authorization headers.
// A token taken from the query is removed from the forwarded URL.
func requestToken(g *gate, r *http.Request) (string, bool) {
	auth := r.Header["Authorization"]
	if len(auth) > 1 {
		return "", false
	}
	token := ""
	if len(auth) == 1 {
		token = bearerValue(auth[0])
	}
	if g.tokenCookie == "" && g.tokenQuery == "" {
		return token, true
	}
	return otherTokens(g, r, token)
}

// otherTokens adds the cookie and query tokens to the header's, if any.
func otherTokens(g *gate, r *http.Request, token string) (string, bool) {
	if g.tokenCookie != "" {
		if c, err := r.Cookie(g.tokenCookie); err == nil && c.Value != "" {
			if token != "" && token != c.Value {
				return "", false
			}
			token = c.Value
		}
	}
	if g.tokenQuery != "" && r.URL.RawQuery != "" {
		q := r.URL.Query()
		if values, present := q[g.tokenQuery]; present {
			for _, v := range values {
				if v == "" {
					continue
				}
				if token != "" && token != v {
					return "", false
				}
				token = v
			}
			q.Del(g.tokenQuery)
			r.URL.RawQuery = q.Encode()
			// Traefik's proxy builds the upstream request target from
			// RequestURI, not from URL: rewrite both, or the token leaks.
			r.RequestURI = r.URL.RequestURI()
		}
	}
	return token, true
}

// bearerValue returns the token of an Authorization header value, or "".
func bearerValue(h string) string {
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// challenge answers 400 or 401 with an RFC 6750 WWW-Authenticate header.
// errCode is empty when the request simply had no token.
func (g *gate) challenge(w http.ResponseWriter, status int, errCode, msg string) {
	value := `Bearer realm="` + g.realm + `"`
	if errCode != "" {
		value += `, error="` + errCode + `", error_description="` + msg + `"`
	}
	w.Header().Set("WWW-Authenticate", value)
	writeJSON(w, status, restError(status, msg))
}

// hasDotSegment reports whether a path holds a "." or ".." segment, which
// would let the rule seen here differ from the route the backend serves.
func hasDotSegment(path string) bool {
	if !strings.Contains(path, "/.") {
		return false
	}
	for _, seg := range strings.Split(path, "/") {
		if seg == "." || seg == ".." {
			return true
		}
	}
	return false
}
