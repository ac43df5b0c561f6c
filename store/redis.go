package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tokengate/tokengate/resp"
)

// Redis is a Store in Redis, shared by every replica using the same server
// and key prefix. Keys (see redis_scripts.go for the fields):
//
//	<prefix>sess:<sid>     hash, expires at the latest Expires given (the
//	                       gate adds its leeway to the token expiry)
//	<prefix>revocations    sorted set, score At (ms), member an encoded
//	                       Revocation; expires retention after its last write,
//	                       members older than retention are trimmed
//	<prefix>urev:<userID>  string, the member of the user's one revocation;
//	                       expires with it
//	<prefix>thr:<key>      hash, a failure counter (redis_counters.go);
//	                       expires resetAfter after its latest failure
//
// Spend and Revoke are Lua scripts (atomic). A revocation's At is the Redis
// server's time in ms, one past the latest recorded when not later, so all
// replicas see one order whatever their clocks; Spend's grace is judged by
// the caller's Now. Redis and network errors are returned wrapped, naming the
// operation; Spend then answers Ended.
type Redis struct {
	client    *resp.Client
	prefix    string
	retention int64 // ms
	page      int   // revocations per reply, at most (Revocations reads in pages)
}

// RevocationsPage is how many revocations one reply to Revocations carries
// at most: 20,000 elements, far below resp.MaxArrayElems.
const RevocationsPage = 10000

// NewRedis returns a store over client with keys under keyPrefix (e.g.
// "tokengate:"). retention is the longest token lifetime: revocations are
// kept that long at most (at least one second).
func NewRedis(client *resp.Client, keyPrefix string, retention time.Duration) *Redis {
	ms := retention.Milliseconds()
	if ms < 1000 {
		ms = 1000
	}
	return &Redis{client: client, prefix: keyPrefix, retention: ms, page: RevocationsPage}
}

// SetPage sets how many revocations one reply to Revocations carries at
// most (RevocationsPage unless set; tests read in small pages).
func (r *Redis) SetPage(n int) {
	if n > 0 {
		r.page = n
	}
}

func (r *Redis) sessionKey(sid string) string { return r.prefix + "sess:" + sid }

func (r *Redis) revocationsKey() string { return r.prefix + "revocations" }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// StartSession records s's first refresh token as current.
func (r *Redis) StartSession(ctx context.Context, s Session) error {
	if s.ID == "" {
		return errors.New("store: start session: empty session id")
	}
	keys := []string{r.sessionKey(s.ID)}
	args := []string{s.RefreshID, itoa(s.UserID), itoa(s.Expires)}
	if _, err := r.client.Eval(ctx, startScript, keys, args); err != nil {
		return fmt.Errorf("store: redis start session: %w", err)
	}
	return nil
}

// Spend decides a refresh (see Outcome). On error the outcome is Ended.
func (r *Redis) Spend(ctx context.Context, s Spend) (Outcome, error) {
	if s.Session == "" {
		return Ended, errors.New("store: spend: empty session id")
	}
	keys := []string{r.sessionKey(s.Session), r.revocationsKey()}
	args := []string{s.Presented, s.Next, itoa(s.Now), itoa(s.Grace), itoa(s.Expires),
		itoa(s.UserID), itoa(r.retention), s.Session, itoa(s.RevokeUntil)}
	v, err := r.client.Eval(ctx, spendScript, keys, args)
	if err != nil {
		return Ended, fmt.Errorf("store: redis spend: %w", err)
	}
	if v.Kind != resp.KindArray || len(v.Elems) == 0 {
		return Ended, fmt.Errorf("store: redis spend: unexpected reply %s", v)
	}
	code, err := v.Elems[0].Int()
	if err != nil || code < int64(Granted) || code > int64(Ended) {
		return Ended, fmt.Errorf("store: redis spend: unexpected reply %s", v)
	}
	return Outcome(code), nil
}

