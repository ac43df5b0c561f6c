package tokengate

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/tokengate/tokengate/directory"
	"github.com/tokengate/tokengate/permissions"
	"github.com/tokengate/tokengate/tokens"
)

// Refusals of the scope check; each is answered as is (no allocation).
var (
	errOutOfScope = &httpError{status: http.StatusForbidden, msg: "Access is denied"}
	errUnknownDev = &httpError{status: http.StatusNotFound, msg: "Device not found"}
	errDirectory  = &httpError{status: http.StatusServiceUnavailable, msg: "device directory is unavailable, try again later"}
	errBoundTwice = &httpError{
		status: http.StatusBadRequest,
		msg:    "a parameter or header the route is bound to appears more than once, or spelt with '_' for '-'",
	}
	errQuerySyntax = &httpError{
		status: http.StatusBadRequest,
		msg:    "the query is malformed (a ';', a '#' or a bad %-escape): the gate and the backend could read it differently",
	}
)

// checkScope enforces a matched rule's bindings against the token's
// networks and device types. It returns nil when the request may pass,
// else the refusal.
//
// This is the path-only case, the common one (device routes): the values
// come from the match, and a binding is there exactly when its value is
// (permissions.Match), so the scope itself is not read. The membership
// tests are written out rather than calls to permissions.ContainsID: it
// runs for every token verified (CONTRIBUTING.md, the cost model). A rule
// that reads the query or headers goes to checkRequestScope, which may
// also narrow the query.
func checkScope(g *gate, r *http.Request, m *permissions.Match, c *tokens.Claims) *httpError {
	if !m.LineOnly {
		return checkRequestScope(g, r, m, c)
	}
	if m.NetworkID != "" && !permissions.ContainsID(c.NetworkIDs, m.NetworkID) {
		return errOutOfScope
	}
	if m.DeviceTypeID != "" && !permissions.ContainsID(c.DeviceTypeIDs, m.DeviceTypeID) {
		return errOutOfScope
	}
	if m.DeviceID == "" {
		return nil
	}
	// A listed device is a map index; any other is looked up by
	// checkDevice.
	dev, listed := g.staticDevices[m.DeviceID]
	if !listed {
		return checkDevice(g, r, m.DeviceID, c)
	}
	in := false
	for _, n := range c.NetworkIDs {
		if n == dev.NetworkID || n == permissions.AllIDs {
			in = true
			break
		}
	}
	if !in {
		return errOutOfScope
	}
	for _, t := range c.DeviceTypeIDs {
		if t == dev.DeviceTypeID || t == permissions.AllIDs {
			return nil
		}
	}
	return errOutOfScope
}

// checkDevice looks a named device up in the directory: its network and
// device type must both be in scope (checkScope reads listed devices
// itself).
func checkDevice(g *gate, r *http.Request, deviceID string, c *tokens.Claims) *httpError {
	dev, err := g.devices.Lookup(r.Context(), deviceID)
	if err == directory.ErrUnknownDevice {
		return errUnknownDev
	}
	if err != nil {
		return errDirectory
	}
	if !permissions.ContainsID(c.NetworkIDs, dev.NetworkID) || !permissions.ContainsID(c.DeviceTypeIDs, dev.DeviceTypeID) {
		return errOutOfScope
	}
	return nil
}

// checkRequestScope enforces bindings of any kind, for rules that read the
// query or headers (never memoised: see remember). The query is parsed once
// and strictly: a query Go's parser only partly understands (a ';', a bad
// %-escape) is refused, since a backend might read the skipped part, and so
// is a '#', which Go keeps in the query but an RFC 3986 backend reads as the
// start of a fragment, dropping what follows (the narrowing included). When
// every check passes, the ids of ",narrow" bindings the request did not name
// are added to the query.
func checkRequestScope(g *gate, r *http.Request, m *permissions.Match, c *tokens.Claims) *httpError {
	var q url.Values
	if isQuery(m.Scope.Network) || isQuery(m.Scope.DeviceType) || isQuery(m.Scope.Device) {
		raw := r.URL.RawQuery
		if strings.Contains(raw, "#") {
			return errQuerySyntax
		}
		var err error
		if q, err = url.ParseQuery(raw); err != nil {
			return errQuerySyntax
		}
	}
	// add: name, value pairs to add to the query
	add, refusal := checkIDBinding(g, r, q, m.Scope.Network, m.NetworkID, c.NetworkIDs, "networks", nil)
	if refusal == nil {
		add, refusal = checkIDBinding(g, r, q, m.Scope.DeviceType, m.DeviceTypeID, c.DeviceTypeIDs, "device types", add)
	}
	if refusal != nil {
		return refusal
	}
	if b := m.Scope.Device; b.Kind != "" {
		deviceID, refusal := boundValue(g, r, q, b, m.DeviceID)
		if refusal != nil {
			return refusal
		}
		switch {
		case deviceID != "":
			if refusal := checkDevice(g, r, deviceID, c); refusal != nil {
				return refusal
			}
		case b.Optional:
			// The rule's network and device type bindings narrow
			// (checked when the rule was compiled).
		case !permissions.ContainsAll(c.NetworkIDs) || !permissions.ContainsAll(c.DeviceTypeIDs):
			// No device named: only a token scoped to everything may pass.
			return errOutOfScope
		}
	}
	if len(add) > 0 {
		narrowQuery(r, add)
	}
	return nil
}

