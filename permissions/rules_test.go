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
		{desc: "unknown binding kind", specs: []permissions.RuleSpec{{Path: "/a", Action: "*", NetworkFrom: "cookie:n"}}, wantErr: `rules[0].networkFrom: "cookie:n" must be path:NAME, query:NAME, query-list:NAME or header:NAME`},
		{desc: "narrow on a path binding", specs: []permissions.RuleSpec{{Path: "/a", Action: "*"}, {Path: "/a", Action: "*"}, {Path: "/n/{id}", Action: "*", NetworkFrom: "path:id,narrow"}}, wantErr: `rules[2].networkFrom: "path:id,narrow": ,narrow adds to the query (it needs query: or query-list:)`},
		{desc: "narrow on a header binding", specs: []permissions.RuleSpec{{Path: "/a", Action: "*", DeviceTypeFrom: "header:X-Type,narrow"}}, wantErr: `rules[0].deviceTypeFrom: "header:X-Type,narrow": ,narrow adds to the query (it needs query: or query-list:)`},
		{desc: "narrow on a device binding", specs: []permissions.RuleSpec{{Path: "/a", Action: "*", DeviceFrom: "query:deviceId,narrow"}}, wantErr: `rules[0].deviceFrom: "query:deviceId,narrow": the modifier here may only be ,optional`},
		{desc: "optional on a network binding", specs: []permissions.RuleSpec{{Path: "/a", Action: "*", NetworkFrom: "query:n,optional"}}, wantErr: `rules[0].networkFrom: "query:n,optional": the modifier here may only be ,narrow`},
		{desc: "unknown modifier", specs: []permissions.RuleSpec{{Path: "/a", Action: "*", NetworkFrom: "query-list:n,all"}}, wantErr: `rules[0].networkFrom: "query-list:n,all": the modifier here may only be ,narrow`},
		{desc: "device list", specs: []permissions.RuleSpec{{Path: "/a", Action: "*", DeviceFrom: "query-list:deviceIds"}}, wantErr: `rules[0].deviceFrom: "query-list:deviceIds": a device binding takes one device (path:, query: or header:)`},
		{desc: "optional device on a path", specs: []permissions.RuleSpec{{Path: "/a/{d}", Action: "*", DeviceFrom: "path:d,optional"}}, wantErr: `rules[0].deviceFrom: "path:d,optional": a path value is never absent`},
		{desc: "optional device without narrowing", specs: []permissions.RuleSpec{{Path: "/a", Action: "*", NetworkFrom: "query-list:n,narrow", DeviceTypeFrom: "query-list:t", DeviceFrom: "query:d,optional"}}, wantErr: `rules[0].deviceFrom: "query:d,optional": optional needs networkFrom and deviceTypeFrom with ,narrow`},
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

