package tokengate

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tokengate/tokengate/directory"
	"github.com/tokengate/tokengate/permissions"
	"github.com/tokengate/tokengate/tokens"
	"github.com/tokengate/tokengate/users"
)

// newGate builds the gate of config: the named steps below, in order, each
// validate their options and build what the request path looks up.
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
	g := &gate{
		next:                 next,
		name:                 name,
		now:                  time.Now,
		until:                time.Until,
		basePath:             basePath,
		maxBody:              config.MaxBodyBytes,
		jwksWellKnown:        config.JWKSWellKnown,
		allowPreflight:       config.AllowPreflight,
		tokenCookie:          config.TokenCookie,
		tokenQuery:           config.TokenQuery,
		tokenQueryAnyRequest: config.TokenQueryAnyRequest,
		headers:              identityHeaders(config.IdentityHeaders),
		forwardAuthorization: config.ForwardAuthorization,
	}
	steps := []func(*Config) error{
		g.compileTokens, g.compileUsers, g.compileGuard, g.compileCaches, g.compileSessions, g.compileTelemetry,
	}
	for _, step := range steps {
		if err := step(config); err != nil {
			return nil, err
		}
	}
	return g, nil
}

// compileTokens validates the token options and builds the key ring and
// the token service.
func (g *gate) compileTokens(config *Config) error {
	durations := []struct {
		field, value string
		dst          *time.Duration
	}{
		{"accessTokenLifetime", config.AccessTokenLifetime, &g.accessLifetime},
		{"refreshTokenLifetime", config.RefreshTokenLifetime, &g.refreshLifetime},
		{"createMaxLifetime", config.CreateMaxLifetime, &g.createMaxLifetime},
		{"keysFileCheckInterval", config.KeysFileCheckInterval, &g.keysEvery},
	}
	for _, d := range durations {
		v, err := positiveDuration(d.field, d.value)
		if err != nil {
			return err
		}
		*d.dst = v
	}
	keys, err := tokens.NewKeyRing(keySpecs(config.Keys), g.keysEvery)
	if err != nil {
		return err
	}
	keys.Logf = logErrorf
	dhKey, err := tokens.DeviceHiveKey(config.DeviceHiveSecret, config.DeviceHiveSecretFile)
	if err != nil {
		return err
	}
	leeway, err := time.ParseDuration(config.Leeway)
	if err != nil || leeway < 0 {
		return fmt.Errorf("leeway: %q is not a duration of 0s or more, such as 30s", config.Leeway)
	}
	g.sessionMargin = int64((leeway + time.Second - 1) / time.Second)
	if config.MaxTokenBytes <= 0 {
		return fmt.Errorf("maxTokenBytes: must be positive, got %d", config.MaxTokenBytes)
	}
	g.tokens, err = tokens.NewService(tokens.Options{
		Keys:             keys,
		Issuer:           config.Issuer,
		Audience:         config.Audience,
		AccessLifetime:   g.accessLifetime,
		RefreshLifetime:  g.refreshLifetime,
		Leeway:           leeway,
		MaxTokenBytes:    config.MaxTokenBytes,
		Now:              g.now,
		DeviceHiveSecret: dhKey,
	})
	if err != nil {
		return err
	}
	g.keyRing = keys
	g.keysReload = keys.Reloads()
	return nil
}

// compileUsers validates the users and builds their store.
func (g *gate) compileUsers(config *Config) error {
	every, err := positiveDuration("usersFileCheckInterval", config.UsersFileCheckInterval)
	if err != nil {
		return err
	}
	store, err := users.NewStore(userSpecs(config.Users), config.UsersFile, every)
	if err != nil {
		return err
	}
	store.Logf = logErrorf
	store.Infof = logInfof
	g.users = store
	g.usersReload = store.Reloads()
	return nil
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
	g.boundSpellings = boundSpellings(specs)
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
	g.unlistedMayPass = g.allowPreflight || g.publicPatterns
	if config.Realm == "" || strings.ContainsAny(config.Realm, "\"\\\r\n") {
		return fmt.Errorf("realm: %q must be non-empty, without quotes, backslashes or line breaks", config.Realm)
	}
	g.realm = config.Realm
	if err := g.compileTokenSources(config); err != nil {
		return err
	}
	g.drop = dropSet(g.headers, config.KeepOverrideHeaders)
	g.loginPlan, g.mintPlan = headerPlans(g.headers)
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

// boundSpellings maps the canonical name of each header a rule binds to
// its other spellings with "_" for "-" (canonical), which boundValue
// refuses. specs are valid: permissions.Compile read them.
func boundSpellings(specs []permissions.RuleSpec) map[string][]string {
	out := map[string][]string{}
	for _, spec := range specs {
		for _, from := range []string{spec.NetworkFrom, spec.DeviceTypeFrom, spec.DeviceFrom} {
			name, isHeader := strings.CutPrefix(from, permissions.BindHeader+":")
			if !isHeader {
				continue
			}
			name, _, _ = strings.Cut(name, ",")
			name = http.CanonicalHeaderKey(strings.TrimSpace(name))
			var others []string
			for _, spelling := range underscoreSpellings(strings.ReplaceAll(name, "_", "-")) {
				if spelling = http.CanonicalHeaderKey(spelling); spelling != name {
					others = append(others, spelling)
				}
			}
			out[name] = others
		}
	}
	return out
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
	// A token is accepted up to the leeway past its exp: so long must its
	// revocation last.
	g.maxLifetime += time.Duration(g.sessionMargin) * time.Second
	settings, err := compileStore(config.Store, config.Issuer)
	if err != nil {
		return err
	}
	if g.view, err = viewFor(settings, g.maxLifetime); err != nil {
		return err
	}
	g.throttle, err = compileThrottle(config.Throttle, g.view, g.now)
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
	if config.CookieCSRFHeader != "" && sentWithoutPreflight(config.CookieCSRFHeader) {
		return fmt.Errorf("cookieCSRFHeader: %q proves nothing: a browser sends it cross-site without a CORS preflight "+
			"(or sets it itself); name a header of your own such as X-Requested-With", config.CookieCSRFHeader)
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

// sentWithoutPreflight reports whether a browser may send the header named
// on a cross-site request without a CORS preflight, so that its presence
// cannot prove the request was not a cross-site form: the CORS-safelisted
// request headers, the forbidden request headers a browser sets itself
// (Fetch standard), any Sec- or Proxy- header, and Authorization (sent with
// credentials the browser has cached).
func sentWithoutPreflight(name string) bool {
	lower := strings.ToLower(name)
	if strings.HasPrefix(lower, "sec-") || strings.HasPrefix(lower, "proxy-") {
		return true
	}
	return map[string]bool{
		// CORS-safelisted request headers.
		"accept": true, "accept-language": true, "content-language": true, "content-type": true, "range": true,
		// Forbidden request header names.
		"accept-charset": true, "accept-encoding": true, "access-control-request-headers": true,
		"access-control-request-method": true, "connection": true, "content-length": true, "cookie": true,
		"date": true, "dnt": true, "expect": true, "host": true, "keep-alive": true, "origin": true,
		"referer": true, "set-cookie": true, "te": true, "trailer": true, "transfer-encoding": true,
		"upgrade": true, "via": true,
		"authorization": true,
	}[lower]
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
	// per use). Without a memo, New returns the uncached or unmemoised
	// handler, whose ServeHTTP does not read them.
	if g.memo != nil {
		g.memoMu = g.memo.mu
		g.memoRoutes = g.memo.routes
	}
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
