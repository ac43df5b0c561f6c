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
// ServeHTTP has already looked the request line up in the decision memo;
// this is the full check, whose allowed outcomes the memo remembers.
func guard(g *gate, w http.ResponseWriter, r *http.Request) {
	auth := r.Header["Authorization"]
	if hasDotSegment(r.URL.Path) {
		writeJSON(w, http.StatusBadRequest, restError(http.StatusBadRequest, "path must not contain . or .. segments"))
		return
	}
	if passesUnauthenticated(g, r) {
		// Identity headers come only from the gate: drop client-sent copies.
		for _, name := range g.headerNames {
			delete(r.Header, name)
		}
		scrub(g, r)
		g.next.ServeHTTP(w, r)
		return
	}

	token, ok := requestToken(g, r)
	if !ok {
		g.challenge(w, http.StatusBadRequest, "invalid_request", "request carries more than one token")
		return
	}
	id, err := identify(g, token)
	if err != nil {
		if err == tokens.ErrMissing {
			g.challenge(w, http.StatusUnauthorized, "", err.Error())
			return
		}
		_, msg := statusOf(err)
		g.challenge(w, http.StatusUnauthorized, "invalid_token", msg)
		return
	}

	action := g.defaultAction
	m, matched := g.rules.Match(r.Method, r.URL.Path)
	if matched {
		action = m.Action
	}
	if action < 0 || id.actionMask&(uint32(1)<<uint32(action)) == 0 {
		writeJSON(w, http.StatusForbidden, restError(http.StatusForbidden, "Access is denied"))
		return
	}
	expires := time.Unix(id.expiresAt, 0)
	if matched && m.Scoped {
		if status := checkScope(g, r, m, id); status != 0 {
			writeJSON(w, status, restError(status, scopeMessage(status)))
			return
		}
		if !m.LineOnly {
			expires = time.Time{} // the decision depends on more than the request line
		} else if m.Scope.Device.Kind != "" && g.deviceTTL < g.cacheTTL {
			expires = minTime(expires, time.Now().Add(g.deviceTTL))
		}
	}
	if g.memo != nil && len(auth) == 1 && token == bearerValue(auth[0]) {
		now := time.Now()
		expires = minTime(expires, now.Add(g.cacheTTL))
		if g.keysReload {
			// Until the key files are next looked at: identify has just
			// checked them if due, and a decision must not outlive its keys.
			expires = minTime(expires, g.keyRing.NextCheck())
		}
		if expires.After(now) {
			d := &decision{method: r.Method, deadline: expires, values: id.values}
			g.memo.add(r.URL.Path, auth[0], d, now)
		}
	}
	forward(g, w, r, id.values)
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

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
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
// the status to refuse it with.
func checkScope(g *gate, r *http.Request, m permissions.Match, id *identity) int {
	if b := m.Scope.Network; b.Kind != "" {
		v := boundValue(r, b, m.NetworkID)
		if !inScope(id.networkIDs, v) {
			return http.StatusForbidden
		}
	}
	if b := m.Scope.DeviceType; b.Kind != "" {
		v := boundValue(r, b, m.DeviceTypeID)
		if !inScope(id.deviceTypeIDs, v) {
			return http.StatusForbidden
		}
	}
	if b := m.Scope.Device; b.Kind != "" {
		deviceID := boundValue(r, b, m.DeviceID)
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

// boundValue returns the value a binding names in the request: the path
// segment the rule matched, a query parameter or a header.
func boundValue(r *http.Request, b permissions.Binding, fromPath string) string {
	switch b.Kind {
	case "query":
		return r.URL.Query().Get(b.Name)
	case "header":
		return r.Header.Get(b.Name)
	}
	return fromPath
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
