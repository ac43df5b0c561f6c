package metrics_test

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/tokengate/tokengate/metrics"
)

func scrape(t *testing.T, r *metrics.Registry) string {
	t.Helper()
	var b bytes.Buffer
	n, err := r.WriteTo(&b)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(b.Len()) {
		t.Fatalf("WriteTo returned %d for %d bytes", n, b.Len())
	}
	return b.String()
}

// exampleRegistry has a bit of everything, registered out of order.
func exampleRegistry() *metrics.Registry {
	r := metrics.New()
	r.Counter("tokengate_token_requests", "Token endpoint requests by endpoint, dialect and outcome.",
		"outcome", "ok", "endpoint", "login", "dialect", "devicehive").Add(3)
	r.Counter("tokengate_token_requests_total", "ignored: the first help is kept",
		"endpoint", "refresh", "dialect", "devicehive", "outcome", "ok").Inc()
	r.Counter("tokengate_token_requests", "",
		"endpoint", "login", "dialect", "harperdb", "outcome", "throttled").Inc()
	r.Gauge("tokengate_cache_entries", "Entries in the claims cache.").Set(17)
	r.GaugeFunc("tokengate_store_up", "1 when the state store answers, 0 when not.", func() float64 { return 1 })
	r.CounterFunc("tokengate_audit_write_failures", "Audit lines lost and failed reopens of the audit file.",
		func() float64 { return 2 })
	r.Counter("tokengate_guard_decisions", "Guard decisions by outcome and where they were answered.",
		"outcome", "allowed", "answered_by", "memo").Add(1000)
	r.Counter("tokengate_guard_decisions", "", "outcome", "401", "answered_by", "verify").Add(4)
	r.Gauge("tokengate_odd_values", "Help with a \\ backslash\nand a new line.", "path", `C:\dir "quoted"`+"\nline two").Set(-5)
	return r
}

const exampleExposition = `# HELP tokengate_audit_write_failures_total Audit lines lost and failed reopens of the audit file.
# TYPE tokengate_audit_write_failures_total counter
tokengate_audit_write_failures_total 2
# HELP tokengate_cache_entries Entries in the claims cache.
# TYPE tokengate_cache_entries gauge
tokengate_cache_entries 17
# HELP tokengate_guard_decisions_total Guard decisions by outcome and where they were answered.
# TYPE tokengate_guard_decisions_total counter
tokengate_guard_decisions_total{answered_by="memo",outcome="allowed"} 1000
tokengate_guard_decisions_total{answered_by="verify",outcome="401"} 4
# HELP tokengate_odd_values Help with a \\ backslash\nand a new line.
# TYPE tokengate_odd_values gauge
tokengate_odd_values{path="C:\\dir \"quoted\"\nline two"} -5
# HELP tokengate_store_up 1 when the state store answers, 0 when not.
# TYPE tokengate_store_up gauge
tokengate_store_up 1
# HELP tokengate_token_requests_total Token endpoint requests by endpoint, dialect and outcome.
# TYPE tokengate_token_requests_total counter
tokengate_token_requests_total{dialect="devicehive",endpoint="login",outcome="ok"} 3
tokengate_token_requests_total{dialect="devicehive",endpoint="refresh",outcome="ok"} 1
tokengate_token_requests_total{dialect="harperdb",endpoint="login",outcome="throttled"} 1
`

