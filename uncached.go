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
// in full. Its ServeHTTP first tries checkCommon, and serves the rest as
// unmemoised does.
type uncached struct{ g *gate }

func (u *uncached) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !checkCommon(u.g, w, r) {
		serve(u.g, w, r)
	}
}

// checkCommon is guard for the common request of a gate without caches,
// written as one frame: a guarded path, one "Bearer " Authorization
// header, a login's token of an active user known here, a rule that
// matches the path as it is.
// Under Yaegi every call and every temporary of a frame costs (CONTRIBUTING.md,
// the cost model): serve, guard, requestToken, identify, verify,
// checkHolders' common case, headerValues and forward, written out here,
// cost a fifth less (930 allocations per request, 740 here).
//
// Each check is guard's, in guard's order, with guard's answer; the leaves
// (tokens.VerifyInto, users.Find, checkRevoked, MatchRequest, MaskNames,
// checkScope) are the same functions. What is not the common
// case makes checkCommon return false before it has answered, and serve
// then checks the request from the start (TestCheckCommonAgreesWithGuard).
func checkCommon(g *gate, w http.ResponseWriter, r *http.Request) bool {
	path := r.URL.Path
	// Token endpoints, dot segments (the JWKS path too), public paths and
	// preflights are serve's.
	if strings.HasPrefix(path, g.basePath) {
		return false
	}
	if strings.Contains(path, "/.") {
		return false
	}
	if g.unlistedMayPass || g.publicExact[path] != 0 {
		return false
	}
	auth := r.Header["Authorization"]
	if len(auth) != 1 {
		return false
	}
	token, bearer := strings.CutPrefix(auth[0], "Bearer ")
	if !bearer {
		return false
	}
	ns := g.now().UnixNano()
	var claims tokens.Claims
	c := &claims
	if err := tokens.VerifyInto(g.tokens, token, tokens.Access, ns/int64(time.Second), c); err != nil {
		return refuseUnverified(g, w, auth[0], token, err)
	}
	// checkHolders' common case; any other token is checkHoldersOf's.
	u := users.Find(g.users, c.UserID)
	if u == nil || u.Status != users.StatusActive || c.ActorID != 0 || c.FromDeviceHive ||
		c.IssuedAt < g.validAfter || c.IssuedAt < u.TokensValidAfter {
		return false
	}
	if err := checkRevoked(g.view, c, ns); err != nil {
		refuseToken(g, w, fromVerify, err)
		return true
	}
	var m permissions.Match
	if !permissions.MatchRequest(g.rules, r.Method, path, &m) {
		return false // the default action, or the path without its trailing slash
	}
	mask, actionNames := permissions.MaskNames(c.Actions)
	if m.Action < 0 || mask&(uint32(1)<<uint32(m.Action)) == 0 { //nolint:gosec // G115: as in guard
		refuse(g, w, fromVerify, errOutOfScope)
		return true
	}
	if m.Scoped {
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
	h := r.Header
	for name := range h {
		if g.drop[name] {
			delete(h, name)
		}
	}
	if !g.forwardAuthorization {
		delete(h, "Authorization")
	}
	plan := g.loginPlan
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
func refuseUnverified(g *gate, w http.ResponseWriter, header, token string, err error) bool {
	if token != bearerValue(header) {
		return false
	}
	refuseToken(g, w, fromVerify, err)
	return true
}
