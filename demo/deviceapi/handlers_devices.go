package main

// Networks, device types and devices: DeviceHive's NetworkResource,
// DeviceTypeResource and DeviceResource, filtered by the caller's scope.

import (
	"math"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// named is what network and device type lists filter and sort on.
type named interface{ Network | DeviceType }

func idOf[T named](v T) int64 {
	switch x := any(v).(type) {
	case Network:
		return x.ID
	case DeviceType:
		return x.ID
	}
	return 0
}

func nameOf[T named](v T) string {
	switch x := any(v).(type) {
	case Network:
		return x.Name
	case DeviceType:
		return x.Name
	}
	return ""
}

// listNamed answers GET /network and GET /devicetype: the items in the
// caller's scope, filtered by name and namePattern, sorted by id (default)
// or name, then skip and take.
func listNamed[T named](w http.ResponseWriter, r *http.Request, items []T, allowed idSet) {
	q := r.URL.Query()
	nameMatch, err := nameFilter(q)
	if err != nil {
		writeAPIError(w, r, err)
		return
	}
	skip, err := queryInt(q, "skip", 0)
	if err != nil {
		writeAPIError(w, r, err)
		return
	}
	take, err := queryInt(q, "take", math.MaxInt)
	if err != nil {
		writeAPIError(w, r, err)
		return
	}
	var less func(a, b T) bool
	switch f := q.Get("sortField"); {
	case f == "" || strings.EqualFold(f, "id"):
		less = func(a, b T) bool { return idOf(a) < idOf(b) }
	case strings.EqualFold(f, "name"):
		less = func(a, b T) bool { return nameOf(a) < nameOf(b) }
	default:
		writeAPIError(w, r, errBadRequest(msgInvalidParams))
		return
	}
	out := make([]T, 0, len(items))
	for _, it := range items {
		if allowed.has(idOf(it)) && nameMatch(nameOf(it)) {
			out = append(out, it)
		}
	}
	sortList(out, less, sortDescending(q.Get("sortOrder"), false))
	writeList(w, r, page(out, skip, take))
}

// sortList sorts stably by less, or in reverse.
func sortList[T any](items []T, less func(a, b T) bool, desc bool) {
	sort.SliceStable(items, func(i, j int) bool {
		if desc {
			return less(items[j], items[i])
		}
		return less(items[i], items[j])
	})
}

// nameFilter reads name (exact) and namePattern (SQL LIKE: % any run, _ any
// character), as DeviceHive's list routes take them.
func nameFilter(q url.Values) (func(string) bool, *apiError) {
	name, hasName := q.Get("name"), q.Has("name")
	var pattern *regexp.Regexp
	if p := q.Get("namePattern"); p != "" {
		var b strings.Builder
		b.WriteString(`^(?s)`)
		for _, c := range p {
			switch c {
			case '%':
				b.WriteString(".*")
			case '_':
				b.WriteString(".")
			default:
				b.WriteString(regexp.QuoteMeta(string(c)))
			}
		}
		b.WriteString("$")
		re, err := regexp.Compile(b.String())
		if err != nil {
			return nil, errBadRequest(msgInvalidParams)
		}
		pattern = re
	}
	return func(s string) bool {
		return (!hasName || s == name) && (pattern == nil || pattern.MatchString(s))
	}, nil
}

func (s *server) listNetworks(w http.ResponseWriter, r *http.Request) {
	listNamed(w, r, s.store.networkList(), scopeOf(r).networks)
}

func (s *server) listDeviceTypes(w http.ResponseWriter, r *http.Request) {
	listNamed(w, r, s.store.deviceTypeList(), scopeOf(r).deviceTypes)
}

// getNetwork answers a network and its devices the caller may see.
func (s *server) getNetwork(w http.ResponseWriter, r *http.Request) {
	sc := scopeOf(r)
	id, ok := pathNamedID(w, r, sc.networks, "Network", func(id int64) bool {
		_, ok := s.store.network(id)
		return ok
	})
	if !ok {
		return
	}
	n, _ := s.store.network(id)
	devices := s.devicesWhere(sc, func(d Device) bool { return d.NetworkID == id })
	writeJSON(w, r, http.StatusOK, networkWithDevices{Network: n, Devices: devices})
}

// getDeviceType answers a device type and its devices the caller may see.
func (s *server) getDeviceType(w http.ResponseWriter, r *http.Request) {
	sc := scopeOf(r)
	id, ok := pathNamedID(w, r, sc.deviceTypes, "Device type", func(id int64) bool {
		_, ok := s.store.deviceType(id)
		return ok
	})
	if !ok {
		return
	}
	dt, _ := s.store.deviceType(id)
	devices := s.devicesWhere(sc, func(d Device) bool { return d.DeviceTypeID == id })
	writeJSON(w, r, http.StatusOK, deviceTypeWithDevices{DeviceType: dt, Devices: devices})
}

// pathNamedID reads the network or device type id of the path. One outside
// the caller's scope is 403 (DeviceHive checks hasPermission(#id, ...)
// first), an unknown one 404; it answers those itself and reports false.
func pathNamedID(w http.ResponseWriter, r *http.Request, allowed idSet, what string, exists func(int64) bool) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err == nil && !allowed.has(id) {
		writeAPIError(w, r, errAccessDenied())
		return 0, false
	}
	if err != nil || !exists(id) {
		writeError(w, r, http.StatusNotFound, what+" with id = "+r.PathValue("id")+" not found")
		return 0, false
	}
	return id, true
}