// checkIDBinding checks a network or device type binding, if set, against
// the token's ids of that kind (granted, called what in refusals): the value
// the request gives (pathValue for a path binding) and, for a ",narrow"
// binding the request left empty, the ids to add to the query.
func checkIDBinding(g *gate, r *http.Request, q url.Values, b permissions.Binding, pathValue string, granted []string, what string,
	add []string,
) ([]string, *httpError) {
	if b.Kind == "" {
		return add, nil
	}
	v, refusal := boundValue(g, r, q, b, pathValue)
	if refusal != nil {
		return add, refusal
	}
	return checkIDs(b, v, granted, what, add)
}

func isQuery(b permissions.Binding) bool {
	return b.Kind == permissions.BindQuery || b.Kind == permissions.BindQueryList
}

// boundValue returns the value a binding names in the request: the path
// segment of the match, the query parameter (q, already parsed) or the
// header; "" when absent. A parameter or header given more than once is
// refused: the gate would check one value and the backend might read
// another. So is a bound header spelt with "_" for some "-", which CGI,
// WSGI, PHP and nginx with underscores_in_headers read as the header itself
// (dropSet): beside it, it is a second value; alone, the gate and a backend
// would disagree on whether the header is there.
func boundValue(g *gate, r *http.Request, q url.Values, b permissions.Binding, pathValue string) (string, *httpError) {
	var values []string
	switch b.Kind {
	case permissions.BindPath:
		return pathValue, nil
	case permissions.BindHeader:
		for _, spelling := range g.boundSpellings[b.Name] {
			if _, sent := r.Header[spelling]; sent {
				return "", errBoundTwice
			}
		}
		values = r.Header.Values(b.Name)
	default:
		values = q[b.Name]
	}
	if len(values) > 1 {
		return "", errBoundTwice
	}
	if len(values) == 0 {
		return "", nil
	}
	return values[0], nil
}

// checkIDs checks the value v of a network or device type binding against
// the token's list (what: "networks" or "device types"), and returns add
// with the name and ids to add to the query when v is empty and the binding
// narrows. An empty value names no
// id: DeviceHive reads networkIds= as no filter at all.
//
// Ids are compared as strings, exactly: "01" or " 1" is not "1", so a
// spelling the backend might read as another id is refused, never let by.
// An empty list grants nothing (fail closed).
func checkIDs(b permissions.Binding, v string, list []string, what string, add []string) ([]string, *httpError) {
	if permissions.ContainsAll(list) {
		return add, nil
	}
	if v != "" {
		if b.Kind != permissions.BindQueryList {
			if !permissions.ContainsID(list, v) {
				return add, errOutOfScope
			}
			return add, nil
		}
		for _, each := range strings.Split(v, ",") {
			if !permissions.ContainsID(list, each) {
				return add, errOutOfScope
			}
		}
		return add, nil
	}
	if !b.Narrow || len(list) == 0 {
		return add, errOutOfScope
	}
	if b.Kind == permissions.BindQuery && len(list) > 1 {
		// One value only, and picking one of the token's ids would answer
		// an incomplete list as if it were whole.
		return add, &httpError{
			status: http.StatusBadRequest,
			msg:    "the token grants several " + what + " and this route takes one: name it with the query parameter " + b.Name,
		}
	}
	for _, each := range list {
		if each == "" || strings.ContainsRune(each, ',') {
			return add, errOutOfScope // it would read as other ids, or none
		}
	}
	add = append(add, b.Name, strings.Join(list, ","))
	return add, nil
}

// narrowQuery rewrites the request's query: the parameters named in add
// (name, value pairs) are dropped (they were empty) and appended with
// their values; the rest stays as the client wrote it. Traefik's proxy
// builds the upstream request target from RequestURI, so both change.
func narrowQuery(r *http.Request, add []string) {
	var b strings.Builder
	for _, pair := range strings.Split(r.URL.RawQuery, "&") {
		if pair == "" {
			continue
		}
		key, _, _ := strings.Cut(pair, "=")
		if k, err := url.QueryUnescape(key); err == nil && named(add, k) {
			continue
		}
		b.WriteString(pair)
		b.WriteByte('&')
	}
	for i := 0; i+1 < len(add); i += 2 {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(add[i]))
		b.WriteByte('=')
		// Ids joined with literal commas, each escaped.
		for j, each := range strings.Split(add[i+1], ",") {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteString(url.QueryEscape(each))
		}
	}
	r.URL.RawQuery = b.String()
	r.URL.ForceQuery = false
	r.RequestURI = r.URL.RequestURI()
}

// named reports whether name is one of the names of add's pairs.
func named(add []string, name string) bool {
	for i := 0; i < len(add); i += 2 {
		if add[i] == name {
			return true
		}
	}
	return false
}
