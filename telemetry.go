package tokengate

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/tokengate/tokengate/audit"
	"github.com/tokengate/tokengate/metrics"
	"github.com/tokengate/tokengate/permissions"
)

// version is tokengate's version, in tokengate_build_info.
const version = "dev"

// The guard's outcomes and where a decision was answered, as metric labels
// and indexes of gateMetrics.guard.
var (
	guardOutcomes = []string{"allowed", "400", "401", "403", "404", "503"}
	guardSources  = []string{"memo", "cache", "verify"}
)

const (
	fromMemo = iota
	fromCache
	fromVerify
)

// gateMetrics are the counters an instance moves. Every instance of the
// process counts into one shared registry (series without a router label
// sum over routers); with metrics off they count into nothing.
type gateMetrics struct {
	reg       *metrics.Registry
	guard     [3][6]*metrics.Counter // [source][outcome]
	tokens    map[string]*metrics.Counter
	throttled *metrics.Counter
	revoked   *metrics.Counter
	reuse     *metrics.Counter
}

// The token endpoint series: endpoint, dialect, outcome.
var (
	tokenEndpoints = []string{"login", routeRefresh, routeCreate, routeRevoke}
	tokenDialects  = []string{"rest", "message", "harperdb"}
	tokenOutcomes  = []string{"success", "failure", "throttled", audit.OutcomeError}
)

// compileTelemetry sets up the audit log and the metrics.
func (g *gate) compileTelemetry(config *Config) error {
	log, err := audit.Shared(config.AuditLog)
	if err != nil {
		return err
	}
	if log != nil {
		log.SetLogf(logErrorf)
		log.SetInfof(logErrorf)
	}
	g.audit = log
	g.telemetry = log != nil || config.Metrics
	g.keyRing.OnReload = g.keysReloaded
	g.users.OnReload = g.usersReloaded

	g.metricsOn = config.Metrics
	var reg *metrics.Registry
	if config.Metrics {
		if reg, err = g.compileMetricsAccess(config); err != nil {
			return err
		}
	}
	g.m = newGateMetrics(reg, g)
	g.memoAllowed = g.m.guard[fromMemo][0]
	return reg.Err()
}

// compileMetricsAccess validates who may read <basePath>/metrics.
func (g *gate) compileMetricsAccess(config *Config) (*metrics.Registry, error) {
	a, err := permissions.ParseAction(config.MetricsAction)
	if err != nil {
		return nil, fmt.Errorf("metricsAction: %w", err)
	}
	g.metricsAction = a
	for i, cidr := range config.MetricsAllowedNetworks {
		p, err := netip.ParsePrefix(cidr)
		if err != nil {
			return nil, fmt.Errorf("metricsAllowedNetworks[%d]: %q is not a CIDR such as 10.0.0.0/8", i, cidr)
		}
		g.metricsNetworks = append(g.metricsNetworks, p.Masked())
	}
	return metrics.Shared("tokengate"), nil
}

func newGateMetrics(reg *metrics.Registry, g *gate) *gateMetrics {
	m := &gateMetrics{reg: reg, tokens: map[string]*metrics.Counter{}}
	for s, source := range guardSources {
		for o, outcome := range guardOutcomes {
			m.guard[s][o] = reg.Counter("tokengate_guard_decisions",
				"Route guard decisions by outcome (allowed or the refusal's status) and by where they were answered: "+
					"the decision memo, the verified-token cache, or a full verification.",
				"outcome", outcome, "answered_by", source)
		}
	}
	for _, e := range tokenEndpoints {
		for _, d := range tokenDialects {
			for _, o := range tokenOutcomes {
				m.tokens[e+"/"+d+"/"+o] = reg.Counter("tokengate_token_requests",
					"Token endpoint requests by endpoint, dialect and outcome (throttled: 429; error: 5xx).",
					"endpoint", e, "dialect", d, "outcome", o)
			}
		}
	}
	m.throttled = reg.Counter("tokengate_logins_throttled", "Login attempts refused by the throttle (429).")
	m.revoked = reg.Counter("tokengate_sessions_revoked", "Sessions and users' sessions revoked, by /token/revoke or reuse detection.")
	m.reuse = reg.Counter("tokengate_refresh_reuse_detected", "Spent refresh tokens presented again (their sessions revoked).")
	if reg == nil {
		return m
	}
	router := []string{"router", g.name}
	reg.GaugeFunc("tokengate_token_cache_entries", "Verified tokens in the claims cache, expired ones included.",
		func() float64 { return float64(g.cache.len()) }, router...)
	reg.GaugeFunc("tokengate_decision_memo_entries", "Allowed request lines in the decision memo.",
		func() float64 { return float64(g.memo.len()) }, router...)
	reg.CounterFunc("tokengate_directory_lookups", "Device lookups sent to the backend.",
		func() float64 { n, _ := g.devices.Stats(); return float64(n) }, router...)
	reg.CounterFunc("tokengate_directory_lookup_failures", "Device lookups that got no usable answer (503 to the client).",
		func() float64 { _, n := g.devices.Stats(); return float64(n) }, router...)
	v := g.view
	reg.CounterFunc("tokengate_store_errors", "Operations the session store failed (unreachable, timeout).",
		func() float64 { return float64(v.errorCount()) })
	reg.GaugeFunc("tokengate_store_up", "1 while the session store answers, 0 since it was found unreachable.",
		func() float64 { return v.upValue() })
	log := g.audit
	reg.CounterFunc("tokengate_audit_write_failures", "Audit lines that could not be written (and failed reopens).",
		func() float64 { return float64(log.Failures()) })
	reg.BuildInfo(version)
	return m
}

