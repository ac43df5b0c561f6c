package permissions

import (
	"errors"
	"fmt"
	"math"
	"net/http"
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

	// Scope bindings, each KIND:NAME[,MODIFIER]; empty binds nothing.
	// KIND is "path" (a {NAME} of Path), "query" (one value), "query-list"
	// (one parameter holding comma-separated ids, every one checked) or
	// "header". NetworkFrom and DeviceTypeFrom give ids checked against the
	// token's networks and device types; DeviceFrom gives a device id whose
	// network and device type are looked up in the device directory and
	// checked the same way.
	//
	// MODIFIER says what a request that names no value gets: by default
	// only a token scoped to "*" passes. ",narrow" (NetworkFrom and
	// DeviceTypeFrom, query kinds only) adds the token's own ids to the
	// query instead, so that a backend trusting its query answers only what
	// the token may see. ",optional" (DeviceFrom, query or header) lets the
	// request pass without a device when the rule's NetworkFrom and
	// DeviceTypeFrom both narrow.
	NetworkFrom    string
	DeviceTypeFrom string
	DeviceFrom     string
}

// Binding kinds.
const (
	BindPath      = "path"
	BindQuery     = "query"
	BindQueryList = "query-list"
	BindHeader    = "header"
)

// Binding tells where a rule finds a scoped value in a request.
type Binding struct {
	Kind string // BindPath, BindQuery, BindQueryList or BindHeader; "" when the rule binds nothing
	Name string // the {param}, query parameter or canonical header name
	// Narrow: a request naming no value gets the token's ids added to the
	// query (",narrow").
	Narrow bool
	// Optional: a request naming no device passes; the rule's narrowing
	// network and device type bindings stand in for it (",optional").
	Optional bool
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
	// exact maps the path of each rule made of literals only to the
	// methods of those rules (allMethods: every method), and patterns
	// tells whether other rules exist: Has answers most paths with one
	// map lookup.
	exact    map[string]uint16
	patterns bool
}

// allMethods marks an exact path that every method matches.
const allMethods = ^uint16(0)

// rule is a compiled rule. The request path is matched with plain loops
// and string compares, no method calls, on every request (CONTRIBUTING.md,
// the cost model).
type rule struct {
	index   int
	methods uint16   // bits of methodBit; 0 for every method
	lits    []string // one per segment; "" matches any non-empty segment
	prefix  bool     // the template ended in "**"
	// The segment counts a matching path may have: len(lits), and no
	// more unless prefix (MatchRequest tests them as two numbers).
	minSegs, maxSegs int
	action           Action
	params           map[string]int // param name -> segment index
	scope            Scope
	// Segment indexes of path-bound scopes, -1 when not path-bound.
	networkSeg, deviceTypeSeg, deviceSeg int
	scoped, lineOnly                     bool
	// match is what MatchRequest answers for this rule but the path's
	// values: copied whole, not field by field (CONTRIBUTING.md, the cost
	// model).
	match Match
}

// Match is the result of a successful lookup.
type Match struct {
	Action Action
	Scope  *Scope // the rule's own: not to be changed
	// Scoped is Scope.Bound(), and LineOnly tells that every binding reads
	// the path, so the decision depends on nothing but the request line;
	// both are plain fields, not methods (CONTRIBUTING.md, the cost model).
	Scoped, LineOnly bool
	// The path segments bound by the rule's "path:" scopes; "" otherwise.
	// A matched segment is never empty, so in a LineOnly match a binding
	// is there exactly when its value is not "" (TestLineOnlyBindings).
	NetworkID, DeviceTypeID, DeviceID string
	// The rule's index and params, not a pointer to it: a rule holds its
	// Match, and a struct type that leads back to itself through a field
	// of struct type crashes Yaegi (CONTRIBUTING.md, traps).
	index  int
	params map[string]int
	segs   []string
}

// RuleIndex returns the matched rule's position in the table (for tests
// and diagnostics: the request path has no use for it).
func (m Match) RuleIndex() int { return m.index }

