package tokengate

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tokengate/tokengate/audit"
	"github.com/tokengate/tokengate/permissions"
	"github.com/tokengate/tokengate/store"
	"github.com/tokengate/tokengate/tokens"
	"github.com/tokengate/tokengate/users"
)

// The token endpoints with a route of their own: <basePath>/create and
// <basePath>/revoke.
const (
	routeRefresh = "refresh"
	routeCreate  = "create"
	routeRevoke  = "revoke"
)

// pair is what a successful exchange hands out. refresh is empty when only
// an access token was asked for.
type pair struct {
	access, refresh string
	// For the audit trail: the refresh token's claims as issued (for a
	// refresh, the access token's), never sent.
	issued tokens.Claims
}

// serveToken answers a request on the token paths, in the dialect its body
// speaks: HarperDB ("operation"), DeviceHive message ("action") or
// DeviceHive REST (neither).
func serveToken(g *gate, w http.ResponseWriter, r *http.Request, route string) {
	if route == "jwks" {
		g.serveJWKS(w, r)
		return
	}
	if route == "metrics" {
		g.serveMetrics(w, r)
		return
	}
	if route != "" && route != routeRefresh && route != routeCreate && route != routeRevoke {
		writeJSON(w, http.StatusNotFound, restError(http.StatusNotFound, "no such token endpoint"))
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeJSON(w, http.StatusMethodNotAllowed, restError(http.StatusMethodNotAllowed, "use POST"))
		return
	}
	body, err := readObject(r, g.maxBody, route == routeRevoke)
	if err != nil {
		status, msg := answerStatus(w, err)
		writeJSON(w, status, restError(status, msg))
		return
	}
	switch {
	case body["operation"] != nil && route != routeCreate:
		serveOperation(g, w, r, route, body)
	case body["action"] != nil:
		serveMessage(g, w, r, route, body)
	default:
		serveREST(g, w, r, route, body)
	}
}

// reply writes a token endpoint's answer and, with metrics on, counts it
// by endpoint, dialect and status.
func reply(g *gate, w http.ResponseWriter, endpoint, dialect string, status int, body any) {
	if g.metricsOn {
		g.countToken(endpoint, dialect, status)
	}
	writeJSON(w, status, body)
}

// serveREST speaks DeviceHive REST: POST /token and POST /token/refresh.
func serveREST(g *gate, w http.ResponseWriter, r *http.Request, route string, body map[string]any) {
	var p pair
	var err error
	endpoint := route
	switch route {
	case routeRevoke:
		if err := g.revoke(r, body); err != nil {
			status, msg := answerStatus(w, err)
			reply(g, w, endpoint, "rest", status, restError(status, msg))
			return
		}
		reply(g, w, endpoint, "rest", http.StatusOK, map[string]any{})
		return
	case routeRefresh:
		p, err = refreshFrom(g, r, body, "refreshToken")
	case routeCreate:
		p, err = g.create(r, body)
	default:
		endpoint = "login"
		p, err = g.loginFrom(r, body, "login")
	}
	if err != nil {
		status, msg := answerStatus(w, err)
		reply(g, w, endpoint, "rest", status, restError(status, msg))
		return
	}
	out := map[string]any{"accessToken": p.access}
	if p.refresh != "" {
		out["refreshToken"] = p.refresh
	}
	reply(g, w, endpoint, "rest", http.StatusCreated, out)
}

