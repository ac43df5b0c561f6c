// Package metrics is a small Prometheus registry that writes the text
// exposition format (version 0.0.4).
//
// Traefik does not let a plugin add series to its own metrics, so tokengate
// serves its own. Counting must cost nothing on the request path: a series
// is created up front, with its label values fixed, as a *Counter or *Gauge
// holding an int64 that Inc, Add and Set update with sync/atomic: no lock,
// no map lookup, no allocation per request. Values that are cheaper to read
// when scraped (cache sizes, failure counts kept elsewhere) are functions
// registered with GaugeFunc and CounterFunc and called by WriteTo.
//
// Traefik builds a middleware instance per router and again on every
// configuration reload; Shared hands them one Registry per key for the life
// of the process, and creating a series that exists returns the same
// *Counter or *Gauge, so counts survive reloads.
//
// A nil *Registry writes nothing and hands out working counters and gauges
// that are not written anywhere: code that counts needs no "metrics off"
// branch.
package metrics

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"reflect"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"
)

// ContentType is the Content-Type of WriteTo's output.
const ContentType = "text/plain; version=0.0.4; charset=utf-8"

// Metric types, as written on # TYPE lines.
const (
	typeCounter = "counter"
	typeGauge   = "gauge"
)

// Counter is a count that only goes up. It embeds an atomic.Int64, so
// Add(n) (for n >= 0) and Load are sync/atomic's own compiled methods;
// Store, Swap and CompareAndSwap must not be used on a counter.
//
// On the request path, count with c.Add(1), the embedded atomic.Int64's
// compiled method, rather than Inc (CONTRIBUTING.md, the cost model;
// BenchmarkCounterInc and BenchmarkCounterAdd1).
//
// Only a Counter from Registry.Counter is written; a nil *Counter panics.
type Counter struct {
	atomic.Int64
}

// Inc adds one (on the request path, c.Add(1): see Counter).
func (c *Counter) Inc() {
	c.Add(1)
}

// Value returns the count (as Load does).
func (c *Counter) Value() int64 {
	return c.Load()
}

// Gauge is a value that goes up and down. Like Counter it embeds an
// atomic.Int64: Add(n), Store(n) and Load are compiled methods, for the
// request path (see Counter); Set, Inc, Dec and Value say the same in
// gauge terms.
type Gauge struct {
	atomic.Int64
}

// Set sets the value (as Store does).
func (g *Gauge) Set(n int64) {
	g.Store(n)
}

// Inc adds one.
func (g *Gauge) Inc() {
	g.Add(1)
}

// Dec subtracts one.
func (g *Gauge) Dec() {
	g.Add(-1)
}

// Value returns the value (as Load does).
func (g *Gauge) Value() int64 {
	return g.Load()
}

// series is one line of the exposition: a family's name with label values.
type series struct {
	labels  string // `{a="x",b="y"}`, labels sorted by name; "" without labels
	counter *Counter
	gauge   *Gauge
	fn      func() float64 // GaugeFunc or CounterFunc; replaced by a later registration
}

type family struct {
	name   string
	help   string
	typ    string
	series map[string]*series // by labels
}

// Registry holds metric families. It is safe for concurrent use; its lock
// is taken to create series and to scrape, never to count.
type Registry struct {
	mu       sync.Mutex
	families map[string]*family
	err      error // the first registration error
}

// New returns an empty Registry. Middleware instances should use Shared.
func New() *Registry {
	return &Registry{families: map[string]*family{}}
}

// registries holds the process's shared registries by key.
type registries struct {
	mu sync.Mutex
	m  map[string]*Registry
}

// shared is deliberately package state: Traefik builds a new middleware
// instance per router and on every configuration reload, and counters must
// outlive each of them. It only grows by the distinct keys the
// configuration names.
var shared = &registries{m: map[string]*Registry{}}

// Shared returns the Registry for key, the same one for every call in the
// process with that key, creating it on first use.
func Shared(key string) *Registry {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	r, ok := shared.m[key]
	if !ok {
		r = New()
		shared.m[key] = r
	}
	return r
}

// Counter returns the counter named name with the given label values,
// creating it (and its family) on first use; the same name and labels
// return the same *Counter. The name gets a "_total" suffix unless it has
// one. labels are name/value pairs: "endpoint", "login", "outcome", "ok".
// help is written once per family (the first one given is kept).
//
// On a registration error (invalid name or labels, odd label list, the name
// used by another type) the counter returned works but is not written, and
// Err reports the error. A nil Registry returns a counter that is not
// written anywhere.
func (r *Registry) Counter(name, help string, labels ...string) *Counter {
	if r == nil {
		return &Counter{}
	}
	name = counterName(name)
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.series(name, help, typeCounter, labels)
	if s == nil {
		return &Counter{}
	}
	if s.counter == nil {
		if s.fn != nil {
			r.fail(fmt.Errorf("metrics: %s%s is a CounterFunc, not a Counter", name, s.labels))
			return &Counter{}
		}
		s.counter = &Counter{}
	}
	return s.counter
}

