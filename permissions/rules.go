package permissions

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// RuleSpec is one route rule as configured: which requests it matches and
// the action they need.
//
// Path is a template of "/"-separated segments: a literal, "{name}" (any one
// segment, captured under name), "*" (any one segment), or, as the last
// segment only, "**" (zero or more further segments: a prefix match).
type RuleSpec struct {
	Methods []string // HTTP methods; empty matches every method
	Path    string
	Action  string // DeviceHive action name or id

	// Scope bindings, each "path:NAME" (a {NAME} of Path), "query:NAME" or
	// "header:NAME"; empty binds nothing. NetworkFrom and DeviceTypeFrom
	// give ids checked against the token's networks and device types;
	// DeviceFrom gives a device id whose network and device type are looked
	// up in the device directory and checked the same way.
	NetworkFrom    string
	DeviceTypeFrom string
	DeviceFrom     string
}

// Binding tells where a rule finds a scoped value in a request.
type Binding struct {
	Kind string // "path", "query" or "header"; "" when the rule binds nothing
	Name string // the {param}, query parameter or canonical header name
}

// Bound reports whether the binding is set.
func (b Binding) Bound() bool { return b.Kind != "" }

// Scope is a rule's compiled bindings.
type Scope struct {
	Network, DeviceType, Device Binding
}

// Bound reports whether any binding is set.
func (s Scope) Bound() bool { return s.Network.Bound() || s.DeviceType.Bound() || s.Device.Bound() }

// Table is a compiled, ordered list of rules: the first match wins.
type Table struct {
	rules []*rule
	// byFirst lists, for each literal first segment, the rules that can
	// match a path starting with it, in table order; other paths can only
	// be matched by wildFirst.
	byFirst   map[string][]*rule
	wildFirst []*rule
}

type rule struct {
	index   int
	methods []string
	segs    []segment
	prefix  bool // the template ended in "**"
	action  Action
	params  map[string]int // param name -> segment index
	scope   Scope
}

type segment struct {
	literal string
	wild    bool // "{name}" or "*"
}

// Match is the result of a successful lookup.
type Match struct {
	Action Action
	Index  int // the rule's position in the table
	Scope  Scope
	rule   *rule
	segs   []string
}

// Value returns the value a binding names in a request: the matched path
// parameter, the first value of the query parameter, or the header.
func (m Match) Value(b Binding, query func() url.Values, header http.Header) (string, bool) {
	var v string
	switch b.Kind {
	case "path":
		v, _ = m.Param(b.Name)
	case "query":
		v = query().Get(b.Name)
	case "header":
		if values := header[b.Name]; len(values) > 0 {
			v = values[0]
		}
	}
	return v, v != ""
}

// Param returns the path segment captured as {name} by the matched rule.
func (m Match) Param(name string) (string, bool) {
	i, ok := m.rule.params[name]
	if !ok || i >= len(m.segs) {
		return "", false
	}
	return m.segs[i], true
}

// Compile checks and compiles rules. field names the option in errors,
// as in `rules[3].path: ...`.
func Compile(specs []RuleSpec, field string) (*Table, error) {
	t := &Table{byFirst: map[string][]*rule{}}
	for i, spec := range specs {
		r, err := compileRule(i, spec)
		if err != nil {
			return nil, fmt.Errorf("%s[%d].%w", field, i, err)
		}
		t.rules = append(t.rules, r)
	}
	// Index by first segment without changing the order rules are tried in.
	for _, r := range t.rules {
		if len(r.segs) > 0 && !r.segs[0].wild {
			t.byFirst[r.segs[0].literal] = nil
		}
	}
	for _, r := range t.rules {
		if len(r.segs) == 0 || r.segs[0].wild {
			t.wildFirst = append(t.wildFirst, r)
			for first := range t.byFirst {
				t.byFirst[first] = append(t.byFirst[first], r)
			}
			continue
		}
		first := r.segs[0].literal
		t.byFirst[first] = append(t.byFirst[first], r)
	}
	return t, nil
}

// FirstDeviceBinding returns the index of the first rule with a DeviceFrom
// binding, or -1.
func (t *Table) FirstDeviceBinding() int {
	for _, r := range t.rules {
		if r.scope.Device.Bound() {
			return r.index
		}
	}
	return -1
}

// CompilePaths compiles a list of path templates that match any method,
// such as the public paths.
func CompilePaths(paths []string, field string) (*Table, error) {
	specs := make([]RuleSpec, len(paths))
	for i, p := range paths {
		specs[i] = RuleSpec{Path: p, Action: "None"}
	}
	t, err := Compile(specs, field)
	if err != nil {
		// Report "publicPaths[1]: ..." rather than "publicPaths[1].path: ...".
		return nil, fmt.Errorf("%s", strings.Replace(err.Error(), "].path: ", "]: ", 1))
	}
	return t, nil
}