// Revoke records rev (At set by the server) and returns it as recorded.
// Revoking a session already revoked at least as long returns that
// revocation; a session revocation lasts at least as long as the session's
// record. A user's revocation replaces the user's previous one (the later
// Before, the later Expires).
func (r *Redis) Revoke(ctx context.Context, rev Revocation, now int64) (Revocation, error) {
	keys := []string{r.revocationsKey(), r.prefix + "urev:" + itoa(rev.UserID)}
	args := []string{"u", itoa(rev.UserID), itoa(rev.Before), itoa(rev.Expires), itoa(r.retention), rev.Session}
	if rev.Session != "" {
		keys[1] = r.sessionKey(rev.Session)
		args[0] = "s"
	}
	v, err := r.client.Eval(ctx, revokeScript, keys, args)
	if err != nil {
		return Revocation{}, fmt.Errorf("store: redis revoke: %w", err)
	}
	if v.Kind != resp.KindArray || len(v.Elems) != 2 {
		return Revocation{}, fmt.Errorf("store: redis revoke: unexpected reply %s", v)
	}
	at, err := v.Elems[0].Int()
	if err != nil {
		return Revocation{}, fmt.Errorf("store: redis revoke: unexpected reply %s", v)
	}
	rec, ok := decodeRevocation(v.Elems[1].Text, at)
	if !ok {
		return Revocation{}, fmt.Errorf("store: redis revoke: unexpected reply %s", v)
	}
	return rec, nil
}

// Revocations returns the revocations with At >= since not expired at now
// (ms), and the cursor for the next call: one past the latest At read.
//
// It reads in pages of r.page members, each from the latest At read so
// far, inclusive: members that share it (the store gives each its own At,
// but nothing else guarantees it) are not skipped, and those already read
// are known by name, not by count, so that one removed meanwhile (a user's
// revocation replaced) does not make another skipped.
func (r *Redis) Revocations(ctx context.Context, since, now int64) ([]Revocation, int64, error) {
	var out []Revocation
	next := since
	from := since
	var atFrom []string // members read whose At is from
	for {
		limit := r.page + len(atFrom)
		v, err := r.client.Do(ctx, "ZRANGEBYSCORE", r.revocationsKey(), itoa(from), "+inf", "WITHSCORES", "LIMIT", "0", strconv.Itoa(limit))
		if err != nil {
			return nil, since, fmt.Errorf("store: redis revocations: %w", err)
		}
		flat, err := v.Strings()
		if err != nil || len(flat)%2 != 0 {
			return nil, since, fmt.Errorf("store: redis revocations: unexpected reply (%d elements)", len(v.Elems))
		}
		for i := 0; i < len(flat); i += 2 {
			score, err := strconv.ParseFloat(flat[i+1], 64)
			if err != nil {
				return nil, since, fmt.Errorf("store: redis revocations: score %q is not a number", flat[i+1])
			}
			at := int64(score)
			if at == from && readAlready(atFrom, flat[i]) {
				continue
			}
			if at != from {
				from = at
				atFrom = atFrom[:0]
			}
			atFrom = append(atFrom, flat[i])
			if at >= next {
				next = at + 1
			}
			rec, ok := decodeRevocation(flat[i], at)
			if ok && rec.Expires*1000 > now {
				out = append(out, rec)
			}
		}
		if len(flat) < 2*limit {
			return out, next, nil
		}
	}
}

// readAlready reports whether member is among those read.
func readAlready(read []string, member string) bool {
	for _, m := range read {
		if m == member {
			return true
		}
	}
	return false
}

// decodeRevocation reads a sorted-set member: "s|<userID>|<expires>|<sid>"
// (the sid last: it may hold anything) or
// "u|<userID>|<before>|<expires>|<at>" (At keeps it unique). ok is false for
// anything else, which Revocations skips.
func decodeRevocation(member string, at int64) (Revocation, bool) {
	if strings.HasPrefix(member, "s|") {
		parts := strings.SplitN(member, "|", 4)
		if len(parts) != 4 || parts[3] == "" {
			return Revocation{}, false
		}
		user, err1 := strconv.ParseInt(parts[1], 10, 64)
		expires, err2 := strconv.ParseInt(parts[2], 10, 64)
		if err1 != nil || err2 != nil {
			return Revocation{}, false
		}
		return Revocation{Session: parts[3], UserID: user, Expires: expires, At: at}, true
	}
	parts := strings.Split(member, "|")
	if len(parts) != 5 || parts[0] != "u" {
		return Revocation{}, false
	}
	user, err1 := strconv.ParseInt(parts[1], 10, 64)
	before, err2 := strconv.ParseInt(parts[2], 10, 64)
	expires, err3 := strconv.ParseInt(parts[3], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return Revocation{}, false
	}
	return Revocation{UserID: user, Before: before, Expires: expires, At: at}, true
}