// serveMessage speaks DeviceHive's message form: {"action": "token", ...}.
func serveMessage(g *gate, w http.ResponseWriter, r *http.Request, route string, body map[string]any) {
	action, _ := body["action"].(string)
	out := map[string]any{"action": body["action"]}
	if id, ok := body["requestId"]; ok {
		out["requestId"] = id
	}
	var p pair
	var err error
	switch {
	case action == "token" && route == "":
		p, err = g.loginFrom(r, body, "login")
	case action == "token/refresh" && route != routeCreate && route != routeRevoke:
		p, err = refreshFrom(g, r, body, "refreshToken")
	case action == "token/revoke" && (route == "" || route == routeRevoke):
		err = g.revoke(r, body)
	case action == "token/create" && route != routeRefresh && route != routeRevoke:
		payload, ok := body["payload"].(map[string]any)
		if !ok {
			err = badRequest("payload is required and must be an object")
			break
		}
		p, err = g.create(r, payload)
	default:
		err = badRequest("unsupported action at this path (use token, token/refresh, token/create or token/revoke)")
	}
	endpoint := strings.TrimPrefix(action, "token/")
	if endpoint == "token" {
		endpoint = "login"
	}
	if err != nil {
		status, msg := answerStatus(w, err)
		out["status"] = "error"
		out["code"] = status
		out["error"] = msg
		reply(g, w, endpoint, "message", status, out)
		return
	}
	out["status"] = "success"
	if p.access != "" {
		out["accessToken"] = p.access
	}
	if p.refresh != "" {
		out["refreshToken"] = p.refresh
	}
	reply(g, w, endpoint, "message", http.StatusOK, out)
}

// serveOperation speaks HarperDB's operations API.
func serveOperation(g *gate, w http.ResponseWriter, r *http.Request, route string, body map[string]any) {
	op, _ := body["operation"].(string)
	var p pair
	var err error
	switch {
	case op == "create_authentication_tokens" && route == "":
		p, err = g.loginFrom(r, body, "username")
	case op == "refresh_operation_token":
		if _, inBody := body["refresh_token"]; !inBody {
			if bearer := bearerValue(r.Header.Get("Authorization")); bearer != "" {
				body["refresh_token"] = bearer
			}
		}
		p, err = refreshFrom(g, r, body, "refresh_token")
	default:
		err = badRequest("unsupported operation at this path (use create_authentication_tokens or refresh_operation_token)")
	}
	endpoint := routeRefresh
	if op == "create_authentication_tokens" {
		endpoint = "login"
	}
	if err != nil {
		status, msg := answerStatus(w, err)
		reply(g, w, endpoint, "harperdb", status, map[string]any{"error": msg})
		return
	}
	out := map[string]any{"operation_token": p.access}
	if p.refresh != "" {
		out["refresh_token"] = p.refresh
	}
	reply(g, w, endpoint, "harperdb", http.StatusOK, out)
}

// loginFrom trades the login found under loginField (the dialects differ
// there) and the password for an access and a refresh token.
func (g *gate) loginFrom(r *http.Request, body map[string]any, loginField string) (pair, error) {
	login, err := stringField(body, loginField)
	if err != nil {
		return pair{}, err
	}
	if len(login) > users.MaxLoginBytes {
		// Before the throttle and the audit trail: no configured login is
		// this long, and an attacker's megabyte login must not be counted,
		// stored as a counter key or written to the audit log.
		return pair{}, errLoginTooLong
	}
	password, err := stringField(body, "password")
	if err != nil {
		return pair{}, err
	}
	a, err := g.throttle.admit(r.Context(), r, login)
	if err != nil {
		if g.telemetry {
			g.noteLogin(r, login, audit.EventLoginThrottled, pair{}, err)
		}
		return pair{}, err
	}
	u, err := g.users.Authenticate(login, password)
	if err != nil {
		a.failed(r.Context())
		if g.telemetry {
			g.noteLogin(r, login, audit.EventLoginFailed, pair{}, err)
		}
		return pair{}, err
	}
	a.succeeded(r.Context())
	p, err := issuePair(g, userClaims(u), 0, 0)
	if g.telemetry {
		g.noteLogin(r, login, audit.EventLogin, p, err)
	}
	return p, err
}

// errLoginTooLong refuses a login longer than users.MaxLoginBytes, the
// same answer for every such login.
var errLoginTooLong = &httpError{status: http.StatusBadRequest, msg: "login is longer than 256 bytes"}

// noteLogin counts and audits a login attempt. Callers check g.telemetry
// first, so that it is not called for nothing (CONTRIBUTING.md, the cost
// model).
func (g *gate) noteLogin(r *http.Request, login, event string, p pair, err error) {
	g.recordIssue(audit.Event{Event: event, Login: login, Client: g.throttle.addresses.Client(r)}, p, err)
}

