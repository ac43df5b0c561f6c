package tokengate

// Config is the middleware's configuration as Traefik passes it.
//
// Traefik decodes plugin options with mapstructure, matching option names to
// these Go field names case-insensitively (json tags are ignored there), so
// every field is named exactly like its option. Durations are strings such
// as "30m" or "4380h".
type Config struct {
	// BasePath is where the token service answers. Default "/token".
	BasePath string `json:"basePath,omitempty"`
	// Issuer is the "iss" claim put into tokens and required on verify.
	// Default "tokengate".
	Issuer string `json:"issuer,omitempty"`
	// Audience is the "aud" claim put into tokens and required on verify.
	// Default empty: no "aud" is issued or checked.
	Audience string `json:"audience,omitempty"`
	// AccessTokenLifetime is how long an access token lives. Default "30m".
	AccessTokenLifetime string `json:"accessTokenLifetime,omitempty"`
	// RefreshTokenLifetime is how long a refresh token lives. Default "4380h".
	RefreshTokenLifetime string `json:"refreshTokenLifetime,omitempty"`
	// CreateMaxLifetime caps the refreshExpiration of tokens minted at
	// <basePath>/create. Default "4380h".
	CreateMaxLifetime string `json:"createMaxLifetime,omitempty"`
	// CreateMaxAccessLifetime caps the expiration of access tokens minted
	// at <basePath>/create. Default empty: AccessTokenLifetime.
	CreateMaxAccessLifetime string `json:"createMaxAccessLifetime,omitempty"`
	// MaxBodyBytes bounds token-service request bodies. Default 65536.
	MaxBodyBytes int64 `json:"maxBodyBytes,omitempty"`
	// Keys is the key set: exactly one signing key and any number of
	// verify-only keys. Required.
	Keys []KeyConfig `json:"keys,omitempty"`
	// KeysFileCheckInterval is how often, at most, key files are checked for
	// changes. Default "5s".
	KeysFileCheckInterval string `json:"keysFileCheckInterval,omitempty"`
	// JWKSWellKnown also serves the JWK Set at /.well-known/jwks.json
	// (it is always served at <basePath>/jwks). Default false.
	JWKSWellKnown bool `json:"jwksWellKnown,omitempty"`
	// DeviceHiveSecret accepts tokens minted by a DeviceHive server: its
	// JWT_SECRET exactly as configured there (Base64 text, which DeviceHive
	// decodes into the HS256 key; at least 32 bytes once decoded). Default
	// empty: such tokens are rejected.
	DeviceHiveSecret string `json:"deviceHiveSecret,omitempty"`
	// DeviceHiveSecretFile reads the DeviceHive secret from a file instead.
	DeviceHiveSecretFile string `json:"deviceHiveSecretFile,omitempty"`
	// Users are the users configured inline.
	Users []UserConfig `json:"users,omitempty"`
	// UsersFile is a JSON file of users, re-read when it changes.
	UsersFile string `json:"usersFile,omitempty"`
	// UsersFileCheckInterval is how often, at most, the users file's
	// modification time is checked. Default "5s".
	UsersFileCheckInterval string `json:"usersFileCheckInterval,omitempty"`

	// Preset adds a built-in route table after Rules: "devicehive", or
	// empty for none. Default empty.
	Preset string `json:"preset,omitempty"`
	// Rules map requests to the DeviceHive action they need; the first
	// match wins, and Rules are tried before the preset's.
	Rules []RuleConfig `json:"rules,omitempty"`
	// DefaultAction is the action required on routes no rule matches;
	// empty or "deny" refuses them (403). Default "deny".
	DefaultAction string `json:"defaultAction,omitempty"`
	// PublicPaths are path templates that pass without a token.
	PublicPaths []string `json:"publicPaths,omitempty"`
	// AllowPreflight lets CORS preflight requests (OPTIONS with Origin and
	// Access-Control-Request-Method) through without a token. Default false.
	AllowPreflight bool `json:"allowPreflight,omitempty"`
	// Leeway is the clock skew allowed on exp, nbf and iat. Default "30s".
	Leeway string `json:"leeway,omitempty"`
	// MaxTokenBytes refuses longer tokens unparsed. Default 8192.
	MaxTokenBytes int `json:"maxTokenBytes,omitempty"`
	// TokenCookie also takes the token from this cookie. Default empty (off).
	// On unsafe methods (anything but GET, HEAD, OPTIONS) a cookie token is
	// accepted only with the CookieCSRFHeader header or an Origin listed in
	// AllowedOrigins, so that a cross-site form cannot use it.
	TokenCookie string `json:"tokenCookie,omitempty"`
	// CookieCSRFHeader is the header whose presence proves a request with a
	// cookie token was not a cross-site form (browsers send custom headers
	// cross-site only after a CORS preflight). Default "X-Requested-With".
	// A header a browser sends without a preflight (Origin, Content-Type,
	// Cookie, Sec-*...) proves nothing and is refused.
	CookieCSRFHeader string `json:"cookieCSRFHeader,omitempty"`
	// AllowedOrigins are origins (scheme://host[:port]) whose requests may
	// use a cookie token on unsafe methods without CookieCSRFHeader.
	// Default empty.
	AllowedOrigins []string `json:"allowedOrigins,omitempty"`
	// TokenQuery also takes the token from this query parameter, removed
	// before the request goes on, on WebSocket upgrade requests only.
	// Default empty (off).
	TokenQuery string `json:"tokenQuery,omitempty"`
	// TokenQueryAnyRequest accepts the query token on every request, not
	// only WebSocket upgrades. Traefik's access log records the query
	// before any middleware runs. Default false.
	TokenQueryAnyRequest bool `json:"tokenQueryAnyRequest,omitempty"`
	// KeepOverrideHeaders forwards the method and URL override headers
	// (X-HTTP-Method-Override, X-HTTP-Method, X-Method-Override,
	// X-Original-URL, X-Rewrite-URL), which otherwise are removed: a
	// backend that honours them would serve another method or path than the
	// one the rules checked. Default false.
	KeepOverrideHeaders bool `json:"keepOverrideHeaders,omitempty"`
	// Realm is the realm in WWW-Authenticate challenges. Default "tokengate".
	Realm string `json:"realm,omitempty"`
	// IdentityHeaders names the headers that carry the caller's identity to
	// the backend. Client-sent copies are always removed first.
	IdentityHeaders IdentityHeaders `json:"identityHeaders,omitempty"`
	// ForwardAuthorization keeps the Authorization header on requests
	// passed to the backend. Default true.
	ForwardAuthorization bool `json:"forwardAuthorization,omitempty"`
	// CacheTTL caps how long a verified token stays cached; an entry never
	// outlives its token's exp. Default "5m"; "0s" turns the cache off.
	CacheTTL string `json:"cacheTTL,omitempty"`
	// CacheMaxEntries bounds the verified-token cache. Default 10000.
	CacheMaxEntries int `json:"cacheMaxEntries,omitempty"`
	// DeviceDirectory resolves device ids for rules with deviceFrom.
	DeviceDirectory DeviceDirectory `json:"deviceDirectory,omitempty"`

	// RefreshRotation answers every refresh with a new refresh token too,
	// and spends the one presented: presenting a spent one again revokes
	// its session. Default false (DeviceHive and HarperDB clients do not
	// expect a new refresh token).
	RefreshRotation bool `json:"refreshRotation,omitempty"`
	// RefreshReuseGrace is how long after a rotation the immediately
	// previous refresh token may be presented again (a client that lost
	// the answer). Default "10s".
	RefreshReuseGrace string `json:"refreshReuseGrace,omitempty"`
	// TokensValidAfter (RFC 3339) refuses every token issued before that
	// instant, on every route and at refresh. Default empty.
	TokensValidAfter string `json:"tokensValidAfter,omitempty"`
	// Store keeps sessions and revocations. Default: in-process memory.
	Store StoreConfig `json:"store,omitempty"`
	// Throttle slows password guessing at the token endpoint.
	Throttle ThrottleConfig `json:"throttle,omitempty"`

	// AuditLog writes one JSON line per token event: "" (off, the
	// default), "stdout", or a file path (appended to, reopened when
	// rotated away).
	AuditLog string `json:"auditLog,omitempty"`
	// Metrics serves Prometheus metrics at <basePath>/metrics. Default
	// false.
	Metrics bool `json:"metrics,omitempty"`
	// MetricsAction is the action a token must hold to read the metrics.
	// Default "ManageConfiguration".
	MetricsAction string `json:"metricsAction,omitempty"`
	// MetricsAllowedNetworks are CIDRs of scrapers that read the metrics
	// without a token (the connection's peer). Default empty.
	MetricsAllowedNetworks []string `json:"metricsAllowedNetworks,omitempty"`
}