func compileRule(i int, spec RuleSpec) (*rule, error) {
	r := &rule{index: i, params: map[string]int{}}
	for _, m := range spec.Methods {
		m = strings.ToUpper(strings.TrimSpace(m))
		if !validMethod(m) {
			return nil, fmt.Errorf("methods: %q is not an HTTP method", m)
		}
		r.methods = append(r.methods, m)
	}
	if spec.Action == "" {
		return nil, fmt.Errorf("action: required (a DeviceHive action such as GetDevice)")
	}
	a, err := ParseAction(spec.Action)
	if err != nil {
		return nil, fmt.Errorf("action: %w", err)
	}
	r.action = a
	if !strings.HasPrefix(spec.Path, "/") {
		return nil, fmt.Errorf("path: %q must start with /", spec.Path)
	}
	var parts []string
	if spec.Path != "/" {
		parts = strings.Split(spec.Path[1:], "/")
	}
	for j, part := range parts {
		switch {
		case part == "**" && j == len(parts)-1:
			r.prefix = true
		case part == "**":
			return nil, fmt.Errorf("path: %q: ** may only be the last segment", spec.Path)
		case part == "*":
			r.segs = append(r.segs, segment{wild: true})
		case strings.HasPrefix(part, "{") && strings.HasSuffix(part, "}"):
			name := part[1 : len(part)-1]
			if !validName(name) {
				return nil, fmt.Errorf("path: %q: parameter %q must be a name such as {deviceId}", spec.Path, part)
			}
			if _, dup := r.params[name]; dup {
				return nil, fmt.Errorf("path: %q: parameter {%s} appears twice", spec.Path, name)
			}
			r.params[name] = len(r.segs)
			r.segs = append(r.segs, segment{wild: true})
		case part == "" || strings.ContainsAny(part, "{}*?#"):
			return nil, fmt.Errorf("path: %q: segment %d %q is not a literal, {name}, * or a final **", spec.Path, j+1, part)
		default:
			r.segs = append(r.segs, segment{literal: part})
		}
	}
	if r.scope.Network, err = compileBinding(spec.NetworkFrom, r.params); err != nil {
		return nil, fmt.Errorf("networkFrom: %w", err)
	}
	if r.scope.DeviceType, err = compileBinding(spec.DeviceTypeFrom, r.params); err != nil {
		return nil, fmt.Errorf("deviceTypeFrom: %w", err)
	}
	if r.scope.Device, err = compileBinding(spec.DeviceFrom, r.params); err != nil {
		return nil, fmt.Errorf("deviceFrom: %w", err)
	}
	return r, nil
}

func compileBinding(s string, params map[string]int) (Binding, error) {
	if s == "" {
		return Binding{}, nil
	}
	kind, name, ok := strings.Cut(s, ":")
	name = strings.TrimSpace(name)
	if !ok || name == "" {
		return Binding{}, fmt.Errorf("%q must be path:NAME, query:NAME or header:NAME", s)
	}
	switch kind {
	case "path":
		if _, ok := params[name]; !ok {
			return Binding{}, fmt.Errorf("%q: the path has no {%s}", s, name)
		}
	case "query":
	case "header":
		name = http.CanonicalHeaderKey(name)
	default:
		return Binding{}, fmt.Errorf("%q must be path:NAME, query:NAME or header:NAME", s)
	}
	return Binding{Kind: kind, Name: name}, nil
}

func validMethod(m string) bool {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return true
	}
	return false
}

func validName(name string) bool {
	if name == "" {
		return false
	}
	for _, c := range name {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// Match finds the first rule matching the request method and path.
func (t *Table) Match(method, path string) (Match, bool) {
	if len(t.rules) == 0 {
		return Match{}, false
	}
	segs := splitPath(path)
	candidates := t.wildFirst
	if len(segs) > 0 {
		if list, ok := t.byFirst[segs[0]]; ok {
			candidates = list
		}
	}
	for _, r := range candidates {
		if r.matches(method, segs) {
			return Match{Action: r.action, Index: r.index, Scope: r.scope, rule: r, segs: segs}, true
		}
	}
	return Match{}, false
}

func (r *rule) matches(method string, segs []string) bool {
	if len(segs) < len(r.segs) || (!r.prefix && len(segs) != len(r.segs)) {
		return false
	}
	if len(r.methods) > 0 && !containsString(r.methods, method) {
		return false
	}
	for i, s := range r.segs {
		if !s.wild && s.literal != segs[i] {
			return false
		}
		if s.wild && segs[i] == "" {
			return false
		}
	}
	return true
}

// splitPath turns "/a/b/" into ["a", "b", ""]; "/" gives none.
func splitPath(path string) []string {
	if path == "" || path == "/" {
		return nil
	}
	return strings.Split(strings.TrimPrefix(path, "/"), "/")
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
