package throttle

import (
	"crypto/sha256"
	"encoding/hex"
	"net/netip"
)

// LoginKey is the counter key of a login: "l:" and the SHA-256 of the login
// in hex, so that any login makes a key of bounded size and no login is
// written to Redis. Logins are counted exactly as given (case included):
// pass the login as the user directory compares it.
func LoginKey(login string) string {
	sum := sha256.Sum256([]byte(login))
	return "l:" + hex.EncodeToString(sum[:])
}

// AddressKey is the counter key of a client address (as Client returns
// it): "a:" and the address. An IPv6 address is counted by its /64
// ("a:2001:db8:1:2::/64"): one host usually owns a whole /64, so counting
// each address apart would let it pick a fresh one per attempt. Anything
// that is not an address is kept as it is.
func AddressKey(addr string) string {
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return "a:" + addr
	}
	ip = ip.WithZone("").Unmap()
	if ip.Is4() {
		return "a:" + ip.String()
	}
	p, err := ip.Prefix(64)
	if err != nil {
		return "a:" + ip.String()
	}
	return "a:" + p.String()
}