// ThrottleConfig is the login throttle: failures counted per login and
// per client address, in the state store.
type ThrottleConfig struct {
	// FreeAttempts is how many consecutive failures of one login are let
	// through before each further attempt must wait. Default 5.
	FreeAttempts int64 `json:"freeAttempts,omitempty"`
	// AddressFreeAttempts is the same for one client address. Default 50.
	AddressFreeAttempts int64 `json:"addressFreeAttempts,omitempty"`
	// MaxDelay bounds the wait, which doubles from 1s. Default "15m".
	MaxDelay string `json:"maxDelay,omitempty"`
	// ResetAfter forgets a count this long after its last failure.
	// Default "12h".
	ResetAfter string `json:"resetAfter,omitempty"`
	// ClientIPHeader (e.g. X-Forwarded-For) gives the client address when
	// the connection comes from TrustedProxies. Default empty: the peer.
	ClientIPHeader string `json:"clientIPHeader,omitempty"`
	// TrustedProxies are CIDRs whose ClientIPHeader is believed.
	TrustedProxies []string `json:"trustedProxies,omitempty"`
	// FailOpen lets logins through uncounted when the store cannot count.
	// Default false: 503.
	FailOpen bool `json:"failOpen,omitempty"`
}

// StoreConfig chooses and tunes the state store.
type StoreConfig struct {
	// Redis, when its endpoints are set, shares the state between Traefik
	// replicas. Default: off (memory).
	Redis RedisConfig `json:"redis,omitempty"`
	// SyncInterval is how often, at most, an instance reads the
	// revocations other replicas recorded. Default "2s".
	SyncInterval string `json:"syncInterval,omitempty"`
	// MaxStaleness is how long the guard keeps serving from its last
	// synced revocations while the store cannot be read. Default "30s".
	MaxStaleness string `json:"maxStaleness,omitempty"`
	// ServeStale keeps serving past MaxStaleness instead of refusing
	// tokens with 503. Default false (fail closed).
	ServeStale bool `json:"serveStale,omitempty"`
	// MaxEntries bounds the memory store (sessions and revocations).
	// Default 100000.
	MaxEntries int `json:"maxEntries,omitempty"`
}

