package tokengate

import (
	"net/http"
	"strings"
)

// requestToken collects the token from the Authorization header and, when
// configured, a cookie and a query parameter. It refuses (400) a request
// with two different tokens, several Authorization headers, or a query
// token on a request that is not a WebSocket upgrade (unless
// tokenQueryAnyRequest), and (403) a cookie token on an unsafe method
// without CSRF proof. A token taken from the query is removed from the
// forwarded URL.
func requestToken(g *gate, r *http.Request) (string, *httpError) {
	auth := r.Header["Authorization"]
	if len(auth) > 1 {
		return "", errTwoTokens
	}
	token := ""
	if len(auth) == 1 {
		token = bearerValue(auth[0])
	}
	if g.tokenCookie == "" && g.tokenQuery == "" {
		return token, nil
	}
	return otherTokens(g, r, token)
}

var (
	errTwoTokens   = &httpError{status: http.StatusBadRequest, msg: "request carries more than one token"}
	errQueryToken  = &httpError{status: http.StatusBadRequest, msg: "a token in the query is accepted only on WebSocket upgrade requests"}
	errCookieToken = &httpError{status: http.StatusForbidden,
		msg: "a token from a cookie needs the CSRF header or an allowed Origin on this method"}
)

// otherTokens adds the cookie and query tokens to the header's, if any.
func otherTokens(g *gate, r *http.Request, token string) (string, *httpError) {
	token, refusal := cookieToken(g, r, token)
	if refusal != nil {
		return "", refusal
	}
	return queryToken(g, r, token)
}

// cookieToken adds the cookie's token to the header's, if any.
func cookieToken(g *gate, r *http.Request, token string) (string, *httpError) {
	if g.tokenCookie == "" {
		return token, nil
	}
	c, err := r.Cookie(g.tokenCookie)
	if err != nil || c.Value == "" {
		return token, nil //nolint:nilerr // no such cookie: no token from it
	}
	if token != "" && token != c.Value {
		return "", errTwoTokens
	}
	if token == "" && !safeMethod(r.Method) && !crossSiteSafe(g, r) {
		return "", errCookieToken
	}
	return c.Value, nil
}

// queryToken adds the query's token to the others, if any, and removes it
// from the forwarded URL.
func queryToken(g *gate, r *http.Request, token string) (string, *httpError) {
	if g.tokenQuery != "" && r.URL.RawQuery != "" {
		q := r.URL.Query()
		if values, present := q[g.tokenQuery]; present {
			for _, v := range values {
				if v == "" {
					continue
				}
				if token != "" && token != v {
					return "", errTwoTokens
				}
				token = v
			}
			q.Del(g.tokenQuery)
			r.URL.RawQuery = q.Encode()
			// Traefik's proxy builds the upstream request target from
			// RequestURI, not from URL: rewrite both, or the token leaks.
			r.RequestURI = r.URL.RequestURI()
			if !g.tokenQueryAnyRequest && !webSocketUpgrade(r) {
				return "", errQueryToken
			}
		}
	}
	return token, nil
}

// safeMethod reports whether a method only reads (RFC 9110 9.2.1).
func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// crossSiteSafe reports whether a request proves it is not a cross-site
// form: it carries the CSRF header, which a browser sends cross-site only
// after a CORS preflight, or an Origin the configuration allows.
func crossSiteSafe(g *gate, r *http.Request) bool {
	if g.csrfHeader != "" && r.Header.Get(g.csrfHeader) != "" {
		return true
	}
	origin := r.Header.Get("Origin")
	return origin != "" && g.allowedOrigins[origin]
}

// webSocketUpgrade reports whether r asks to become a WebSocket, the one
// kind of request on which browsers cannot send an Authorization header.
func webSocketUpgrade(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket") &&
		headerHasToken(r.Header.Values("Connection"), "upgrade")
}

// headerHasToken reports whether a comma-separated header holds token.
func headerHasToken(values []string, token string) bool {
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(part), token) {
				return true
			}
		}
	}
	return false
}

// bearerValue returns the token of an Authorization header value, or "".
func bearerValue(h string) string {
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}
