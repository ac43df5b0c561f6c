// Package permissions holds DeviceHive's action table and the route rules
// that decide which action, network and device type a request needs.
//
// It takes plain values (action names, paths, methods) and knows nothing of
// HTTP handlers or of the plugin's configuration types.
package permissions

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Action is a DeviceHive action id as carried in a token's "a" list.
type Action int64

// DeviceHive's action ids. The numbering is DeviceHive's own and appears in
// tokens, so it must never change.
const (
	Any                      Action = 0 // "*": every action
	None                     Action = 1
	GetNetwork               Action = 2
	GetDevice                Action = 3
	GetDeviceNotification    Action = 4
	GetDeviceCommand         Action = 5
	RegisterDevice           Action = 6
	CreateDeviceCommand      Action = 7
	UpdateDeviceCommand      Action = 8
	CreateDeviceNotification Action = 9
	GetCurrentUser           Action = 10
	UpdateCurrentUser        Action = 11
	ManageUser               Action = 12
	ManageConfiguration      Action = 13
	ManageNetwork            Action = 14
	ManageToken              Action = 15
	ManagePlugin             Action = 16
	GetDeviceType            Action = 17
	ManageDeviceType         Action = 18

	// MaxAction is the highest action id.
	MaxAction = ManageDeviceType
)

var actionNames = []string{
	"*", "None", "GetNetwork", "GetDevice", "GetDeviceNotification", "GetDeviceCommand",
	"RegisterDevice", "CreateDeviceCommand", "UpdateDeviceCommand", "CreateDeviceNotification",
	"GetCurrentUser", "UpdateCurrentUser", "ManageUser", "ManageConfiguration", "ManageNetwork",
	"ManageToken", "ManagePlugin", "GetDeviceType", "ManageDeviceType",
}

// String returns the DeviceHive name of the action, or its number when unknown.
func (a Action) String() string {
	if a >= 0 && int(a) < len(actionNames) {
		return actionNames[a]
	}
	return strconv.FormatInt(int64(a), 10)
}

// Valid reports whether a is one of DeviceHive's action ids.
func (a Action) Valid() bool { return a >= 0 && int(a) < len(actionNames) }

// deviceStateAlias is an action name DeviceHive 2.x clients still send
// (its /token/create documentation lists it) that DeviceHive's current
// action table no longer has: reading a device's state is reading the
// device, so it stands for GetDevice.
const deviceStateAlias = "GetDeviceState"

// ParseAction accepts an action by DeviceHive name (case-insensitive, "*" for
// any) or by numeric id. GetDeviceState is read as GetDevice.
func ParseAction(s string) (Action, error) {
	s = strings.TrimSpace(s)
	for i, name := range actionNames {
		if strings.EqualFold(s, name) {
			return Action(i), nil
		}
	}
	if strings.EqualFold(s, deviceStateAlias) {
		return GetDevice, nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && Action(n).Valid() {
		return Action(n), nil
	}
	return 0, fmt.Errorf("unknown action %q (want a DeviceHive action name such as GetDevice, or an id 0-%d)", s, len(actionNames)-1)
}

// ParseActions parses a list with ParseAction, naming the failing index.
func ParseActions(names []string) ([]Action, error) {
	out := make([]Action, 0, len(names))
	for i, name := range names {
		a, err := ParseAction(name)
		if err != nil {
			return nil, fmt.Errorf("[%d]: %w", i, err)
		}
		out = append(out, a)
	}
	return Normalize(out), nil
}

// Normalize sorts and de-duplicates a list of actions; a list holding Any
// collapses to just Any.
//
// Valid actions go through their bit mask (Mask, then FromMask), with no
// sort and no map (CONTRIBUTING.md, the cost model).
func Normalize(actions []Action) []Action {
	var m uint32 // Mask's, written out: every token issued runs this
	for _, a := range actions {
		if a < 0 || a > MaxAction {
			return normalizeAny(actions)
		}
		m |= uint32(1) << uint32(a)
	}
	if m&1 != 0 { // Any
		m = ^uint32(0)
	}
	return FromMask(m)
}

// FromMask returns the actions of a mask (Mask's), in order: [Any] for
// every action.
func FromMask(m uint32) []Action {
	if m == ^uint32(0) {
		return []Action{Any}
	}
	out := make([]Action, 0, MaxAction)
	for a := Action(1); a <= MaxAction; a++ {
		if m&(uint32(1)<<uint32(a)) != 0 {
			out = append(out, a)
		}
	}
	return out
}

// normalizeAny is Normalize for lists holding ids outside the table.
func normalizeAny(actions []Action) []Action {
	out := make([]Action, 0, len(actions))
	seen := make(map[Action]bool, len(actions))
	for _, a := range actions {
		if a == Any {
			return []Action{Any}
		}
		if !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// AdminActions is what role "admin" gets: every action.
func AdminActions() []Action { return []Action{Any} }

// ClientActions is DeviceHive's default action set for role "client".
func ClientActions() []Action {
	return []Action{
		GetNetwork, GetDevice, GetDeviceNotification, GetDeviceCommand, RegisterDevice,
		CreateDeviceCommand, UpdateDeviceCommand, CreateDeviceNotification, GetCurrentUser,
		UpdateCurrentUser, ManageToken, ManagePlugin, GetDeviceType,
	}
}

// Mask turns an action list into a bit set, bit a for action a: a test of
// one bit replaces Allows's loop on the request path. Any sets every bit.
// It runs once per verified token: the range check is written out rather
// than a method call per action, a.Valid() (CONTRIBUTING.md, the cost
// model).
func Mask(actions []Action) uint32 {
	var m uint32
	for _, a := range actions {
		if a == Any {
			return ^uint32(0)
		}
		if a > 0 && a <= MaxAction {
			m |= uint32(1) << uint32(a)
		}
	}
	return m
}

// MaskNames is Mask and Names joined with "," in one loop: the request
// path needs both for every token it verifies, and under Yaegi a call
// costs more than the loop (CONTRIBUTING.md, the cost model).
func MaskNames(actions []Action) (uint32, string) {
	var m uint32
	names := make([]string, len(actions))
	for i, a := range actions {
		if a < 0 || a > MaxAction {
			names[i] = strconv.FormatInt(int64(a), 10)
			continue
		}
		names[i] = actionNames[a]
		m |= uint32(1) << uint32(a)
	}
	if m&1 != 0 { // Any, action 0, grants every action
		m = ^uint32(0)
	}
	return m, strings.Join(names, ",")
}

// Allows reports whether a token's action list grants want.
// Any grants everything; an empty list grants nothing.
func Allows(granted []Action, want Action) bool {
	for _, a := range granted {
		if a == Any || a == want {
			return true
		}
	}
	return false
}

// Names returns the DeviceHive names of actions, in order.
//
// Use it rather than formatting a slice with %v.
// Yaegi: see CONTRIBUTING.md, traps (fmt and a slice of Stringers).
func Names(actions []Action) []string {
	out := make([]string, len(actions))
	for i, a := range actions {
		if a >= 0 && a <= MaxAction {
			out[i] = actionNames[a] // no method call: this runs per verified token
		} else {
			out[i] = strconv.FormatInt(int64(a), 10)
		}
	}
	return out
}