// RedisConfig is a Redis server (or several, tried in order) for the
// state store, shaped like Traefik's own Redis options.
type RedisConfig struct {
	// Endpoints are host:port addresses. Default empty (no Redis).
	Endpoints []string `json:"endpoints,omitempty"`
	// Username and Password authenticate (AUTH). Default empty. In a
	// Kubernetes CRD, "urn:k8s:secret:<name>:<key>" reads a Secret.
	Username string `json:"username,omitempty"`
	Password string `json:"password,omitempty"`
	// Database is the database number (SELECT). Default 0.
	Database int `json:"database,omitempty"`
	// Timeout bounds dialing and each command. Default "500ms".
	Timeout string `json:"timeout,omitempty"`
	// TLS connects with TLS. Default off.
	TLS RedisTLS `json:"tls,omitempty"`
	// KeyPrefix starts every key tokengate writes. Default "tokengate:".
	KeyPrefix string `json:"keyPrefix,omitempty"`
}

// RedisTLS turns TLS on for Redis, optionally with a CA file.
type RedisTLS struct {
	Enabled bool `json:"enabled,omitempty"`
	// CA is a PEM file of the CAs to trust. Default: the system's.
	CA string `json:"ca,omitempty"`
	// ServerName overrides the name checked in the server's certificate.
	ServerName string `json:"serverName,omitempty"`
}