func TestExposition(t *testing.T) {
	r := exampleRegistry()
	if got := scrape(t, r); got != exampleExposition {
		t.Fatalf("got\n%s\nwant\n%s", got, exampleExposition)
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	if metrics.ContentType != "text/plain; version=0.0.4; charset=utf-8" {
		t.Fatal(metrics.ContentType)
	}
}

func TestEmptyRegistry(t *testing.T) {
	if got := scrape(t, metrics.New()); got != "" {
		t.Fatalf("got %q", got)
	}
}

func TestSameSeriesSameMetric(t *testing.T) {
	r := metrics.New()
	a := r.Counter("x", "h", "a", "1", "b", "2")
	if r.Counter("x", "h", "b", "2", "a", "1") != a || r.Counter("x_total", "h", "a", "1", "b", "2") != a {
		t.Fatal("the same series gave another counter")
	}
	if r.Counter("x", "h", "a", "1", "b", "3") == a || r.Counter("x", "h") == a {
		t.Fatal("other labels gave the same counter")
	}
	g := r.Gauge("g", "h", "k", "v")
	if r.Gauge("g", "h", "k", "v") != g {
		t.Fatal("the same gauge series gave another gauge")
	}
	a.Inc()
	r.Counter("x", "h", "b", "2", "a", "1").Add(2)
	if a.Value() != 3 {
		t.Fatalf("value %d", a.Value())
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
}

func TestCounterAndGauge(t *testing.T) {
	c := metrics.New().Counter("c", "h")
	c.Inc()
	c.Add(4)
	if c.Value() != 5 || c.Load() != 5 {
		t.Fatal(c.Value())
	}
	g := metrics.New().Gauge("g", "h")
	g.Set(10)
	g.Add(-3)
	g.Dec()
	g.Inc()
	g.Inc()
	if g.Value() != 8 {
		t.Fatal(g.Value())
	}
}

func TestFuncsEvaluatedAtScrapeAndReplaced(t *testing.T) {
	r := metrics.New()
	var mu sync.Mutex
	size := 1.0
	r.GaugeFunc("tokengate_memo_entries", "h", func() float64 {
		mu.Lock()
		defer mu.Unlock()
		return size
	}, "router", "a")
	if !strings.Contains(scrape(t, r), `tokengate_memo_entries{router="a"} 1`+"\n") {
		t.Fatal(scrape(t, r))
	}
	mu.Lock()
	size = 2.5
	mu.Unlock()
	if !strings.Contains(scrape(t, r), `tokengate_memo_entries{router="a"} 2.5`+"\n") {
		t.Fatal(scrape(t, r))
	}
	// A new middleware instance (after a reload) registers again: its
	// function replaces the old one.
	r.GaugeFunc("tokengate_memo_entries", "h", func() float64 { return 7 }, "router", "a")
	out := scrape(t, r)
	if !strings.Contains(out, `tokengate_memo_entries{router="a"} 7`+"\n") || strings.Count(out, "tokengate_memo_entries{") != 1 {
		t.Fatal(out)
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
}

func TestFloatValues(t *testing.T) {
	r := metrics.New()
	for i, v := range []float64{math.NaN(), math.Inf(1), math.Inf(-1), 0, 0.5, 1e21, -3, 123456789} {
		val := v
		r.GaugeFunc("v", "h", func() float64 { return val }, "i", strconv.Itoa(i))
	}
	want := `# HELP v h
# TYPE v gauge
v{i="0"} NaN
v{i="1"} +Inf
v{i="2"} -Inf
v{i="3"} 0
v{i="4"} 0.5
v{i="5"} 1e+21
v{i="6"} -3
v{i="7"} 1.23456789e+08
`
	if got := scrape(t, r); got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
}

func TestInvalidUTF8IsReplaced(t *testing.T) {
	r := metrics.New()
	r.Gauge("g", "bad \xff help", "l", "bad \xfe value").Set(1)
	got := scrape(t, r)
	if !strings.Contains(got, "# HELP g bad \uFFFD help\n") || !strings.Contains(got, `g{l="bad `+"\uFFFD"+` value"} 1`) {
		t.Fatalf("got %q", got)
	}
}

func TestRegistrationErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		reg  func(r *metrics.Registry)
		want string
		kept string // the exposition of the first registration, kept
	}{
		{"metric name", func(r *metrics.Registry) { r.Counter("1abc", "h").Inc() }, `invalid metric name "1abc_total"`, ""},
		{"metric name dash", func(r *metrics.Registry) { r.Gauge("a-b", "h").Inc() }, `invalid metric name "a-b"`, ""},
		{"label name", func(r *metrics.Registry) { r.Counter("c", "h", "a:b", "v").Inc() }, `invalid label name "a:b"`, ""},
		{"reserved label", func(r *metrics.Registry) { r.Counter("c", "h", "__name", "v").Inc() }, `invalid label name "__name"`, ""},
		{"odd labels", func(r *metrics.Registry) { r.Counter("c", "h", "a").Inc() }, "odd label list", ""},
		{"label twice", func(r *metrics.Registry) { r.Counter("c", "h", "a", "1", "a", "2").Inc() }, `label "a" given twice`, ""},
		{"nil func", func(r *metrics.Registry) { r.GaugeFunc("g", "h", nil) }, "nil function", ""},
		{"type", func(r *metrics.Registry) {
			r.Gauge("m_total", "h").Set(1)
			r.Counter("m", "h").Inc()
		}, "m_total is a gauge, not a counter", "# HELP m_total h\n# TYPE m_total gauge\nm_total 1\n"},
		{"func over value", func(r *metrics.Registry) {
			r.Gauge("m", "h").Set(1)
			r.GaugeFunc("m", "h", func() float64 { return 2 })
		}, "m is a gauge, not a function", "# HELP m h\n# TYPE m gauge\nm 1\n"},
		{"value over func", func(r *metrics.Registry) {
			r.CounterFunc("m", "h", func() float64 { return 2 })
			r.Counter("m", "h").Inc()
		}, "m_total is a CounterFunc, not a Counter", "# HELP m_total h\n# TYPE m_total counter\nm_total 2\n"},
		{"gauge over func", func(r *metrics.Registry) {
			r.GaugeFunc("m", "h", func() float64 { return 2 })
			r.Gauge("m", "h").Inc()
		}, "m is a GaugeFunc, not a Gauge", "# HELP m h\n# TYPE m gauge\nm 2\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := metrics.New()
			r.Gauge("ok", "h").Set(1)
			tc.reg(r)
			err := r.Err()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Err = %v, want %q", err, tc.want)
			}
			want := tc.kept + "# HELP ok h\n# TYPE ok gauge\nok 1\n"
			if out := scrape(t, r); out != want {
				t.Fatalf("exposition after the error:\n%s\nwant\n%s", out, want)
			}
		})
	}
}

