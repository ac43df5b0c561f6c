package store

import (
	"context"
	"errors"
	"sort"
	"sync"
	"time"
)

// DefaultMaxEntries bounds a Memory created with maxEntries <= 0.
const DefaultMaxEntries = 100000

// sweepEvery is the least time between two sweeps of expired entries, in
// milliseconds: a full store does not rescan itself on every request.
const sweepEvery = 1000

// Memory is a Store kept in the process: what Shared hands to every
// middleware instance that asks for the same key.
//
// It holds at most maxEntries session records and session revocations,
// and besides them at most one revocation per user. When full it drops the
// expired entries (at most once a second) and, if still full, refuses what
// would add an entry with ErrFull: a new session, and the revocation of a
// session it holds no record of (with rotation off, every session). A
// revocation is never dropped before it expires. Revoking a recorded
// session turns its record into the revocation, and revoking a revoked one
// again returns the recorded revocation or replaces it when the new one
// lasts longer: neither needs room. A user's revocation replaces the
// user's previous one (the later Before, the later Expires) and is always
// recorded: there are no more of them than users.
//
// Spend and Revoke judge expiry by the now they are given; StartSession,
// which is given none, by the wall clock (or the latest now seen, when
// later).
//
// It is also Counters (counters.go), with a budget of its own: at most
// maxEntries counted keys besides the sessions and revocations, so that a
// flood of failed logins cannot crowd out sessions, nor sessions the
// counters. A full budget fails closed: after dropping the expired counters
// (at most once a second), Failure and Peek refuse a new key with ErrFull,
// and the gate refuses the attempt rather than let through one whose
// failure it could not count. Evicting live counters instead would hand a
// flood of distinct logins or addresses the very thing it is after: the
// reset of the attacked login's count.
type Memory struct {
	mu        sync.Mutex
	max       int
	sessions  map[string]*memSession
	log       []Revocation          // ordered by At, strictly increasing
	revoked   map[string]Revocation // session id -> its revocation in log
	byUser    map[int64]Revocation  // user id -> the user's revocation in log
	lastAt    int64                 // At of the latest revocation, ms
	seen      int64                 // latest time seen, ms: the store's clock
	lastSweep int64                 // ms

	counters         map[string]*memCount // failure counters by key
	lastCounterSweep int64                // ms
}

// memSession is one session's rotation state.
type memSession struct {
	user int64
	cur  string // the refresh token to spend next
	prev string // the one cur replaced
	rot  int64  // when cur replaced prev, Unix ms
	exp  int64  // Unix s: when the record is forgotten
}

// NewMemory returns an empty store of its own (Shared is what the gate uses).
func NewMemory(maxEntries int) *Memory {
	m := &Memory{sessions: map[string]*memSession{}, revoked: map[string]Revocation{}, byUser: map[int64]Revocation{},
		counters: map[string]*memCount{}}
	m.setMax(maxEntries)
	return m
}

func (m *Memory) setMax(maxEntries int) {
	if maxEntries <= 0 {
		maxEntries = DefaultMaxEntries
	}
	m.mu.Lock()
	m.max = maxEntries
	m.mu.Unlock()
}

