package throttle

import (
	"fmt"
	"net/http"
	"net/netip"
	"strings"
)

// Addresses tells a request's client address: the connection's peer, or,
// when the peer is a trusted proxy, the right-most address of the
// configured header that is not itself a trusted proxy.
type Addresses struct {
	header    string         // canonical header name; "" reads none
	forwarded bool           // header is Forwarded (RFC 7239): its for= parameters are read
	trusted   []netip.Prefix // IPv4 prefixes in IPv4 form
}

// NewAddresses compiles throttle.clientIPHeader and throttle.trustedProxies.
// header is a header name such as X-Forwarded-For or X-Real-Ip (a list of
// addresses, possibly over several header lines, each address optionally
// with a port: 192.0.2.1:4711, [2001:db8::1]:443), or Forwarded (RFC 7239,
// its for= parameters); "" reads no header. trustedCIDRs are CIDRs
// (10.0.0.0/8, fd00::/8) or single addresses; the header is read only from a
// peer among them, so without any it is never read. A /0 is refused: it
// would let anyone spoof the header.
func NewAddresses(header string, trustedCIDRs []string) (*Addresses, error) {
	a := &Addresses{}
	header = strings.TrimSpace(header)
	if header != "" {
		if !isToken(header) {
			return nil, fmt.Errorf("throttle.clientIPHeader: %q is not a header name", header)
		}
		a.header = http.CanonicalHeaderKey(header)
		a.forwarded = a.header == "Forwarded"
	}
	for i, s := range trustedCIDRs {
		p, ok := parsePrefix(strings.TrimSpace(s))
		if !ok {
			return nil, fmt.Errorf("throttle.trustedProxies[%d]: %q is not a CIDR such as 10.0.0.0/8 or fd00::/8, nor an address", i, s)
		}
		if p.Bits() == 0 {
			return nil, fmt.Errorf("throttle.trustedProxies[%d]: %q trusts every address: anyone could spoof %s", i, s, headerName(a.header))
		}
		a.trusted = append(a.trusted, p)
	}
	return a, nil
}

func headerName(h string) string {
	if h == "" {
		return "the client address header"
	}
	return h
}

// Client returns r's client address, normalised (an IPv4-mapped IPv6
// address as IPv4, without IPv6 zone): the peer (r.RemoteAddr) unless the
// peer is a trusted proxy and the header is configured; then the header's
// addresses are walked from the right (the latest hop), skipping trusted
// proxies, and the first untrusted one is the client. When all are trusted
// the left-most is; an entry that is not an address stops the walk at the
// last good one (the peer, or a trusted proxy): nothing a client wrote is
// believed unless every hop after it is trusted. A nil *Addresses, or a
// peer that is not an address (never from net/http's server), gives the
// peer as it is.
func (a *Addresses) Client(r *http.Request) string {
	peer, ok := parseAddr(r.RemoteAddr)
	if !ok {
		return r.RemoteAddr
	}
	if a == nil || a.header == "" || !a.isTrusted(peer) {
		return peer.String()
	}
	got := peer
	lines := r.Header.Values(a.header)
	for i := len(lines) - 1; i >= 0; i-- {
		hops := strings.Split(lines[i], ",")
		for j := len(hops) - 1; j >= 0; j-- {
			hop, ok := a.parseHop(hops[j])
			if !ok {
				return got.String()
			}
			if !a.isTrusted(hop) {
				return hop.String()
			}
			got = hop
		}
	}
	return got.String()
}

func (a *Addresses) isTrusted(addr netip.Addr) bool {
	for _, p := range a.trusted {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// parseHop reads one comma-separated element of the header.
func (a *Addresses) parseHop(elem string) (netip.Addr, bool) {
	if !a.forwarded {
		return parseAddr(strings.TrimSpace(elem))
	}
	for _, pair := range strings.Split(elem, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(pair), "=")
		if ok && strings.EqualFold(strings.TrimSpace(k), "for") {
			v = strings.TrimSpace(v)
			if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
				v = v[1 : len(v)-1]
			}
			return parseAddr(v)
		}
	}
	return netip.Addr{}, false
}

// parseAddr reads an address with an optional port: 192.0.2.1,
// 192.0.2.1:80, 2001:db8::1, [2001:db8::1], [2001:db8::1]:80. It returns
// it normalised: IPv4-mapped as IPv4, without zone.
func parseAddr(s string) (netip.Addr, bool) {
	if s == "" {
		return netip.Addr{}, false
	}
	if s[0] == '[' {
		end := strings.IndexByte(s, ']')
		if end < 0 || !isPort(s[end+1:]) {
			return netip.Addr{}, false
		}
		s = s[1:end]
	} else if strings.Count(s, ":") == 1 {
		i := strings.IndexByte(s, ':')
		if !isPort(s[i:]) {
			return netip.Addr{}, false
		}
		s = s[:i]
	}
	addr, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, false
	}
	return addr.WithZone("").Unmap(), true
}

// isPort reports whether s is "" or ":" and 1 to 5 digits.
func isPort(s string) bool {
	if s == "" {
		return true
	}
	if s[0] != ':' || len(s) < 2 || len(s) > 6 {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// parsePrefix reads a CIDR or a single address (a /32 or /128), masked; an
// IPv4-mapped IPv6 prefix (::ffff:10.0.0.0/104) becomes its IPv4 form.
func parsePrefix(s string) (netip.Prefix, bool) {
	var p netip.Prefix
	if strings.Contains(s, "/") {
		var err error
		p, err = netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, false
		}
	} else {
		addr, err := netip.ParseAddr(s)
		if err != nil || addr.Zone() != "" {
			return netip.Prefix{}, false
		}
		p = netip.PrefixFrom(addr, addr.BitLen())
	}
	p = p.Masked()
	if p.Addr().Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	return p, true
}

// isToken reports whether s is an HTTP token (RFC 9110), as header names are.
func isToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
		if !ok {
			return false
		}
	}
	return s != ""
}
