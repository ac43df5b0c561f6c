package tokengate

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tokengate/tokengate/permissions"
	"github.com/tokengate/tokengate/tokens"
	"github.com/tokengate/tokengate/users"
)

// uncached is the middleware when nothing is cached (cacheTTL 0s) and the
// Authorization header is the one token source: every request is checked
// in full.
//
// Its ServeHTTP sends to serve what serve alone answers (the token
// endpoints, dot segments, public paths, preflights) and a token not sent
// as exactly one "Bearer " header; checkCommon checks the rest. The tests
// that route a request here are in this frame, not checkCommon's, so that
// a request they turn away does not pay for checkCommon's frame
// (CONTRIBUTING.md, the cost model).
type uncached struct{ g *gate }

func (u *uncached) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g := u.g
	path := r.URL.Path
	auth := r.Header["Authorization"]
	if len(auth) != 1 || strings.HasPrefix(path, g.basePath) || strings.Contains(path, "/.") {
		serve(g, w, r)
		return
	}
	if (g.unlistedMayPass || g.publicExact[path] != 0) && passesUnauthenticated(g, r) {
		serve(g, w, r)
		return
	}
	token, bearer := strings.CutPrefix(auth[0], "Bearer ")
	if !bearer || !checkCommon(g, w, r, path, token) {
		serve(g, w, r)
	}
}

// checkCommon is guard for a request of a gate without caches that
// carries one "Bearer " Authorization header, on a path that is guarded,
// written as one frame: guard, requestToken, identify, verify,
// checkHolders' common case, headerValues and forward, written out here,
// cost a sixth less under Yaegi (930 allocations per request, 771 here).
//
// Each check is guard's, in guard's order, with guard's answer; the leaves
// (tokens.VerifyInto, users.Find, checkHoldersOf, checkRevoked,
// MatchRequest, matchWithoutTrailingSlash, MaskNames, checkScope) are the
// same functions. It returns false, having answered nothing, only for a
// refused token with spaces around it, which requestToken trims: serve
// then checks the request from the start (TestCheckCommonAgreesWithGuard).
func checkCommon(g *gate, w http.ResponseWriter, r *http.Request, path, token string) bool {
	ns := g.now().UnixNano()
	var claims tokens.Claims
	c := &claims
	if err := tokens.VerifyInto(g.tokens, token, tokens.Access, ns/int64(time.Second), c); err != nil {
		return refuseUnverified(g, w, r, token, err)
	}
	// checkHolders' common case; any other token is checkHoldersOf's.
	u := users.Find(g.users, c.UserID)
	if u == nil || u.Status != users.StatusActive || c.ActorID != 0 || c.FromDeviceHive ||
		c.IssuedAt < g.validAfter || c.IssuedAt < u.TokensValidAfter {
		if _, err := checkHoldersOf(g, c, u); err != nil {
			refuseToken(g, w, fromVerify, err)
			return true
		}
	}
	if err := checkRevoked(g.view, c, ns); err != nil {
		refuseToken(g, w, fromVerify, err)
		return true
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
	mask, actionNames := permissions.MaskNames(c.Actions)
	if action < 0 || mask&(uint32(1)<<uint32(action)) == 0 { //nolint:gosec // G115: as in guard
		refuse(g, w, fromVerify, errOutOfScope)
		return true
	}
	if matched && m.Scoped {
		if refusal := checkScope(g, r, &m, c); refusal != nil {
			refuse(g, w, fromVerify, refusal)
			return true
		}
	}
	if g.metricsOn {
		g.countGuard(fromVerify, http.StatusOK)
	}
	// headerValues and forward, written out (as ServeHTTP writes out
	// scrub): two frames less per request. The values are sliced out of
	// one array with no spare capacity, so an append downstream copies.
	var all [7]string
	all[headerUserID] = strconv.FormatInt(c.UserID, 10)
	all[headerLogin] = c.Login
	all[headerRole] = c.Role
	all[headerActions] = actionNames
	all[headerNetworks] = strings.Join(c.NetworkIDs, ",")
	all[headerDeviceTypes] = strings.Join(c.DeviceTypeIDs, ",")
	plan := g.loginPlan
	if c.ActorID != 0 {
		all[headerActorID] = strconv.FormatInt(c.ActorID, 10)
		plan = g.mintPlan
	}
	h := r.Header
	for name := range h {
		if g.drop[name] {
			delete(h, name)
		}
	}
	if !g.forwardAuthorization {
		delete(h, "Authorization")
	}
	for i, kind := range plan.kinds {
		h[plan.names[i]] = all[kind : kind+1 : kind+1]
	}
	g.next.ServeHTTP(w, r)
	return true
}

// refuseUnverified answers, as guard does, a token tokens.VerifyInto
// refused, unless requestToken reads the header otherwise (spaces around
// the token, which it trims): then it returns false, for serve. A function
// of its own, so that checkCommon's frame does not carry this branch.
func refuseUnverified(g *gate, w http.ResponseWriter, r *http.Request, token string, err error) bool {
	if token != bearerValue(r.Header.Get("Authorization")) {
		return false
	}
	refuseToken(g, w, fromVerify, err)
	return true
}
