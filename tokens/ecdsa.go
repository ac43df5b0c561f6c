package tokens

import (
	"crypto/elliptic"
	"math/big"
)

// ECDSA signatures are malleable: (r, s) and (r, n-s) both verify, so an
// ES256 token would have a second spelling with the same claims. Tokens
// signed here always carry the low s (s <= n/2), and every ES256 key
// refuses the high one (as Bitcoin's BIP 62 does): an outside signer must
// normalise s, and ES256 tokens issued before this rule with a high s (half
// of them) are refused.

// es256Half is half the order of P-256: the largest low s.
func es256Half() *big.Int {
	return new(big.Int).Rsh(elliptic.P256().Params().N, 1)
}

// highS reports whether a 64-byte ES256 signature (r || s) has the high s.
func highS(sig []byte) bool {
	if len(sig) != 64 {
		return false // refused by the signature check itself
	}
	return new(big.Int).SetBytes(sig[32:]).Cmp(es256Half()) > 0
}

// lowSignature returns an ES256 signature (r || s) with the low s.
func lowSignature(sig []byte) []byte {
	if !highS(sig) {
		return sig
	}
	s := new(big.Int).SetBytes(sig[32:])
	s.Sub(elliptic.P256().Params().N, s)
	low := make([]byte, 64)
	copy(low, sig[:32])
	s.FillBytes(low[32:])
	return low
}
