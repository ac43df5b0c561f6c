package tokens

import (
	"bytes"
	"encoding/json"
	"strconv"

	"github.com/tokengate/tokengate/permissions"
)

// wireClaims is a token's claims as this package writes them. Its fields
// are in the order encoding/json writes a map's keys (sorted), and the
// optional ones are left out when empty, as they always were: a token
// signed from this struct has the bytes one signed from a jwt.MapClaims had
// (TestWireMatchesMapClaims).
//
// Verifying reads it back in one standard-library call, which Yaegi runs
// natively, where a map costs an interpreted index and type assertion per
// claim (CONTRIBUTING.md, the cost model).
type wireClaims struct {
	Act       *wireActor  `json:"act,omitempty"`
	Aud       string      `json:"aud,omitempty"`
	Exp       int64       `json:"exp"`
	Iat       int64       `json:"iat"`
	Iss       string      `json:"iss"`
	Jti       string      `json:"jti"`
	Login     string      `json:"login"`
	Payload   wirePayload `json:"payload"`
	Role      string      `json:"role"`
	Sid       string      `json:"sid,omitempty"`
	Src       string      `json:"src,omitempty"`
	Sub       string      `json:"sub"`
	TokenType string      `json:"token_type"`
}

// wirePayload is DeviceHive's "payload" claim; E is the expiry in epoch
// milliseconds, T the token type.
type wirePayload struct {
	A  []permissions.Action `json:"a"`
	Dt []string             `json:"dt"`
	E  int64                `json:"e"`
	N  []string             `json:"n"`
	T  int64                `json:"t"`
	U  int64                `json:"u"`
}

// readActor reads a minted token's actor into c.
func readActor(sub string, c *Claims) bool {
	id, ok := actorID(sub)
	c.ActorID = id
	return ok
}

// wireActor is the RFC 8693 "act" claim of a minted token.
type wireActor struct {
	Sub string `json:"sub"`
}

// readCanonical reads a payload this package could have written: one that
// encoding/json writes back from a wireClaims byte for byte. That settles
// every question a map would leave open (a key spelt in another case, a
// key twice, an unknown claim such as nbf, a number with a fraction or an
// exponent, a string escaped another way): the payload holds exactly the
// struct's values, which are the values readClaims would read from it.
//
// It reports whether it accepted the token and filled c. It accepts only
// what readClaims accepts, with the same claims (FuzzCanonicalClaims), and
// leaves anything else, refusals included, to readClaims, which names the
// reason.
func readCanonical(s *Service, raw []byte, want Type, now int64, c *Claims) bool {
	var w wireClaims
	if json.Unmarshal(raw, &w) != nil {
		return false
	}
	// What the claims must say is written into w before it is written
	// back: the bytes then match only if the payload said the same (the
	// issuer, the audience, the type twice, and the user id as sub).
	p := &w.Payload
	if s.issuer != "" {
		w.Iss = s.issuer
	}
	if s.audience != "" {
		w.Aud = s.audience
	}
	w.TokenType = typeNames[want]
	p.T = int64(want)
	w.Sub = strconv.FormatInt(p.U, 10)
	again, err := json.Marshal(&w)
	if err != nil || !bytes.Equal(again, raw) {
		return false
	}
	// The bounds a float64 would have imposed, where the time checks do
	// not already: an exp at or below -2^53 has expired, and an iat at or
	// above 2^53 is in the future. One test per if: each || is a slot of
	// its own (CONTRIBUTING.md, the cost model).
	if w.Exp >= maxSafeInt {
		return false
	}
	if now > w.Exp+s.leeway {
		return false // expired
	}
	if w.Iat <= -maxSafeInt {
		return false
	}
	if now+s.leeway < w.Iat {
		return false // issued in the future
	}
	if p.U <= 0 {
		return false
	}
	if p.U >= maxSafeInt {
		return false
	}
	if w.Act != nil && !readActor(w.Act.Sub, c) {
		return false
	}
	for _, a := range p.A {
		if a < 0 || a > permissions.MaxAction {
			return false
		}
	}
	c.Type = want
	c.UserID = p.U
	c.Login = w.Login
	c.Role = w.Role
	c.Actions = p.A
	c.NetworkIDs = p.N
	c.DeviceTypeIDs = p.Dt
	c.IssuedAt = w.Iat
	c.ExpiresAt = w.Exp
	c.ID = w.Jti
	c.SessionID = w.Sid
	c.FromDeviceHive = w.Src == "devicehive"
	return true
}