// recordRefusal writes an audit line for a refused token request: event
// names it when given (login_failed, login_throttled), the outcome and
// reason come from err.
func (g *gate) recordRefusal(e audit.Event, event string, err error) {
	if event != "" {
		e.Event = event
	}
	status, msg := statusOf(err)
	e.Outcome = audit.OutcomeFailure
	switch {
	case status == http.StatusTooManyRequests:
		e.Outcome = audit.OutcomeRefused
		g.m.throttled.Add(1)
	case status >= http.StatusInternalServerError:
		e.Outcome = audit.OutcomeError
	}
	e.Reason = msg
	g.record(e)
}

// recordIssue writes the audit line of tokens issued (or of the failure to).
func (g *gate) recordIssue(e audit.Event, p pair, err error) {
	if err != nil {
		g.recordRefusal(e, "", err)
		return
	}
	c := p.issued
	e.Outcome = audit.OutcomeSuccess
	e.UserID = c.UserID
	e.JTI = c.ID
	e.SID = c.SessionID
	e.Actions = permissions.Names(c.Actions)
	e.Networks = c.NetworkIDs
	e.DeviceTypes = c.DeviceTypeIDs
	g.record(e)
}

// issuePair signs an access and a refresh token with the same claims,
// expiring at accessExp and refreshExp (Unix seconds; 0 for the default
// lifetimes).
//
// The pair starts a session: both tokens carry its id, and with rotation
// on the store records the refresh token as the session's current one
// (a store that cannot is a 503: nothing is handed out unrecorded).
func issuePair(g *gate, claims tokens.Claims, accessExp, refreshExp int64) (pair, error) {
	sid, err := tokens.NewID()
	if err != nil {
		return pair{}, err
	}
	claims.SessionID = sid
	claims.Type = tokens.Access
	claims.ExpiresAt = accessExp
	issued := claims
	issued.ExpiresAt = refreshExp
	access, refresh, err := tokens.SignPair(g.tokens, &claims, &issued)
	if err != nil {
		return pair{}, err
	}
	if g.rotation {
		s := store.Session{ID: sid, UserID: issued.UserID, RefreshID: issued.ID, Expires: issued.ExpiresAt + g.sessionMargin}
		if err := g.view.store.StartSession(context.Background(), s); err != nil {
			return pair{}, storeError(g.view, err)
		}
		g.view.answered()
	}
	return pair{access: access, refresh: refresh, issued: issued}, nil
}

// refreshFrom trades the refresh token found under field for a new access
// token, and with rotation on a new refresh token too. The user, and the
// user who minted the token if another, must still exist and be active,
// the session must stand, and the new token never grants more than the
// refresh token and their current rights.
func refreshFrom(g *gate, r *http.Request, body map[string]any, field string) (pair, error) {
	var rc tokens.Claims
	p, err := exchangeRefresh(g, r, body, field, &rc)
	if g.telemetry {
		g.noteRefresh(r, rc, p, err)
	}
	return p, err
}

// noteRefresh counts and audits a refresh (callers check g.telemetry).
func (g *gate) noteRefresh(r *http.Request, rc tokens.Claims, p pair, err error) {
	e := audit.Event{Event: audit.EventRefresh, Client: g.throttle.addresses.Client(r), UserID: rc.UserID, SID: rc.SessionID, JTI: rc.ID}
	he, _ := err.(*httpError) // not err == errReused: see TestInterpreterTrapInterpretedSentinel
	switch {
	case he != nil && he == errReused:
		e.Event = audit.EventReuseDetected
		g.m.reuse.Add(1)
		g.m.revoked.Add(1)
	case err == nil && p.refresh != "":
		e.Event = audit.EventRotation
	}
	if err != nil {
		g.recordRefusal(e, "", err)
		return
	}
	e.Outcome = audit.OutcomeSuccess
	g.record(e)
}

