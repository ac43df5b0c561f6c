package main

// What the caller may see, read from the identity headers the gateway
// forwards. The gateway itself already refuses device, network and device
// type routes outside the token's scopes; this API filters again with the
// same headers, as a real DeviceHive backend behind the gate would, so list
// and poll answers never show objects outside the caller's networks and
// device types.

import (
	"net/http"
	"strconv"
	"strings"
)

const (
	headerUserID      = "X-Auth-User-Id"
	headerLogin       = "X-Auth-Login"
	headerRole        = "X-Auth-Role"
	headerNetworks    = "X-Auth-Networks"
	headerDeviceTypes = "X-Auth-Device-Types"
)

// identityHeaders are the headers the gateway sets on forwarded requests.
var identityHeaders = []string{
	headerUserID,
	headerLogin,
	headerRole,
	"X-Auth-Actions",
	headerNetworks,
	headerDeviceTypes,
}

// idSet is a set of network or device type ids, or all of them.
type idSet struct {
	all bool
	ids map[int64]bool
}

func (s idSet) has(id int64) bool { return s.all || s.ids[id] }

// scope is the caller's identity as far as filtering goes.
type scope struct {
	networks    idSet
	deviceTypes idSet
	role        string // "admin", "client" or "" (not forwarded)
}

// scopeOf reads the identity headers. A header that is absent means no
// restriction: requests without identity headers come from inside (the
// gateway's own device directory lookups, the tests), never through the
// gate, which always sets them. A header that is present but empty means
// none; "*" means all.
func scopeOf(r *http.Request) scope {
	return scope{
		networks:    parseIDSet(r.Header.Values(headerNetworks)),
		deviceTypes: parseIDSet(r.Header.Values(headerDeviceTypes)),
		role:        r.Header.Get(headerRole),
	}
}

func parseIDSet(values []string) idSet {
	if len(values) == 0 {
		return idSet{all: true}
	}
	set := idSet{ids: make(map[int64]bool)}
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			part = strings.TrimSpace(part)
			if part == "*" {
				set.all = true
				continue
			}
			if id, err := strconv.ParseInt(part, 10, 64); err == nil {
				set.ids[id] = true
			}
		}
	}
	return set
}

// restricted reports whether the caller misses some network or device
// type. DeviceHive answers such callers 403 for objects that are out of
// scope or do not exist, and unrestricted ones 404 for objects that do not
// exist (devicehive-common-service auth/JwtCheckPermissionsHelper,
// BaseDeviceService.findByIdWithPermissionsCheckIfExists).
func (sc scope) restricted() bool { return !sc.networks.all || !sc.deviceTypes.all }

func (sc scope) allowsDevice(d Device) bool {
	return sc.networks.has(d.NetworkID) && sc.deviceTypes.has(d.DeviceTypeID)
}

// missing is the error for an object that does not exist or is out of
// scope: 403 for a restricted caller, notFound otherwise.
func (sc scope) missing(notFound string) *apiError {
	if sc.restricted() {
		return errAccessDenied()
	}
	return &apiError{status: http.StatusNotFound, msg: notFound}
}

// userID is the forwarded user id, or nil.
func userID(r *http.Request) *int64 {
	id, err := strconv.ParseInt(r.Header.Get(headerUserID), 10, 64)
	if err != nil {
		return nil
	}
	return &id
}

// roleNumber is DeviceHive's numeric role (devicehive-common
// model/enums/UserRole: ADMIN 0, CLIENT 1), or nil for another role.
func roleNumber(role string) *int {
	var n int
	switch role {
	case "admin":
		n = 0
	case "client":
		n = 1
	default:
		return nil
	}
	return &n
}
