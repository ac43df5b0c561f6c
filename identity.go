package tokengate

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/tokengate/tokengate/tokens"
)

// identity is a verified access token, ready to be forwarded: the header
// values are computed once, when the token is first verified.
type identity struct {
	// claims are the token's, filled in place by tokens.VerifyInto: read
	// there, not copied field by field (CONTRIBUTING.md, the cost model).
	claims       tokens.Claims
	keys         *tokens.KeySet // the key set that verified the token
	actionMask   uint32         // bit a set when the token allows action a
	usersVersion int64          // users.Store.Version when the user was checked
	names        []string       // the identity headers it sets (no actor header for a login's token)
	values       [][]string     // their values, aligned with names
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
	headerActorID
)

func identityHeaders(cfg IdentityHeaders) []identityHeader {
	names := []string{cfg.UserID, cfg.Login, cfg.Role, cfg.Actions, cfg.Networks, cfg.DeviceTypes, cfg.ActorID}
	var out []identityHeader
	for kind, name := range names {
		if name != "" {
			out = append(out, identityHeader{name: http.CanonicalHeaderKey(name), kind: kind})
		}
	}
	return out
}

// overrideHeaders ask some backends and frameworks to serve another method
// or path than the request line's, which the rules did not check.
var overrideHeaders = []string{"X-Http-Method-Override", "X-Http-Method", "X-Method-Override", "X-Original-Url", "X-Rewrite-Url"}

// dropSet lists the canonical header names removed from every forwarded
// request: the default identity names the configuration does not set,
// every spelling of an identity name with "_" for some "-" (CGI, WSGI,
// PHP and nginx with underscores_in_headers read X_Auth_Role as
// X-Auth-Role), and, unless kept, the override headers in every spelling.
// The configured names themselves are not listed, as the gate sets them,
// except the actor's, which a login's token does not set.
func dropSet(headers []identityHeader, keepOverrides bool) map[string]bool {
	set := map[string]bool{}
	names := []string{}
	for _, d := range identityHeaders(defaultIdentityHeaders()) {
		names = append(names, d.name)
	}
	for _, h := range headers {
		names = append(names, h.name)
	}
	if !keepOverrides {
		names = append(names, overrideHeaders...)
	}
	for _, name := range names {
		for _, spelling := range underscoreSpellings(name) {
			set[http.CanonicalHeaderKey(spelling)] = true
		}
	}
	for _, h := range headers {
		if h.kind != headerActorID {
			delete(set, h.name)
		}
	}
	return set
}

// underscoreSpellings returns name with every subset of its "-" written
// as "_", name itself included.
func underscoreSpellings(name string) []string {
	out := []string{name}
	for i := 0; i < len(name); i++ {
		if name[i] != '-' {
			continue
		}
		n := len(out)
		for j := 0; j < n; j++ {
			out = append(out, out[j][:i]+"_"+out[j][i+1:])
		}
	}
	return out
}

// headerValues computes the identity headers of verified claims, names
// and values, once per token (actionNames: the actions, joined by
// permissions.MaskNames): straight-line code, as this runs for every token
// verified (CONTRIBUTING.md, the cost model). A header without a value (the
// actor of a login's token) is left out: scrub has removed any client copy,
// and the request path sets the rest without a check per header.
func headerValues(g *gate, c *tokens.Claims, actionNames string) ([]string, [][]string) {
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
	kinds := plan.kinds
	flat := make([]string, len(kinds))
	values := make([][]string, len(kinds))
	for i, kind := range kinds {
		flat[i] = all[kind]
		// One-element slices with no spare capacity: forwarded requests
		// share them, and an append downstream must copy, not write here.
		values[i] = flat[i : i+1 : i+1]
	}
	return plan.names, values
}

// headerPlan is the identity headers one kind of token sets, in order:
// their names (shared by every identity, never changed) and the claim
// each carries. The gate holds two, by pointer: a plan read out of an
// array or a struct field is copied whole under Yaegi (CONTRIBUTING.md,
// the cost model).
type headerPlan struct {
	names []string
	kinds []int
}

// headerPlans returns the plans of a login's token (no actor header) and
// of a minted one (every header).
func headerPlans(headers []identityHeader) (login, minted *headerPlan) {
	login, minted = &headerPlan{}, &headerPlan{}
	for _, h := range headers {
		if h.kind != headerActorID {
			login.names = append(login.names, h.name)
			login.kinds = append(login.kinds, h.kind)
		}
		minted.names = append(minted.names, h.name)
		minted.kinds = append(minted.kinds, h.kind)
	}
	return login, minted
}

// forward removes what scrub removes (its loop, written out: a call less
// per request), sets the identity headers, which replaces any client-sent
// copies, and passes the request on.
func forward(g *gate, w http.ResponseWriter, r *http.Request, names []string, values [][]string) {
	h := r.Header
	for name := range h {
		if g.drop[name] {
			delete(h, name)
		}
	}
	if !g.forwardAuthorization {
		delete(h, "Authorization")
	}
	for i, name := range names {
		h[name] = values[i]
	}
	g.next.ServeHTTP(w, r)
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

// scrub removes the headers of the drop set, and the Authorization header
// when it is not to be forwarded. Header names arrive canonical (Go's
// server canonicalises them), so one map lookup per header does.
func scrub(g *gate, r *http.Request) {
	for name := range r.Header {
		if g.drop[name] {
			delete(r.Header, name)
		}
	}
	if !g.forwardAuthorization {
		delete(r.Header, "Authorization")
	}
}
