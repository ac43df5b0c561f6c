// Package tokengate is a Traefik middleware that issues DeviceHive-style JWTs
// on its token paths and guards every other route with them.
//
// On the token paths (default /token, /token/refresh) it trades a login and
// password for an access and a refresh token, and a refresh token for a new
// access token, in three dialects: DeviceHive REST, DeviceHive messages and
// HarperDB operations.
//
// Traefik runs plugins in the Yaegi interpreter: New validates and
// precompiles everything, and ServeHTTP only looks things up.
package tokengate

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/tokengate/tokengate/audit"
	"github.com/tokengate/tokengate/directory"
	"github.com/tokengate/tokengate/metrics"
	"github.com/tokengate/tokengate/permissions"
	"github.com/tokengate/tokengate/tokens"
	"github.com/tokengate/tokengate/users"
)

// CreateConfig returns the configuration with every default filled in.
func CreateConfig() *Config {
	return &Config{
		BasePath:               "/token",
		Issuer:                 "tokengate",
		AccessTokenLifetime:    "30m",
		RefreshTokenLifetime:   "4380h",
		CreateMaxLifetime:      "4380h",
		CookieCSRFHeader:       "X-Requested-With",
		AllowedOrigins:         []string{},
		MaxBodyBytes:           64 << 10,
		Keys:                   []KeyConfig{},
		Users:                  []UserConfig{},
		UsersFileCheckInterval: "5s",
		KeysFileCheckInterval:  "5s",
		Rules:                  []RuleConfig{},
		PublicPaths:            []string{},
		Leeway:                 "30s",
		MaxTokenBytes:          8 << 10,
		Realm:                  "tokengate",
		IdentityHeaders:        defaultIdentityHeaders(),
		ForwardAuthorization:   true,
		CacheTTL:               "5m",
		CacheMaxEntries:        10000,
		RefreshReuseGrace:      "10s",
		MetricsAction:          "ManageConfiguration",
		MetricsAllowedNetworks: []string{},
		Throttle: ThrottleConfig{
			FreeAttempts: 5, AddressFreeAttempts: 50, MaxDelay: "15m", ResetAfter: "12h", TrustedProxies: []string{},
		},
		Store: StoreConfig{
			Redis:        RedisConfig{Endpoints: []string{}, Timeout: "500ms", KeyPrefix: "tokengate:"},
			SyncInterval: "2s",
			MaxStaleness: "30s",
			MaxEntries:   100000,
		},
		DeviceDirectory: DeviceDirectory{
			Devices:          []DeviceConfig{},
			NetworkField:     "networkId",
			DeviceTypeField:  "deviceTypeId",
			Timeout:          "2s",
			CacheTTL:         "1m",
			NegativeCacheTTL: "10s",
			CacheMaxEntries:  10000,
		},
	}
}