// exchangeRefresh is refreshFrom without the audit line; rc receives the refresh
// token's claims once verified.
func exchangeRefresh(g *gate, r *http.Request, body map[string]any, field string, rc *tokens.Claims) (pair, error) {
	token, err := stringField(body, field)
	if err != nil {
		return pair{}, err
	}
	ns := g.now().UnixNano()
	if err := tokens.VerifyInto(g.tokens, token, tokens.Refresh, ns/int64(time.Second), rc); err != nil {
		*rc = tokens.Claims{} // nothing to audit from a refused token
		g.throttle.addressFailure(r.Context(), r)
		return pair{}, err
	}
	u, err := checkHolders(g, rc)
	if err != nil {
		return pair{}, err
	}
	if err := checkRevoked(g.view, rc, ns); err != nil {
		return pair{}, err
	}
	var claims tokens.Claims
	refreshedClaims(g, rc, u, &claims)
	if g.rotation && rc.SessionID != "" {
		return rotateRefresh(g, rc, &claims)
	}
	access, err := tokens.Sign(g.tokens, &claims)
	if err != nil {
		return pair{}, err
	}
	return pair{access: access}, nil
}

// refreshedClaims are the claims of the access token a refresh gives:
// the refresh token's, cut to its user's (and minter's) current rights. u
// is the user as checkHolders found it (nil: a DeviceHive user unknown
// here).
func refreshedClaims(g *gate, rc *tokens.Claims, u *users.User, claims *tokens.Claims) {
	if u == nil {
		// A DeviceHive user unknown here (checkHolders refused any other):
		// the DeviceHive server vouched for the scopes, which carry over.
		*claims = *rc
		claims.Type = tokens.Access
		claims.ExpiresAt = 0
		return
	}
	claims.UserID = u.ID
	claims.Login = u.Login
	claims.Role = u.Role
	claims.Type = tokens.Access
	claims.ActorID = rc.ActorID
	claims.SessionID = rc.SessionID
	claims.Actions = rc.Actions
	claims.NetworkIDs = rc.NetworkIDs
	claims.DeviceTypeIDs = rc.DeviceTypeIDs
	within(claims, u)
	if rc.ActorID != 0 && rc.ActorID != rc.UserID {
		if a := users.Find(g.users, rc.ActorID); a != nil {
			within(claims, a) // nor more than the minter may grant today
		}
	}
}

// within narrows the actions, networks and device types of c to those u
// has: the one narrowing of refresh and /token/create.
func within(c *tokens.Claims, u *users.User) {
	c.Actions = permissions.IntersectActions(c.Actions, u.Actions)
	c.NetworkIDs = permissions.IntersectIDs(c.NetworkIDs, u.NetworkIDs)
	c.DeviceTypeIDs = permissions.IntersectIDs(c.DeviceTypeIDs, u.DeviceTypeIDs)
}

// rotateRefresh spends the presented refresh token for a new one of the same
// session and expiry. A spent token presented again revokes the session,
// except the immediately previous one within the reuse grace. The token is
// refused from its exp on, without the leeway the verifier allows, and the
// store keeps the session sessionMargin longer: a store that had forgotten
// the session would take a spent token for one of a session it never saw
// (adopt it), and Redis forgets by its own clock, which may be ahead.
func rotateRefresh(g *gate, rc, claims *tokens.Claims) (pair, error) {
	now := g.now()
	if now.Unix() >= rc.ExpiresAt {
		// No leeway: past exp + sessionMargin the store forgets the
		// session, and would adopt a spent token presented then.
		return pair{}, tokens.ErrExpired
	}
	next := *claims
	next.ExpiresAt = rc.ExpiresAt // rotation never lengthens a session
	access, refresh, err := tokens.SignPair(g.tokens, claims, &next)
	if err != nil {
		return pair{}, err
	}
	outcome, err := g.view.store.Spend(context.Background(), store.Spend{
		Session: rc.SessionID, UserID: rc.UserID, Presented: rc.ID, Next: next.ID,
		Now: now.UnixNano() / int64(time.Millisecond), Grace: g.reuseGrace.Milliseconds(), Expires: next.ExpiresAt + g.sessionMargin,
		RevokeUntil: now.Add(g.maxLifetime).Unix(), // as long as a token issued now may live
	})
	if err != nil {
		return pair{}, storeError(g.view, err)
	}
	g.view.answered()
	switch outcome {
	case store.Granted, store.Retried:
		return pair{access: access, refresh: refresh}, nil
	case store.Ended:
		return pair{}, errRevoked
	case store.Reused:
		// The store has recorded the session's revocation; the view
		// learns it now rather than at the next sync.
		g.view.learn(store.Revocation{Session: rc.SessionID, Expires: now.Add(g.maxLifetime).Unix()}, now)
		g.forgetDecisions()
		return pair{}, errReused
	}
	return pair{}, errRevoked
}

