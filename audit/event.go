package audit

import "strings"

// Event names: the "event" field of an audit line.
const (
	EventLogin          = "login"           // a login that issued tokens
	EventLoginFailed    = "login_failed"    // wrong password, unknown or locked login
	EventLoginThrottled = "login_throttled" // refused by the throttle before any password check
	EventRefresh        = "refresh"         // a refresh token exchanged for an access token
	EventRotation       = "rotation"        // a refresh token rotated (the old one spent)
	EventReuseDetected  = "reuse_detected"  // a spent refresh token presented again: session revoked
	EventRevoke         = "revoke"          // a token or session revoked (RFC 7009)
	EventRevokeUser     = "revoke_user"     // every session of a user revoked
	EventCreate         = "create"          // /token/create: tokens issued by a caller for a target user
	EventKeyReload      = "key_reload"      // the signing/verification key file reloaded
	EventUsersReload    = "users_reload"    // the users file reloaded
)

// Outcomes: the "outcome" field of an audit line.
const (
	OutcomeSuccess = "success" // the operation was done
	OutcomeFailure = "failure" // the caller was wrong (bad password, bad token, no right)
	OutcomeRefused = "refused" // refused by policy before being checked (throttled, store down)
	OutcomeError   = "error"   // the gateway could not do it (store or file error)
)

// Redacted replaces any field value that looks like a JWT (see Write).
const Redacted = "[redacted]"

// Event is one audit line. Its fields are names, numbers and identifiers
// only: by design there is no field for a token, a password, a password
// hash or a key, and none must be smuggled into Reason or Login. Token
// events name tokens by their jti and session id. Empty fields are left out
// of the line.
//
// The JSON field names (the line format) are the struct tags. Time is set by
// Write and WriteAt; a value set by the caller is replaced.
type Event struct {
	Time    string `json:"time"`              // RFC 3339, milliseconds, UTC: 2026-12-02T10:04:05.123Z
	Event   string `json:"event"`             // one of the Event* constants
	Outcome string `json:"outcome,omitempty"` // one of the Outcome* constants
	Reason  string `json:"reason,omitempty"`  // short, machine-readable: "bad_password", "expired"...

	UserID       int64  `json:"user_id,omitempty"`        // the user the tokens belong to
	Login        string `json:"login,omitempty"`          // the login as presented (also for unknown logins)
	ActorID      int64  `json:"actor_id,omitempty"`       // who did it, when not the user (create, revoke_user)
	TargetUserID int64  `json:"target_user_id,omitempty"` // whom it was done to (create, revoke_user)
	Client       string `json:"client,omitempty"`         // the client address the throttle uses
	JTI          string `json:"jti,omitempty"`            // the token id of the token issued or presented
	SID          string `json:"sid,omitempty"`            // the session id
	Router       string `json:"router,omitempty"`         // the middleware instance's name

	// Scopes granted (create, login): DeviceHive action names, network ids
	// and device type ids ("*" for all).
	Actions     []string `json:"actions,omitempty"`
	Networks    []string `json:"networks,omitempty"`
	DeviceTypes []string `json:"device_types,omitempty"`

	// File names the reloaded file (key_reload, users_reload) and Count how
	// many keys or users it now holds.
	File  string `json:"file,omitempty"`
	Count int64  `json:"count,omitempty"`
}

// scrubbed returns e with every string that looks like a JWT replaced by
// Redacted: a last line of defence against a caller putting a token into a
// free-text field. Slices are copied before any change (they belong to the
// caller).
func scrubbed(e Event) Event {
	e.Event = scrub(e.Event)
	e.Outcome = scrub(e.Outcome)
	e.Reason = scrub(e.Reason)
	e.Login = scrub(e.Login)
	e.Client = scrub(e.Client)
	e.JTI = scrub(e.JTI)
	e.SID = scrub(e.SID)
	e.Router = scrub(e.Router)
	e.File = scrub(e.File)
	e.Actions = scrubList(e.Actions)
	e.Networks = scrubList(e.Networks)
	e.DeviceTypes = scrubList(e.DeviceTypes)
	return e
}

func scrubList(list []string) []string {
	for i, s := range list {
		if LooksLikeJWT(s) {
			out := make([]string, len(list))
			copy(out, list)
			for j := i; j < len(out); j++ {
				out[j] = scrub(out[j])
			}
			return out
		}
	}
	return list
}

func scrub(s string) string {
	if LooksLikeJWT(s) {
		return Redacted
	}
	return s
}

// LooksLikeJWT reports whether s contains a JWS compact serialization: three
// base64url segments separated by dots, the first one starting with "eyJ"
// (a base64url-encoded JSON object: every JWT header). Logins such as
// "jane.q.public" and addresses such as "192.0.2.1" do not match.
func LooksLikeJWT(s string) bool {
	// Not `for from := 0; ; {`, which would never end.
	// Yaegi: see CONTRIBUTING.md, traps (a for with an init only).
	from := 0
	for {
		i := strings.Index(s[from:], "eyJ")
		if i < 0 {
			return false
		}
		start := from + i
		if jwtAt(s[start:]) {
			return true
		}
		// A later "eyJ" in the same run of base64url characters ends its
		// first segment where this one ended: it fails too. Skip the run.
		from = start + 3
		for from < len(s) && isB64URL(s[from]) {
			from++
		}
	}
}

// jwtAt reports whether s starts with seg.seg.seg: a header of at least
// 16 base64url characters (the shortest, {"alg":"none"}, has 19), a
// non-empty payload and a signature, possibly empty ("alg": "none" tokens
// are as secret as any).
func jwtAt(s string) bool {
	n := 0
	for seg := 0; seg < 3; seg++ {
		start := n
		for n < len(s) && isB64URL(s[n]) {
			n++
		}
		if (seg == 0 && n-start < 16) || (seg == 1 && n == start) {
			return false
		}
		if seg < 2 {
			if n >= len(s) || s[n] != '.' {
				return false
			}
			n++
		}
	}
	return true
}

func isB64URL(c byte) bool {
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'
}
