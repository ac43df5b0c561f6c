package permissions_test

import (
	"strings"
	"testing"

	"github.com/tokengate/tokengate/permissions"
)

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		desc    string
		specs   []permissions.RuleSpec
		wantErr string
	}{
		{desc: "relative path", specs: []permissions.RuleSpec{{Path: "device", Action: "GetDevice"}}, wantErr: `rules[0].path: "device" must start with /`},
		{desc: "missing action", specs: []permissions.RuleSpec{{Path: "/a"}, {Path: "/b"}}, wantErr: "rules[0].action: required"},
		{desc: "unknown action", specs: []permissions.RuleSpec{{Path: "/a", Action: "GetDevice"}, {Path: "/b", Action: "Fly"}}, wantErr: `rules[1].action: unknown action "Fly"`},
		{desc: "bad method", specs: []permissions.RuleSpec{{Methods: []string{"FETCH"}, Path: "/a", Action: "*"}}, wantErr: `rules[0].methods: "FETCH"`},
		{desc: "inner **", specs: []permissions.RuleSpec{{Path: "/a/**/b", Action: "*"}}, wantErr: "** may only be the last segment"},
		{desc: "empty segment", specs: []permissions.RuleSpec{{Path: "/a//b", Action: "*"}}, wantErr: "segment 2"},
		{desc: "bad parameter", specs: []permissions.RuleSpec{{Path: "/a/{de-vice}", Action: "*"}}, wantErr: "parameter"},
		{desc: "duplicate parameter", specs: []permissions.RuleSpec{{Path: "/a/{id}/{id}", Action: "*"}}, wantErr: "appears twice"},
		{desc: "half brace", specs: []permissions.RuleSpec{{Path: "/a/{id", Action: "*"}}, wantErr: "segment 2"},
	}
	for _, test := range tests {
		t.Run(test.desc, func(t *testing.T) {
			_, err := permissions.Compile(test.specs, "rules")
			if err == nil || !strings.Contains(err.Error(), test.wantErr) {
				t.Fatalf("error = %v, want %q", err, test.wantErr)
			}
		})
	}
	if _, err := permissions.CompilePaths([]string{"/ok", "nope"}, "publicPaths"); err == nil || !strings.HasPrefix(err.Error(), `publicPaths[1]: "nope"`) {
		t.Fatalf("CompilePaths error = %v", err)
	}
}

func TestMatch(t *testing.T) {
	table, err := permissions.Compile([]permissions.RuleSpec{
		{Methods: []string{"get"}, Path: "/device/{deviceId}", Action: "GetDevice"},
		{Methods: []string{"POST"}, Path: "/device/{deviceId}/notification", Action: "CreateDeviceNotification"},
		{Path: "/*/open", Action: "None"},
		{Path: "/user/**", Action: "ManageUser"},
		{Path: "/device/**", Action: "ManageDeviceType"},
		{Path: "/", Action: "GetCurrentUser"},
	}, "rules")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		method, path string
		ok           bool
		action       permissions.Action
		index        int
		param        string // deviceId
	}{
		{method: "GET", path: "/device/d1", ok: true, action: permissions.GetDevice, param: "d1"},
		{method: "POST", path: "/device/d1", ok: true, action: permissions.ManageDeviceType, index: 4},
		{method: "POST", path: "/device/d2/notification", ok: true, action: permissions.CreateDeviceNotification, index: 1, param: "d2"},
		{method: "GET", path: "/device/d2/notification", ok: true, action: permissions.ManageDeviceType, index: 4},
		{method: "GET", path: "/device/open", ok: true, action: permissions.GetDevice, param: "open"},
		{method: "PUT", path: "/device/open", ok: true, action: permissions.None, index: 2},
		{method: "PUT", path: "/x/open", ok: true, action: permissions.None, index: 2},
		{method: "GET", path: "/user", ok: true, action: permissions.ManageUser, index: 3},
		{method: "GET", path: "/user/7/network/1", ok: true, action: permissions.ManageUser, index: 3},
		{method: "GET", path: "/users", ok: false},
		{method: "GET", path: "/device//", ok: true, action: permissions.ManageDeviceType, index: 4},
		{method: "GET", path: "/", ok: true, action: permissions.GetCurrentUser, index: 5},
		{method: "GET", path: "/nothing/here", ok: false},
	}
	for _, test := range tests {
		t.Run(test.method+" "+test.path, func(t *testing.T) {
			m, ok := table.Match(test.method, test.path)
			if ok != test.ok {
				t.Fatalf("matched = %v, want %v", ok, test.ok)
			}
			if !ok {
				return
			}
			if m.Action != test.action || m.Index != test.index {
				t.Fatalf("got rule %d (%s), want rule %d (%s)", m.Index, m.Action.String(), test.index, test.action.String())
			}
			if id, _ := m.Param("deviceId"); id != test.param {
				t.Fatalf("deviceId = %q, want %q", id, test.param)
			}
		})
	}
}

func TestPresetDeviceHive(t *testing.T) {
	specs, err := permissions.Preset("devicehive")
	if err != nil {
		t.Fatal(err)
	}
	table, err := permissions.Compile(specs, "preset")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		method, path string
		action       string // "" = unmatched
	}{
		{"GET", "/network", "GetNetwork"},
		{"GET", "/network/1", "GetNetwork"},
		{"POST", "/network", "ManageNetwork"},
		{"DELETE", "/network/1", "ManageNetwork"},
		{"GET", "/devicetype/10", "GetDeviceType"},
		{"PUT", "/devicetype/10", "ManageDeviceType"},
		{"GET", "/device", "GetDevice"},
		{"GET", "/device/d1", "GetDevice"},
		{"PUT", "/device/d1", "RegisterDevice"},
		{"GET", "/device/d1/notification", "GetDeviceNotification"},
		{"GET", "/device/d1/notification/poll", "GetDeviceNotification"},
		{"GET", "/device/d1/notification/42", "GetDeviceNotification"},
		{"POST", "/device/d1/notification", "CreateDeviceNotification"},
		{"GET", "/device/notification/poll", "GetDeviceNotification"},
		{"GET", "/device/d1/command", "GetDeviceCommand"},
		{"POST", "/device/d1/command", "CreateDeviceCommand"},
		{"PUT", "/device/d1/command/5", "UpdateDeviceCommand"},
		{"GET", "/device/command/poll", "GetDeviceCommand"},
		{"GET", "/user/current", "GetCurrentUser"},
		{"PUT", "/user/current", "UpdateCurrentUser"},
		{"GET", "/user", "ManageUser"},
		{"DELETE", "/user/5", "ManageUser"},
		{"PUT", "/configuration/x", "ManageConfiguration"},
		{"GET", "/plugin", "ManagePlugin"},
		{"POST", "/device/d1/frobnicate", ""},
		{"GET", "/metrics", ""},
	}
	for _, test := range tests {
		t.Run(test.method+" "+test.path, func(t *testing.T) {
			m, ok := table.Match(test.method, test.path)
			got := ""
			if ok {
				got = m.Action.String()
			}
			if got != test.action {
				t.Fatalf("action = %q, want %q", got, test.action)
			}
		})
	}
	if _, err := permissions.Preset("nope"); err == nil {
		t.Fatal("unknown preset must fail")
	}
}

func BenchmarkMatchPreset(b *testing.B) {
	specs, _ := permissions.Preset("devicehive")
	table, err := permissions.Compile(specs, "preset")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, ok := table.Match("POST", "/device/d1/notification"); !ok {
			b.Fatal("no match")
		}
	}
}