// StartSession records s's first refresh token as current. ErrFull when
// there is no room for it.
func (m *Memory) StartSession(ctx context.Context, s Session) error {
	if s.ID == "" {
		return errors.New("store: start session: empty session id")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	clock := m.clock(time.Now().UnixMilli())
	if m.isRevoked(s.ID, clock) {
		return nil // a revoked session stays revoked
	}
	if _, ok := m.sessions[s.ID]; !ok && !m.room(clock) {
		return ErrFull
	}
	m.sessions[s.ID] = &memSession{user: s.UserID, cur: s.RefreshID, exp: s.Expires}
	return nil
}

// Spend decides a refresh (see Outcome). On error the outcome is Ended.
func (m *Memory) Spend(ctx context.Context, s Spend) (Outcome, error) {
	if s.Session == "" {
		return Ended, errors.New("store: spend: empty session id")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	// clock and isRevoked, written out rather than called: a refresh with
	// rotation comes here (CONTRIBUTING.md, the cost model).
	if s.Now > m.seen {
		m.seen = s.Now
	}
	clock := m.seen
	if r, revoked := m.revoked[s.Session]; revoked && r.Expires*1000 > s.Now {
		return Ended, nil
	}
	if s.Next == "" {
		return Granted, nil // rotation off: the session stands
	}
	rec, ok := m.sessions[s.Session]
	if ok && rec.exp*1000 <= s.Now {
		delete(m.sessions, s.Session)
		ok = false
	}
	if !ok {
		if !m.room(clock) {
			return Ended, ErrFull
		}
		m.sessions[s.Session] = &memSession{user: s.UserID, cur: s.Next, prev: s.Presented, rot: s.Now, exp: s.Expires}
		return Granted, nil
	}
	if s.Expires > rec.exp {
		rec.exp = s.Expires
	}
	if s.Presented == rec.cur {
		rec.prev = rec.cur
		rec.cur = s.Next
		rec.rot = s.Now
		return Granted, nil
	}
	// A retry needs a grace, and falls within it on either side of the
	// rotation: a replica whose clock is behind sees it in its future.
	if s.Presented == rec.prev && s.Grace > 0 && s.Now-rec.rot <= s.Grace && rec.rot-s.Now <= s.Grace {
		rec.cur = s.Next // the grace runs from the first rotation, not from this one
		return Retried, nil
	}
	until := rec.exp
	if s.RevokeUntil > until {
		until = s.RevokeUntil
	}
	m.record(Revocation{Session: s.Session, UserID: rec.user, Expires: until}, s.Now)
	delete(m.sessions, s.Session)
	return Reused, nil
}

// Revoke records r. A session revocation lasts at least as long as the
// session's record; revoking a session again returns the revocation
// already recorded unless r lasts longer. A session revocation that needs
// an entry of its own fails with ErrFull when there is no room; a user's
// revocation replaces the user's previous one, and is always recorded.
func (m *Memory) Revoke(ctx context.Context, r Revocation, now int64) (Revocation, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	clock := m.clock(now)
	if r.Session == "" {
		return m.revokeUser(r, now), nil
	}
	old, ok := m.revoked[r.Session]
	rec, known := m.sessions[r.Session]
	switch {
	case ok && old.Expires*1000 > now:
		if old.Expires >= r.Expires {
			return old, nil
		}
		m.unlog(old.At) // replaced: its entry is the new one's
	case known:
		if rec.exp > r.Expires {
			r.Expires = rec.exp
		}
		delete(m.sessions, r.Session) // the record's entry is the revocation's
	case !m.room(clock):
		return Revocation{}, ErrFull
	}
	return m.record(r, now), nil
}

// revokeUser records a user's revocation in place of the user's previous
// one, keeping the later Before and the later Expires of the two: every
// token either refused is refused, as long as either would have.
func (m *Memory) revokeUser(r Revocation, now int64) Revocation {
	old, ok := m.byUser[r.UserID]
	if ok && old.Expires*1000 > now {
		if old.Before >= r.Before && old.Expires >= r.Expires {
			return old
		}
		if old.Before > r.Before {
			r.Before = old.Before
		}
		if old.Expires > r.Expires {
			r.Expires = old.Expires
		}
	}
	if ok {
		m.unlog(old.At)
	}
	return m.record(r, now)
}

// Revocations returns the revocations with At >= since that have not
// expired at now, and the cursor for the next call.
func (m *Memory) Revocations(ctx context.Context, since, now int64) ([]Revocation, int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.clock(now)
	i := sort.Search(len(m.log), func(j int) bool { return m.log[j].At >= since })
	if i == len(m.log) {
		return nil, since, nil
	}
	var out []Revocation
	for _, r := range m.log[i:] {
		if r.Expires*1000 > now {
			out = append(out, r)
		}
	}
	next := m.log[len(m.log)-1].At + 1
	return out, next, nil
}

// clock advances the store's clock to now when later, and returns it.
func (m *Memory) clock(now int64) int64 {
	if now > m.seen {
		m.seen = now
	}
	return m.seen
}

// isRevoked reports whether session sid has an unexpired revocation at now (ms).
func (m *Memory) isRevoked(sid string, now int64) bool {
	r, ok := m.revoked[sid]
	return ok && r.Expires*1000 > now
}

// record appends r to the log with a strictly increasing At (now, or one
// past the previous At) and returns it as recorded.
func (m *Memory) record(r Revocation, now int64) Revocation {
	at := now
	if at <= m.lastAt {
		at = m.lastAt + 1
	}
	m.lastAt = at
	r.At = at
	m.log = append(m.log, r)
	if r.Session != "" {
		m.revoked[r.Session] = r
	} else {
		m.byUser[r.UserID] = r
	}
	return r
}

// unlog removes from the log the revocation recorded at that time.
func (m *Memory) unlog(at int64) {
	i := sort.Search(len(m.log), func(j int) bool { return m.log[j].At >= at })
	if i < len(m.log) && m.log[i].At == at {
		m.log = append(m.log[:i], m.log[i+1:]...)
	}
}

// room reports whether one more session record or session revocation
// fits, sweeping the expired entries first when the store is full and the
// last sweep is a second old. Users' revocations are not counted.
func (m *Memory) room(clock int64) bool {
	if m.entries() < m.max {
		return true
	}
	if m.lastSweep != 0 && clock-m.lastSweep < sweepEvery {
		return false
	}
	m.lastSweep = clock
	m.sweep(clock)
	return m.entries() < m.max
}

// entries counts the session records and session revocations.
func (m *Memory) entries() int {
	return len(m.sessions) + len(m.log) - len(m.byUser)
}

// sweep drops the entries expired at clock (ms).
func (m *Memory) sweep(clock int64) {
	for id, rec := range m.sessions {
		if rec.exp*1000 <= clock {
			delete(m.sessions, id)
		}
	}
	kept := m.log[:0]
	for _, r := range m.log {
		if r.Expires*1000 > clock {
			kept = append(kept, r)
			continue
		}
		if r.Session != "" && m.revoked[r.Session].At == r.At {
			delete(m.revoked, r.Session)
		}
		if r.Session == "" && m.byUser[r.UserID].At == r.At {
			delete(m.byUser, r.UserID)
		}
	}
	for i := len(kept); i < len(m.log); i++ {
		m.log[i] = Revocation{} // let the dropped strings go
	}
	m.log = kept
}
