package tokens

import (
	"encoding/base64"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tokengate/tokengate/permissions"
)

// wireNow is the tests' time, Unix seconds.
const wireNow = 1_800_000_000

// wireService issues and verifies at a fixed time, with an audience when
// aud is set.
func wireService(t testing.TB, aud string) *Service {
	t.Helper()
	k, err := ParseKey(KeySpec{ID: "k1", Algorithm: "HS256", Secret: strings.Repeat("s", 32)})
	if err != nil {
		t.Fatal(err)
	}
	ks, err := NewKeySet([]*Key{k})
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewService(Options{Keys: ks, Issuer: "tg", Audience: aud, AccessLifetime: time.Hour, RefreshLifetime: 24 * time.Hour,
		Now: func() time.Time { return time.Unix(wireNow, 0) }})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// mapClaims is the jwt.MapClaims tokengate signed before wireClaims, built
// as prepare built it then: the reference wireClaims must match.
func mapClaims(s *Service, c *Claims) map[string]any {
	actions := make([]any, len(c.Actions))
	for i, a := range c.Actions {
		actions[i] = int64(a)
	}
	m := map[string]any{
		"iss": s.opts.Issuer, "sub": strconv.FormatInt(c.UserID, 10), "iat": c.IssuedAt, "exp": c.ExpiresAt,
		"jti": c.ID, "token_type": c.Type.String(), "login": c.Login, "role": c.Role,
		"payload": map[string]any{
			"u": c.UserID, "a": actions, "n": c.NetworkIDs, "dt": c.DeviceTypeIDs, "e": c.ExpiresAt * 1000, "t": int64(c.Type),
		},
	}
	if s.opts.Audience != "" {
		m["aud"] = s.opts.Audience
	}
	if c.SessionID != "" {
		m["sid"] = c.SessionID
	}
	if c.ActorID != 0 {
		m["act"] = map[string]any{"sub": strconv.FormatInt(c.ActorID, 10)}
	}
	if c.FromDeviceHive {
		m["src"] = "devicehive"
	}
	return m
}

var wireCases = []struct {
	name string
	aud  string
	c    Claims
}{
	{"login token", "", Claims{Type: Access, UserID: 2, Login: "bob", Role: "user",
		Actions: []permissions.Action{0, 3, 7}, NetworkIDs: []string{"1", "2"}, DeviceTypeIDs: []string{"*"}, SessionID: "abc"}},
	{"refresh, empty scopes", "", Claims{Type: Refresh, UserID: 9007199254740991}},
	{"minted, audience", "devices", Claims{Type: Access, UserID: 5, ActorID: 1, Login: "<&> \"q\" é\u2028", Role: "admin",
		NetworkIDs: []string{"*"}, DeviceTypeIDs: []string{"x<y"}}},
	{"from DeviceHive", "", Claims{Type: Refresh, UserID: 77, FromDeviceHive: true, Actions: []permissions.Action{permissions.MaxAction}}},
}

// TestWireMatchesMapClaims: a token signed from wireClaims has the payload
// a jwt.MapClaims gave before, byte for byte, so that the tokens issued by
// either version read the same; and readCanonical reads it, with the
// claims readClaims reads from the map.
func TestWireMatchesMapClaims(t *testing.T) {
	for _, tc := range wireCases {
		t.Run(tc.name, func(t *testing.T) {
			s := wireService(t, tc.aud)
			c := tc.c
			token, err := Sign(s, &c)
			if err != nil {
				t.Fatal(err)
			}
			raw, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[1])
			if err != nil {
				t.Fatal(err)
			}
			want, err := json.Marshal(mapClaims(s, &c))
			if err != nil {
				t.Fatal(err)
			}
			if string(raw) != string(want) {
				t.Fatalf("payload\n got %s\nwant %s", raw, want)
			}
			var fast, slow Claims
			if !readCanonical(s, raw, c.Type, wireNow, &fast) {
				t.Fatalf("readCanonical refused its own payload %s", raw)
			}
			if err := readMapClaims(s, raw, false, c.Type, wireNow, &slow); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(fast, slow) || !reflect.DeepEqual(fast, c) {
				t.Fatalf("claims\nfast   %+v\nmap    %+v\nissued %+v", fast, slow, c)
			}
		})
	}
}

// TestCanonicalLeavesTheRestToTheMap: payloads readCanonical must not
// read, whatever readClaims then makes of them.
func TestCanonicalLeavesTheRestToTheMap(t *testing.T) {
	s := wireService(t, "")
	c := wireCases[0].c
	if _, err := Sign(s, &c); err != nil {
		t.Fatal(err)
	}
	good, err := json.Marshal(mapClaims(s, &c))
	if err != nil {
		t.Fatal(err)
	}
	edits := map[string][2]string{
		"key in another case":  {`"exp":`, `"EXP":`},
		"key twice":            {`"iat":`, `"exp":1,"iat":`},
		"unknown claim (nbf)":  {`"iat":`, `"nbf":1,"iat":`},
		"exponent":             {`"u":2`, `"u":2e0`},
		"fraction":             {`"u":2`, `"u":2.0`},
		"escaped string":       {`"bob"`, `"b\u006fb"`},
		"white space":          {`"role":`, `"role": `},
		"number in a list":     {`"n":["1","2"]`, `"n":[1,"2"]`},
		"missing claim":        {`"role":"user",`, ``},
		"wrong type":           {`"token_type":"access"`, `"token_type":"refresh"`},
		"expired":              {`"exp":` + strconv.FormatInt(c.ExpiresAt, 10), `"exp":1`},
		"action out of range":  {`"a":[`, `"a":[99,`},
		"subject not the user": {`"sub":"2"`, `"sub":"02"`},
		"user out of range":    {`"sub":"2"`, `"sub":"9007199254740992"`},
	}
	for name, e := range edits {
		t.Run(name, func(t *testing.T) {
			raw := strings.Replace(string(good), e[0], e[1], 1)
			if raw == string(good) {
				t.Fatalf("edit %q changed nothing", e[0])
			}
			var got Claims
			if readCanonical(s, []byte(raw), Access, wireNow, &got) {
				t.Fatalf("readCanonical read %s", raw)
			}
		})
	}
}

// FuzzCanonicalClaims: whatever payload readCanonical accepts, readClaims
// accepts from the map, with the same claims.
func FuzzCanonicalClaims(f *testing.F) {
	s := wireService(f, "")
	for _, tc := range wireCases {
		c := tc.c
		if _, err := Sign(s, &c); err != nil {
			f.Fatal(err)
		}
		raw, err := json.Marshal(mapClaims(s, &c))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw, c.Type == Access)
	}
	f.Add([]byte(`{"exp":1800000001,"iat":1,"iss":"tg","jti":"","login":"","payload":{"a":[],"dt":[],"e":0,"n":[],"t":1,"u":1},"role":"","sub":"1","token_type":"access"}`), true)
	f.Fuzz(func(t *testing.T, raw []byte, access bool) {
		want := Refresh
		if access {
			want = Access
		}
		var fast, slow Claims
		if !readCanonical(s, raw, want, wireNow, &fast) {
			return
		}
		if err := readMapClaims(s, raw, false, want, wireNow, &slow); err != nil {
			t.Fatalf("readCanonical accepted what readClaims refuses (%v): %s", err, raw)
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("claims differ for %s\nfast %+v\nmap  %+v", raw, fast, slow)
		}
	})
}