// Gauge returns the gauge named name with the given label values; see
// Counter (no suffix is added).
func (r *Registry) Gauge(name, help string, labels ...string) *Gauge {
	if r == nil {
		return &Gauge{}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.series(name, help, typeGauge, labels)
	if s == nil {
		return &Gauge{}
	}
	if s.gauge == nil {
		if s.fn != nil {
			r.fail(fmt.Errorf("metrics: %s%s is a GaugeFunc, not a Gauge", name, s.labels))
			return &Gauge{}
		}
		s.gauge = &Gauge{}
	}
	return s.gauge
}

// GaugeFunc registers a gauge whose value fn returns when the registry is
// scraped. Registering the same name and labels again replaces fn: the
// newest middleware instance after a reload is the one reported, and the
// old one is no longer referenced. fn must be safe for concurrent use and
// must not call the registry.
func (r *Registry) GaugeFunc(name, help string, fn func() float64, labels ...string) {
	r.registerFunc(name, help, typeGauge, fn, labels)
}

// CounterFunc registers a counter whose value fn returns when scraped, for
// counts kept elsewhere (for example audit.Log.Failures); see GaugeFunc. The
// name gets a "_total" suffix unless it has one.
func (r *Registry) CounterFunc(name, help string, fn func() float64, labels ...string) {
	r.registerFunc(counterName(name), help, typeCounter, fn, labels)
}

func (r *Registry) registerFunc(name, help, typ string, fn func() float64, labels []string) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if fn == nil {
		r.fail(fmt.Errorf("metrics: %s: nil function", name))
		return
	}
	s := r.series(name, help, typ, labels)
	if s == nil {
		return
	}
	if s.counter != nil || s.gauge != nil {
		r.fail(fmt.Errorf("metrics: %s%s is a %s, not a function", name, s.labels, typ))
		return
	}
	s.fn = fn
}

// Err returns the first registration error, or nil.
func (r *Registry) Err() error {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

func (r *Registry) fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

func counterName(name string) string {
	if strings.HasSuffix(name, "_total") {
		return name
	}
	return name + "_total"
}

// series finds or creates the series; nil after a registration error.
// Called with mu held.
func (r *Registry) series(name, help, typ string, labels []string) *series {
	if !validName(name, true) {
		r.fail(fmt.Errorf("metrics: invalid metric name %q", name))
		return nil
	}
	rendered, err := renderLabels(labels)
	if err != nil {
		r.fail(fmt.Errorf("metrics: %s: %w", name, err))
		return nil
	}
	f, ok := r.families[name]
	if !ok {
		f = &family{name: name, help: help, typ: typ, series: map[string]*series{}}
		r.families[name] = f
	}
	if f.typ != typ {
		r.fail(fmt.Errorf("metrics: %s is a %s, not a %s", name, f.typ, typ))
		return nil
	}
	s, ok := f.series[rendered]
	if !ok {
		s = &series{labels: rendered}
		f.series[rendered] = s
	}
	return s
}

// renderLabels checks name/value pairs and writes them sorted by name:
// `{a="x",b="y"}`, or "" for none.
func renderLabels(labels []string) (string, error) {
	if len(labels) == 0 {
		return "", nil
	}
	if len(labels)%2 != 0 {
		return "", fmt.Errorf("odd label list %q: want name/value pairs", labels)
	}
	pairs := make([][2]string, 0, len(labels)/2)
	for i := 0; i < len(labels); i += 2 {
		n := labels[i]
		if !validName(n, false) || strings.HasPrefix(n, "__") {
			return "", fmt.Errorf("invalid label name %q", n)
		}
		pairs = append(pairs, [2]string{n, labels[i+1]})
	}
	sort.Slice(pairs, func(i, j int) bool { return pairs[i][0] < pairs[j][0] })
	var b strings.Builder
	b.WriteByte('{')
	for i, p := range pairs {
		if i > 0 {
			if p[0] == pairs[i-1][0] {
				return "", fmt.Errorf("label %q given twice", p[0])
			}
			b.WriteByte(',')
		}
		b.WriteString(p[0])
		b.WriteString(`="`)
		b.WriteString(escapeLabelValue(p[1]))
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String(), nil
}

// validName reports whether s is a metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)
// or, without colons, a label name.
func validName(s string, colons bool) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			(i > 0 && c >= '0' && c <= '9') || (colons && c == ':')
		if !ok {
			return false
		}
	}
	return true
}