// TestBindings: what each binding form compiles to, and which rules leave
// the decision to the request line (the decision memo may remember only
// those).
func TestBindings(t *testing.T) {
	tests := []struct {
		desc     string
		spec     permissions.RuleSpec
		want     permissions.Scope
		lineOnly bool
	}{
		{desc: "unbound", spec: permissions.RuleSpec{Path: "/a/{id}", Action: "*"}, lineOnly: true},
		{desc: "path", spec: permissions.RuleSpec{Path: "/a/{id}", Action: "*", NetworkFrom: "path: id"},
			want: permissions.Scope{Network: permissions.Binding{Kind: "path", Name: "id"}}, lineOnly: true},
		{desc: "query", spec: permissions.RuleSpec{Path: "/a", Action: "*", NetworkFrom: "query:networkId"},
			want: permissions.Scope{Network: permissions.Binding{Kind: "query", Name: "networkId"}}},
		{desc: "header", spec: permissions.RuleSpec{Path: "/a", Action: "*", DeviceTypeFrom: "header:x-type"},
			want: permissions.Scope{DeviceType: permissions.Binding{Kind: "header", Name: "X-Type"}}},
		{desc: "query list", spec: permissions.RuleSpec{Path: "/a", Action: "*", DeviceTypeFrom: "query-list:deviceTypeIds"},
			want: permissions.Scope{DeviceType: permissions.Binding{Kind: "query-list", Name: "deviceTypeIds"}}},
		{desc: "narrowing poll", spec: permissions.RuleSpec{Path: "/p", Action: "*",
			NetworkFrom: "query-list:networkIds, narrow", DeviceTypeFrom: "query-list:deviceTypeIds,narrow", DeviceFrom: "query:deviceId,optional"},
			want: permissions.Scope{
				Network:    permissions.Binding{Kind: "query-list", Name: "networkIds", Narrow: true},
				DeviceType: permissions.Binding{Kind: "query-list", Name: "deviceTypeIds", Narrow: true},
				Device:     permissions.Binding{Kind: "query", Name: "deviceId", Optional: true},
			}},
		{desc: "narrowing one value", spec: permissions.RuleSpec{Path: "/d", Action: "*", NetworkFrom: "query:networkId,narrow"},
			want: permissions.Scope{Network: permissions.Binding{Kind: "query", Name: "networkId", Narrow: true}}},
		{desc: "path and query", spec: permissions.RuleSpec{Path: "/a/{id}", Action: "*", DeviceFrom: "path:id", NetworkFrom: "query:n"},
			want: permissions.Scope{Network: permissions.Binding{Kind: "query", Name: "n"}, Device: permissions.Binding{Kind: "path", Name: "id"}}},
	}
	for _, test := range tests {
		t.Run(test.desc, func(t *testing.T) {
			table, err := permissions.Compile([]permissions.RuleSpec{test.spec}, "rules")
			if err != nil {
				t.Fatal(err)
			}
			path := strings.Replace(test.spec.Path, "{id}", "v", 1)
			m, ok := table.Match("GET", path)
			if !ok {
				t.Fatalf("no match for %s", path)
			}
			if *m.Scope != test.want {
				t.Fatalf("scope = %+v, want %+v", m.Scope, test.want)
			}
			if m.Scoped != test.want.Bound() || m.LineOnly != test.lineOnly {
				t.Fatalf("Scoped = %v, LineOnly = %v; want %v, %v", m.Scoped, m.LineOnly, test.want.Bound(), test.lineOnly)
			}
		})
	}
}

// TestCompilePublic: the public paths and the preset's public routes, less
// what the configured rules match first.
func TestCompilePublic(t *testing.T) {
	none, err := permissions.CompilePublic(nil, nil, "")
	if err != nil || none != nil {
		t.Fatalf("nothing public: %v, %v; want nil, nil", none, err)
	}
	own := []permissions.RuleSpec{
		{Methods: []string{"GET"}, Path: "/info", Action: "ManageConfiguration"},
		{Path: "/info/config/**", Action: "ManageConfiguration"},
	}
	tests := []struct {
		desc   string
		paths  []string
		rules  []permissions.RuleSpec
		preset string
		method string
		path   string
		public bool
	}{
		{desc: "GET /info", preset: "devicehive", method: "GET", path: "/info", public: true},
		{desc: "HEAD /info", preset: "devicehive", method: "HEAD", path: "/info", public: true},
		{desc: "cluster", preset: "devicehive", method: "GET", path: "/info/config/cluster", public: true},
		{desc: "POST /info", preset: "devicehive", method: "POST", path: "/info"},
		{desc: "below /info", preset: "devicehive", method: "GET", path: "/info/x"},
		{desc: "trailing slash", preset: "devicehive", method: "GET", path: "/info/"},
		{desc: "other routes", preset: "devicehive", method: "GET", path: "/device"},
		{desc: "public paths too", paths: []string{"/healthz"}, preset: "devicehive", method: "DELETE", path: "/healthz", public: true},
		{desc: "without the preset", paths: []string{"/healthz"}, method: "GET", path: "/info"},
		{desc: "GET shadowed by a rule", rules: own, preset: "devicehive", method: "GET", path: "/info"},
		{desc: "HEAD not shadowed", rules: own, preset: "devicehive", method: "HEAD", path: "/info", public: true},
		{desc: "cluster shadowed", rules: own, preset: "devicehive", method: "HEAD", path: "/info/config/cluster"},
		{desc: "a public path is not shadowed", paths: []string{"/info"}, rules: own, preset: "devicehive", method: "GET", path: "/info", public: true},
	}
	for _, test := range tests {
		t.Run(test.desc, func(t *testing.T) {
			table, err := permissions.CompilePublic(test.paths, test.rules, test.preset)
			if err != nil {
				t.Fatal(err)
			}
			_, public := table.Match(test.method, test.path)
			if public != test.public {
				t.Fatalf("%s %s public = %v, want %v", test.method, test.path, public, test.public)
			}
		})
	}
	if _, err := permissions.CompilePublic([]string{"/ok", "nope"}, nil, "devicehive"); err == nil || !strings.HasPrefix(err.Error(), `publicPaths[1]: "nope"`) {
		t.Fatalf("bad public path: error = %v", err)
	}
	if _, err := permissions.CompilePublic(nil, nil, "nope"); err == nil || !strings.HasPrefix(err.Error(), `preset: unknown preset "nope"`) {
		t.Fatalf("unknown preset: error = %v", err)
	}
}

