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
	// MaxBodyBytes bounds token-service request bodies. Default 65536.
	MaxBodyBytes int64 `json:"maxBodyBytes,omitempty"`
	// Keys is the key set: exactly one signing key and any number of
	// verify-only keys. Required.
	Keys []KeyConfig `json:"keys,omitempty"`
	// Users are the users configured inline.
	Users []UserConfig `json:"users,omitempty"`
	// UsersFile is a JSON file of users, re-read when it changes.
	UsersFile string `json:"usersFile,omitempty"`
	// UsersFileCheckInterval is how often, at most, the users file's
	// modification time is checked. Default "5s".
	UsersFileCheckInterval string `json:"usersFileCheckInterval,omitempty"`
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
	// Actions overrides the role's actions (DeviceHive names or ids).
	Actions []string `json:"actions,omitempty"`
	// NetworkIDs are the networks the user may reach; "*" means all.
	NetworkIDs []string `json:"networkIds,omitempty"`
	// DeviceTypeIDs are the device types the user may reach; "*" means all.
	DeviceTypeIDs []string `json:"deviceTypeIds,omitempty"`
}
