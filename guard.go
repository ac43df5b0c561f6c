package tokengate

import (
	"net/http"
	"net/url"
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
	networkIDs    []string
	deviceTypeIDs []string
	expiresAt     int64    // the token's exp, Unix seconds
	values        []string // aligned with gate.headers
}

// identityHeader is one configured identity header, canonicalised in New.
type identityHeader struct {
	name  string
	value func(c tokens.Claims) string
}

func identityHeaders(cfg IdentityHeaders) []identityHeader {
	all := []identityHeader{
		{name: cfg.UserID, value: func(c tokens.Claims) string { return strconv.FormatInt(c.UserID, 10) }},
		{name: cfg.Login, value: func(c tokens.Claims) string { return c.Login }},
		{name: cfg.Role, value: func(c tokens.Claims) string { return c.Role }},
		{name: cfg.Actions, value: func(c tokens.Claims) string { return strings.Join(permissions.Names(c.Actions), ",") }},
		{name: cfg.Networks, value: func(c tokens.Claims) string { return strings.Join(c.NetworkIDs, ",") }},
		{name: cfg.DeviceTypes, value: func(c tokens.Claims) string { return strings.Join(c.DeviceTypeIDs, ",") }},
	}
	var out []identityHeader
	for _, h := range all {
		if h.name != "" {
			h.name = http.CanonicalHeaderKey(h.name)
			out = append(out, h)
		}
	}
	return out
}

// guard lets a request through only with a valid access token whose
// actions allow what the request does, and forwards the caller's identity.
func (g *gate) guard(w http.ResponseWriter, r *http.Request) {
	// Identity headers come only from the gate: drop client-sent copies,
	// on public paths too.
	for _, h := range g.headers {
		delete(r.Header, h.name)
	}
	if hasDotSegment(r.URL.Path) {
		writeJSON(w, http.StatusBadRequest, restError(http.StatusBadRequest, "path must not contain . or .. segments"))
		return
	}
	if g.public != nil {
		if _, ok := g.public.Match(r.Method, r.URL.Path); ok {
			g.next.ServeHTTP(w, r)
			return
		}
	}
	if g.allowPreflight && r.Method == http.MethodOptions &&
		r.Header.Get("Origin") != "" && r.Header.Get("Access-Control-Request-Method") != "" {
		g.next.ServeHTTP(w, r)
		return
	}

	token, ok := g.requestToken(r)
	if !ok {
		g.challenge(w, http.StatusBadRequest, "invalid_request", "request carries more than one token")
		return
	}
	id, err := g.identify(token)
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
	if action < 0 || !permissions.Allows(id.actions, action) {
		writeJSON(w, http.StatusForbidden, restError(http.StatusForbidden, "Access is denied"))
		return
	}
	if matched && m.Scope.Bound() {
		if status := g.checkScope(r, m, id); status != 0 {
			writeJSON(w, status, restError(status, scopeMessage(status)))
			return
		}
	}

	for i, h := range g.headers {
		r.Header[h.name] = []string{id.values[i]}
	}
	if !g.forwardAuthorization {
		delete(r.Header, "Authorization")
	}
	g.next.ServeHTTP(w, r)
}

// identify returns the identity of an access token, from the cache or by
// verifying it. Only valid tokens are ever cached.
func (g *gate) identify(token string) (*identity, error) {
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
	id := &identity{
		keys:          keys,
		actions:       claims.Actions,
		networkIDs:    claims.NetworkIDs,
		deviceTypeIDs: claims.DeviceTypeIDs,
		expiresAt:     claims.ExpiresAt,
		values:        make([]string, len(g.headers)),
	}
	for i, h := range g.headers {
		id.values[i] = h.value(claims)
	}
	g.cache.add(token, id, time.Now())
	return id, nil
}

// checkScope enforces a matched rule's bindings against the token's
// networks and device types. It returns 0 when the request may pass, else
// the status to refuse it with.
func (g *gate) checkScope(r *http.Request, m permissions.Match, id *identity) int {
	query := func() url.Values { return r.URL.Query() }
	if b := m.Scope.Network; b.Bound() {
		v, ok := m.Value(b, query, r.Header)
		if !inScope(id.networkIDs, v, ok) {
			return http.StatusForbidden
		}
	}
	if b := m.Scope.DeviceType; b.Bound() {
		v, ok := m.Value(b, query, r.Header)
		if !inScope(id.deviceTypeIDs, v, ok) {
			return http.StatusForbidden
		}
	}
	if b := m.Scope.Device; b.Bound() {
		deviceID, ok := m.Value(b, query, r.Header)
		if !ok {
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

// inScope: a named id must be in the list (or the list holds "*"); a
// request that names no id passes only with "*". An empty list grants
// nothing: fail closed.
func inScope(list []string, id string, named bool) bool {
	if !named {
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
func (g *gate) requestToken(r *http.Request) (string, bool) {
	auth := r.Header["Authorization"]
	if len(auth) > 1 {
		return "", false
	}
	token := ""
	if len(auth) == 1 && len(auth[0]) > 7 && strings.EqualFold(auth[0][:7], "bearer ") {
		token = strings.TrimSpace(auth[0][7:])
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
		}
	}
	return token, true
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