func TestNilRegistry(t *testing.T) {
	var r *metrics.Registry
	c := r.Counter("c", "h")
	g := r.Gauge("g", "h")
	if c == nil || g == nil || r.Counter("c", "h") == c {
		t.Fatal("a nil registry must hand out working, unshared metrics")
	}
	c.Inc()
	c.Add(3)
	g.Set(1)
	g.Inc()
	g.Dec()
	g.Add(2)
	r.GaugeFunc("f", "h", func() float64 { return 1 })
	r.CounterFunc("f", "h", func() float64 { return 1 })
	r.BuildInfo("v1")
	if c.Value() != 4 || g.Value() != 3 || r.Err() != nil {
		t.Fatalf("counter %d gauge %d err %v", c.Value(), g.Value(), r.Err())
	}
	var b bytes.Buffer
	if n, err := r.WriteTo(&b); n != 0 || err != nil || b.Len() != 0 {
		t.Fatalf("nil WriteTo: %d %v %q", n, err, b.String())
	}
}

func TestShared(t *testing.T) {
	a := metrics.Shared("tokengate-test-a")
	if metrics.Shared("tokengate-test-a") != a || metrics.Shared("tokengate-test-b") == a {
		t.Fatal("Shared")
	}
	// Counts survive a rebuild: the new instance gets the same counter.
	a.Counter("reloads", "h", "router", "r1").Inc()
	metrics.Shared("tokengate-test-a").Counter("reloads", "h", "router", "r1").Inc()
	if v := a.Counter("reloads", "h", "router", "r1").Value(); v != 2 {
		t.Fatalf("value %d", v)
	}
}

