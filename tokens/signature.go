package tokens

import (
	"encoding/json"
	"fmt"
)

// signWith writes a token of claims signed with the signing key of the
// key set in force: the key's header segment, the claims as JSON, and the
// signature golang-jwt's signing method makes for the key's algorithm (the
// low s for ES256: see ecdsa.go).
//
// jwt.Token's SignedString makes the same three segments, through more
// interpreted code under Yaegi; the header segment is computed once per
// key instead of per token (header_internal_test.go pins that the two
// agree).
func signWith(s *Service, claims *wireClaims) (string, error) {
	ks := s.static
	if ks == nil {
		ks = s.keys.Current()
	}
	k := ks.signing
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("signing token: %w", err)
	}
	signing := k.header + "." + strictBase64.EncodeToString(payload)
	method := k.method
	sig, err := method.Sign(signing, k.signKey)
	if err != nil {
		return "", fmt.Errorf("signing token: %w", err)
	}
	if k.lowS {
		sig = lowSignature(sig)
	}
	return signing + "." + strictBase64.EncodeToString(sig), nil
}

// checkPublicKeySignature checks the signature of a token signed with an
// RS*, PS*, ES* or EdDSA key (VerifyInto checks HS* itself), in a frame of
// its own: HS256's checks do not pay for it (CONTRIBUTING.md, the cost
// model).
func checkPublicKeySignature(k *Key, signed string, raw []byte) error {
	if k.lowS && highS(raw) {
		return ErrSignature // the twin of a low-s signature: see ecdsa.go
	}
	if k.method.Verify(signed, raw, k.verifyKey) != nil {
		return ErrSignature
	}
	return nil
}
