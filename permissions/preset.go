package permissions

import "fmt"

// PresetDeviceHive is the name of the built-in DeviceHive route table.
const PresetDeviceHive = "devicehive"

// Preset returns the rules of a built-in route table.
func Preset(name string) ([]RuleSpec, error) {
	if name == PresetDeviceHive {
		return deviceHiveRules(), nil
	}
	return nil, fmt.Errorf("unknown preset %q (known: %s)", name, PresetDeviceHive)
}

// deviceHiveRules is DeviceHive's REST API route table: reads need Get*,
// writes need Register/Create/Update/Manage*. Routes that name a network,
// a device type or a device are bound to the token's scopes; list routes
// are not (the backend filters them with the forwarded identity headers).
func deviceHiveRules() []RuleSpec {
	get := []string{"GET", "HEAD"}
	write := []string{"POST", "PUT", "PATCH", "DELETE"}
	dev := "path:deviceId"
	return []RuleSpec{
		// Networks.
		{Methods: get, Path: "/network", Action: "GetNetwork"},
		{Methods: get, Path: "/network/{networkId}", Action: "GetNetwork", NetworkFrom: "path:networkId"},
		{Methods: []string{"POST"}, Path: "/network", Action: "ManageNetwork"},
		{Methods: write, Path: "/network/{networkId}", Action: "ManageNetwork", NetworkFrom: "path:networkId"},
		// Device types.
		{Methods: get, Path: "/devicetype", Action: "GetDeviceType"},
		{Methods: get, Path: "/devicetype/{deviceTypeId}", Action: "GetDeviceType", DeviceTypeFrom: "path:deviceTypeId"},
		{Methods: []string{"POST"}, Path: "/devicetype", Action: "ManageDeviceType"},
		{Methods: write, Path: "/devicetype/{deviceTypeId}", Action: "ManageDeviceType", DeviceTypeFrom: "path:deviceTypeId"},
		// Notifications and commands across devices (polling).
		{Methods: get, Path: "/device/notification/poll", Action: "GetDeviceNotification"},
		{Methods: get, Path: "/device/command/poll", Action: "GetDeviceCommand"},
		// Devices.
		{Methods: get, Path: "/device", Action: "GetDevice"},
		{Methods: get, Path: "/device/{deviceId}", Action: "GetDevice", DeviceFrom: dev},
		{Methods: []string{"PUT", "DELETE"}, Path: "/device/{deviceId}", Action: "RegisterDevice", DeviceFrom: dev},
		// Device notifications.
		{Methods: get, Path: "/device/{deviceId}/notification/**", Action: "GetDeviceNotification", DeviceFrom: dev},
		{Methods: []string{"POST"}, Path: "/device/{deviceId}/notification", Action: "CreateDeviceNotification", DeviceFrom: dev},
		// Device commands.
		{Methods: get, Path: "/device/{deviceId}/command/**", Action: "GetDeviceCommand", DeviceFrom: dev},
		{Methods: []string{"POST"}, Path: "/device/{deviceId}/command", Action: "CreateDeviceCommand", DeviceFrom: dev},
		{Methods: []string{"PUT"}, Path: "/device/{deviceId}/command/{commandId}", Action: "UpdateDeviceCommand", DeviceFrom: dev},
		// Users.
		{Methods: get, Path: "/user/current", Action: "GetCurrentUser"},
		{Methods: []string{"PUT", "PATCH"}, Path: "/user/current", Action: "UpdateCurrentUser"},
		{Path: "/user/**", Action: "ManageUser"},
		// Server configuration and plugins.
		{Path: "/configuration/**", Action: "ManageConfiguration"},
		{Path: "/plugin/**", Action: "ManagePlugin"},
	}
}
