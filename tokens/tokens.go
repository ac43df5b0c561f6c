// Package tokens signs and verifies tokengate's JWTs.
//
// A token carries the registered claims (iss, sub, aud, iat, exp, jti), a
// token_type claim ("access" or "refresh") and DeviceHive's own "payload"
// object {"u","a","n","dt","e","t"}, so DeviceHive-aware services can read
// it. Access and refresh tokens never stand in for each other: Verify takes
// the type it expects.
//
// Claims are written from, and read back into, a plain struct (wire.go);
// a payload in any other form is read as a map. All times are int64 Unix
// values, and the time checks are done here rather than by the jwt library.
// Yaegi: see CONTRIBUTING.md, traps (golang-jwt).
package tokens

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/tokengate/tokengate/permissions"
)

// Type tells access and refresh tokens apart. Its values are DeviceHive's
// payload "t".
type Type int

// The two token types.
const (
	Refresh Type = 0
	Access  Type = 1
)

// String returns "access" or "refresh", the token_type claim's value.
func (t Type) String() string {
	if t == Access {
		return typeNames[Access]
	}
	return typeNames[Refresh]
}

// typeNames are the token_type claim's values, indexed by Type: the hot
// paths index it rather than call String (CONTRIBUTING.md, the cost model).
var typeNames = [2]string{Refresh: "refresh", Access: "access"}

// Errors returned by Verify. Their texts are safe to show to clients.
var (
	ErrMissing       = errors.New("token is missing")
	ErrTooLarge      = errors.New("token is too large")
	ErrMalformed     = errors.New("token is malformed")
	ErrUnknownKey    = errors.New("token is signed with an unknown key")
	ErrAlgorithm     = errors.New("token algorithm is not allowed")
	ErrSignature     = errors.New("token signature is invalid")
	ErrExpired       = errors.New("token has expired")
	ErrNotYetValid   = errors.New("token is not valid yet")
	ErrIssuer        = errors.New("token issuer is not accepted")
	ErrAudience      = errors.New("token audience is not accepted")
	ErrWrongType     = errors.New("token is of the wrong type")
	ErrInvalidClaims = errors.New("token claims are invalid")
)

// Claims is what a token says, copied out of the JWT by hand.
type Claims struct {
	Type          Type
	UserID        int64
	Login         string
	Role          string
	Actions       []permissions.Action
	NetworkIDs    []string // "*" means all
	DeviceTypeIDs []string // "*" means all
	IssuedAt      int64    // Unix seconds
	ExpiresAt     int64    // Unix seconds
	ID            string   // jti
	// SessionID ("sid") is shared by the tokens of one login or
	// /token/create and every token refreshed from them; "" for tokens
	// issued before sessions existed and DeviceHive's.
	SessionID string
	// ActorID is the user who minted the token at <basePath>/create (the
	// RFC 8693 "act" claim's subject); 0 for a token from a login.
	ActorID int64
	// FromDeviceHive marks a token minted by a DeviceHive server, or issued
	// here in exchange for one (claim "src": "devicehive").
	FromDeviceHive bool
}

// Options configures a Service.
type Options struct {
	Keys            KeySource
	Issuer          string        // "iss"; required on verify when set
	Audience        string        // "aud"; issued and required when set
	AccessLifetime  time.Duration // default lifetime of access tokens
	RefreshLifetime time.Duration // default lifetime of refresh tokens
	Leeway          time.Duration // clock skew allowed on exp, nbf and iat
	MaxTokenBytes   int           // longer tokens are refused unparsed; 0 = no limit
	Now             func() time.Time
	// DeviceHiveSecret, when set, also accepts tokens minted by a DeviceHive
	// server with this HS256 JWT_SECRET: no kid, claims only in "payload",
	// expiry "e" in epoch milliseconds. Off (nil) by default.
	DeviceHiveSecret []byte
}

// Service issues and verifies tokens. It is safe for concurrent use.
type Service struct {
	opts Options
	// static is the key set when it never changes (a *KeySet, or a
	// KeyRing without files): Keys returns it without the interface call
	// (CONTRIBUTING.md, the cost model).
	static *KeySet
	// deviceHive verifies DeviceHive's kid-less HS256 tokens; nil when
	// they are not accepted.
	deviceHive *Key
	// leeway is opts.Leeway in whole seconds, as readClaims compares.
	leeway int64
	// maxBytes is opts.MaxTokenBytes, or the largest int for no limit.
	maxBytes int
	// The options the request path and the token service read, as fields
	// of their own: under Yaegi, s.opts.Issuer first copies out the whole
	// Options struct (CONTRIBUTING.md, the cost model).
	keys                          KeySource
	issuer, audience              string
	now                           func() time.Time
	accessSeconds, refreshSeconds int64 // the lifetimes, whole seconds
}

