package throttle_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/throttle"
)

func request(remoteAddr, header string, lines []string) *http.Request {
	r := &http.Request{RemoteAddr: remoteAddr, Header: http.Header{}}
	for _, l := range lines {
		r.Header.Add(header, l)
	}
	return r
}

func mustAddresses(t *testing.T, header string, trusted []string) *throttle.Addresses {
	t.Helper()
	a, err := throttle.NewAddresses(header, trusted)
	if err != nil {
		t.Fatalf("NewAddresses(%q, %q): %v", header, trusted, err)
	}
	return a
}

func TestNewAddresses(t *testing.T) {
	tests := []struct {
		desc    string
		header  string
		trusted []string
		want    string // substring of the error; "" for none
	}{
		{"nothing", "", nil, ""},
		{"header without trusted proxies", "X-Forwarded-For", nil, ""},
		{"lower-case header", "x-forwarded-for", []string{"10.0.0.0/8"}, ""},
		{"CIDRs and addresses", "X-Real-Ip", []string{"10.0.0.0/8", " 192.168.1.1 ", "fd00::/8", "2001:db8::1", "::ffff:172.16.0.0/108", "10.1.2.3/8"}, ""},
		{"space in the header", "X Forwarded For", nil, `throttle.clientIPHeader: "X Forwarded For" is not a header name`},
		{"colon in the header", "X-Forwarded-For:", nil, "throttle.clientIPHeader:"},
		{"not a CIDR", "X-Forwarded-For", []string{"10.0.0.0/8", "proxy.local"}, `throttle.trustedProxies[1]: "proxy.local" is not a CIDR`},
		{"empty entry", "X-Forwarded-For", []string{""}, "throttle.trustedProxies[0]:"},
		{"bits out of range", "", []string{"10.0.0.0/33"}, "throttle.trustedProxies[0]:"},
		{"zone", "", []string{"fe80::1%eth0"}, "throttle.trustedProxies[0]:"},
		{"IPv4 /0", "X-Forwarded-For", []string{"0.0.0.0/0"}, `throttle.trustedProxies[0]: "0.0.0.0/0" trusts every address: anyone could spoof X-Forwarded-For`},
		{"IPv6 /0", "", []string{"10.0.0.0/8", "::/0"}, "throttle.trustedProxies[1]: \"::/0\" trusts every address"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			a, err := throttle.NewAddresses(tt.header, tt.trusted)
			if tt.want == "" {
				if err != nil || a == nil {
					t.Fatalf("got %v, %v; want no error", a, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestClient(t *testing.T) {
	trusted := []string{"10.0.0.0/8", "192.168.1.1", "2001:db8:ffff::/48"}
	xff := mustAddresses(t, "x-forwarded-for", trusted)
	tests := []struct {
		desc   string
		remote string
		lines  []string // X-Forwarded-For header lines
		want   string
	}{
		{"untrusted peer, no header", "203.0.113.7:5555", nil, "203.0.113.7"},
		{"untrusted peer: spoofed header ignored", "203.0.113.7:5555", []string{"198.51.100.1"}, "203.0.113.7"},
		{"untrusted peer: spoofed trusted-looking chain ignored", "203.0.113.7:5555", []string{"198.51.100.1, 10.0.0.2"}, "203.0.113.7"},
		{"trusted peer, no header: the peer", "10.0.0.1:80", nil, "10.0.0.1"},
		{"trusted peer, one hop", "10.0.0.1:80", []string{"198.51.100.1"}, "198.51.100.1"},
		{"right-most untrusted hop wins", "10.0.0.1:80", []string{"6.6.6.6, 198.51.100.1, 10.0.0.2"}, "198.51.100.1"},
		{"client-written hops left of it are ignored", "10.0.0.1:80", []string{"10.0.0.9, 198.51.100.1"}, "198.51.100.1"},
		{"all trusted: the left-most", "10.0.0.1:80", []string{"10.0.0.3, 192.168.1.1, 10.0.0.2"}, "10.0.0.3"},
		{"single trusted address as peer", "192.168.1.1:80", []string{"198.51.100.1"}, "198.51.100.1"},
		{"its neighbour is not trusted", "192.168.1.2:80", []string{"198.51.100.1"}, "192.168.1.2"},
		{"several header lines, read in order", "10.0.0.1:80", []string{"6.6.6.6, 198.51.100.1", "10.0.0.2"}, "198.51.100.1"},
		{"several header lines, last one untrusted", "10.0.0.1:80", []string{"10.0.0.3", "198.51.100.5, 10.0.0.2"}, "198.51.100.5"},
		{"several header lines, all trusted", "10.0.0.1:80", []string{"10.0.0.4, 10.0.0.3", "10.0.0.2"}, "10.0.0.4"},
		{"garbage right-most: the peer", "10.0.0.1:80", []string{"198.51.100.1, garbage"}, "10.0.0.1"},
		{"garbage after a trusted hop: that hop", "10.0.0.1:80", []string{"198.51.100.1, bogus, 10.0.0.2"}, "10.0.0.2"},
		{"garbage left of the client is never read", "10.0.0.1:80", []string{"bogus, 198.51.100.1"}, "198.51.100.1"},
		{"empty element stops the walk", "10.0.0.1:80", []string{"198.51.100.1,, 10.0.0.2"}, "10.0.0.2"},
		{"empty header line", "10.0.0.1:80", []string{""}, "10.0.0.1"},
		{"unknown", "10.0.0.1:80", []string{"unknown"}, "10.0.0.1"},
		{"hostname", "10.0.0.1:80", []string{"client.example"}, "10.0.0.1"},
		{"CIDR is not an address", "10.0.0.1:80", []string{"198.51.100.0/24"}, "10.0.0.1"},
		{"spaces and tabs around hops", "10.0.0.1:80", []string{" \t198.51.100.1\t ,  10.0.0.2 "}, "198.51.100.1"},
		{"IPv4 with port", "10.0.0.1:80", []string{"198.51.100.1:4711"}, "198.51.100.1"},
		{"IPv4 with a bad port", "10.0.0.1:80", []string{"198.51.100.1:47x1"}, "10.0.0.1"},
		{"IPv4 with an overlong port", "10.0.0.1:80", []string{"198.51.100.1:1234567"}, "10.0.0.1"},
		{"IPv4 with an empty port", "10.0.0.1:80", []string{"198.51.100.1:"}, "10.0.0.1"},
		{"IPv6 hop", "10.0.0.1:80", []string{"2001:db8:1::7"}, "2001:db8:1::7"},
		{"IPv6 hop in brackets", "10.0.0.1:80", []string{"[2001:db8:1::7]"}, "2001:db8:1::7"},
		{"IPv6 hop with port", "10.0.0.1:80", []string{"[2001:db8:1::7]:443"}, "2001:db8:1::7"},
		{"IPv6 hop, unclosed bracket", "10.0.0.1:80", []string{"[2001:db8:1::7"}, "10.0.0.1"},
		{"IPv6 hop, junk after the bracket", "10.0.0.1:80", []string{"[2001:db8:1::7]x"}, "10.0.0.1"},
		{"IPv6 hop with zone", "10.0.0.1:80", []string{"fe80::1%eth0"}, "fe80::1"},
		{"IPv6 hop, long form normalised", "10.0.0.1:80", []string{"2001:0DB8:0001:0000:0000:0000:0000:0007"}, "2001:db8:1::7"},
		{"IPv4-mapped hop", "10.0.0.1:80", []string{"::ffff:198.51.100.1"}, "198.51.100.1"},
		{"IPv4-mapped trusted hop is skipped", "10.0.0.1:80", []string{"198.51.100.1, ::ffff:10.0.0.2"}, "198.51.100.1"},
		{"untrusted IPv6 peer", "[2001:db8::5]:1234", []string{"198.51.100.1"}, "2001:db8::5"},
		{"trusted IPv6 peer", "[2001:db8:ffff::1]:80", []string{"2001:db8:1::7, 2001:db8:ffff:1::2"}, "2001:db8:1::7"},
		{"IPv4-mapped untrusted peer", "[::ffff:203.0.113.7]:1", []string{"198.51.100.1"}, "203.0.113.7"},
		{"IPv4-mapped trusted peer", "[::ffff:10.0.0.1]:1", []string{"198.51.100.1"}, "198.51.100.1"},
		{"peer with zone", "[fe80::1%eth0]:80", nil, "fe80::1"},
		{"peer without port", "203.0.113.7", nil, "203.0.113.7"},
		{"peer that is not an address", "@pipe", []string{"198.51.100.1"}, "@pipe"},
		{"empty peer", "", []string{"198.51.100.1"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			if got := xff.Client(request(tt.remote, "X-Forwarded-For", tt.lines)); got != tt.want {
				t.Fatalf("Client: %q, want %q", got, tt.want)
			}
		})
	}
}

func TestClientConfigurations(t *testing.T) {
	trusted := []string{"10.0.0.0/8"}
	tests := []struct {
		desc   string
		a      *throttle.Addresses
		remote string
		header string
		lines  []string
		want   string
	}{
		{"nil Addresses: the peer", nil, "10.0.0.1:80", "X-Forwarded-For", []string{"198.51.100.1"}, "10.0.0.1"},
		{"no header configured", mustAddresses(t, "", trusted), "10.0.0.1:80", "X-Forwarded-For", []string{"198.51.100.1"}, "10.0.0.1"},
		{"no trusted proxies", mustAddresses(t, "X-Forwarded-For", nil), "10.0.0.1:80", "X-Forwarded-For", []string{"198.51.100.1"}, "10.0.0.1"},
		{"another header than configured", mustAddresses(t, "X-Real-Ip", trusted), "10.0.0.1:80", "X-Forwarded-For", []string{"198.51.100.1"}, "10.0.0.1"},
		{"X-Real-Ip", mustAddresses(t, "X-Real-IP", trusted), "10.0.0.1:80", "X-Real-Ip", []string{"198.51.100.1"}, "198.51.100.1"},
		{"IPv4-mapped trusted prefix", mustAddresses(t, "X-Forwarded-For", []string{"::ffff:10.0.0.0/104"}), "10.0.0.1:80", "X-Forwarded-For", []string{"198.51.100.1"}, "198.51.100.1"},
		{"Forwarded", mustAddresses(t, "forwarded", trusted), "10.0.0.1:80", "Forwarded",
			[]string{"for=6.6.6.6, for=198.51.100.1;proto=https;by=10.0.0.1", "for=10.0.0.2"}, "198.51.100.1"},
		{"Forwarded, quoted IPv6 with port", mustAddresses(t, "Forwarded", trusted), "10.0.0.1:80", "Forwarded",
			[]string{`for="[2001:db8:cafe::17]:4711"`}, "2001:db8:cafe::17"},
		{"Forwarded, parameter names in any case", mustAddresses(t, "Forwarded", trusted), "10.0.0.1:80", "Forwarded",
			[]string{"proto=http; For=198.51.100.1"}, "198.51.100.1"},
		{"Forwarded, for=unknown stops", mustAddresses(t, "Forwarded", trusted), "10.0.0.1:80", "Forwarded",
			[]string{"for=198.51.100.1, for=unknown, for=10.0.0.2"}, "10.0.0.2"},
		{"Forwarded, obfuscated identifier stops", mustAddresses(t, "Forwarded", trusted), "10.0.0.1:80", "Forwarded",
			[]string{"for=_hidden"}, "10.0.0.1"},
		{"Forwarded, element without for", mustAddresses(t, "Forwarded", trusted), "10.0.0.1:80", "Forwarded",
			[]string{"proto=https;by=10.0.0.1"}, "10.0.0.1"},
		{"Forwarded, a bare address is not a for=", mustAddresses(t, "Forwarded", trusted), "10.0.0.1:80", "Forwarded",
			[]string{"198.51.100.1"}, "10.0.0.1"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			if got := tt.a.Client(request(tt.remote, tt.header, tt.lines)); got != tt.want {
				t.Fatalf("Client: %q, want %q", got, tt.want)
			}
		})
	}
}