// gate is the middleware instance Traefik builds for one router.
type gate struct {
	next     http.Handler
	name     string
	basePath string
	maxBody  int64
	tokens   *tokens.Service
	// createMaxLifetime and createMaxAccess cap the refresh and access
	// tokens minted at <basePath>/create.
	createMaxLifetime time.Duration
	createMaxAccess   time.Duration
	jwksWellKnown     bool
	keysReload        bool            // key files are watched: cached tokens carry their key set
	keyRing           *tokens.KeyRing // its next check bounds memoised decisions
	users             *users.Store
	usersReload       bool  // a users file is watched: cached tokens carry its version
	validAfter        int64 // tokensValidAfter, Unix s: tokens issued before are refused

	// Sessions: the state store's view, rotation and revocation.
	view        *view
	rotation    bool
	reuseGrace  time.Duration
	maxLifetime time.Duration // the longest any token lives: revocations are kept that long
	throttle    *loginThrottle

	// Telemetry: the audit log (nil when off) and the metrics.
	audit           *audit.Log
	m               *gateMetrics
	metricsOn       bool
	telemetry       bool             // metricsOn or an audit log: token events are noted
	memoAllowed     *metrics.Counter // m.guard[fromMemo][0], for ServeHTTP
	metricsAction   permissions.Action
	metricsNetworks []netip.Prefix

	// The route guard.
	rules                *permissions.Table
	defaultAction        permissions.Action // -1: deny unmatched routes
	public               *permissions.Table // nil: no public paths
	publicExact          map[string]uint16  // public.Exact(): a path absent here is not public...
	publicPatterns       bool               // ...unless some public rule is a pattern
	allowPreflight       bool
	tokenCookie          string
	csrfHeader           string          // canonical; proves a cookie token is not cross-site
	allowedOrigins       map[string]bool // may use a cookie token without csrfHeader
	tokenQuery           string
	tokenQueryAnyRequest bool // else the query token is read on WebSocket upgrades only
	realm                string
	headers              []identityHeader
	headerNames          []string        // the headers' canonical names, for the hot path
	headerPlans          [2]headerPlan   // what a login's and a minted token set (headerValues)
	drop                 map[string]bool // canonical names removed from forwarded requests
	forwardAuthorization bool
	cache                *tokenCache
	cacheTTL             time.Duration
	memo                 *decisionMemo                   // nil when off
	memoMu               *sync.RWMutex                   // memo.mu, read by ServeHTTP
	memoRoutes           map[string]map[string]*decision // memo.routes, read by ServeHTTP
	devices              *directory.Directory
	staticDevices        map[string]directory.Device // devices.Static(), read by checkScope
	deviceTTL            time.Duration               // how long a looked-up device may be trusted
}

// New validates the configuration and builds the middleware. Any error names
// the option at fault, and Traefik then refuses to serve the router.
func New(_ context.Context, next http.Handler, config *Config, name string) (http.Handler, error) {
	g, err := newGate(next, config, name)
	if err != nil {
		return nil, fmt.Errorf("tokengate %q: %w", name, err)
	}
	return g, nil
}

func newGate(next http.Handler, config *Config, name string) (*gate, error) {
	if config == nil {
		return nil, errors.New("no configuration")
	}
	basePath, err := cleanBasePath(config.BasePath)
	if err != nil {
		return nil, fmt.Errorf("basePath: %w", err)
	}
	if config.MaxBodyBytes <= 0 {
		return nil, fmt.Errorf("maxBodyBytes: must be positive, got %d", config.MaxBodyBytes)
	}
	access, err := positiveDuration("accessTokenLifetime", config.AccessTokenLifetime)
	if err != nil {
		return nil, err
	}
	refresh, err := positiveDuration("refreshTokenLifetime", config.RefreshTokenLifetime)
	if err != nil {
		return nil, err
	}
	createMax, err := positiveDuration("createMaxLifetime", config.CreateMaxLifetime)
	if err != nil {
		return nil, err
	}
	checkEvery, err := positiveDuration("usersFileCheckInterval", config.UsersFileCheckInterval)
	if err != nil {
		return nil, err
	}
	keysEvery, err := positiveDuration("keysFileCheckInterval", config.KeysFileCheckInterval)
	if err != nil {
		return nil, err
	}
	keys, err := tokens.NewKeyRing(keySpecs(config.Keys), keysEvery)
	if err != nil {
		return nil, err
	}
	keys.Logf = logErrorf
	dhSecret, err := deviceHiveSecret(config)
	if err != nil {
		return nil, err
	}
	leeway, err := time.ParseDuration(config.Leeway)
	if err != nil || leeway < 0 {
		return nil, fmt.Errorf("leeway: %q is not a duration of 0s or more, such as 30s", config.Leeway)
	}
	if config.MaxTokenBytes <= 0 {
		return nil, fmt.Errorf("maxTokenBytes: must be positive, got %d", config.MaxTokenBytes)
	}
	service, err := tokens.NewService(tokens.Options{
		Keys:             keys,
		Issuer:           config.Issuer,
		Audience:         config.Audience,
		AccessLifetime:   access,
		RefreshLifetime:  refresh,
		Leeway:           leeway,
		MaxTokenBytes:    config.MaxTokenBytes,
		DeviceHiveSecret: dhSecret,
	})
	if err != nil {
		return nil, err
	}
	store, err := users.NewStore(userSpecs(config.Users), config.UsersFile, checkEvery)
	if err != nil {
		return nil, err
	}
	store.Logf = logErrorf
	store.Infof = logInfof
	g := &gate{
		next:                 next,
		name:                 name,
		basePath:             basePath,
		maxBody:              config.MaxBodyBytes,
		tokens:               service,
		users:                store,
		createMaxLifetime:    createMax,
		usersReload:          store.Reloads(),
		jwksWellKnown:        config.JWKSWellKnown,
		keysReload:           keys.Reloads(),
		keyRing:              keys,
		allowPreflight:       config.AllowPreflight,
		tokenCookie:          config.TokenCookie,
		tokenQuery:           config.TokenQuery,
		tokenQueryAnyRequest: config.TokenQueryAnyRequest,
		headers:              identityHeaders(config.IdentityHeaders),
		forwardAuthorization: config.ForwardAuthorization,
	}
	// The named steps, in order: each validates its options and builds
	// what the request path looks up.
	if err := g.compileGuard(config); err != nil {
		return nil, err
	}
	if err := g.compileCaches(config); err != nil {
		return nil, err
	}
	if err := g.compileSessions(config); err != nil {
		return nil, err
	}
	if err := g.compileTelemetry(config); err != nil {
		return nil, err
	}
	return g, nil
}