// devicesWhere lists the devices the caller may see that match keep.
func (s *server) devicesWhere(sc scope, keep func(Device) bool) []deviceBrief {
	out := []deviceBrief{}
	for _, d := range s.store.deviceList() {
		if keep(d) && sc.allowsDevice(d) {
			out = append(out, d.brief())
		}
	}
	return out
}

// createNetwork echoes the network with an id; the fixed network table
// does not change.
func (s *server) createNetwork(w http.ResponseWriter, r *http.Request) {
	var body map[string]any
	if !readObject(w, r, &body) {
		return
	}
	body["id"] = 1000 + s.echoIDs.Add(1)
	writeJSON(w, r, http.StatusCreated, body)
}

// deviceQuery is what GET /device filters, sorts and pages by.
type deviceQuery struct {
	nameMatch                   func(string) bool
	networkID, deviceTypeID     *int64
	networkName, deviceTypeName string
	less                        func(a, b Device) bool // nil: creation order
	desc                        bool
	skip, take                  int
}

func parseDeviceQuery(q url.Values) (deviceQuery, *apiError) {
	dq := deviceQuery{
		networkName:    q.Get("networkName"),
		deviceTypeName: q.Get("deviceTypeName"),
		desc:           sortDescending(q.Get("sortOrder"), false),
	}
	var err *apiError
	if dq.nameMatch, err = nameFilter(q); err != nil {
		return dq, err
	}
	if dq.networkID, err = queryID(q, "networkId"); err != nil {
		return dq, err
	}
	if dq.deviceTypeID, err = queryID(q, "deviceTypeId"); err != nil {
		return dq, err
	}
	if dq.skip, err = queryInt(q, "skip", 0); err != nil {
		return dq, err
	}
	if dq.take, err = queryInt(q, "take", math.MaxInt); err != nil {
		return dq, err
	}
	var ok bool
	if dq.less, ok = deviceLess(q.Get("sortField")); !ok {
		return dq, errBadRequest(msgInvalidParams)
	}
	return dq, nil
}

// deviceLess sorts devices by DeviceHive's sortField values (name,
// network, deviceType; status has no field left to sort on), by creation
// order when none is given.
func deviceLess(field string) (func(a, b Device) bool, bool) {
	switch {
	case field == "" || strings.EqualFold(field, "status"):
		return nil, true
	case strings.EqualFold(field, "name"):
		return func(a, b Device) bool { return a.Name < b.Name }, true
	case strings.EqualFold(field, "network"):
		return func(a, b Device) bool { return a.NetworkID < b.NetworkID }, true
	case strings.EqualFold(field, "deviceType"):
		return func(a, b Device) bool { return a.DeviceTypeID < b.DeviceTypeID }, true
	}
	return nil, false
}

// listDevices answers GET /device: the devices the caller may see, filtered
// by name, namePattern, networkId, networkName, deviceTypeId and
// deviceTypeName, sorted, then skip and take.
func (s *server) listDevices(w http.ResponseWriter, r *http.Request) {
	dq, err := parseDeviceQuery(r.URL.Query())
	if err != nil {
		writeAPIError(w, r, err)
		return
	}
	devices := s.filterDevices(scopeOf(r), dq)
	switch {
	case dq.less != nil:
		sortList(devices, dq.less, dq.desc)
	case dq.desc:
		reverse(devices)
	}
	writeList(w, r, page(devices, dq.skip, dq.take))
}

func reverse[T any](items []T) {
	for i, j := 0, len(items)-1; i < j; i, j = i+1, j-1 {
		items[i], items[j] = items[j], items[i]
	}
}

func (s *server) filterDevices(sc scope, dq deviceQuery) []Device {
	out := []Device{}
	for _, d := range s.store.deviceList() {
		switch {
		case !sc.allowsDevice(d), !dq.nameMatch(d.Name),
			dq.networkID != nil && d.NetworkID != *dq.networkID,
			dq.deviceTypeID != nil && d.DeviceTypeID != *dq.deviceTypeID:
			continue
		}
		if dq.networkName != "" {
			if n, ok := s.store.network(d.NetworkID); !ok || n.Name != dq.networkName {
				continue
			}
		}
		if dq.deviceTypeName != "" {
			if dt, ok := s.store.deviceType(d.DeviceTypeID); !ok || dt.Name != dq.deviceTypeName {
				continue
			}
		}
		out = append(out, d)
	}
	return out
}

func (s *server) getDevice(w http.ResponseWriter, r *http.Request) {
	d, err := s.store.device(r.PathValue("id"), scopeOf(r))
	if err != nil {
		writeAPIError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, d)
}

// putDevice creates or updates a device: 204 either way, as DeviceHive.
func (s *server) putDevice(w http.ResponseWriter, r *http.Request) {
	var u deviceUpdate
	if !readObject(w, r, &u) {
		return
	}
	if err := s.store.putDevice(r.PathValue("id"), u, scopeOf(r)); err != nil {
		writeAPIError(w, r, err)
		return
	}
	writeNoContent(w)
}

func (s *server) deleteDevice(w http.ResponseWriter, r *http.Request) {
	if err := s.store.deleteDevice(r.PathValue("id"), scopeOf(r)); err != nil {
		writeAPIError(w, r, err)
		return
	}
	writeNoContent(w)
}