// NewService checks the options and precompiles the parser.
func NewService(opts Options) (*Service, error) {
	if opts.Keys == nil {
		return nil, errors.New("keys: required")
	}
	if opts.AccessLifetime <= 0 || opts.RefreshLifetime <= 0 {
		return nil, errors.New("token lifetimes must be positive")
	}
	if opts.Leeway < 0 {
		return nil, errors.New("leeway must not be negative")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.DeviceHiveSecret != nil && len(opts.DeviceHiveSecret) < 32 {
		return nil, fmt.Errorf("deviceHiveSecret: HS256 needs a key of at least 32 bytes, this one decodes to %d", len(opts.DeviceHiveSecret))
	}
	s := &Service{opts: opts, leeway: int64(opts.Leeway / time.Second), maxBytes: opts.MaxTokenBytes,
		keys: opts.Keys, issuer: opts.Issuer, audience: opts.Audience, now: opts.Now,
		accessSeconds: int64(opts.AccessLifetime / time.Second), refreshSeconds: int64(opts.RefreshLifetime / time.Second)}
	if s.maxBytes <= 0 {
		s.maxBytes = math.MaxInt
	}
	if opts.DeviceHiveSecret != nil {
		s.deviceHive = &Key{ID: "devicehive", Algorithm: "HS256", VerifyOnly: true,
			method: jwt.SigningMethodHS256, verifyKey: opts.DeviceHiveSecret, mac: sha256.New, macKey: opts.DeviceHiveSecret}
	}
	switch keys := opts.Keys.(type) {
	case *KeySet:
		s.static = keys
	case *KeyRing:
		if !keys.Reloads() {
			s.static = keys.Current()
		}
	}
	return s, nil
}

// SetClock makes the service read the time from now instead of the
// Options' clock. It exists for tests: call it before the service is used.
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// Lifetime returns the default lifetime of a token type.
func (s *Service) Lifetime(t Type) time.Duration {
	if t == Access {
		return s.opts.AccessLifetime
	}
	return s.opts.RefreshLifetime
}

// Issue signs a token for c. When c.ExpiresAt is 0 the type's default
// lifetime applies. IssuedAt and ID are always set here. It returns the
// token and the claims as issued. The token service's paths call Sign.
func (s *Service) Issue(c Claims) (string, Claims, error) {
	token, err := Sign(s, &c)
	if err != nil {
		return "", Claims{}, err
	}
	return token, c, nil
}

// Sign is Issue for the token service: a function that completes *c as
// issued (CONTRIBUTING.md, the cost model).
func Sign(s *Service, c *Claims) (string, error) {
	claims, err := prepare(s, c)
	if err != nil {
		return "", err
	}
	return signWith(s, claims)
}

// SignPair signs an access token for *access and a refresh token for
// *refresh, which must carry the same claims but their type and expiry,
// completing both as issued. The claims are written out once for both.
func SignPair(s *Service, access, refresh *Claims) (string, string, error) {
	claims, err := prepare(s, access)
	if err != nil {
		return "", "", err
	}
	accessToken, err := signWith(s, claims)
	if err != nil {
		return "", "", err
	}
	id, err := NewID()
	if err != nil {
		return "", "", err
	}
	if refresh.ExpiresAt == 0 {
		refresh.ExpiresAt = access.IssuedAt + s.refreshSeconds
	}
	refresh.Type = Refresh
	refresh.IssuedAt = access.IssuedAt
	refresh.ID = id
	refresh.Actions = access.Actions
	refresh.NetworkIDs = access.NetworkIDs
	refresh.DeviceTypeIDs = access.DeviceTypeIDs
	claims.Exp = refresh.ExpiresAt
	claims.Jti = id
	claims.TokenType = typeNames[Refresh]
	claims.Payload.E = refresh.ExpiresAt * 1000
	claims.Payload.T = int64(Refresh)
	refreshToken, err := signWith(s, claims)
	if err != nil {
		return "", "", err
	}
	return accessToken, refreshToken, nil
}

// prepare completes c for issuing (IssuedAt, ExpiresAt when 0, ID, the
// normalised scopes) and returns its JWT claims.
func prepare(s *Service, c *Claims) (*wireClaims, error) {
	now := s.now().Unix()
	c.IssuedAt = now
	lifetime := s.refreshSeconds
	typeName := typeNames[Refresh] // c.Type.String(), without a method call
	if c.Type == Access {
		lifetime = s.accessSeconds
		typeName = typeNames[Access]
	}
	if c.ExpiresAt == 0 {
		c.ExpiresAt = now + lifetime
	}
	id, err := NewID()
	if err != nil {
		return nil, err
	}
	c.ID = id
	c.Actions = permissions.Normalize(c.Actions)
	if c.NetworkIDs == nil { // written [], not null
		c.NetworkIDs = []string{}
	}
	if c.DeviceTypeIDs == nil {
		c.DeviceTypeIDs = []string{}
	}

	claims := &wireClaims{
		Iss:       s.issuer,
		Sub:       strconv.FormatInt(c.UserID, 10),
		Iat:       c.IssuedAt,
		Exp:       c.ExpiresAt,
		Jti:       c.ID,
		TokenType: typeName,
		Login:     c.Login,
		Role:      c.Role,
		Aud:       s.audience,
		Sid:       c.SessionID,
		Payload: wirePayload{
			U:  c.UserID,
			A:  c.Actions,
			N:  c.NetworkIDs,
			Dt: c.DeviceTypeIDs,
			E:  c.ExpiresAt * 1000,
			T:  int64(c.Type),
		},
	}
	if c.ActorID != 0 {
		claims.Act = &wireActor{Sub: strconv.FormatInt(c.ActorID, 10)}
	}
	if c.FromDeviceHive {
		// Refreshed from a DeviceHive server's token: its user may be
		// unknown here, vouched for by that server.
		claims.Src = "devicehive"
	}
	return claims, nil
}

// Verify checks a token's size, key, algorithm, signature, times, issuer,
// audience and type, and returns its claims. Every failure is one of the
// Err* values above. The request path calls VerifyInto.
func (s *Service) Verify(token string, want Type) (Claims, error) {
	var c Claims
	if err := VerifyInto(s, token, want, s.now().Unix(), &c); err != nil {
		return Claims{}, err
	}
	return c, nil
}

// SessionOf returns the session named by a token of either type that
// Verify would accept but for its times, which may be off by up to grace
// more than the leeway allows: a token that expired less than grace ago
// still names its session. Ending a session only takes rights away, so a
// client whose access token has expired can still log out (RFC 7009 2.1
// lets an access token revoke its refresh token). "" when the token is
// invalid otherwise or names no session.
func (s *Service) SessionOf(token string, grace time.Duration) string {
	lenient := *s
	lenient.leeway += int64(grace / time.Second)
	now := s.now().Unix()
	for _, want := range []Type{Refresh, Access} {
		var c Claims
		if VerifyInto(&lenient, token, want, now, &c) == nil {
			return c.SessionID
		}
	}
	return ""
}

// VerifyInto is Verify for the request path: a function that fills c
// (CONTRIBUTING.md, the cost model). now is the time on the service's
// clock, Unix seconds, which the caller has read already. On error c holds
// nothing to rely on.
//
// The token is split, decoded and its HS* signature checked here, with
// one standard-library call per step (other algorithms in
// checkPublicKeySignature). golang-jwt's parser is not used: under Yaegi
// it costs several times all of this.
func VerifyInto(s *Service, token string, want Type, now int64, c *Claims) error {
	if len(token) > s.maxBytes {
		return ErrTooLarge // refused unsplit
	}
	// A token in this package's own form, the common case, is checked
	// here; anything else by unusualToken, called only then, so that its
	// work does not weigh on this frame (CONTRIBUTING.md, the cost model).
	ks := s.static
	if ks == nil {
		ks = s.keys.Current()
	}
	parts := strings.Split(token, ".")
	v := ks.byHeader[parts[0]]
	// Go's base64 decoders skip CR and LF, Strict() included: refused, or
	// a token would have as many spellings as places for them.
	if v == nil || len(parts) != 3 || strings.ContainsAny(token, "\r\n") {
		var err error
		if v, err = unusualToken(s, token, parts); err != nil {
			return err
		}
	}
	// The signature: ErrMalformed when it is not strict base64url,
	// ErrSignature when it does not verify. HS* signatures are checked
	// here with crypto/hmac, as golang-jwt's SigningMethodHMAC.Verify does
	// (in this frame: a call less per token), the other algorithms by
	// checkPublicKeySignature.
	signed := token[:len(parts[0])+1+len(parts[1])]
	sig, err := strictBase64.DecodeString(parts[2])
	if err != nil {
		return ErrMalformed
	}
	if v.mac == nil {
		if err := checkPublicKeySignature(v, signed, sig); err != nil {
			return err
		}
	} else {
		mac := hmac.New(v.mac, v.macKey)
		mac.Write([]byte(signed))
		if !hmac.Equal(sig, mac.Sum(nil)) {
			return ErrSignature
		}
	}
	raw, err := strictBase64.DecodeString(parts[1])
	if err != nil {
		return ErrMalformed
	}
	if v != s.deviceHive && readCanonical(s, raw, want, now, c) {
		return nil
	}
	return readMapClaims(s, raw, v == s.deviceHive, want, now, c)
}

// unusualToken checks what VerifyInto's common case assumes, in the order
// of the errors: a token that is not empty, three segments and no line
// break, and, the header not being one this package writes, a header that
// verifier decodes and checks. It returns the key that header names.
func unusualToken(s *Service, token string, parts []string) (*Key, error) {
	if token == "" {
		return nil, ErrMissing
	}
	if len(parts) != 3 || strings.ContainsAny(token, "\r\n") {
		return nil, ErrMalformed
	}
	// VerifyInto found no key for a header in this package's own form.
	return s.verifier(parts[0])
}

// readMapClaims reads a payload readCanonical did not accept, decoded into
// a map: a DeviceHive server's (fromDeviceHive), or any other, which
// readClaims judges.
func readMapClaims(s *Service, raw []byte, fromDeviceHive bool, want Type, now int64, c *Claims) error {
	var mc map[string]any
	if err := json.Unmarshal(raw, &mc); err != nil || mc == nil {
		return ErrMalformed
	}
	if fromDeviceHive {
		return readDeviceHiveClaims(s, mc, want, c)
	}
	return readClaims(s, mc, want, now, c)
}

// verifier decodes a token's header and returns the key to check it with:
// the key its kid names, which must be for the algorithm the header names,
// or the DeviceHive key for a header without kid when those are accepted.
func (s *Service) verifier(segment string) (*Key, error) {
	header, ok := decodeObject(segment)
	if !ok {
		return nil, ErrMalformed
	}
	alg, _ := header["alg"].(string)
	if _, hasKid := header["kid"]; !hasKid && s.deviceHive != nil {
		// Only a DeviceHive token comes without a kid, and only when
		// those are accepted.
		if alg != "HS256" {
			return nil, ErrAlgorithm
		}
		return s.deviceHive, nil
	}
	kid, _ := header["kid"].(string)
	k, found := s.Keys().byID[kid]
	if !found {
		return nil, ErrUnknownKey
	}
	// The allowlist is per key: the header must name the key's own
	// algorithm, so "none" and HS/RS confusion never reach a verifier.
	if alg != k.Algorithm {
		return nil, ErrAlgorithm
	}
	return k, nil
}

// strictBase64 decodes token segments: unpadded base64url whose unused
// trailing bits are zero, so that no two strings decode to the same bytes
// and a token has exactly one spelling.
var strictBase64 = base64.RawURLEncoding.Strict()

// decodeObject decodes a base64url JSON object segment.
func decodeObject(segment string) (map[string]any, bool) {
	raw, err := strictBase64.DecodeString(segment)
	if err != nil {
		return nil, false
	}
	var obj map[string]any
	if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
		return nil, false
	}
	return obj, true
}