// compileGuard validates and compiles the route guard's options.
func (g *gate) compileGuard(config *Config) error {
	specs := make([]permissions.RuleSpec, 0, len(config.Rules))
	for _, rc := range config.Rules {
		specs = append(specs, permissions.RuleSpec{
			Methods: rc.Methods, Path: rc.Path, Action: rc.Action,
			NetworkFrom: rc.NetworkFrom, DeviceTypeFrom: rc.DeviceTypeFrom, DeviceFrom: rc.DeviceFrom,
		})
	}
	if config.Preset != "" {
		preset, err := permissions.Preset(config.Preset)
		if err != nil {
			return fmt.Errorf("preset: %w", err)
		}
		specs = append(specs, preset...)
	}
	rules, err := permissions.Compile(specs, "rules")
	if err != nil {
		return err
	}
	g.rules = rules
	if g.devices, err = deviceDirectory(config.DeviceDirectory); err != nil {
		return fmt.Errorf("deviceDirectory.%w", err)
	}
	g.deviceTTL = g.devices.TTL()
	g.staticDevices = g.devices.Static()
	if i := rules.FirstDeviceBinding(); i >= 0 && !g.devices.Enabled() {
		where := fmt.Sprintf("rules[%d].deviceFrom", i)
		if i >= len(config.Rules) {
			where = "preset " + config.Preset
		}
		return fmt.Errorf("%s: device routes need deviceDirectory.lookupURL or deviceDirectory.devices", where)
	}

	g.defaultAction = -1
	if config.DefaultAction != "" && config.DefaultAction != "deny" {
		a, err := permissions.ParseAction(config.DefaultAction)
		if err != nil {
			return fmt.Errorf("defaultAction: %w (or \"deny\")", err)
		}
		g.defaultAction = a
	}
	// The public paths and the preset's public routes; nil when none.
	public, err := permissions.CompilePublic(config.PublicPaths, specs[:len(config.Rules)], config.Preset)
	if err != nil {
		return err
	}
	g.public = public
	if public != nil {
		g.publicExact, g.publicPatterns = public.Exact()
	}
	if config.Realm == "" || strings.ContainsAny(config.Realm, "\"\\\r\n") {
		return fmt.Errorf("realm: %q must be non-empty, without quotes, backslashes or line breaks", config.Realm)
	}
	g.realm = config.Realm
	if err := g.compileTokenSources(config); err != nil {
		return err
	}
	g.drop = dropSet(g.headers, config.KeepOverrideHeaders)
	g.headerPlans = headerPlans(g.headers)
	seen := map[string]bool{"Authorization": true}
	for _, h := range g.headers {
		g.headerNames = append(g.headerNames, h.name)
		if !validToken(h.name) || seen[h.name] {
			return fmt.Errorf("identityHeaders: %q is not a valid, distinct header name", h.name)
		}
		seen[h.name] = true
	}
	return nil
}