// escapeLabelValue escapes a label value for the text format: backslash,
// double quote and line feed. Invalid UTF-8 becomes U+FFFD.
func escapeLabelValue(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if !strings.ContainsAny(s, "\\\"\n") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\\':
			b.WriteString(`\\`)
		case '"':
			b.WriteString(`\"`)
		case '\n':
			b.WriteString(`\n`)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// escapeHelp escapes a HELP text: backslash and line feed.
func escapeHelp(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	s = strings.ReplaceAll(s, `\`, `\\`)
	return strings.ReplaceAll(s, "\n", `\n`)
}

// sample is a series as read under the lock, for writing after it.
type sample struct {
	labels  string
	counter *Counter
	gauge   *Gauge
	fn      func() float64
}

type snapshot struct {
	name, help, typ string
	samples         []sample
}

// WriteTo writes every family in the text exposition format, families
// sorted by name and series by labels, with one # HELP and one # TYPE line
// per family, in a single Write to w. Functions are called outside the
// registry's lock.
func (r *Registry) WriteTo(w io.Writer) (int64, error) {
	if r == nil {
		return 0, nil
	}
	var b bytes.Buffer
	for _, f := range r.snapshot() {
		b.WriteString("# HELP ")
		b.WriteString(f.name)
		b.WriteByte(' ')
		b.WriteString(escapeHelp(f.help))
		b.WriteString("\n# TYPE ")
		b.WriteString(f.name)
		b.WriteByte(' ')
		b.WriteString(f.typ)
		b.WriteByte('\n')
		for _, s := range f.samples {
			b.WriteString(f.name)
			b.WriteString(s.labels)
			b.WriteByte(' ')
			b.WriteString(s.value())
			b.WriteByte('\n')
		}
	}
	n, err := w.Write(b.Bytes())
	return int64(n), err
}

func (r *Registry) snapshot() []snapshot {
	r.mu.Lock()
	defer r.mu.Unlock()
	names := make([]string, 0, len(r.families))
	for name := range r.families {
		names = append(names, name)
	}
	sort.Strings(names)
	out := make([]snapshot, 0, len(names))
	for _, name := range names {
		f := r.families[name]
		keys := make([]string, 0, len(f.series))
		for k, s := range f.series {
			if s.counter != nil || s.gauge != nil || s.fn != nil {
				keys = append(keys, k)
			}
		}
		if len(keys) == 0 {
			continue // only failed registrations
		}
		sort.Strings(keys)
		snap := snapshot{name: f.name, help: f.help, typ: f.typ, samples: make([]sample, 0, len(keys))}
		for _, k := range keys {
			s := f.series[k]
			snap.samples = append(snap.samples, sample{labels: s.labels, counter: s.counter, gauge: s.gauge, fn: s.fn})
		}
		out = append(out, snap)
	}
	return out
}

func (s sample) value() string {
	if s.counter != nil {
		return strconv.FormatInt(s.counter.Load(), 10)
	}
	if s.gauge != nil {
		return strconv.FormatInt(s.gauge.Load(), 10)
	}
	return formatFloat(s.fn())
}

// formatFloat writes a value as the text format wants it: NaN, +Inf, -Inf,
// or the shortest decimal that reads back as v.
func formatFloat(v float64) string {
	if math.IsNaN(v) {
		return "NaN"
	}
	if math.IsInf(v, 1) {
		return "+Inf"
	}
	if math.IsInf(v, -1) {
		return "-Inf"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// BuildInfo registers tokengate_build_info{version, goversion, interpreter}
// with the value 1: the plugin's version, the Go version of the running
// binary (Traefik's, under the interpreter) and Interpreter().
func (r *Registry) BuildInfo(version string) {
	r.Gauge("tokengate_build_info",
		"tokengate's version, the Go version of the binary running it, and "+
			"interpreter=\"yaegi\" when it runs inside Traefik's interpreter; always 1.",
		"version", version, "goversion", runtime.Version(), "interpreter", Interpreter()).Set(1)
}

// probe is a named type: compiled code sees its name through reflect, the
// interpreter builds its types with reflect.StructOf, which makes unnamed
// types.
type probe struct{}

// Interpreter returns "yaegi" when this code is being interpreted (inside
// Traefik, or under `yaegi test`) and "native" when it is compiled. The test
// is behavioural, without unsafe: a type the interpreter defines has no
// name for reflect.
func Interpreter() string {
	if reflect.TypeOf(probe{}).Name() == "probe" {
		return "native"
	}
	return "yaegi"
}