// Keys returns the key set in force.
func (s *Service) Keys() *KeySet {
	if s.static != nil {
		return s.static
	}
	return s.keys.Current()
}

// readClaims checks and copies the claims of a payload readCanonical left
// to the map, in the order of the checks' errors.
func readClaims(s *Service, mc map[string]any, want Type, now int64, c *Claims) error {
	later := now + s.leeway
	var ok bool
	if c.ExpiresAt, ok = intClaim(mc["exp"]); !ok {
		return ErrInvalidClaims
	}
	if now > c.ExpiresAt+s.leeway {
		return ErrExpired
	}
	if nbf, present := mc["nbf"]; present {
		n, ok := intClaim(nbf)
		if !ok {
			return ErrInvalidClaims
		}
		if later < n {
			return ErrNotYetValid
		}
	}
	if c.IssuedAt, ok = intClaim(mc["iat"]); !ok {
		return ErrInvalidClaims
	}
	if later < c.IssuedAt {
		return ErrNotYetValid
	}
	if iss, _ := mc["iss"].(string); s.issuer != "" && iss != s.issuer {
		return ErrIssuer
	}
	if s.audience != "" && !hasAudience(mc["aud"], s.audience) {
		return ErrAudience
	}
	payload, _ := mc["payload"].(map[string]any)
	if t, ok := intClaim(payload["t"]); !ok || t != int64(want) || mc["token_type"] != want.String() {
		return typeError(payload, mc["token_type"], want)
	}
	c.Type = want
	if c.UserID, ok = intClaim(payload["u"]); !ok || c.UserID <= 0 {
		return ErrInvalidClaims
	}
	if sub, _ := mc["sub"].(string); sub != strconv.FormatInt(c.UserID, 10) {
		return ErrInvalidClaims
	}
	c.ID, _ = mc["jti"].(string)
	c.Login, _ = mc["login"].(string)
	c.Role, _ = mc["role"].(string)
	c.SessionID, _ = mc["sid"].(string)
	c.FromDeviceHive = mc["src"] == "devicehive"
	if act, present := mc["act"]; present {
		if c.ActorID, ok = actor(act); !ok {
			return ErrInvalidClaims
		}
	}
	if !readScopes(c, payload) {
		return ErrInvalidClaims
	}
	return nil
}