// compileSessions validates the session options (and the lifetime of
// minted access tokens, which bounds revocations) and finds the state
// store's view, shared with the process's other instances of that store.
func (g *gate) compileSessions(config *Config) error {
	g.createMaxAccess = g.tokens.Lifetime(tokens.Access)
	if config.CreateMaxAccessLifetime != "" {
		d, err := positiveDuration("createMaxAccessLifetime", config.CreateMaxAccessLifetime)
		if err != nil {
			return err
		}
		g.createMaxAccess = d
	}
	g.rotation = config.RefreshRotation
	grace, err := time.ParseDuration(config.RefreshReuseGrace)
	if err != nil || grace < 0 {
		return fmt.Errorf("refreshReuseGrace: %q is not a duration of 0s or more, such as 10s", config.RefreshReuseGrace)
	}
	g.reuseGrace = grace
	if config.TokensValidAfter != "" {
		t, err := time.Parse(time.RFC3339, config.TokensValidAfter)
		if err != nil {
			return fmt.Errorf("tokensValidAfter: %q is not an RFC 3339 time such as 2026-12-01T00:00:00Z", config.TokensValidAfter)
		}
		g.validAfter = t.Unix()
	}
	g.maxLifetime = g.tokens.Lifetime(tokens.Refresh)
	for _, d := range []time.Duration{g.tokens.Lifetime(tokens.Access), g.createMaxLifetime, g.createMaxAccess} {
		if d > g.maxLifetime {
			g.maxLifetime = d
		}
	}
	settings, err := compileStore(config.Store, config.Issuer)
	if err != nil {
		return err
	}
	if g.view, err = viewFor(settings, g.maxLifetime); err != nil {
		return err
	}
	g.throttle, err = compileThrottle(config.Throttle, g.view)
	return err
}

// compileTokenSources validates where tokens are read besides the
// Authorization header: the cookie, with its CSRF defence, and the query.
func (g *gate) compileTokenSources(config *Config) error {
	if config.TokenCookie != "" && !validToken(config.TokenCookie) {
		return fmt.Errorf("tokenCookie: %q is not a valid cookie name", config.TokenCookie)
	}
	if config.CookieCSRFHeader != "" && !validToken(config.CookieCSRFHeader) {
		return fmt.Errorf("cookieCSRFHeader: %q is not a valid header name", config.CookieCSRFHeader)
	}
	if config.TokenCookie != "" && config.CookieCSRFHeader == "" && len(config.AllowedOrigins) == 0 {
		return errors.New("cookieCSRFHeader: required with tokenCookie unless allowedOrigins lists the origins that may use the cookie")
	}
	g.csrfHeader = http.CanonicalHeaderKey(config.CookieCSRFHeader)
	g.allowedOrigins = map[string]bool{}
	for i, o := range config.AllowedOrigins {
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Path != "" || u.RawQuery != "" || u.User != nil {
			return fmt.Errorf("allowedOrigins[%d]: %q is not an origin such as https://app.example.com", i, o)
		}
		g.allowedOrigins[o] = true
	}
	return nil
}