// countGuard counts a guard decision answered from source with status
// (200 for allowed).
func (g *gate) countGuard(source, status int) {
	o := 0
	switch status {
	case http.StatusBadRequest:
		o = 1
	case http.StatusUnauthorized:
		o = 2
	case http.StatusForbidden:
		o = 3
	case http.StatusNotFound:
		o = 4
	case http.StatusServiceUnavailable:
		o = 5
	}
	g.m.guard[source][o].Add(1)
}

// countToken counts a token endpoint request by its outcome's status.
func (g *gate) countToken(endpoint, dialect string, status int) {
	outcome := "success"
	switch {
	case status == http.StatusTooManyRequests:
		outcome = "throttled"
	case status >= http.StatusInternalServerError:
		outcome = audit.OutcomeError
	case status >= http.StatusBadRequest:
		outcome = "failure"
	}
	if c := g.m.tokens[endpoint+"/"+dialect+"/"+outcome]; c != nil {
		c.Add(1)
	}
}

// serveMetrics answers <basePath>/metrics: the Prometheus text format, to
// a client of metricsAllowedNetworks or a token holding metricsAction.
func (g *gate) serveMetrics(w http.ResponseWriter, r *http.Request) {
	if !g.metricsOn {
		writeJSON(w, http.StatusNotFound, restError(http.StatusNotFound, "no such token endpoint"))
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeJSON(w, http.StatusMethodNotAllowed, restError(http.StatusMethodNotAllowed, "use GET"))
		return
	}
	if !g.metricsPeer(r) {
		token, refusal := requestToken(g, r)
		if refusal != nil {
			refuseRequest(g, w, uncounted, refusal)
			return
		}
		id, _, err := identify(g, token)
		if err != nil {
			refuseToken(g, w, uncounted, err)
			return
		}
		if !permissions.Allows(id.claims.Actions, g.metricsAction) {
			deny(w, http.StatusForbidden, "Access is denied")
			return
		}
	}
	var buf bytes.Buffer
	if _, err := g.m.reg.WriteTo(&buf); err != nil {
		status, msg := statusOf(err)
		writeJSON(w, status, restError(status, msg))
		return
	}
	w.Header().Set("Content-Type", metrics.ContentType)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		_, _ = w.Write(buf.Bytes())
	}
}

// metricsPeer reports whether the connection's peer lies in
// metricsAllowedNetworks (the peer itself: no forwarded header is read).
func (g *gate) metricsPeer(r *http.Request) bool {
	if len(g.metricsNetworks) == 0 {
		return false
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	addr = addr.Unmap()
	for _, p := range g.metricsNetworks {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// record writes an audit line (nothing when the audit log is off).
func (g *gate) record(e audit.Event) {
	if g.audit == nil {
		return
	}
	e.Router = g.name
	g.audit.WriteAt(e, g.now().UnixNano()/int64(time.Millisecond))
}

func (g *gate) keysReloaded(keys int) {
	g.record(audit.Event{Event: audit.EventKeyReload, Outcome: audit.OutcomeSuccess, Count: int64(keys)})
}

func (g *gate) usersReloaded(users int) {
	g.record(audit.Event{Event: audit.EventUsersReload, Outcome: audit.OutcomeSuccess, Count: int64(users)})
}