// TestConcurrentCounting counts from many goroutines while scraping (run
// with -race natively).
func TestConcurrentCounting(t *testing.T) {
	r := metrics.New()
	c := r.Counter("c", "h", "k", "v")
	g := r.Gauge("g", "h")
	const workers, each = 8, 2000
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(id int) {
			defer wg.Done()
			mine := r.Counter("c", "h", "k", "v") // creating the series concurrently gives the same one
			for i := 0; i < each; i++ {
				mine.Inc()
				g.Add(1)
				g.Add(-1)
				if i%500 == 0 {
					var b bytes.Buffer
					if _, err := r.WriteTo(&b); err != nil {
						t.Error(err)
					}
				}
			}
		}(w)
	}
	wg.Wait()
	if c.Value() != workers*each || g.Value() != 0 {
		t.Fatalf("counter %d gauge %d", c.Value(), g.Value())
	}
	if !strings.Contains(scrape(t, r), `c_total{k="v"} `+strconv.Itoa(workers*each)+"\n") {
		t.Fatal(scrape(t, r))
	}
}

// TestNoAllocationPerCount: counting allocates nothing (natively; the
// interpreter allocates for any call).
func TestNoAllocationPerCount(t *testing.T) {
	if metrics.Interpreter() != "native" {
		t.Skip("allocation counts are the interpreter's under yaegi")
	}
	r := metrics.New()
	c := r.Counter("c", "h", "a", "b")
	g := r.Gauge("g", "h")
	if n := testing.AllocsPerRun(1000, func() { c.Inc(); c.Add(2); g.Set(3); g.Inc(); g.Add(-1) }); n != 0 {
		t.Fatalf("%v allocations per count", n)
	}
}

// expectedRuntime says how the test runs without asking the package: `go
// test` runs a compiled binary named *.test, `yaegi test` runs yaegi.
func expectedRuntime() string {
	if strings.HasSuffix(filepath.Base(os.Args[0]), ".test") {
		return "native"
	}
	return "yaegi"
}

func TestInterpreterDetection(t *testing.T) {
	want := expectedRuntime()
	if got := metrics.Interpreter(); got != want {
		t.Fatalf("Interpreter() = %q; the test runs %q (os.Args[0] = %q)", got, want, os.Args[0])
	}
	t.Logf("Interpreter() = %q, runtime.Version() = %q", metrics.Interpreter(), runtime.Version())
}

func TestBuildInfo(t *testing.T) {
	r := metrics.New()
	r.BuildInfo("v1.2.3")
	r.BuildInfo("v1.2.3") // again: the same series
	want := "# HELP tokengate_build_info "
	out := scrape(t, r)
	if !strings.HasPrefix(out, want) || strings.Count(out, "\n") != 3 {
		t.Fatalf("got\n%s", out)
	}
	line := `tokengate_build_info{goversion="` + runtime.Version() + `",interpreter="` + expectedRuntime() + `",version="v1.2.3"} 1` + "\n"
	if !strings.HasSuffix(out, "# TYPE tokengate_build_info gauge\n"+line) {
		t.Fatalf("got\n%s\nwant the line\n%s", out, line)
	}
}

type failingWriter struct{}

func (w failingWriter) Write(p []byte) (int, error) { return 0, errors.New("broken pipe") }

func TestWriteToError(t *testing.T) {
	r := exampleRegistry()
	if _, err := r.WriteTo(failingWriter{}); err == nil || err.Error() != "broken pipe" {
		t.Fatalf("err %v", err)
	}
}

func BenchmarkCounterInc(b *testing.B) {
	c := metrics.New().Counter("tokengate_bench", "h", "outcome", "allowed")
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		c.Inc()
	}
}

// BenchmarkCounterAdd1 is the cheap form under the interpreter: Add is the
// embedded atomic.Int64's compiled method.
func BenchmarkCounterAdd1(b *testing.B) {
	c := metrics.New().Counter("tokengate_bench", "h", "outcome", "allowed")
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		c.Add(1)
	}
}

func BenchmarkCounterIncParallel(b *testing.B) {
	c := metrics.New().Counter("tokengate_bench", "h", "outcome", "allowed")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			c.Inc()
		}
	})
}

func BenchmarkWriteTo(b *testing.B) {
	r := exampleRegistry()
	var buf bytes.Buffer
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		buf.Reset()
		if _, err := r.WriteTo(&buf); err != nil {
			b.Fatal(err)
		}
	}
}