// compileCaches validates the cache options and builds the claims cache and
// the decision memo.
func (g *gate) compileCaches(config *Config) error {
	ttl, err := time.ParseDuration(config.CacheTTL)
	if err != nil || ttl < 0 {
		return fmt.Errorf("cacheTTL: %q is not a duration such as 5m (0s turns the cache off)", config.CacheTTL)
	}
	if config.CacheMaxEntries < 0 {
		return fmt.Errorf("cacheMaxEntries: must not be negative, got %d", config.CacheMaxEntries)
	}
	g.cache = newTokenCache(ttl, config.CacheMaxEntries)
	g.cacheTTL = ttl
	// Decisions are memoised only when the Authorization header is the one
	// token source: with a cookie or query token, a request must be checked
	// for a second, different token every time.
	if g.cache != nil && config.TokenCookie == "" && config.TokenQuery == "" {
		g.memo = newDecisionMemo(config.CacheMaxEntries)
	}
	// ServeHTTP reads the memo through these two fields (one selector less
	// per use); with the memo off they are an empty map nothing is added to.
	memo := g.memo
	if memo == nil {
		memo = &decisionMemo{mu: &sync.RWMutex{}, routes: map[string]map[string]*decision{}}
	}
	g.memoMu = memo.mu
	g.memoRoutes = memo.routes
	return nil
}

func deviceDirectory(cfg DeviceDirectory) (*directory.Directory, error) {
	static := make(map[string]directory.Device, len(cfg.Devices))
	for i, d := range cfg.Devices {
		if d.ID == "" {
			return nil, fmt.Errorf("devices[%d].id: required", i)
		}
		if _, dup := static[d.ID]; dup {
			return nil, fmt.Errorf("devices[%d].id: %q is listed twice", i, d.ID)
		}
		static[d.ID] = directory.Device{NetworkID: d.NetworkID, DeviceTypeID: d.DeviceTypeID}
	}
	opts := directory.Options{
		Static:          static,
		LookupURL:       cfg.LookupURL,
		NetworkField:    cfg.NetworkField,
		DeviceTypeField: cfg.DeviceTypeField,
		Header:          cfg.LookupHeader,
		HeaderValue:     cfg.LookupHeaderValue,
		MaxEntries:      cfg.CacheMaxEntries,
	}
	durations := []struct {
		field string
		value string
		dst   *time.Duration
	}{
		{"timeout", cfg.Timeout, &opts.Timeout},
		{"cacheTTL", cfg.CacheTTL, &opts.TTL},
		{"negativeCacheTTL", cfg.NegativeCacheTTL, &opts.NegativeTTL},
	}
	for _, d := range durations {
		v, err := time.ParseDuration(d.value)
		if err != nil || v < 0 {
			return nil, fmt.Errorf("%s: %q is not a duration such as 2s", d.field, d.value)
		}
		*d.dst = v
	}
	return directory.New(opts)
}

// validToken reports whether s is an RFC 7230 token, as header and cookie
// names must be.
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c <= ' ' || c >= 0x7f || strings.ContainsRune("()<>@,;:\\\"/[]?={}", c) {
			return false
		}
	}
	return true
}

// ServeHTTP answers the token paths itself and guards everything else.
//
// Its first step is the fast path: a request allowed before (same path,
// Authorization value and method) is forwarded after a lookup in the
// decision memo. It is written inline, with as few expressions as will do,
// because under Yaegi every call of an interpreted function allocates all
// of that function's temporaries, taken branch or not: the rest of the
// work is in serve.
func (g *gate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if a := r.Header["Authorization"]; len(a) == 1 {
		g.memoMu.RLock()
		d := g.memoRoutes[r.URL.Path][a[0]]
		g.memoMu.RUnlock()
		if d != nil && d.method == r.Method && time.Until(d.deadline) > 0 {
			// scrub, then forward's header loop, written out: two calls
			// less on the fast path.
			for name := range r.Header {
				if g.drop[name] {
					delete(r.Header, name)
				}
			}
			if !g.forwardAuthorization {
				delete(r.Header, "Authorization")
			}
			for i, name := range d.names {
				r.Header[name] = d.values[i]
			}
			if g.metricsOn {
				g.memoAllowed.Add(1)
			}
			g.next.ServeHTTP(w, r)
			return
		}
	}
	serve(g, w, r)
}

// serve handles what the decision memo does not.
func serve(g *gate, w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, g.basePath) {
		if route, ok := g.tokenRoute(r.URL.Path); ok {
			serveToken(g, w, r, route)
			return
		}
	}
	if g.jwksWellKnown && r.URL.Path == "/.well-known/jwks.json" {
		g.serveJWKS(w, r)
		return
	}
	guard(g, w, r)
}

