package tokens

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
)

// JWKS returns the key set's public keys as an RFC 7517 JWK Set, signing
// key first, and how many keys it holds. HMAC secrets are never published.
func (ks *KeySet) JWKS() ([]byte, int, error) {
	keys := []any{}
	for _, k := range ks.Keys() {
		jwk := publicJWK(k)
		if jwk != nil {
			keys = append(keys, jwk)
		}
	}
	body, err := json.Marshal(map[string]any{"keys": keys})
	// Not `return body, len(keys), err`.
	// Yaegi: see CONTRIBUTING.md, traps (a builtin call among results).
	n := len(keys)
	return body, n, err
}

func publicJWK(k *Key) map[string]any {
	jwk := map[string]any{"kid": k.ID, "alg": k.Algorithm, "use": "sig"}
	switch pub := k.verifyKey.(type) {
	case *rsa.PublicKey:
		jwk["kty"] = "RSA"
		jwk["n"] = b64(pub.N.Bytes())
		jwk["e"] = b64(big.NewInt(int64(pub.E)).Bytes())
	case *ecdsa.PublicKey:
		size := (pub.Curve.Params().BitSize + 7) / 8
		jwk["kty"] = "EC"
		jwk["crv"] = pub.Curve.Params().Name
		jwk["x"] = b64(pub.X.FillBytes(make([]byte, size)))
		jwk["y"] = b64(pub.Y.FillBytes(make([]byte, size)))
	case ed25519.PublicKey:
		jwk["kty"] = "OKP"
		jwk["crv"] = "Ed25519"
		jwk["x"] = b64(pub)
	default:
		return nil
	}
	return jwk
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