// errReused refuses a spent refresh token, whose session is now revoked.
var errReused = &httpError{status: http.StatusUnauthorized, msg: "refresh token was already used: its session is revoked"}

func userClaims(u users.User) tokens.Claims {
	return tokens.Claims{
		UserID:        u.ID,
		Login:         u.Login,
		Role:          u.Role,
		Actions:       u.Actions,
		NetworkIDs:    u.NetworkIDs,
		DeviceTypeIDs: u.DeviceTypeIDs,
	}
}

// readObject reads a bounded body that must hold one JSON object, or, when
// form is set, the Content-Type says so and the body is not a JSON object,
// an application/x-www-form-urlencoded body (RFC 7009's revocation
// request), each field once. Otherwise the Content-Type is not checked, so a plain
// `curl -d '{...}'` works. Numbers stay json.Number so a requestId comes
// back exactly as sent.
func readObject(r *http.Request, limit int64, form bool) (map[string]any, error) {
	if r.ContentLength > limit {
		return nil, errBodyTooLarge
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, badRequest("could not read the request body")
	}
	if int64(len(data)) > limit {
		return nil, errBodyTooLarge
	}
	if form && isForm(r, data) {
		return formObject(data)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, badRequest("request body is not valid JSON")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, badRequest("request body must hold a single JSON object")
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, badRequest("request body must be a JSON object")
	}
	return obj, nil
}

// errBodyTooLarge refuses a body over the limit.
var errBodyTooLarge = &httpError{status: http.StatusRequestEntityTooLarge, msg: "request body is too large"}

// isForm reports whether a body is a form: labelled so, and not a JSON
// object, which is read as one whatever the Content-Type (curl -d labels
// every body a form).
func isForm(r *http.Request, data []byte) bool {
	return !bytes.HasPrefix(bytes.TrimSpace(data), []byte("{")) &&
		strings.HasPrefix(strings.ToLower(r.Header.Get("Content-Type")), "application/x-www-form-urlencoded")
}

// formObject decodes a form body into an object of strings.
func formObject(data []byte) (map[string]any, error) {
	values, err := url.ParseQuery(string(data))
	if err != nil {
		return nil, badRequest("request body is not a valid form")
	}
	obj := make(map[string]any, len(values))
	for k, v := range values {
		if len(v) != 1 {
			return nil, badRequest("%s appears more than once", k)
		}
		obj[k] = v[0]
	}
	return obj, nil
}

// stringField returns a required, non-blank string field.
func stringField(body map[string]any, field string) (string, error) {
	v, ok := body[field]
	if !ok || v == nil {
		return "", badRequest("%s is required", field)
	}
	s, ok := v.(string)
	if !ok {
		return "", badRequest("%s must be a string", field)
	}
	if strings.TrimSpace(s) == "" {
		return "", badRequest("%s must not be blank", field)
	}
	return s, nil
}

// serveJWKS publishes the public keys of the key set in force. With only
// HMAC keys there is nothing to publish: 404.
func (g *gate) serveJWKS(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeJSON(w, http.StatusMethodNotAllowed, restError(http.StatusMethodNotAllowed, "use GET"))
		return
	}
	body, n, err := g.tokens.Keys().JWKS()
	if err != nil {
		status, msg := answerStatus(w, err)
		writeJSON(w, status, restError(status, msg))
		return
	}
	if n == 0 {
		writeJSON(w, http.StatusNotFound, restError(http.StatusNotFound, "no public keys to publish: the key set is symmetric"))
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/jwk-set+json")
	h.Set("Cache-Control", "public, max-age=300")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		_, _ = w.Write(body)
	}
}