// tokenRoute tells whether path is under the base path, and which endpoint
// it names: "" for the base path itself, else the rest after the slash.
func (g *gate) tokenRoute(path string) (string, bool) {
	if path == g.basePath {
		return "", true
	}
	if strings.HasPrefix(path, g.basePath) && path[len(g.basePath)] == '/' {
		return path[len(g.basePath)+1:], true
	}
	return "", false
}

func cleanBasePath(p string) (string, error) {
	if !strings.HasPrefix(p, "/") || len(p) < 2 {
		return "", fmt.Errorf("%q must start with / and name a path, such as /token", p)
	}
	if strings.HasSuffix(p, "/") || strings.Contains(p, "//") || strings.ContainsAny(p, "?#*{} ") {
		return "", fmt.Errorf("%q must be a plain path without a trailing slash, such as /token", p)
	}
	return p, nil
}

func positiveDuration(field, value string) (time.Duration, error) {
	d, err := time.ParseDuration(value)
	if err != nil {
		return 0, fmt.Errorf("%s: %q is not a duration such as 30m or 4380h", field, value)
	}
	if d < time.Second {
		return 0, fmt.Errorf("%s: %q must be at least 1s", field, value)
	}
	return d, nil
}

func keySpecs(configs []KeyConfig) []tokens.KeySpec {
	specs := make([]tokens.KeySpec, 0, len(configs))
	for _, kc := range configs {
		specs = append(specs, tokens.KeySpec{
			ID:             kc.ID,
			Algorithm:      kc.Algorithm,
			Secret:         kc.Secret,
			SecretFile:     kc.SecretFile,
			PrivateKey:     kc.PrivateKey,
			PrivateKeyFile: kc.PrivateKeyFile,
			PublicKey:      kc.PublicKey,
			PublicKeyFile:  kc.PublicKeyFile,
			VerifyOnly:     kc.VerifyOnly,
		})
	}
	return specs
}

// deviceHiveSecret returns the HMAC key of DeviceHive-minted tokens, or nil
// when they are not accepted.
func deviceHiveSecret(config *Config) ([]byte, error) {
	secret := config.DeviceHiveSecret
	switch {
	case secret != "" && config.DeviceHiveSecretFile != "":
		return nil, errors.New("deviceHiveSecret and deviceHiveSecretFile: give one, not both")
	case config.DeviceHiveSecretFile != "":
		b, err := os.ReadFile(config.DeviceHiveSecretFile)
		if err != nil {
			return nil, fmt.Errorf("deviceHiveSecretFile: %w", err)
		}
		secret = strings.TrimRight(string(b), "\r\n")
	case secret == "":
		return nil, nil
	}
	// DeviceHive signs with JJWT's signWith(HS256, String), which takes the
	// string as Base64: the HMAC key is the decoded JWT_SECRET.
	key, err := base64.StdEncoding.DecodeString(secret)
	if err != nil {
		key, err = base64.RawStdEncoding.DecodeString(secret)
	}
	if err != nil {
		return nil, errors.New("deviceHiveSecret: must be DeviceHive's JWT_SECRET as configured there (Base64 text)")
	}
	if len(key) < 32 {
		return nil, fmt.Errorf("deviceHiveSecret: HS256 needs a key of at least 32 bytes, this one decodes to %d", len(key))
	}
	return key, nil
}

func userSpecs(configs []UserConfig) []users.Spec {
	specs := make([]users.Spec, 0, len(configs))
	for _, uc := range configs {
		specs = append(specs, users.Spec{
			ID:               uc.ID,
			Login:            uc.Login,
			PasswordHash:     uc.PasswordHash,
			Role:             uc.Role,
			Status:           uc.Status,
			TokensValidAfter: uc.TokensValidAfter,
			Actions:          uc.Actions,
			NetworkIDs:       uc.NetworkIDs,
			DeviceTypeIDs:    uc.DeviceTypeIDs,
		})
	}
	return specs
}