// DeviceDirectory tells the gate which network and device type a device
// belongs to: from a static list, a lookup on the backend, or both (the list
// first).
type DeviceDirectory struct {
	// Devices is a static list of devices.
	Devices []DeviceConfig `json:"devices,omitempty"`
	// LookupURL is fetched with GET for devices not in the list, with
	// {deviceId} replaced, e.g. http://deviceapi:8081/device/{deviceId}.
	// 200 gives the device, 404 an unknown device; anything else, or no
	// answer within Timeout, refuses the request with 503. Default empty.
	LookupURL string `json:"lookupURL,omitempty"`
	// NetworkField is the JSON field (dotted for nesting) holding the
	// network id in a lookup answer. Default "networkId".
	NetworkField string `json:"networkField,omitempty"`
	// DeviceTypeField likewise for the device type id. Default "deviceTypeId".
	DeviceTypeField string `json:"deviceTypeField,omitempty"`
	// LookupHeader and LookupHeaderValue are sent with each lookup, e.g.
	// Authorization: Bearer <service token>. Default: no header.
	LookupHeader      string `json:"lookupHeader,omitempty"`
	LookupHeaderValue string `json:"lookupHeaderValue,omitempty"`
	// Timeout bounds one lookup. Default "2s".
	Timeout string `json:"timeout,omitempty"`
	// CacheTTL is how long a found device is cached. Default "1m".
	CacheTTL string `json:"cacheTTL,omitempty"`
	// NegativeCacheTTL is how long an unknown device is cached. Default "10s".
	NegativeCacheTTL string `json:"negativeCacheTTL,omitempty"`
	// CacheMaxEntries bounds the lookup cache. Default 10000.
	CacheMaxEntries int `json:"cacheMaxEntries,omitempty"`
}

// DeviceConfig is one device of the static list.
type DeviceConfig struct {
	ID           string `json:"id,omitempty"`
	NetworkID    string `json:"networkId,omitempty"`
	DeviceTypeID string `json:"deviceTypeId,omitempty"`
}

// RuleConfig is one route rule.
type RuleConfig struct {
	// Methods the rule applies to; empty means every method.
	Methods []string `json:"methods,omitempty"`
	// Path is a template: literal segments, {name} or * for any one
	// segment, and a final ** for any rest, e.g. /device/{deviceId}/**.
	Path string `json:"path,omitempty"`
	// Action is the DeviceHive action required, by name or id.
	Action string `json:"action,omitempty"`
	// NetworkFrom binds a network id of the request to the token's
	// networks: "path:NAME" (a {NAME} of Path), "query:NAME" or
	// "header:NAME". The request passes only when the id is in the token's
	// list or the list holds "*"; a request without the value passes only
	// with "*". Default empty (no binding).
	NetworkFrom string `json:"networkFrom,omitempty"`
	// DeviceTypeFrom binds a device type id the same way.
	DeviceTypeFrom string `json:"deviceTypeFrom,omitempty"`
	// DeviceFrom binds a device id: its network and device type, from the
	// device directory, must both be in the token's scopes.
	DeviceFrom string `json:"deviceFrom,omitempty"`
}

