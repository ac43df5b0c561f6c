package main

// The DeviceHive objects this API serves, with DeviceHive's JSON field names
// (devicehive-java-server: DeviceVO, NetworkVO, DeviceTypeVO,
// DeviceNotification, DeviceCommand). DeviceHive's Gson serializes nulls, so
// every field is always present, null when unset.

import (
	"encoding/json"
	"time"
)

// timeLayout is DeviceHive's timestamp format, always UTC
// (devicehive-common json/adapters/TimestampAdapter: yyyy-MM-dd'T'HH:mm:ss.SSS).
const timeLayout = "2006-01-02T15:04:05.000"

// stamp is a DeviceHive timestamp: written in timeLayout, null when zero.
type stamp time.Time

// MarshalJSON writes the timestamp as DeviceHive does.
func (t stamp) MarshalJSON() ([]byte, error) { //nolint:unparam // json.Marshaler's signature
	if time.Time(t).IsZero() {
		return []byte("null"), nil
	}
	return []byte(`"` + time.Time(t).UTC().Format(timeLayout) + `"`), nil
}

// Network is a DeviceHive network.
type Network struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
}

// DeviceType is a DeviceHive device type.
type DeviceType struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
}

// Device is a DeviceHive device as GET /device and GET /device/{id} answer it
// (policies DEVICES_LISTED and DEVICE_PUBLISHED).
type Device struct {
	ID           string          `json:"id"`
	Name         string          `json:"name"`
	Data         json.RawMessage `json:"data"`
	NetworkID    int64           `json:"networkId"`
	DeviceTypeID int64           `json:"deviceTypeId"`
	IsBlocked    bool            `json:"isBlocked"`
}

// deviceBrief is a device inside a network or device type answer
// (policies NETWORK_PUBLISHED and DEVICE_TYPE_PUBLISHED: no ids of the
// network or device type).
type deviceBrief struct {
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	Data      json.RawMessage `json:"data"`
	IsBlocked bool            `json:"isBlocked"`
}

func (d Device) brief() deviceBrief {
	return deviceBrief{ID: d.ID, Name: d.Name, Data: d.Data, IsBlocked: d.IsBlocked}
}

// networkWithDevices is GET /network/{id}: the network and its devices.
type networkWithDevices struct {
	Network

	Devices []deviceBrief `json:"devices"`
}

// deviceTypeWithDevices is GET /devicetype/{id}.
type deviceTypeWithDevices struct {
	DeviceType

	Devices []deviceBrief `json:"devices"`
}

// Notification is a DeviceHive device notification (policy
// NOTIFICATION_TO_CLIENT).
type Notification struct {
	ID           int64           `json:"id"`
	Notification string          `json:"notification"`
	DeviceID     string          `json:"deviceId"`
	NetworkID    int64           `json:"networkId"`
	DeviceTypeID int64           `json:"deviceTypeId"`
	Timestamp    stamp           `json:"timestamp"`
	Parameters   json.RawMessage `json:"parameters"`
}

// Command is a DeviceHive device command (policies COMMAND_LISTED and
// COMMAND_TO_DEVICE).
type Command struct {
	ID           int64           `json:"id"`
	Command      *string         `json:"command"`
	Timestamp    stamp           `json:"timestamp"`
	LastUpdated  stamp           `json:"lastUpdated"`
	UserID       *int64          `json:"userId"`
	DeviceID     string          `json:"deviceId"`
	NetworkID    int64           `json:"networkId"`
	DeviceTypeID int64           `json:"deviceTypeId"`
	Parameters   json.RawMessage `json:"parameters"`
	Lifetime     *int64          `json:"lifetime"`
	Status       *string         `json:"status"`
	Result       json.RawMessage `json:"result"`

	// updated is DeviceHive's hidden isUpdated: set by the first update.
	updated bool
}

// notificationInserted is the answer to POST /device/{id}/notification
// (devicehive-frontend model/websockets/InsertNotification).
type notificationInserted struct {
	ID        int64 `json:"id"`
	Timestamp stamp `json:"timestamp"`
}

// commandInserted is the answer to POST /device/{id}/command (policy
// COMMAND_TO_CLIENT).
type commandInserted struct {
	ID          int64  `json:"id"`
	Timestamp   stamp  `json:"timestamp"`
	LastUpdated stamp  `json:"lastUpdated"`
	UserID      *int64 `json:"userId"`
}

// Seeded demo data: the README, scripts/demo.sh and the e2e suite rely on
// d1 (network 1, type 10), d2 (2, 20) and d3 (3, 10).
func seedNetworks() []Network {
	return []Network{
		{ID: 1, Name: "network-1", Description: "alice's first network"},
		{ID: 2, Name: "network-2", Description: "alice's second network"},
		{ID: 3, Name: "network-3", Description: "bob's network"},
	}
}

func seedDeviceTypes() []DeviceType {
	return []DeviceType{
		{ID: 10, Name: "thermometer", Description: "device type 10"},
		{ID: 20, Name: "door-sensor", Description: "device type 20"},
	}
}

func seedDevices() []Device {
	return []Device{
		{ID: "d1", Name: "thermometer in network 1", NetworkID: 1, DeviceTypeID: 10},
		{ID: "d2", Name: "door sensor in network 2", NetworkID: 2, DeviceTypeID: 20},
		{ID: "d3", Name: "thermometer in network 3", NetworkID: 3, DeviceTypeID: 10},
	}
}