// Param returns the path segment captured as {name} by the matched rule.
func (m Match) Param(name string) (string, bool) {
	i, ok := m.params[name]
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
		if len(r.lits) > 0 && r.lits[0] != "" {
			t.byFirst[r.lits[0]] = nil
		}
	}
	for _, r := range t.rules {
		if len(r.lits) == 0 || r.lits[0] == "" {
			t.wildFirst = append(t.wildFirst, r)
			for first := range t.byFirst {
				t.byFirst[first] = append(t.byFirst[first], r)
			}
			continue
		}
		first := r.lits[0]
		t.byFirst[first] = append(t.byFirst[first], r)
	}
	t.exact = map[string]uint16{}
	for _, r := range t.rules {
		literal := !r.prefix && len(r.lits) > 0
		for _, lit := range r.lits {
			literal = literal && lit != ""
		}
		if !literal {
			t.patterns = true
			continue
		}
		// Match reads "a/b" as "/a/b": so does Has.
		for _, key := range []string{"/" + strings.Join(r.lits, "/"), strings.Join(r.lits, "/")} {
			if r.methods == 0 {
				t.exact[key] = allMethods
			} else {
				t.exact[key] |= r.methods
			}
		}
	}
	return t, nil
}

// Has reports whether some rule matches the request, as Match would, for
// callers that need nothing more, such as the public paths' check on
// every request: under Yaegi, returning a bool instead of a Match, and
// looking exact paths up in one map, costs a fraction of a Match.
func (t *Table) Has(method, path string) bool {
	if bits := t.exact[path]; bits != 0 && (bits == allMethods || bits&methodBit(method) != 0) {
		return true
	}
	if !t.patterns {
		return false
	}
	if len(t.wildFirst) == 0 {
		// Only rules whose first segment is a literal: a path whose first
		// segment none of them has cannot match (Match would split it).
		first := strings.TrimPrefix(path, "/")
		if i := strings.IndexByte(first, '/'); i >= 0 {
			first = first[:i]
		}
		if _, found := t.byFirst[first]; !found {
			return false
		}
	}
	_, ok := t.Match(method, path)
	return ok
}

// Exact returns the paths of the rules made of literals only (path ->
// method bits, not to be changed) and whether any rule has a pattern. A
// caller may skip Has for a path absent from the map when there is none.
func (t *Table) Exact() (map[string]uint16, bool) {
	return t.exact, t.patterns
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
		specs[i] = RuleSpec{Path: p, Action: noAction}
	}
	t, err := Compile(specs, field)
	if err != nil {
		// Report "publicPaths[1]: ..." rather than "publicPaths[1].path: ...".
		return nil, fmt.Errorf("%s", strings.Replace(err.Error(), "].path: ", "]: ", 1))
	}
	return t, nil
}

