package throttle_test

import (
	"strings"
	"testing"

	"github.com/tokengate/tokengate/throttle"
)

func TestLoginKey(t *testing.T) {
	tests := []struct {
		login string
		want  string
	}{
		{"alice", "l:2bd806c97f0e00af1a1fc3328fa763a9269723c8db8fac4f93af71db186d6e90"},
		{"", "l:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
	}
	for _, tt := range tests {
		if got := throttle.LoginKey(tt.login); got != tt.want {
			t.Errorf("LoginKey(%q) = %q, want %q", tt.login, got, tt.want)
		}
	}
	seen := map[string]string{}
	for _, login := range []string{"alice", "Alice", "alice ", "a:alice", "l:alice", "bob\n\x00", strings.Repeat("é", 100000)} {
		k := throttle.LoginKey(login)
		if len(k) != 66 || !strings.HasPrefix(k, "l:") {
			t.Errorf("LoginKey(%.20q) = %q: want l: and 64 hex digits", login, k)
		}
		if len(login) > 0 && strings.Contains(k, login) {
			t.Errorf("LoginKey(%q) = %q holds the login", login, k)
		}
		if other, ok := seen[k]; ok {
			t.Errorf("LoginKey(%.20q) = LoginKey(%.20q)", login, other)
		}
		seen[k] = login
	}
}

func TestAddressKey(t *testing.T) {
	tests := []struct {
		desc string
		addr string
		want string
	}{
		{"IPv4", "198.51.100.1", "a:198.51.100.1"},
		{"IPv4, each address apart", "198.51.100.2", "a:198.51.100.2"},
		{"IPv6 by its /64", "2001:db8:1:2:3:4:5:6", "a:2001:db8:1:2::/64"},
		{"same /64, same key", "2001:db8:1:2::9", "a:2001:db8:1:2::/64"},
		{"next /64, another key", "2001:db8:1:3::9", "a:2001:db8:1:3::/64"},
		{"IPv6 loopback", "::1", "a:::/64"},
		{"IPv6 with zone", "fe80::1%eth0", "a:fe80::/64"},
		{"IPv4-mapped as IPv4", "::ffff:198.51.100.1", "a:198.51.100.1"},
		{"not an address: as it is", "@pipe", "a:@pipe"},
		{"empty", "", "a:"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			if got := throttle.AddressKey(tt.addr); got != tt.want {
				t.Fatalf("AddressKey(%q) = %q, want %q", tt.addr, got, tt.want)
			}
		})
	}
}