// IdentityHeaders names the identity headers; an empty name leaves that
// header out. Client-sent copies of every name, default or configured, are
// removed, also when written with "_" for "-".
type IdentityHeaders struct {
	UserID      string `json:"userId,omitempty"`      // default X-Auth-User-Id
	Login       string `json:"login,omitempty"`       // default X-Auth-Login
	Role        string `json:"role,omitempty"`        // default X-Auth-Role
	Actions     string `json:"actions,omitempty"`     // default X-Auth-Actions
	Networks    string `json:"networks,omitempty"`    // default X-Auth-Networks
	DeviceTypes string `json:"deviceTypes,omitempty"` // default X-Auth-Device-Types
	// ActorID carries who minted the token at <basePath>/create (its "act"
	// claim); absent for tokens from a login.
	ActorID string `json:"actorId,omitempty"` // default X-Auth-Actor-Id
}

// KeyConfig is one signing or verify-only key.
type KeyConfig struct {
	// ID is the key's "kid". Required, unique in the key set.
	ID string `json:"id,omitempty"`
	// Algorithm is one of HS256, HS384, HS512, RS256, ES256, EdDSA.
	Algorithm string `json:"algorithm,omitempty"`
	// Secret is the HMAC secret (HS*): at least as many bytes as the hash
	// size (32 for HS256, 48 for HS384, 64 for HS512).
	Secret string `json:"secret,omitempty"`
	// SecretFile reads the HMAC secret from a file instead.
	SecretFile string `json:"secretFile,omitempty"`
	// PrivateKey is a PEM private key (RS256, ES256, EdDSA), inline.
	PrivateKey string `json:"privateKey,omitempty"`
	// PrivateKeyFile reads the PEM private key from a file instead.
	PrivateKeyFile string `json:"privateKeyFile,omitempty"`
	// PublicKey is a PEM public key, for verify-only asymmetric keys.
	PublicKey string `json:"publicKey,omitempty"`
	// PublicKeyFile reads the PEM public key from a file instead.
	PublicKeyFile string `json:"publicKeyFile,omitempty"`
	// VerifyOnly keys verify tokens but never sign. Default false.
	VerifyOnly bool `json:"verifyOnly,omitempty"`
}

// UserConfig is one user.
type UserConfig struct {
	// ID is the numeric user id ("sub" and payload "u"). Required, > 0.
	ID int64 `json:"id"`
	// Login is the name the user logs in with. Required, unique.
	Login string `json:"login"`
	// PasswordHash is a SHA-crypt hash ($6$... or $5$...), as made by
	// `openssl passwd -6`.
	PasswordHash string `json:"passwordHash"`
	// Role is "admin" (every action, network and device type) or "client".
	// Default "client".
	Role string `json:"role,omitempty"`
	// Status is "active", "locked" or "disabled". Default "active".
	Status string `json:"status,omitempty"`
	// TokensValidAfter (RFC 3339) refuses every token of this user issued
	// before that instant. Default empty.
	TokensValidAfter string `json:"tokensValidAfter,omitempty"`
	// Actions overrides the role's actions (DeviceHive names or ids):
	// absent, a client has the default client set; an empty list grants
	// no action.
	Actions []string `json:"actions,omitempty"`
	// NetworkIDs are the networks the user may reach; "*" means all.
	NetworkIDs []string `json:"networkIds,omitempty"`
	// DeviceTypeIDs are the device types the user may reach; "*" means all.
	DeviceTypeIDs []string `json:"deviceTypeIds,omitempty"`
}

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

// defaultIdentityHeaders are the default identity header names. A client
// copy of any of them is removed even when the configuration renames or
// drops that header, so that a backend still reading a default name never
// sees a value the gate did not set.
func defaultIdentityHeaders() IdentityHeaders {
	return IdentityHeaders{
		UserID:      "X-Auth-User-Id",
		Login:       "X-Auth-Login",
		Role:        "X-Auth-Role",
		Actions:     "X-Auth-Actions",
		Networks:    "X-Auth-Networks",
		DeviceTypes: "X-Auth-Device-Types",
		ActorID:     "X-Auth-Actor-Id",
	}
}
