package tokens

import "time"

// checkDeviceHiveClaims reads a token minted by a DeviceHive server: all its
// claims sit in "payload" ({"u","a","n","dt","e","t"}), the expiry "e" is in
// epoch milliseconds and required (DeviceHive refuses tokens without it),
// and there is no iss, aud, iat or jti to check.
func (s *Service) checkDeviceHiveClaims(mc map[string]any, want Type) (Claims, error) {
	payload, ok := mc["payload"].(map[string]any)
	if !ok {
		return Claims{}, ErrInvalidClaims
	}
	expMillis, ok := intClaim(payload["e"])
	if !ok {
		return Claims{}, ErrInvalidClaims
	}
	now := s.opts.Now()
	if now.UnixMilli() > expMillis+s.opts.Leeway.Milliseconds() {
		return Claims{}, ErrExpired
	}
	typ, ok := intClaim(payload["t"])
	if !ok || (typ != int64(Access) && typ != int64(Refresh)) {
		return Claims{}, ErrInvalidClaims
	}
	if Type(typ) != want {
		return Claims{}, ErrWrongType
	}
	c := Claims{Type: want, ExpiresAt: expMillis / int64(time.Second/time.Millisecond), FromDeviceHive: true}
	c.UserID, ok = intClaim(payload["u"])
	if !ok || c.UserID <= 0 {
		return Claims{}, ErrInvalidClaims
	}
	if !readScopes(&c, payload) {
		return Claims{}, ErrInvalidClaims
	}
	return c, nil
}
