package permissions_test

// Fuzz targets for the rule compiler and matcher
// (go test -run '^$' -fuzz '^FuzzMatch$' ./permissions):
//
//   - FuzzCompileRules: any rule compiles or fails without panicking; a
//     failure names the first field a reference validator finds at fault
//     (`rules[0].path: ...`), a success matches a request built from its own
//     template.
//   - FuzzMatch: tables compiled from fuzzed rules, and the DeviceHive
//     preset, agree with refMatch, a plain recursive matcher written from
//     RuleSpec's documentation, on any method and path: which rule wins
//     (the first that matches), its action, captured {params} and
//     path-bound scope values.
//
// Yaegi's `yaegi test` ignores Fuzz functions but loads this file.

import (
	"strconv"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/permissions"
)

// refMethods are the methods a rule may name, after trimming and
// upper-casing.
var refMethods = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE"}

func refMethod(m string) (string, bool) {
	m = strings.ToUpper(strings.TrimSpace(m))
	for _, known := range refMethods {
		if m == known {
			return m, true
		}
	}
	return m, false
}

// refParam returns the name of a "{name}" segment; ok is false for any
// other segment.
func refParam(seg string) (string, bool) {
	if len(seg) < 2 || seg[0] != '{' || seg[len(seg)-1] != '}' {
		return "", false
	}
	return seg[1 : len(seg)-1], true
}

