package tokens

import "time"

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
	now := s.opts.Now()
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