// CompilePublic compiles what passes without a token: the public paths
// (every method) and the public routes of the preset (none when preset is
// ""), less each method of those that one of rules matches: the configured
// rules are tried before the preset's, so a rule of your own for GET /info
// keeps it guarded. It returns nil when nothing is public.
func CompilePublic(paths []string, rules []RuleSpec, preset string) (*Table, error) {
	specs := make([]RuleSpec, 0, len(paths)+2)
	for _, p := range paths {
		specs = append(specs, RuleSpec{Path: p, Action: noAction})
	}
	if preset != "" {
		public, err := PresetPublic(preset)
		if err != nil {
			return nil, fmt.Errorf("preset: %w", err)
		}
		own, err := Compile(rules, "rules")
		if err != nil {
			return nil, err
		}
		for _, spec := range public {
			var methods []string
			for _, m := range spec.Methods {
				if _, shadowed := own.Match(m, spec.Path); !shadowed {
					methods = append(methods, m)
				}
			}
			if len(methods) > 0 {
				specs = append(specs, RuleSpec{Methods: methods, Path: spec.Path, Action: spec.Action})
			}
		}
	}
	if len(specs) == 0 {
		return nil, nil //nolint:nilnil // nothing is public: the guard skips the lookup
	}
	t, err := Compile(specs, "publicPaths")
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
		r.methods |= methodBit(m)
	}
	if spec.Action == "" {
		return nil, errors.New("action: required (a DeviceHive action such as GetDevice)")
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
			r.lits = append(r.lits, "")
		case strings.HasPrefix(part, "{") && strings.HasSuffix(part, "}"):
			name := part[1 : len(part)-1]
			if !validName(name) {
				return nil, fmt.Errorf("path: %q: parameter %q must be a name such as {deviceId}", spec.Path, part)
			}
			if _, dup := r.params[name]; dup {
				return nil, fmt.Errorf("path: %q: parameter {%s} appears twice", spec.Path, name)
			}
			r.params[name] = len(r.lits)
			r.lits = append(r.lits, "")
		case part == "" || strings.ContainsAny(part, "{}*?#"):
			return nil, fmt.Errorf("path: %q: segment %d %q is not a literal, {name}, * or a final **", spec.Path, j+1, part)
		default:
			r.lits = append(r.lits, part)
		}
	}
	r.minSegs = len(r.lits)
	r.maxSegs = r.minSegs
	if r.prefix {
		r.maxSegs = math.MaxInt
	}
	if err = compileScope(r, spec); err != nil {
		return nil, err
	}
	r.networkSeg = pathSegment(r.scope.Network, r.params)
	r.deviceTypeSeg = pathSegment(r.scope.DeviceType, r.params)
	r.deviceSeg = pathSegment(r.scope.Device, r.params)
	r.match = Match{Action: r.action, Scope: &r.scope, Scoped: r.scoped, LineOnly: r.lineOnly, index: r.index, params: r.params}
	return r, nil
}

// compileScope compiles a rule's scope bindings into r.
func compileScope(r *rule, spec RuleSpec) error {
	var err error
	if r.scope.Network, err = compileBinding(spec.NetworkFrom, r.params, modNarrow); err != nil {
		return fmt.Errorf("networkFrom: %w", err)
	}
	if r.scope.DeviceType, err = compileBinding(spec.DeviceTypeFrom, r.params, modNarrow); err != nil {
		return fmt.Errorf("deviceTypeFrom: %w", err)
	}
	if r.scope.Device, err = compileBinding(spec.DeviceFrom, r.params, modOptional); err != nil {
		return fmt.Errorf("deviceFrom: %w", err)
	}
	if r.scope.Device.Optional && (!r.scope.Network.Narrow || !r.scope.DeviceType.Narrow) {
		return fmt.Errorf("deviceFrom: %q: optional needs networkFrom and deviceTypeFrom with ,narrow "+
			"(they stand in for the device a request does not name)", spec.DeviceFrom)
	}
	r.scoped = r.scope.Bound()
	// Only path bindings leave the decision to the request line: the
	// decision memo must never remember one that read the query or headers.
	r.lineOnly = true
	for _, b := range []Binding{r.scope.Network, r.scope.DeviceType, r.scope.Device} {
		if b.Kind != "" && b.Kind != BindPath {
			r.lineOnly = false
		}
	}
	return nil
}

func pathSegment(b Binding, params map[string]int) int {
	if b.Kind != "path" {
		return -1
	}
	return params[b.Name]
}

// noAction is the action of public routes: they need no token.
const noAction = "None"

// Binding modifiers.
const (
	modNarrow   = "narrow"
	modOptional = "optional"
)