// typeError tells why a payload was refused: a token of the other type,
// or invalid claims.
func typeError(payload map[string]any, tokenType any, want Type) error {
	t, ok := intClaim(payload["t"])
	if !ok || (t != int64(Access) && t != int64(Refresh)) {
		return ErrInvalidClaims
	}
	if Type(t) != want || tokenType != want.String() {
		return ErrWrongType
	}
	return ErrInvalidClaims
}

// actor reads the user id of an RFC 8693 "act" claim, {"sub": "<id>"}.
// Only the immediate actor is read: tokengate never nests "act".
func actor(v any) (int64, bool) {
	act, ok := v.(map[string]any)
	if !ok {
		return 0, false
	}
	sub, _ := act["sub"].(string)
	return actorID(sub)
}

// actorID reads the act claim's sub: a user id, written as this package
// writes one.
func actorID(sub string) (int64, bool) {
	id, err := strconv.ParseInt(sub, 10, 64)
	if err != nil || id <= 0 || strconv.FormatInt(id, 10) != sub {
		return 0, false
	}
	return id, true
}

// readScopes copies DeviceHive's "a", "n" and "dt" lists into c.
func readScopes(c *Claims, payload map[string]any) bool {
	var ok bool
	if c.Actions, ok = actionList(payload["a"]); !ok {
		return false
	}
	if c.NetworkIDs, ok = stringList(payload["n"]); !ok {
		return false
	}
	c.DeviceTypeIDs, ok = stringList(payload["dt"])
	return ok
}

