package tokengate

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tokengate/tokengate/permissions"
	"github.com/tokengate/tokengate/tokens"
)

// identity is a verified access token, ready to be forwarded: the header
// values are computed once, when the token is first verified.
type identity struct {
	actions   []permissions.Action
	expiresAt int64    // the token's exp, Unix seconds
	values    []string // aligned with gate.headers
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
	if m, matched := g.rules.Match(r.Method, r.URL.Path); matched {
		action = m.Action
	}
	if action < 0 || !permissions.Allows(id.actions, action) {
		writeJSON(w, http.StatusForbidden, restError(http.StatusForbidden, "Access is denied"))
		return
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
	if id, ok := g.cache.get(token); ok {
		return id, nil
	}
	claims, err := g.tokens.Verify(token, tokens.Access)
	if err != nil {
		return nil, err
	}
	id := &identity{actions: claims.Actions, expiresAt: claims.ExpiresAt, values: make([]string, len(g.headers))}
	for i, h := range g.headers {
		id.values[i] = h.value(claims)
	}
	g.cache.add(token, id, time.Now())
	return id, nil
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
