package main

// The store's networks, device types and devices: lookups, lists, and
// PUT/DELETE /device/{id} with DeviceHive's semantics.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"sort"
)

// maxDevices bounds the devices PUT /device/{id} may create.
const maxDevices = 100

// deviceIDPattern is DeviceHive's rule for device ids (DeviceResource:
// "Device Id can only contain letters, digits and dashes.").
var deviceIDPattern = regexp.MustCompile(`^[a-zA-Z0-9-]{1,128}$`)

const (
	notifDeviceAdd    = "$device-add"    // DeviceHive's SpecialNotifications.DEVICE_ADD
	notifDeviceUpdate = "$device-update" // DeviceHive's SpecialNotifications.DEVICE_UPDATE
)

func (s *store) network(id int64) (Network, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := s.networks[id]
	return n, ok
}

func (s *store) deviceType(id int64) (DeviceType, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	dt, ok := s.deviceTypes[id]
	return dt, ok
}

func (s *store) networkList() []Network {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Network, 0, len(s.networks))
	for _, n := range s.networks {
		out = append(out, n)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func (s *store) deviceTypeList() []DeviceType {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]DeviceType, 0, len(s.deviceTypes))
	for _, dt := range s.deviceTypes {
		out = append(out, dt)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// deviceList is every device, in creation order.
func (s *store) deviceList() []Device {
	s.mu.Lock()
	defer s.mu.Unlock()
	entries := make([]*deviceEntry, 0, len(s.devices))
	for _, e := range s.devices {
		entries = append(entries, e)
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].seq < entries[j].seq })
	out := make([]Device, len(entries))
	for i, e := range entries {
		out[i] = e.dev
	}
	return out
}

// device returns a device the caller may see.
func (s *store) device(id string, sc scope) (Device, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, err := s.entryLocked(id, sc)
	if err != nil {
		return Device{}, err
	}
	return e.dev, nil
}

// entryLocked finds a device the caller may see: DeviceHive answers 403
// for a device out of the caller's scope (the gateway does too), and 404
// for an unknown one (403 to a restricted caller).
func (s *store) entryLocked(id string, sc scope) (*deviceEntry, *apiError) {
	e := s.devices[id]
	if e == nil {
		return nil, sc.missing("Device with id = " + id + " not found")
	}
	if !sc.allowsDevice(e.dev) {
		return nil, errAccessDenied()
	}
	return e, nil
}

// deviceUpdate is the body of PUT /device/{id} (DeviceHive's DeviceUpdate):
// absent and null fields are left as they are, except data.
type deviceUpdate struct {
	Name         *string         `json:"name"`
	Data         json.RawMessage `json:"data"`
	NetworkID    *int64          `json:"networkId"`
	DeviceTypeID *int64          `json:"deviceTypeId"`
	IsBlocked    *bool           `json:"isBlocked"`
}

// putDevice creates or updates a device as DeviceHive's
// DeviceService.deviceSaveByUser does, and posts the special notification
// $device-add or $device-update.
func (s *store) putDevice(id string, u deviceUpdate, sc scope) *apiError {
	if !deviceIDPattern.MatchString(id) {
		return errBadRequest("Device Id can only contain letters, digits and dashes.")
	}
	if u.Name != nil && (*u.Name == "" || len(*u.Name) > 128) {
		return errBadRequest("Field name cannot be empty. The length of name should not be more than 128 symbols.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.checkPlacementLocked(u, sc); err != nil {
		return err
	}
	e := s.devices[id]
	special := notifDeviceUpdate
	if e == nil {
		d, err := s.newDeviceLocked(id, u, sc)
		if err != nil {
			return err
		}
		s.seq++
		e = &deviceEntry{dev: d, seq: s.seq}
		s.devices[id] = e
		special = notifDeviceAdd
	} else {
		if !sc.allowsDevice(e.dev) {
			return &apiError{status: http.StatusForbidden, msg: "No access to device"}
		}
		applyUpdate(&e.dev, u)
	}
	params, err := json.Marshal(e.dev)
	if err != nil {
		return &apiError{status: http.StatusInternalServerError, msg: "cannot encode the device"}
	}
	s.addNotificationLocked(e, special, params)
	return nil
}

// checkPlacementLocked checks the network and device type an update names:
// they must exist (400) and be in the caller's scope (403).
func (s *store) checkPlacementLocked(u deviceUpdate, sc scope) *apiError {
	if u.NetworkID != nil {
		if _, ok := s.networks[*u.NetworkID]; !ok {
			return errBadRequest(msgInvalidParams)
		}
		if !sc.networks.has(*u.NetworkID) {
			return &apiError{status: http.StatusForbidden, msg: "No access to network!"}
		}
	}
	if u.DeviceTypeID != nil {
		if _, ok := s.deviceTypes[*u.DeviceTypeID]; !ok {
			return errBadRequest(msgInvalidParams)
		}
		// DeviceHive does not check this one; this API keeps devices
		// within the caller's device types too.
		if !sc.deviceTypes.has(*u.DeviceTypeID) {
			return &apiError{status: http.StatusForbidden, msg: "No access to device type!"}
		}
	}
	return nil
}

// newDeviceLocked builds a new device; a network or device type not named
// is the caller's first one (DeviceHive: the user's default network, the
// default device type).
func (s *store) newDeviceLocked(id string, u deviceUpdate, sc scope) (Device, *apiError) {
	if len(s.devices) >= maxDevices {
		return Device{}, &apiError{status: http.StatusInsufficientStorage,
			msg: fmt.Sprintf("this demo keeps at most %d devices", maxDevices)}
	}
	if u.Name == nil {
		return Device{}, errBadRequest("Field name cannot be empty. The length of name should not be more than 128 symbols.")
	}
	d := Device{ID: id, Name: *u.Name, Data: nullable(u.Data)}
	if u.IsBlocked != nil {
		d.IsBlocked = *u.IsBlocked
	}
	if u.NetworkID != nil {
		d.NetworkID = *u.NetworkID
	} else if d.NetworkID = firstInScope(s.networks, sc.networks); d.NetworkID == 0 {
		return Device{}, &apiError{status: http.StatusForbidden, msg: "No access to network!"}
	}
	if u.DeviceTypeID != nil {
		d.DeviceTypeID = *u.DeviceTypeID
	} else if d.DeviceTypeID = firstInScope(s.deviceTypes, sc.deviceTypes); d.DeviceTypeID == 0 {
		return Device{}, &apiError{status: http.StatusForbidden, msg: "No access to device type!"}
	}
	return d, nil
}

// applyUpdate updates an existing device: data is always replaced (null
// when not given), the other fields only when given.
func applyUpdate(d *Device, u deviceUpdate) {
	d.Data = nullable(u.Data)
	if u.Name != nil {
		d.Name = *u.Name
	}
	if u.NetworkID != nil {
		d.NetworkID = *u.NetworkID
	}
	if u.DeviceTypeID != nil {
		d.DeviceTypeID = *u.DeviceTypeID
	}
	if u.IsBlocked != nil {
		d.IsBlocked = *u.IsBlocked
	}
}

// firstInScope is the smallest id of m in set, or 0.
func firstInScope[T any](m map[int64]T, set idSet) int64 {
	var first int64
	for id := range m {
		if set.has(id) && (first == 0 || id < first) {
			first = id
		}
	}
	return first
}

// deleteDevice removes a device and its messages.
func (s *store) deleteDevice(id string, sc scope) *apiError {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.entryLocked(id, sc); err != nil {
		return err
	}
	delete(s.devices, id)
	s.broadcastLocked()
	return nil
}
