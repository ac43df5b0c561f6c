package tokens_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tokengate/tokengate/internal/testclock"
	"github.com/tokengate/tokengate/permissions"
	"github.com/tokengate/tokengate/tokens"
)

// deviceHiveKey is the HMAC key a DeviceHive server uses: its JWT_SECRET,
// Base64-decoded by JJWT.
var deviceHiveKey = []byte("devicehive-test-secret-0123456789abcdef")

// deviceHiveToken builds a token the way DeviceHive's JwtTokenGenerator
// does (JJWT, HS256): header {"alg":"HS256"}, claims {"payload": {...}},
// no kid, no exp. It is written by hand, JSON and HMAC, so the test does not
// lean on the code under test.
func deviceHiveToken(payload string, key []byte) string {
	enc := base64.RawURLEncoding
	signing := enc.EncodeToString([]byte(`{"alg":"HS256"}`)) + "." + enc.EncodeToString([]byte(`{"payload":`+payload+`}`))
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(signing))
	return signing + "." + enc.EncodeToString(mac.Sum(nil))
}

func TestDeviceHiveTokens(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	c := testclock.New(now)
	ks, err := tokens.NewKeySet([]*tokens.Key{hsKey(t, "k1")})
	if err != nil {
		t.Fatal(err)
	}
	opts := tokens.Options{Keys: ks, Issuer: "tokengate", Audience: "devices", AccessLifetime: time.Minute, RefreshLifetime: time.Hour,
		Leeway: 30 * time.Second, Now: c.Now, DeviceHiveSecret: deviceHiveKey}
	on, err := tokens.NewService(opts)
	if err != nil {
		t.Fatal(err)
	}
	opts.DeviceHiveSecret = nil
	off, err := tokens.NewService(opts)
	if err != nil {
		t.Fatal(err)
	}
	e := func(d time.Duration) string { return strconv.FormatInt(now.Add(d).UnixMilli(), 10) }
	access := deviceHiveToken(`{"u":7,"a":[3,4],"n":["1"],"dt":["10"],"e":`+e(time.Hour)+`,"t":1}`, deviceHiveKey)
	tests := []struct {
		desc  string
		s     *tokens.Service
		token string
		want  tokens.Type
		err   error
	}{
		{desc: "access", s: on, token: access, want: tokens.Access},
		{desc: "refresh", s: on, token: deviceHiveToken(`{"u":7,"a":[0],"n":["*"],"dt":["*"],"e":`+e(time.Hour)+`,"t":0}`, deviceHiveKey), want: tokens.Refresh},
		{desc: "off: rejected", s: off, token: access, want: tokens.Access, err: tokens.ErrUnknownKey},
		{desc: "expired", s: on, token: deviceHiveToken(`{"u":7,"a":[3],"e":`+e(-time.Minute)+`,"t":1}`, deviceHiveKey), want: tokens.Access, err: tokens.ErrExpired},
		{desc: "within leeway", s: on, token: deviceHiveToken(`{"u":7,"a":[3],"e":`+e(-10*time.Second)+`,"t":1}`, deviceHiveKey), want: tokens.Access},
		{desc: "e missing", s: on, token: deviceHiveToken(`{"u":7,"a":[3],"t":1}`, deviceHiveKey), want: tokens.Access, err: tokens.ErrInvalidClaims},
		{desc: "refresh as access", s: on, token: deviceHiveToken(`{"u":7,"a":[3],"e":`+e(time.Hour)+`,"t":0}`, deviceHiveKey), want: tokens.Access, err: tokens.ErrWrongType},
		{desc: "access as refresh", s: on, token: access, want: tokens.Refresh, err: tokens.ErrWrongType},
		{desc: "t missing", s: on, token: deviceHiveToken(`{"u":7,"a":[3],"e":`+e(time.Hour)+`}`, deviceHiveKey), want: tokens.Access, err: tokens.ErrInvalidClaims},
		{desc: "u missing", s: on, token: deviceHiveToken(`{"a":[3],"e":`+e(time.Hour)+`,"t":1}`, deviceHiveKey), want: tokens.Access, err: tokens.ErrInvalidClaims},
		{desc: "other secret", s: on, token: deviceHiveToken(`{"u":7,"a":[3],"e":`+e(time.Hour)+`,"t":1}`, []byte(strings.Repeat("x", 40))), want: tokens.Access, err: tokens.ErrSignature},
		{desc: "no payload", s: on, token: deviceHiveToken(`null`, deviceHiveKey), want: tokens.Access, err: tokens.ErrInvalidClaims},
	}
	for _, test := range tests {
		t.Run(test.desc, func(t *testing.T) {
			got, err := test.s.Verify(test.token, test.want)
			if !errors.Is(err, test.err) {
				t.Fatalf("Verify = %v, want %v", err, test.err)
			}
			if err == nil && (got.UserID != 7 || !got.FromDeviceHive || got.Type != test.want) {
				t.Fatalf("claims = %+v", got)
			}
		})
	}
	got, err := on.Verify(access, tokens.Access)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(permissions.Names(got.Actions), " ") != "GetDevice GetDeviceNotification" || strings.Join(got.NetworkIDs, ",") != "1" ||
		strings.Join(got.DeviceTypeIDs, ",") != "10" || got.ExpiresAt != now.Add(time.Hour).Unix() {
		t.Fatalf("claims = %+v", got)
	}
	// Gateway tokens still verify with DeviceHive tokens on.
	own, _, err := on.Issue(aliceClaims(tokens.Access))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := on.Verify(own, tokens.Access); err != nil {
		t.Fatal(err)
	}
	if _, err := tokens.NewService(tokens.Options{Keys: ks, AccessLifetime: time.Minute, RefreshLifetime: time.Hour, DeviceHiveSecret: []byte("short")}); err == nil {
		t.Fatal("a short DeviceHive secret must be refused")
	}
}