// compileBinding reads KIND:NAME[,MODIFIER]; modifier is the one the field
// allows.
func compileBinding(s string, params map[string]int, modifier string) (Binding, error) {
	if s == "" {
		return Binding{}, nil
	}
	kind, name, ok := strings.Cut(s, ":")
	name, mod, hasMod := strings.Cut(name, ",")
	name = strings.TrimSpace(name)
	if !ok || name == "" {
		return Binding{}, fmt.Errorf("%q must be path:NAME, query:NAME, query-list:NAME or header:NAME", s)
	}
	b := Binding{Kind: kind, Name: name}
	switch kind {
	case BindPath:
		if _, ok := params[name]; !ok {
			return Binding{}, fmt.Errorf("%q: the path has no {%s}", s, name)
		}
	case BindQuery:
	case BindQueryList:
		if modifier == modOptional {
			return Binding{}, fmt.Errorf("%q: a device binding takes one device (path:, query: or header:)", s)
		}
	case BindHeader:
		b.Name = http.CanonicalHeaderKey(name)
	default:
		return Binding{}, fmt.Errorf("%q must be path:NAME, query:NAME, query-list:NAME or header:NAME", s)
	}
	if !hasMod {
		return b, nil
	}
	mod = strings.TrimSpace(mod)
	if mod != modifier {
		return Binding{}, fmt.Errorf("%q: the modifier here may only be ,%s", s, modifier)
	}
	if modifier == modNarrow && kind != BindQuery && kind != BindQueryList {
		return Binding{}, fmt.Errorf("%q: ,narrow adds to the query (it needs query: or query-list:)", s)
	}
	if modifier == modOptional && kind == BindPath {
		return Binding{}, fmt.Errorf("%q: a path value is never absent (,optional needs query: or header:)", s)
	}
	b.Narrow = modifier == modNarrow
	b.Optional = modifier == modOptional
	return b, nil
}

func validMethod(m string) bool { return methodBit(m) != 0 }

// methodBit gives each standard HTTP method a bit; other methods get 0, and
// so match only rules for every method.
func methodBit(m string) uint16 { return methodBits[m] }

// methodBits gives each HTTP method its bit in a rule's method set: a map
// index rather than a switch (CONTRIBUTING.md, the cost model).
var methodBits = map[string]uint16{
	http.MethodGet: 1, http.MethodHead: 2, http.MethodPost: 4, http.MethodPut: 8, http.MethodPatch: 16,
	http.MethodDelete: 32, http.MethodOptions: 64, http.MethodConnect: 128, http.MethodTrace: 256,
}

func validName(name string) bool {
	if name == "" {
		return false
	}
	for _, c := range name {
		if c != '_' && (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// Match finds the first rule matching the request method and path.
func (t *Table) Match(method, path string) (Match, bool) {
	var m Match
	ok := MatchRequest(t, method, path, &m)
	return m, ok
}

// MatchRequest is Match for the request path: a function that fills m
// (CONTRIBUTING.md, the cost model). m is left as it was when nothing
// matches.
func MatchRequest(t *Table, method, path string, m *Match) bool {
	if len(t.rules) == 0 {
		return false
	}
	var segs []string // "/a/b/" is ["a", "b", ""]; "/" is none
	if path != "" && path != "/" {
		rest := path
		if rest[0] == '/' {
			rest = rest[1:]
		}
		segs = strings.Split(rest, "/")
	}
	n := len(segs)
	candidates := t.wildFirst
	if n > 0 {
		if list, ok := t.byFirst[segs[0]]; ok {
			candidates = list
		}
	}
	bit := methodBits[method]
	for _, r := range candidates {
		if n < r.minSegs || n > r.maxSegs || (r.methods != 0 && r.methods&bit == 0) {
			continue
		}
		matched := true
		for i, lit := range r.lits {
			if segs[i] == "" || (lit != "" && lit != segs[i]) {
				matched = false
				break
			}
		}
		if !matched {
			continue
		}
		*m = r.match
		m.segs = segs
		if r.networkSeg >= 0 {
			m.NetworkID = segs[r.networkSeg]
		}
		if r.deviceTypeSeg >= 0 {
			m.DeviceTypeID = segs[r.deviceTypeSeg]
		}
		if r.deviceSeg >= 0 {
			m.DeviceID = segs[r.deviceSeg]
		}
		return true
	}
	return false
}
