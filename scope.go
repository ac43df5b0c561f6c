package tokengate

import (
	"net/http"

	"github.com/tokengate/tokengate/directory"
	"github.com/tokengate/tokengate/permissions"
)

// checkScope enforces a matched rule's bindings against the token's
// networks and device types. It returns 0 when the request may pass, else
// the status to refuse it with. Path-bound values come from the match,
// written out per binding rather than through a helper: under Yaegi a call
// per binding costs more than the check itself.
func checkScope(g *gate, r *http.Request, m permissions.Match, id *identity) int {
	if b := m.Scope.Network; b.Kind != "" {
		v := m.NetworkID
		if b.Kind != "path" && !boundValue(r, b, &v) {
			return http.StatusBadRequest
		}
		if !inScope(id.networkIDs, v) {
			return http.StatusForbidden
		}
	}
	if b := m.Scope.DeviceType; b.Kind != "" {
		v := m.DeviceTypeID
		if b.Kind != "path" && !boundValue(r, b, &v) {
			return http.StatusBadRequest
		}
		if !inScope(id.deviceTypeIDs, v) {
			return http.StatusForbidden
		}
	}
	if b := m.Scope.Device; b.Kind != "" {
		deviceID := m.DeviceID
		if b.Kind != "path" && !boundValue(r, b, &deviceID) {
			return http.StatusBadRequest
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

// boundValue sets *v to the value a query or header binding names in the
// request (checkScope reads path bindings from the match itself). It
// reports false when the request names it more than once: the gate would
// check one value and the backend might read another.
func boundValue(r *http.Request, b permissions.Binding, v *string) bool {
	var values []string
	if b.Kind == "query" {
		values = r.URL.Query()[b.Name]
	} else {
		values = r.Header.Values(b.Name)
	}
	if len(values) > 1 {
		return false
	}
	*v = ""
	if len(values) == 1 {
		*v = values[0]
	}
	return true
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
	case http.StatusBadRequest:
		return "a parameter or header the route is bound to appears more than once"
	case http.StatusNotFound:
		return "Device not found"
	case http.StatusServiceUnavailable:
		return "device directory is unavailable, try again later"
	}
	return "Access is denied"
}
