package tokens

import (
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
)

// readDeviceHiveClaims reads a token minted by a DeviceHive server: all its
// claims sit in "payload" ({"u","a","n","dt","e","t"}), the expiry "e" is in
// epoch milliseconds and required (DeviceHive refuses tokens without it),
// and there is no iss, aud, iat or jti to check.
func readDeviceHiveClaims(s *Service, mc map[string]any, want Type, c *Claims) error {
	payload, ok := mc["payload"].(map[string]any)
	if !ok {
		return ErrInvalidClaims
	}
	expMillis, ok := intClaim(payload["e"])
	if !ok {
		return ErrInvalidClaims
	}
	now := s.now()
	if now.UnixMilli() > expMillis+s.opts.Leeway.Milliseconds() {
		return ErrExpired
	}
	typ, ok := intClaim(payload["t"])
	if !ok || (typ != int64(Access) && typ != int64(Refresh)) {
		return ErrInvalidClaims
	}
	if Type(typ) != want {
		return ErrWrongType
	}
	c.Type = want
	c.ExpiresAt = expMillis / int64(time.Second/time.Millisecond)
	c.FromDeviceHive = true
	c.UserID, ok = intClaim(payload["u"])
	if !ok || c.UserID <= 0 {
		return ErrInvalidClaims
	}
	if !readScopes(c, payload) {
		return ErrInvalidClaims
	}
	return nil
}

// DeviceHiveKey returns the HMAC key of DeviceHive-minted tokens from
// DeviceHive's JWT_SECRET, given inline (secret) or in a file, or nil when
// neither is given: such tokens are then refused. Errors name the option;
// NewService checks the key's length.
func DeviceHiveKey(secret, file string) ([]byte, error) {
	switch {
	case secret != "" && file != "":
		return nil, errors.New("deviceHiveSecret and deviceHiveSecretFile: give one, not both")
	case file != "":
		b, err := os.ReadFile(file) //nolint:gosec // G304: the operator names the secret file
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
	return key, nil
}