func refName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c != '_' && (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// refTemplate splits a path template into its segments ("/" has none), or
// reports it invalid: it must start with "/", and each segment be a
// literal (non-empty, none of {}*?#), "*", "{name}" (letters, digits, '_';
// each name once) or, last only, "**".
func refTemplate(path string) ([]string, bool) {
	if !strings.HasPrefix(path, "/") {
		return nil, false
	}
	if path == "/" {
		return nil, true
	}
	segs := strings.Split(path[1:], "/")
	seen := map[string]bool{}
	for j, seg := range segs {
		if seg == "**" {
			if j != len(segs)-1 {
				return nil, false
			}
			continue
		}
		if seg == "*" {
			continue
		}
		if name, isParam := refParam(seg); isParam {
			if !refName(name) || seen[name] {
				return nil, false
			}
			seen[name] = true
			continue
		}
		if seg == "" || strings.ContainsAny(seg, "{}*?#") {
			return nil, false
		}
	}
	return segs, true
}

// refBinding checks a scope binding: "" or KIND:NAME[,MODIFIER] with KIND
// path, query, query-list (not for the device) or header, NAME non-blank, a
// path NAME one of the template's params, and MODIFIER (blanks trimmed) the
// one the field allows: "narrow" (network and device type, query kinds
// only) or "optional" (device, query or header).
func refBinding(b string, segs []string, field string) bool {
	if b == "" {
		return true
	}
	kind, rest, ok := strings.Cut(b, ":")
	name, mod, hasMod := strings.Cut(rest, ",")
	name = strings.TrimSpace(name)
	if !ok || name == "" {
		return false
	}
	device := field == "deviceFrom"
	valid := false
	switch kind {
	case "query", "header":
		valid = true
	case "query-list":
		valid = !device
	case "path":
		for _, seg := range segs {
			if p, isParam := refParam(seg); isParam && p == name {
				valid = true
			}
		}
	}
	if !valid || !hasMod {
		return valid
	}
	switch strings.TrimSpace(mod) {
	case "narrow":
		return !device && (kind == "query" || kind == "query-list")
	case "optional":
		return device && kind != "path"
	}
	return false
}

// refNarrows reports whether a binding ends in ",narrow" (and is valid).
func refNarrows(b string) bool {
	_, mod, ok := strings.Cut(b, ",")
	return ok && strings.TrimSpace(mod) == "narrow"
}

// refInvalidField returns the first field of spec found at fault, in the
// order they are documented (methods, action, path, networkFrom,
// deviceTypeFrom, deviceFrom), or "".
func refInvalidField(spec permissions.RuleSpec) string {
	for _, m := range spec.Methods {
		if _, ok := refMethod(m); !ok {
			return "methods"
		}
	}
	if _, err := permissions.ParseAction(spec.Action); err != nil || spec.Action == "" {
		return "action"
	}
	segs, ok := refTemplate(spec.Path)
	if !ok {
		return "path"
	}
	for _, b := range []struct{ field, value string }{
		{"networkFrom", spec.NetworkFrom}, {"deviceTypeFrom", spec.DeviceTypeFrom}, {"deviceFrom", spec.DeviceFrom},
	} {
		if !refBinding(b.value, segs, b.field) {
			return b.field
		}
	}
	// An optional device needs both other bindings to narrow.
	if _, mod, ok := strings.Cut(spec.DeviceFrom, ","); ok && strings.TrimSpace(mod) == "optional" &&
		(!refNarrows(spec.NetworkFrom) || !refNarrows(spec.DeviceTypeFrom)) {
		return "deviceFrom"
	}
	return ""
}

// refSplit splits a request path into segments: one leading "/" dropped,
// "" and "/" have none, "/a/" is ["a", ""].
func refSplit(path string) []string {
	path = strings.TrimPrefix(path, "/")
	if path == "" {
		return nil
	}
	return strings.Split(path, "/")
}

// refMatch matches request segments against template segments: a literal
// equals its segment, "*" and "{name}" take any non-empty segment, a final
// "**" takes whatever is left (nothing included). It returns the captured
// params by name.
func refMatch(tmpl, segs []string, params map[string]string) bool {
	if len(tmpl) == 0 {
		return len(segs) == 0
	}
	if tmpl[0] == "**" {
		return true
	}
	if len(segs) == 0 || segs[0] == "" {
		return false
	}
	name, isParam := refParam(tmpl[0])
	if tmpl[0] != "*" && !isParam && tmpl[0] != segs[0] {
		return false
	}
	if isParam {
		params[name] = segs[0]
	}
	return refMatch(tmpl[1:], segs[1:], params)
}

// refResult is what the reference expects of Table.Match.
type refResult struct {
	ok     bool
	index  int
	action permissions.Action
	params map[string]string
	spec   permissions.RuleSpec
}

// refLookup tries every rule in order; the first that matches wins.
func refLookup(specs []permissions.RuleSpec, method, path string) refResult {
	segs := refSplit(path)
	for i, spec := range specs {
		if len(spec.Methods) > 0 {
			allowed := false
			for _, m := range spec.Methods {
				if norm, _ := refMethod(m); norm == method {
					allowed = true
				}
			}
			if !allowed {
				continue
			}
		}
		tmpl, _ := refTemplate(spec.Path)
		params := map[string]string{}
		if refMatch(tmpl, segs, params) {
			a, _ := permissions.ParseAction(spec.Action)
			return refResult{ok: true, index: i, action: a, params: params, spec: spec}
		}
	}
	return refResult{}
}

// pathBound returns the param a "path:NAME" binding reads, or "".
func pathBound(b string) string {
	kind, name, _ := strings.Cut(b, ":")
	if kind != "path" {
		return ""
	}
	return strings.TrimSpace(name)
}

func checkMatch(t *testing.T, table *permissions.Table, specs []permissions.RuleSpec, method, path string) {
	t.Helper()
	m, ok := table.Match(method, path)
	want := refLookup(specs, method, path)
	if ok != want.ok {
		t.Fatalf("Match(%q, %q) matched = %v, reference %v (rule %d)", method, path, ok, want.ok, want.index)
	}
	if has := table.Has(method, path); has != ok {
		t.Fatalf("Has(%q, %q) = %v, Match matched = %v", method, path, has, ok)
	}
	if !ok {
		return
	}
	if m.RuleIndex() != want.index || m.Action != want.action {
		t.Fatalf("Match(%q, %q) = rule %d (%s), reference rule %d (%s)", method, path,
			m.RuleIndex(), m.Action.String(), want.index, want.action.String())
	}
	for name, v := range want.params {
		if got, found := m.Param(name); !found || got != v {
			t.Fatalf("Match(%q, %q).Param(%q) = %q, %v; want %q", method, path, name, got, found, v)
		}
	}
	if got, found := m.Param("notAParamName0"); found {
		t.Fatalf("Param of an unknown name = %q", got)
	}
	bound := []struct {
		what, binding, got string
	}{
		{"NetworkID", want.spec.NetworkFrom, m.NetworkID},
		{"DeviceTypeID", want.spec.DeviceTypeFrom, m.DeviceTypeID},
		{"DeviceID", want.spec.DeviceFrom, m.DeviceID},
	}
	for _, b := range bound {
		if name := pathBound(b.binding); b.got != want.params[name] {
			t.Fatalf("Match(%q, %q).%s = %q, want %q (binding %q)", method, path, b.what, b.got, want.params[name], b.binding)
		}
	}
	scoped := want.spec.NetworkFrom != "" || want.spec.DeviceTypeFrom != "" || want.spec.DeviceFrom != ""
	if m.Scoped != scoped {
		t.Fatalf("Match(%q, %q).Scoped = %v, want %v", method, path, m.Scoped, scoped)
	}
}

// sampleRequest builds a path the template matches: literals as written,
// "*" and params as segment names of their own, "**" as two more segments.
func sampleRequest(segs []string) (string, map[string]string) {
	params := map[string]string{}
	var out []string
	for j, seg := range segs {
		name, isParam := refParam(seg)
		switch {
		case seg == "**":
			out = append(out, "rest", "more")
		case seg == "*":
			out = append(out, "any"+strconv.Itoa(j))
		case isParam:
			v := "v" + strconv.Itoa(j)
			params[name] = v
			out = append(out, v)
		default:
			out = append(out, seg)
		}
	}
	return "/" + strings.Join(out, "/"), params
}

func splitMethods(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

func FuzzCompileRules(f *testing.F) {
	seeds := []permissions.RuleSpec{
		{Path: "device", Action: "GetDevice"},
		{Path: "/a"},
		{Path: "/b", Action: "Fly"},
		{Methods: []string{"FETCH"}, Path: "/a", Action: "*"},
		{Path: "/a/**/b", Action: "*"},
		{Path: "/a//b", Action: "*"},
		{Path: "/a/{de-vice}", Action: "*"},
		{Path: "/a/{id}/{id}", Action: "*"},
		{Path: "/a/{id", Action: "*"},
		{Methods: []string{" get", "Post "}, Path: "/device/{deviceId}", Action: "GetDevice", DeviceFrom: "path:deviceId"},
		{Path: "/network/{networkId}", Action: "2", NetworkFrom: "path: networkId"},
		{Path: "/x", Action: "GetDeviceState", NetworkFrom: "query:net", DeviceTypeFrom: "header:x-type"},
		{Path: "/x", Action: "none", NetworkFrom: "path:net"},
		{Path: "/x", Action: "None", DeviceFrom: "cookie:d"},
		{Path: "/x", Action: "None", DeviceTypeFrom: "query:"},
		{Path: "/x", Action: "None", NetworkFrom: "query-list:n,narrow", DeviceTypeFrom: "query:t, narrow", DeviceFrom: "query:d,optional"},
		{Path: "/x", Action: "None", NetworkFrom: "query-list:n,narrow", DeviceFrom: "header:d,optional"},
		{Path: "/x/{n}", Action: "None", NetworkFrom: "path:n,narrow"},
		{Path: "/x", Action: "None", DeviceFrom: "query-list:d"},
		{Path: "/x", Action: "None", NetworkFrom: "query:a,b,c"},
		{Path: "/", Action: "GetCurrentUser"},
		{Path: "/**", Action: "-0"},
		{Path: "/*/open/**", Action: "+15"},
		{Path: "/a?b", Action: "*"},
		{Path: "/{}", Action: "*"},
		{Path: "/{a}b}", Action: "*"},
	}
	for _, s := range seeds {
		f.Add(s.Path, strings.Join(s.Methods, ","), s.Action, s.NetworkFrom, s.DeviceTypeFrom, s.DeviceFrom)
	}
	f.Fuzz(func(t *testing.T, path, methods, action, networkFrom, deviceTypeFrom, deviceFrom string) {
		spec := permissions.RuleSpec{
			Methods: splitMethods(methods), Path: path, Action: action,
			NetworkFrom: networkFrom, DeviceTypeFrom: deviceTypeFrom, DeviceFrom: deviceFrom,
		}
		table, err := permissions.Compile([]permissions.RuleSpec{spec}, "rules")
		field := refInvalidField(spec)
		if field != "" {
			if err == nil {
				t.Fatalf("Compile(%+v) succeeded; the reference finds %s invalid", spec, field)
			}
			if prefix := "rules[0]." + field + ": "; !strings.HasPrefix(err.Error(), prefix) {
				t.Fatalf("Compile(%+v) error %q does not start with %q", spec, err, prefix)
			}
		} else {
			if err != nil {
				t.Fatalf("Compile(%+v) = %v; the reference finds it valid", spec, err)
			}
			checkOwnSample(t, table, spec)
		}

		public, err := permissions.CompilePaths([]string{path}, "publicPaths")
		if _, ok := refTemplate(path); !ok {
			if err == nil || !strings.HasPrefix(err.Error(), "publicPaths[0]: ") {
				t.Fatalf("CompilePaths(%q) error = %v, want one starting with publicPaths[0]: ", path, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("CompilePaths(%q) = %v", path, err)
		}
		segs, _ := refTemplate(path)
		sample, _ := sampleRequest(segs)
		for _, method := range []string{"GET", "FETCH", "delete"} {
			if _, ok := public.Match(method, sample); !ok {
				t.Fatalf("public path %q does not match %s %q", path, method, sample)
			}
		}
	})
}

// checkOwnSample: a compiled rule matches a request built from its own
// template, with its own methods only, and captures what it should.
func checkOwnSample(t *testing.T, table *permissions.Table, spec permissions.RuleSpec) {
	t.Helper()
	segs, _ := refTemplate(spec.Path)
	sample, params := sampleRequest(segs)
	want, _ := permissions.ParseAction(spec.Action)
	methods := []string{"GET", "FETCH"}
	if len(spec.Methods) > 0 {
		methods = make([]string, 0, len(spec.Methods))
		for _, m := range spec.Methods {
			norm, _ := refMethod(m)
			methods = append(methods, norm)
		}
	}
	for _, method := range methods {
		m, ok := table.Match(method, sample)
		if !ok || m.RuleIndex() != 0 || m.Action != want {
			t.Fatalf("rule %+v: Match(%q, %q) = %+v, %v", spec, method, sample, m, ok)
		}
		for name, v := range params {
			if got, _ := m.Param(name); got != v {
				t.Fatalf("rule %+v: Param(%q) = %q, want %q", spec, name, got, v)
			}
		}
	}
	for _, other := range refMethods {
		if len(spec.Methods) == 0 {
			break
		}
		listed := false
		for _, m := range methods {
			listed = listed || m == other
		}
		if _, ok := table.Match(other, sample); ok != listed {
			t.Fatalf("rule %+v: Match(%q, %q) matched = %v", spec, other, sample, ok)
		}
	}
}

// rulesFromText reads one rule per line, "METHOD,METHOD /template" (no
// methods: " /template"). Rule i requires action i%19, binds its first
// {param} as the network, its second as the device type and its last as
// the device. Lines the reference finds invalid are skipped.
func rulesFromText(text string) []permissions.RuleSpec {
	var specs []permissions.RuleSpec
	for _, line := range strings.Split(text, "\n") {
		if len(specs) == 12 {
			break
		}
		methods, path, _ := strings.Cut(line, " ")
		spec := permissions.RuleSpec{
			Methods: splitMethods(methods), Path: path,
			Action: permissions.Action(len(specs) % int(permissions.MaxAction+1)).String(),
		}
		segs, ok := refTemplate(path)
		if !ok {
			continue
		}
		var names []string
		for _, seg := range segs {
			if name, isParam := refParam(seg); isParam {
				names = append(names, name)
			}
		}
		if len(names) > 0 {
			spec.NetworkFrom = "path:" + names[0]
			spec.DeviceFrom = "path:" + names[len(names)-1]
		}
		if len(names) > 1 {
			spec.DeviceTypeFrom = "path:" + names[1]
		}
		if refInvalidField(spec) == "" {
			specs = append(specs, spec)
		}
	}
	return specs
}

func specsText(specs []permissions.RuleSpec) string {
	lines := make([]string, 0, len(specs))
	for _, s := range specs {
		lines = append(lines, strings.Join(s.Methods, ",")+" "+s.Path)
	}
	return strings.Join(lines, "\n")
}

func FuzzMatch(f *testing.F) {
	preset, err := permissions.Preset(permissions.PresetDeviceHive)
	if err != nil {
		f.Fatal(err)
	}
	presetTable, err := permissions.Compile(preset, "preset")
	if err != nil {
		f.Fatal(err)
	}
	testMatchRules := []permissions.RuleSpec{
		{Methods: []string{"get"}, Path: "/device/{deviceId}"},
		{Methods: []string{"POST"}, Path: "/device/{deviceId}/notification"},
		{Path: "/*/open"},
		{Path: "/user/**"},
		{Path: "/device/**"},
		{Path: "/"},
	}
	requests := [][2]string{
		{"GET", "/device/d1"}, {"POST", "/device/d1"}, {"POST", "/device/d2/notification"},
		{"GET", "/device/d2/notification"}, {"GET", "/device/open"}, {"PUT", "/x/open"}, {"GET", "/user"},
		{"GET", "/user/7/network/1"}, {"GET", "/users"}, {"GET", "/device//"}, {"GET", "/"}, {"GET", ""},
		{"GET", "/nothing/here"}, {"GET", "/network/1"}, {"DELETE", "/network/1"}, {"PUT", "/devicetype/10"},
		{"GET", "/device/d1/notification/poll"}, {"GET", "/device/notification/poll"}, {"PUT", "/device/d1/command/5"},
		{"PATCH", "/user/current"}, {"get", "/device/d1"}, {"FETCH", "/plugin"}, {"GET", "device/d1"},
		{"GET", "//device"}, {"GET", "/device/d1/"}, {"HEAD", "/configuration/"},
	}
	for _, rules := range []string{specsText(testMatchRules), specsText(preset), "GET /a/{x}/*/{y}/**\n /a/b/c/d", ""} {
		for _, r := range requests {
			f.Add(rules, r[0], r[1])
		}
	}
	f.Fuzz(func(t *testing.T, rules, method, path string) {
		checkMatch(t, presetTable, preset, method, path)
		specs := rulesFromText(rules)
		table, err := permissions.Compile(specs, "rules")
		if err != nil {
			t.Fatalf("Compile(%q) = %v; the reference finds every rule valid", specsText(specs), err)
		}
		checkMatch(t, table, specs, method, path)
		// Each rule's own sample request reaches that rule or an earlier one.
		for i, spec := range specs {
			segs, _ := refTemplate(spec.Path)
			sample, _ := sampleRequest(segs)
			m := "TRACE"
			if len(spec.Methods) > 0 {
				m, _ = refMethod(spec.Methods[0])
			}
			if got, ok := table.Match(m, sample); !ok || got.RuleIndex() > i {
				t.Fatalf("rule %d (%q) does not catch its own sample %s %q", i, spec.Path, m, sample)
			}
			checkMatch(t, table, specs, m, sample)
		}
	})
}
