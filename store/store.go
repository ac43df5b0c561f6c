// Package store keeps the state that sessions share across tokengate's
// middleware instances (Traefik builds one per router and per reload) and
// across Traefik replicas: session records for refresh-token rotation and
// reuse detection, revocations, and the failure counters of login
// throttling (Counters, counters.go).
//
// Two implementations: Memory, shared by every instance in the process that
// asks for the same key (the default: nothing to install), and Redis, shared
// by every replica that uses the same Redis and key prefix. Both are
// bounded: every entry expires with the tokens it concerns.
//
// Times are plain int64 values (Unix seconds or milliseconds, as named), as
// everywhere in the plugin (CONTRIBUTING.md, the interpreter rulebook).
package store

import (
	"context"
	"errors"
)

// Session is what a login or /token/create starts: every token of the
// session carries its id (the "sid" claim).
type Session struct {
	ID        string // the session id
	UserID    int64
	RefreshID string // jti of the session's first refresh token
	Expires   int64  // Unix seconds: when the record is forgotten (the gate passes that refresh token's exp plus its leeway)
}

// Spend asks to refresh with refresh token Presented of session Session.
type Spend struct {
	Session   string
	UserID    int64
	Presented string // jti of the refresh token presented
	// Next is the jti of the refresh token issued in Presented's place
	// (rotation on); "" when rotation is off: nothing is spent, and Spend
	// only tells whether the session still stands.
	Next    string
	Now     int64 // Unix milliseconds
	Grace   int64 // milliseconds either side of its rotation during which the immediately previous token may be presented again; 0: never
	Expires int64 // Unix seconds: the record lives until then (the gate passes the Next token's exp plus its leeway)
	// RevokeUntil is the least a revocation recorded for reuse lasts (Unix
	// seconds): the session's tokens may outlive its refresh token's exp
	// (an access token refreshed late in the session).
	RevokeUntil int64
}

// Outcome is what Spend decided.
type Outcome int

// Spend's outcomes.
const (
	// Granted: Presented is the session's current refresh token (now
	// spent, Next current), or rotation is off and the session stands. A
	// session the store does not know (issued before the store held it, or
	// forgotten by a memory store at restart) is adopted: Granted.
	Granted Outcome = iota
	// Retried: Presented is the previous token, presented again within
	// Grace of its rotation (a client that lost the answer); Next becomes
	// current.
	Retried
	// Reused: Presented was spent before, outside the grace: the session is
	// now revoked (a Revocation is recorded, lasting until the later of the
	// session's expiry and RevokeUntil) and the refresh refused.
	Reused
	// Ended: the session had been revoked before.
	Ended
)

// Revocation is one recorded revocation.
type Revocation struct {
	// Session ends one session (every token carrying its sid); "" with
	// UserID ends every token of that user issued before Before.
	Session string
	UserID  int64
	Before  int64 // Unix seconds; with Session "" only
	Expires int64 // Unix seconds: after this no token it concerns is valid, and it is forgotten
	At      int64 // Unix milliseconds when recorded; set by the store
}

// Store is a state store. Implementations are safe for concurrent use and
// start no goroutine.
type Store interface {
	StartSession(ctx context.Context, s Session) error
	Spend(ctx context.Context, s Spend) (Outcome, error)
	// Revoke records r (its At set to now) and returns it as recorded.
	Revoke(ctx context.Context, r Revocation, now int64) (Revocation, error)
	// Revocations returns the revocations recorded at or after since (Unix
	// ms), not yet expired, and the cursor to pass next time. Replicas call
	// it every sync interval to learn each other's revocations.
	Revocations(ctx context.Context, since, now int64) ([]Revocation, int64, error)
}

// ErrFull is returned by a memory store that holds as many entries as it
// may, after dropping the expired ones: the caller refuses what needed the
// entry (fail closed) rather than forget a session.
var ErrFull = errors.New("state store is full")
