package audit_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/audit"
)

// jwtShape matches three base64url segments of a useful length separated
// by dots: what a JWT (or any JWS) looks like in a line, whatever its header.
var jwtShape = regexp.MustCompile(`[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}`)

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// hs256 builds a real HS256 JWT for the payload.
func hs256(payload, key string) string {
	input := b64(`{"alg":"HS256","typ":"JWT"}`) + "." + b64(payload)
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write([]byte(input))
	return input + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// realisticEvents is one event of each kind as the gate writes them, with
// every field that kind uses filled.
func realisticEvents() []audit.Event {
	jti := "3f2a9c0d4b5e6f708192a3b4c5d6e7f8"
	sid := "9e8d7c6b5a4938271605f4e3d2c1b0a9"
	router := "devices-tokengate@kubernetescrd"
	return []audit.Event{
		{Event: audit.EventLogin, Outcome: audit.OutcomeSuccess, UserID: 7, Login: "sensor-gw.eu-west.17", Client: "203.0.113.7:40112",
			JTI: jti, SID: sid, Router: router, Actions: []string{"GetNetwork", "GetDevice", "CreateDeviceNotification"},
			Networks: []string{"1", "12"}, DeviceTypes: []string{"*"}},
		{Event: audit.EventLoginFailed, Outcome: audit.OutcomeFailure, Reason: "bad_password", Login: "jane.q.public", Client: "[2001:db8::1]:443", Router: router},
		{Event: audit.EventLoginFailed, Outcome: audit.OutcomeFailure, Reason: "unknown_login", Login: "no.such.user", Client: "198.51.100.23:1234", Router: router},
		{Event: audit.EventLoginThrottled, Outcome: audit.OutcomeRefused, Reason: "throttled", Login: "admin", Client: "198.51.100.23:1234", Router: router},
		{Event: audit.EventRefresh, Outcome: audit.OutcomeSuccess, UserID: 7, JTI: jti, SID: sid, Client: "10.0.0.5:5000", Router: router},
		{Event: audit.EventRefresh, Outcome: audit.OutcomeFailure, Reason: "expired", JTI: jti, Client: "10.0.0.5:5000", Router: router},
		{Event: audit.EventRotation, Outcome: audit.OutcomeSuccess, UserID: 7, JTI: jti, SID: sid, Router: router},
		{Event: audit.EventReuseDetected, Outcome: audit.OutcomeRefused, Reason: "session_revoked", UserID: 7, JTI: jti, SID: sid, Client: "10.0.0.9:5000", Router: router},
		{Event: audit.EventRevoke, Outcome: audit.OutcomeSuccess, UserID: 7, ActorID: 7, JTI: jti, SID: sid, Router: router},
		{Event: audit.EventRevokeUser, Outcome: audit.OutcomeSuccess, ActorID: 1, TargetUserID: 7, Router: router},
		{Event: audit.EventCreate, Outcome: audit.OutcomeSuccess, ActorID: 1, TargetUserID: 7, UserID: 7, JTI: jti, SID: sid, Client: "127.0.0.1:9000",
			Router: router, Actions: []string{"ManageToken"}, Networks: []string{"3"}, DeviceTypes: []string{"2", "5"}},
		{Event: audit.EventCreate, Outcome: audit.OutcomeFailure, Reason: "scope_exceeds_caller", ActorID: 9, TargetUserID: 7, Router: router},
		{Event: audit.EventKeyReload, Outcome: audit.OutcomeSuccess, File: "/etc/tokengate/keys.jwks.json", Count: 2, Router: router},
		{Event: audit.EventKeyReload, Outcome: audit.OutcomeError, Reason: "parse_error", File: "/etc/tokengate/keys.jwks.json", Router: router},
		{Event: audit.EventUsersReload, Outcome: audit.OutcomeSuccess, File: "/etc/tokengate/users.yaml", Count: 1200, Router: router},
	}
}

// TestNoSecretInLines writes every kind of event, then misuses every string
// field with a real token, and checks that no line holds a token, a
// password, a hash or a key.
func TestNoSecretInLines(t *testing.T) {
	key := "hmac-key-0123456789abcdef0123456789abcdef"
	password := "correct horse battery staple"
	hash := "$6$rounds=5000$saltsalt$2Sjh0w0DTf2XXk0VQzLpA2X4cQk8bH0Lb3E1vjG9.b2s8r0cZ4kN4qBpmr6w0cF1xY6dMhJcJ5n0lqB9w3h2n/"
	access := hs256(`{"sub":"7","jti":"3f2a9c0d4b5e6f708192a3b4c5d6e7f8","exp":1796209445}`, key)
	refresh := hs256(`{"sub":"7","typ":"refresh","sid":"9e8d7c6b5a4938271605f4e3d2c1b0a9"}`, key)
	if !jwtShape.MatchString(access) || !audit.LooksLikeJWT(access) || !audit.LooksLikeJWT("Bearer "+refresh) {
		t.Fatal("the checks do not recognise a JWT")
	}

	events := realisticEvents()
	// Misuse: a token where a name belongs, in every string field.
	for _, tok := range []string{access, refresh, "Bearer " + access} {
		events = append(events, audit.Event{
			Event: audit.EventLoginFailed, Outcome: tok, Reason: "token " + tok, Login: tok, Client: tok,
			JTI: tok, SID: tok, Router: tok, File: tok,
			Actions: []string{"GetDevice", tok}, Networks: []string{tok}, DeviceTypes: []string{"1", tok, "2"},
		})
	}
	// The event name itself.
	events = append(events, audit.Event{Event: access})

	l, path := openTemp(t)
	for i, e := range events {
		l.WriteAt(e, t0+int64(i))
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := parseLines(t, path, data)
	if len(lines) != len(events) {
		t.Fatalf("%d lines for %d events", len(lines), len(events))
	}
	for i, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if m := jwtShape.FindString(line); m != "" {
			t.Errorf("line %d holds something shaped like a JWT (%q): %s", i+1, m, line)
		}
		for name, secret := range map[string]string{"access token": access, "refresh token": refresh,
			"password": password, "hash": hash, "key": key, "token payload": b64(`{"sub":"7"`)} {
			if strings.Contains(line, secret) {
				t.Errorf("line %d holds the %s: %s", i+1, name, line)
			}
		}
		if strings.Contains(line, "eyJ") {
			t.Errorf("line %d holds base64url JSON: %s", i+1, line)
		}
	}
	// The realistic events are written as they are: nothing was redacted.
	for i := range realisticEvents() {
		if strings.Contains(strings.Split(string(data), "\n")[i], audit.Redacted) {
			t.Errorf("line %d was redacted", i+1)
		}
	}
	// The misused fields are replaced, not dropped.
	misused := lines[len(realisticEvents())]
	for _, k := range []string{"outcome", "reason", "login", "client", "jti", "sid", "router", "file"} {
		if misused[k] != audit.Redacted {
			t.Errorf("field %s = %v, want %s", k, misused[k], audit.Redacted)
		}
	}
	if acts, _ := misused["actions"].([]any); len(acts) != 2 || acts[0] != "GetDevice" || acts[1] != audit.Redacted {
		t.Errorf("actions = %v", misused["actions"])
	}
	if lines[len(lines)-1]["event"] != audit.Redacted {
		t.Errorf("event = %v", lines[len(lines)-1]["event"])
	}
}

// TestRedactionLeavesCallerSlices: a redacted list is a copy.
func TestRedactionLeavesCallerSlices(t *testing.T) {
	tok := hs256(`{"sub":"1"}`, "k")
	actions := []string{"GetDevice", tok}
	l, _ := openTemp(t)
	l.WriteAt(audit.Event{Event: audit.EventCreate, Actions: actions}, t0)
	if actions[1] != tok {
		t.Fatal("the caller's slice was changed")
	}
}

func TestLooksLikeJWT(t *testing.T) {
	tok := hs256(`{"sub":"1"}`, "k")
	none := b64(`{"alg":"none"}`) + "." + b64(`{"sub":"1"}`) + "."
	for _, s := range []string{tok, "Bearer " + tok, "x" + tok + "y", none, "a.eyJ.b " + tok} {
		if !audit.LooksLikeJWT(s) {
			t.Errorf("LooksLikeJWT(%q) = false", s)
		}
	}
	for _, s := range []string{"", "jane.q.public", "192.0.2.1", "[2001:db8::1]:443", "heyJoe.a.b",
		"eyJhbGciOiJIUzI1NiJ9", "eyJhbGciOiJIUzI1NiJ9.", "eyJhbGciOiJIUzI1NiJ9..sig", "eyJ.eyJ.eyJ",
		"3f2a9c0d4b5e6f708192a3b4c5d6e7f8", "/etc/tokengate/keys.jwks.json", "devices-tokengate@file"} {
		if audit.LooksLikeJWT(s) {
			t.Errorf("LooksLikeJWT(%q) = true", s)
		}
	}
	long := strings.Repeat("eyJ", 1000) + strconv.Itoa(1)
	if audit.LooksLikeJWT(long) {
		t.Error("a long run of eyJ")
	}
}