// intClaim reads a JSON number that must be a whole number.
//
// Plain compares, no math calls (CONTRIBUTING.md, rules for the request
// path). NaN fails every compare; ±Inf and fractions fail the range or the
// round trip through int64.
func intClaim(v any) (int64, bool) {
	f, ok := v.(float64)
	if !ok || !(f > -maxSafeInt && f < maxSafeInt) {
		return 0, false
	}
	n := int64(f)
	if float64(n) != f {
		return 0, false
	}
	return n, true
}

// maxSafeInt bounds the whole numbers a JSON float64 holds exactly.
const maxSafeInt = 1 << 53

func actionList(v any) ([]permissions.Action, bool) {
	list, ok := v.([]any)
	if !ok {
		return nil, v == nil
	}
	out := make([]permissions.Action, 0, len(list))
	for _, item := range list {
		// Inline rather than intClaim and Action.Valid: see intClaim.
		f, ok := item.(float64)
		if !ok || f < 0 || f > float64(permissions.MaxAction) || f != float64(int64(f)) {
			return nil, false
		}
		out = append(out, permissions.Action(f))
	}
	return out, true
}

func stringList(v any) ([]string, bool) {
	list, ok := v.([]any)
	if !ok {
		return nil, v == nil
	}
	out := make([]string, 0, len(list))
	for _, item := range list {
		switch x := item.(type) {
		case string:
			out = append(out, x)
		case float64:
			n, ok := intClaim(x)
			if !ok {
				return nil, false
			}
			out = append(out, strconv.FormatInt(n, 10))
		default:
			return nil, false
		}
	}
	return out, true
}

func hasAudience(v any, want string) bool {
	switch aud := v.(type) {
	case string:
		return aud == want
	case []any:
		for _, a := range aud {
			if s, _ := a.(string); s == want {
				return true
			}
		}
	}
	return false
}

// NewID returns a random identifier: 128 bits, hex (jti and sid).
func NewID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("reading random bytes: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// IsInvalid reports whether err is one of Verify's rejections, which all
// mean "this token does not authenticate anyone" (HTTP 401).
func IsInvalid(err error) bool {
	for _, e := range []error{
		ErrMissing, ErrTooLarge, ErrMalformed, ErrUnknownKey, ErrAlgorithm, ErrSignature,
		ErrExpired, ErrNotYetValid, ErrIssuer, ErrAudience, ErrWrongType, ErrInvalidClaims,
	} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