// TestHas: Has agrees with Match on tables of exact paths, of patterns,
// and of both.
func TestHas(t *testing.T) {
	tables := map[string][]permissions.RuleSpec{
		"exact": {
			{Methods: []string{"GET", "HEAD"}, Path: "/info", Action: "None"},
			{Methods: []string{"POST"}, Path: "/info", Action: "None"},
			{Path: "/healthz", Action: "None"},
			{Methods: []string{"GET"}, Path: "/a/b/c", Action: "None"},
		},
		"patterns": {
			{Path: "/docs/**", Action: "None"},
			{Methods: []string{"GET"}, Path: "/device/{id}", Action: "None"},
			{Path: "/", Action: "None"},
			{Path: "/*/open", Action: "None"},
		},
	}
	tables["both"] = append(append([]permissions.RuleSpec{}, tables["exact"]...), tables["patterns"]...)
	requests := [][2]string{
		{"GET", "/info"}, {"HEAD", "/info"}, {"POST", "/info"}, {"PUT", "/info"}, {"FETCH", "/info"},
		{"DELETE", "/healthz"}, {"FETCH", "/healthz"}, {"GET", "/healthz/"}, {"GET", "/info/"}, {"GET", "//info"},
		{"GET", "/a/b/c"}, {"PUT", "/a/b/c"}, {"GET", "/a/b"}, {"GET", "/docs"}, {"GET", "/docs/x/y"},
		{"GET", "/device/d1"}, {"POST", "/device/d1"}, {"GET", "/"}, {"GET", ""}, {"PUT", "/x/open"}, {"GET", "//open"},
		{"GET", "info"}, {"GET", "a/b/c"}, {"GET", "healthz/"},
	}
	for name, specs := range tables {
		table, err := permissions.Compile(specs, "publicPaths")
		if err != nil {
			t.Fatal(err)
		}
		for _, req := range requests {
			_, want := table.Match(req[0], req[1])
			if got := table.Has(req[0], req[1]); got != want {
				t.Errorf("%s: Has(%q, %q) = %v, Match matched = %v", name, req[0], req[1], got, want)
			}
		}
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
			if m.Action != test.action || m.RuleIndex() != test.index {
				t.Fatalf("got rule %d (%s), want rule %d (%s)", m.RuleIndex(), m.Action.String(), test.index, test.action.String())
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
	if _, err := permissions.PresetPublic("nope"); err == nil {
		t.Fatal("unknown preset must fail")
	}
	// The poll routes and the device list: checked and narrowed by query.
	poll := permissions.Scope{
		Network:    permissions.Binding{Kind: "query-list", Name: "networkIds", Narrow: true},
		DeviceType: permissions.Binding{Kind: "query-list", Name: "deviceTypeIds", Narrow: true},
		Device:     permissions.Binding{Kind: "query", Name: "deviceId", Optional: true},
	}
	list := permissions.Scope{
		Network:    permissions.Binding{Kind: "query", Name: "networkId", Narrow: true},
		DeviceType: permissions.Binding{Kind: "query", Name: "deviceTypeId", Narrow: true},
	}
	bound := []struct {
		method, path string
		scope        permissions.Scope
	}{
		{"GET", "/device/notification/poll", poll},
		{"HEAD", "/device/command/poll", poll},
		{"GET", "/device", list},
		{"GET", "/network", permissions.Scope{}},
		{"GET", "/devicetype", permissions.Scope{}},
	}
	for _, b := range bound {
		m, ok := table.Match(b.method, b.path)
		if !ok || *m.Scope != b.scope || m.LineOnly != !b.scope.Bound() {
			t.Fatalf("%s %s: scope %+v (LineOnly %v), want %+v", b.method, b.path, m.Scope, m.LineOnly, b.scope)
		}
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

// BenchmarkMatchPublicMiss: what the preset's public routes cost a request
// that is not for them (every request the decision memo does not answer).
func BenchmarkMatchPublicMiss(b *testing.B) {
	table, err := permissions.CompilePublic(nil, nil, "devicehive")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, ok := table.Match("POST", "/device/d1/notification"); ok {
			b.Fatal("matched")
		}
	}
}

// BenchmarkHasPublicMiss: the same with Has, which answers a table of
// exact paths with one map lookup.
func BenchmarkHasPublicMiss(b *testing.B) {
	table, err := permissions.CompilePublic(nil, nil, "devicehive")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if table.Has("POST", "/device/d1/notification") {
			b.Fatal("matched")
		}
	}
}

// BenchmarkHasPatternsMiss: Has on public paths with a pattern
// ("/docs/**"), for a path no rule's first segment starts.
func BenchmarkHasPatternsMiss(b *testing.B) {
	table, err := permissions.CompilePublic([]string{"/healthz", "/docs/**"}, nil, "devicehive")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if table.Has("POST", "/device/d1/notification") {
			b.Fatal("matched")
		}
	}
}

// TestLineOnlyBindings pins what the request path's scope check relies on
// (checkScope): in a LineOnly match a binding is there exactly when its
// value is not "", whatever the path, empty segments included.
func TestLineOnlyBindings(t *testing.T) {
	specs, err := permissions.Preset("devicehive")
	if err != nil {
		t.Fatal(err)
	}
	specs = append([]permissions.RuleSpec{
		{Path: "/n/{net}/t/{type}/d/{dev}/**", Action: "*", NetworkFrom: "path:net", DeviceTypeFrom: "path:type", DeviceFrom: "path:dev"},
		{Path: "/x/{dev}", Action: "*", DeviceFrom: "path:dev"},
		{Path: "/y/*/{net}", Action: "*", NetworkFrom: "path:net"},
	}, specs...)
	table, err := permissions.Compile(specs, "rules")
	if err != nil {
		t.Fatal(err)
	}
	paths := []string{
		"/n/1/t/2/d/3", "/n/1/t/2/d/3/", "/n/1/t/2/d/3/more", "/n//t/2/d/3", "/n/1/t//d/3", "/n/1/t/2/d/",
		"/x/d1", "/x/", "/x//", "/y/a/1", "/y//1", "/y/a/",
		"/device/d1", "/device/", "/device//", "/device/d1/notification/42", "/device//notification/42",
		"/network/1", "/devicetype/10", "/device", "/", "",
	}
	lineOnly := 0
	for _, path := range paths {
		for _, method := range []string{"GET", "POST", "PUT", "DELETE"} {
			m, ok := table.Match(method, path)
			if !ok || !m.LineOnly {
				continue
			}
			lineOnly++
			bindings := []struct {
				name  string
				bound bool
				value string
			}{
				{"network", m.Scope.Network.Kind != "", m.NetworkID},
				{"device type", m.Scope.DeviceType.Kind != "", m.DeviceTypeID},
				{"device", m.Scope.Device.Kind != "", m.DeviceID},
			}
			for _, b := range bindings {
				if b.bound != (b.value != "") {
					t.Errorf("%s %s: %s binding bound = %v with value %q", method, path, b.name, b.bound, b.value)
				}
			}
		}
	}
	if lineOnly < 20 {
		t.Fatalf("only %d LineOnly matches: the table does not test what it says", lineOnly)
	}
}
