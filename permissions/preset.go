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

// PresetPublic returns the routes of a built-in route table that pass
// without a token (Action "None"): the gate compiles them with the public
// paths (CompilePublic).
func PresetPublic(name string) ([]RuleSpec, error) {
	if name == PresetDeviceHive {
		return deviceHivePublic(), nil
	}
	return nil, fmt.Errorf("unknown preset %q (known: %s)", name, PresetDeviceHive)
}

// deviceHivePublic: DeviceHive answers its server information without
// authentication (ApiInfoResource: GET /info and GET /info/config/cluster
// are permitAll), and clients read it before they log in.
func deviceHivePublic() []RuleSpec {
	get := []string{"GET", "HEAD"}
	return []RuleSpec{
		{Methods: get, Path: "/info", Action: noAction},
		{Methods: get, Path: "/info/config/cluster", Action: noAction},
	}
}

// deviceHiveRules is DeviceHive's REST API route table: reads need Get*,
// writes need Register/Create/Update/Manage*. Routes that name a network,
// a device type or a device, in the path or in the query, are bound to the
// token's scopes. The poll routes and the device list also get the token's
// networks and device types added to the query when they name none
// (",narrow"): a backend that trusts its query then answers only what the
// token may see. The other list routes are left to the backend, which
// filters them with the forwarded identity headers.
func deviceHiveRules() []RuleSpec {
	get := []string{"GET", "HEAD"}
	write := []string{"POST", "PUT", "PATCH", "DELETE"}
	dev := "path:deviceId"
	// The filters of DeviceHive's /device/notification/poll and
	// /device/command/poll (comma-separated id lists, one optional device).
	pollNetworks := "query-list:networkIds,narrow"
	pollTypes := "query-list:deviceTypeIds,narrow"
	pollDevice := "query:deviceId,optional"
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
		{Methods: get, Path: "/device/notification/poll", Action: "GetDeviceNotification",
			NetworkFrom: pollNetworks, DeviceTypeFrom: pollTypes, DeviceFrom: pollDevice},
		{Methods: get, Path: "/device/command/poll", Action: "GetDeviceCommand",
			NetworkFrom: pollNetworks, DeviceTypeFrom: pollTypes, DeviceFrom: pollDevice},
		// Devices. GET /device takes one networkId and one deviceTypeId.
		{Methods: get, Path: "/device", Action: "GetDevice",
			NetworkFrom: "query:networkId,narrow", DeviceTypeFrom: "query:deviceTypeId,narrow"},
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
