package store_test

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/tokengate/tokengate/store"
)

// The behaviour every Store shares, run against Memory and Redis.

const hour = 3600

// step is one Spend of a scenario: after ms past the scenario's start.
type step struct {
	presented string
	next      string
	after     int64
	want      store.Outcome
}

func outcomeName(o store.Outcome) string {
	names := []string{"Granted", "Retried", "Reused", "Ended"}
	if o >= 0 && int(o) < len(names) {
		return names[o]
	}
	return "Outcome(" + strconv.Itoa(int(o)) + ")"
}

func nowMS() int64 { return time.Now().UnixMilli() }

func start(t *testing.T, st store.Store, s store.Session) {
	t.Helper()
	if err := st.StartSession(context.Background(), s); err != nil {
		t.Fatalf("StartSession(%s): %v", s.ID, err)
	}
}

func spend(t *testing.T, st store.Store, s store.Spend) store.Outcome {
	t.Helper()
	o, err := st.Spend(context.Background(), s)
	if err != nil {
		t.Fatalf("Spend(%s, %s -> %s): %v", s.Session, s.Presented, s.Next, err)
	}
	return o
}

func revoke(t *testing.T, st store.Store, r store.Revocation, now int64) store.Revocation {
	t.Helper()
	got, err := st.Revoke(context.Background(), r, now)
	if err != nil {
		t.Fatalf("Revoke(%+v): %v", r, err)
	}
	if got.At <= 0 {
		t.Fatalf("Revoke(%+v): At %d not set", r, got.At)
	}
	return got
}

func revocations(t *testing.T, st store.Store, since, now int64) ([]store.Revocation, int64) {
	t.Helper()
	list, next, err := st.Revocations(context.Background(), since, now)
	if err != nil {
		t.Fatalf("Revocations(%d): %v", since, err)
	}
	return list, next
}

// findSession returns the listed revocation of session sid.
func findSession(list []store.Revocation, sid string) (store.Revocation, bool) {
	for _, r := range list {
		if r.Session == sid {
			return r, true
		}
	}
	return store.Revocation{}, false
}

func testStore(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Run("rotation", func(t *testing.T) { testRotation(t, newStore) })
	t.Run("grace bounds", func(t *testing.T) { testGraceBounds(t, newStore) })
	t.Run("reuse revocation lasts RevokeUntil", func(t *testing.T) { testReuseRevokeUntil(t, newStore) })
	t.Run("rotation off", func(t *testing.T) { testRotationOff(t, newStore) })
	t.Run("unknown session adopted", func(t *testing.T) { testAdoption(t, newStore) })
	t.Run("revoke by user", func(t *testing.T) { testRevokeUser(t, newStore) })
	t.Run("revoke session twice", func(t *testing.T) { testRevokeTwice(t, newStore) })
	t.Run("cursor", func(t *testing.T) { testCursor(t, newStore) })
	t.Run("concurrent spends of one token", func(t *testing.T) { testConcurrentSpend(t, newStore) })
	t.Run("expiry", func(t *testing.T) { testExpiry(t, newStore) })
}

func testRotation(t *testing.T, newStore func(t *testing.T) store.Store) {
	const grace = 5000
	tests := []struct {
		name    string
		steps   []step
		revoked bool // the session ends revoked, listed by Revocations
	}{
		{"current tokens in turn", []step{
			{"r0", "r1", 0, store.Granted},
			{"r1", "r2", 10, store.Granted},
			{"r2", "r3", 20, store.Granted},
		}, false},
		{"previous within grace is a retry", []step{
			{"r0", "r1", 0, store.Granted},
			{"r0", "r2", 1000, store.Retried},
			{"r2", "r3", 1100, store.Granted},
			{"r3", "r4", 1200, store.Granted},
		}, false},
		{"grace runs from the first rotation", []step{
			{"r0", "r1", 0, store.Granted},
			{"r0", "r2", 4000, store.Retried},
			{"r0", "r3", 6000, store.Reused},
			{"r2", "r4", 6100, store.Ended},
		}, true},
		{"previous outside grace is reuse, then the current one ends too", []step{
			{"r0", "r1", 0, store.Granted},
			{"r0", "r2", grace + 1, store.Reused},
			{"r1", "r3", grace + 2, store.Ended},
			{"r0", "r4", grace + 3, store.Ended},
		}, true},
		{"older than the previous is reuse within grace", []step{
			{"r0", "r1", 0, store.Granted},
			{"r1", "r2", 10, store.Granted},
			{"r0", "r3", 20, store.Reused},
			{"r2", "r4", 30, store.Ended},
		}, true},
		{"a token never seen is reuse", []step{
			{"r0", "r1", 0, store.Granted},
			{"x", "r2", 10, store.Reused},
			{"r1", "r3", 20, store.Ended},
		}, true},
		{"first token spent twice outside grace", []step{
			{"r0", "r1", 0, store.Granted},
			{"r0", "r2", 60000, store.Reused},
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := newStore(t)
			base := nowMS()
			exp := base/1000 + hour
			start(t, st, store.Session{ID: "sid-1", UserID: 7, RefreshID: "r0", Expires: exp})
			for i, s := range tt.steps {
				got := spend(t, st, store.Spend{Session: "sid-1", UserID: 7, Presented: s.presented, Next: s.next,
					Now: base + s.after, Grace: grace, Expires: exp + int64(i)})
				if got != s.want {
					t.Fatalf("step %d (%s -> %s at +%dms): got %s, want %s", i, s.presented, s.next, s.after,
						outcomeName(got), outcomeName(s.want))
				}
			}
			list, _ := revocations(t, st, 0, base)
			r, ok := findSession(list, "sid-1")
			if ok != tt.revoked {
				t.Fatalf("revocation listed: %v, want %v (%+v)", ok, tt.revoked, list)
			}
			if ok && (r.UserID != 7 || r.Expires < exp || r.Before != 0 || r.At <= 0) {
				t.Fatalf("revocation %+v: want UserID 7, Expires >= %d, Before 0, At set", r, exp)
			}
		})
	}
}

// testGraceBounds: the previous token is a retry only with a grace, and
// only within it on either side of the rotation (a replica whose clock is
// behind sees the rotation in its future).
func testGraceBounds(t *testing.T, newStore func(t *testing.T) store.Store) {
	tests := []struct {
		name  string
		grace int64
		after int64 // ms from the rotation to the retry
		want  store.Outcome
	}{
		{"no grace, same millisecond", 0, 0, store.Reused},
		{"no grace, clock behind", 0, -20, store.Reused},
		{"no grace, clock an hour behind", 0, -hour * 1000, store.Reused},
		{"grace, same millisecond", 5000, 0, store.Retried},
		{"grace, at its end", 5000, 5000, store.Retried},
		{"grace, past its end", 5000, 5001, store.Reused},
		{"grace, clock behind within it", 5000, -5000, store.Retried},
		{"grace, clock behind by more", 5000, -5001, store.Reused},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := newStore(t)
			base := nowMS()
			exp := base/1000 + hour
			start(t, st, store.Session{ID: "sid-g", UserID: 7, RefreshID: "r0", Expires: exp})
			sp := store.Spend{Session: "sid-g", UserID: 7, Presented: "r0", Next: "r1", Now: base, Grace: tt.grace, Expires: exp}
			if got := spend(t, st, sp); got != store.Granted {
				t.Fatalf("rotation: got %s, want Granted", outcomeName(got))
			}
			sp.Next, sp.Now = "r2", base+tt.after
			if got := spend(t, st, sp); got != tt.want {
				t.Fatalf("r0 again %+dms after its rotation, grace %dms: got %s, want %s",
					tt.after, tt.grace, outcomeName(got), outcomeName(tt.want))
			}
		})
	}
}

// testReuseRevokeUntil: the revocation reuse records lasts until the later
// of the session's expiry and RevokeUntil (an access token refreshed late
// in the session outlives its refresh token), and the session stays ended
// that long.
func testReuseRevokeUntil(t *testing.T, newStore func(t *testing.T) store.Store) {
	tests := []struct {
		name  string
		until int64 // RevokeUntil, from the session's exp, s
		want  int64 // the revocation's Expires, from the session's exp, s
	}{
		{"later than the session", hour, hour},
		{"earlier than the session", -30, 0},
		{"none", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := newStore(t)
			base := nowMS()
			exp := base/1000 + 60
			until := int64(0)
			if tt.until != 0 {
				until = exp + tt.until
			}
			start(t, st, store.Session{ID: "sid-u", UserID: 7, RefreshID: "r0", Expires: exp})
			sp := store.Spend{Session: "sid-u", UserID: 7, Presented: "r0", Next: "r1", Now: base, Expires: exp, RevokeUntil: until}
			if got := spend(t, st, sp); got != store.Granted {
				t.Fatalf("rotation: got %s, want Granted", outcomeName(got))
			}
			sp.Next, sp.Now = "r2", base+10
			if got := spend(t, st, sp); got != store.Reused {
				t.Fatalf("r0 again: got %s, want Reused", outcomeName(got))
			}
			list, _ := revocations(t, st, 0, base)
			r, ok := findSession(list, "sid-u")
			if !ok || r.Expires != exp+tt.want {
				t.Fatalf("revocation %+v (listed %v): want Expires %d", r, ok, exp+tt.want)
			}
			if tt.want == 0 {
				return
			}
			after := store.Spend{Session: "sid-u", UserID: 7, Presented: "r1", Next: "r3", Now: (exp + 10) * 1000, Expires: exp}
			if got := spend(t, st, after); got != store.Ended {
				t.Fatalf("past the session's exp, within RevokeUntil: got %s, want Ended", outcomeName(got))
			}
			if list, _ := revocations(t, st, 0, (exp+10)*1000); len(list) != 1 {
				t.Fatalf("past the session's exp, within RevokeUntil: revocations %+v, want the session's", list)
			}
		})
	}
}

func testRotationOff(t *testing.T, newStore func(t *testing.T) store.Store) {
	st := newStore(t)
	base := nowMS()
	exp := base/1000 + hour
	start(t, st, store.Session{ID: "sid-off", UserID: 3, RefreshID: "r0", Expires: exp})
	standing := store.Spend{Session: "sid-off", UserID: 3, Presented: "r0", Now: base, Grace: 1000, Expires: exp}
	for i := 0; i < 3; i++ {
		if got := spend(t, st, standing); got != store.Granted {
			t.Fatalf("spend %d while standing: got %s, want Granted", i, outcomeName(got))
		}
	}
	rec := revoke(t, st, store.Revocation{Session: "sid-off", UserID: 3, Expires: exp - 60}, base)
	if rec.Session != "sid-off" || rec.UserID != 3 || rec.Expires < exp {
		t.Fatalf("Revoke returned %+v: want the session, user 3, Expires >= the session's %d", rec, exp)
	}
	if got := spend(t, st, standing); got != store.Ended {
		t.Fatalf("after Revoke: got %s, want Ended", outcomeName(got))
	}
	rotating := standing
	rotating.Next = "r1"
	if got := spend(t, st, rotating); got != store.Ended {
		t.Fatalf("after Revoke, with rotation: got %s, want Ended", outcomeName(got))
	}
	// A session the store never saw, revoked, is ended too.
	revoke(t, st, store.Revocation{Session: "sid-unseen", UserID: 4, Expires: exp}, base)
	unseen := store.Spend{Session: "sid-unseen", UserID: 4, Presented: "u0", Now: base, Expires: exp}
	if got := spend(t, st, unseen); got != store.Ended {
		t.Fatalf("unseen session after Revoke: got %s, want Ended", outcomeName(got))
	}
}

func testAdoption(t *testing.T, newStore func(t *testing.T) store.Store) {
	st := newStore(t)
	base := nowMS()
	exp := base/1000 + hour
	sp := store.Spend{Session: "sid-new", UserID: 5, Presented: "a0", Next: "a1", Now: base, Grace: 1000, Expires: exp}
	steps := []step{
		{"a0", "a1", 0, store.Granted}, // adopted: a1 current, a0 previous
		{"a1", "a2", 10, store.Granted},
		{"a1", "a3", 20, store.Retried},
		{"a0", "a4", 30, store.Reused},
	}
	for i, s := range steps {
		sp.Presented, sp.Next, sp.Now = s.presented, s.next, base+s.after
		if got := spend(t, st, sp); got != s.want {
			t.Fatalf("step %d (%s -> %s): got %s, want %s", i, s.presented, s.next, outcomeName(got), outcomeName(s.want))
		}
	}
	off := store.Spend{Session: "sid-other", UserID: 5, Presented: "b0", Now: base, Expires: exp}
	if got := spend(t, st, off); got != store.Granted {
		t.Fatalf("unknown session, rotation off: got %s, want Granted", outcomeName(got))
	}
}

func testRevokeUser(t *testing.T, newStore func(t *testing.T) store.Store) {
	st := newStore(t)
	now := nowMS()
	sec := now / 1000
	want := store.Revocation{UserID: 9, Before: sec, Expires: sec + hour}
	got := revoke(t, st, want, now)
	want.At = got.At
	if got != want {
		t.Fatalf("Revoke returned %+v, want %+v", got, want)
	}
	// One revocation per user: the same again is the one recorded; a later
	// Before or Expires replaces it, keeping the later of each.
	if again := revoke(t, st, store.Revocation{UserID: 9, Before: sec, Expires: sec + hour}, now); again != got {
		t.Fatalf("the same again: got %+v, want the recorded %+v", again, got)
	}
	later := revoke(t, st, store.Revocation{UserID: 9, Before: sec + 5, Expires: sec + hour - 10}, now)
	if later.At <= got.At || later.Before != sec+5 || later.Expires != sec+hour {
		t.Fatalf("a later Before: got %+v, want a new At after %d, Before %d, Expires %d", later, got.At, sec+5, sec+hour)
	}
	longer := revoke(t, st, store.Revocation{UserID: 9, Before: sec - 5, Expires: sec + 2*hour}, now)
	if longer.At <= later.At || longer.Before != sec+5 || longer.Expires != sec+2*hour {
		t.Fatalf("a later Expires: got %+v, want a new At after %d, Before %d, Expires %d", longer, later.At, sec+5, sec+2*hour)
	}
	other := revoke(t, st, store.Revocation{UserID: 10, Before: sec, Expires: sec + hour}, now)
	list, _ := revocations(t, st, 0, now)
	if len(list) != 2 || list[0] != longer || list[1] != other {
		t.Fatalf("Revocations: got %+v, want [%+v %+v]", list, longer, other)
	}
	// A replica that synced the first sees the replacement past its cursor.
	if list, _ := revocations(t, st, got.At+1, now); len(list) != 2 || list[0] != longer {
		t.Fatalf("Revocations since the first: got %+v, want [%+v %+v]", list, longer, other)
	}
}

func testRevokeTwice(t *testing.T, newStore func(t *testing.T) store.Store) {
	st := newStore(t)
	now := nowMS()
	sec := now / 1000
	start(t, st, store.Session{ID: "sid-2", UserID: 2, RefreshID: "r0", Expires: sec + 60})
	first := revoke(t, st, store.Revocation{Session: "sid-2", UserID: 2, Expires: sec + 30}, now)
	if first.Expires != sec+60 {
		t.Fatalf("first revocation %+v: want Expires raised to the session's %d", first, sec+60)
	}
	second := revoke(t, st, store.Revocation{Session: "sid-2", UserID: 2, Expires: sec + 60}, now+1)
	if second != first {
		t.Fatalf("revoking again: got %+v, want the recorded %+v", second, first)
	}
	longer := revoke(t, st, store.Revocation{Session: "sid-2", UserID: 2, Expires: sec + hour}, now+2)
	if longer.At <= first.At || longer.Expires != sec+hour {
		t.Fatalf("longer revocation %+v: want a new At after %d and Expires %d", longer, first.At, sec+hour)
	}
	list, _ := revocations(t, st, 0, now)
	if len(list) != 1 || list[0] != longer {
		t.Fatalf("Revocations: got %+v, want only %+v", list, longer)
	}
}

func testCursor(t *testing.T, newStore func(t *testing.T) store.Store) {
	st := newStore(t)
	now := nowMS()
	sec := now / 1000
	list, cursor := revocations(t, st, 0, now)
	if len(list) != 0 || cursor != 0 {
		t.Fatalf("empty store: got %+v, cursor %d; want none, cursor 0", list, cursor)
	}
	// Five in the same millisecond (as the caller sees it), one short-lived.
	var recorded []store.Revocation
	for i := 0; i < 5; i++ {
		exp := sec + hour
		if i == 1 {
			exp = sec + 10
		}
		r := revoke(t, st, store.Revocation{UserID: int64(100 + i), Before: sec, Expires: exp}, now)
		if len(recorded) > 0 && r.At <= recorded[len(recorded)-1].At {
			t.Fatalf("At %d not after %d", r.At, recorded[len(recorded)-1].At)
		}
		recorded = append(recorded, r)
	}
	last := recorded[4].At
	tests := []struct {
		name     string
		since    int64
		now      int64
		want     []int // indexes into recorded
		wantNext int64
	}{
		{"all", 0, now, []int{0, 1, 2, 3, 4}, last + 1},
		{"since is inclusive", recorded[2].At, now, []int{2, 3, 4}, last + 1},
		{"since the cursor: nothing, same cursor", last + 1, now, nil, last + 1},
		{"since far ahead", last + 1000000, now, nil, last + 1000000},
		{"expired dropped, still passed by the cursor", 0, (sec + 20) * 1000, []int{0, 2, 3, 4}, last + 1},
		{"expiry is exclusive", recorded[1].At, (sec + 10) * 1000, []int{2, 3, 4}, last + 1},
		{"just before expiry", recorded[1].At, (sec+10)*1000 - 1, []int{1, 2, 3, 4}, last + 1},
		{"everything expired", 0, (sec + hour) * 1000, nil, last + 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			list, next := revocations(t, st, tt.since, tt.now)
			if next != tt.wantNext {
				t.Fatalf("cursor %d, want %d", next, tt.wantNext)
			}
			if len(list) != len(tt.want) {
				t.Fatalf("got %d revocations %+v, want %d", len(list), list, len(tt.want))
			}
			for i, j := range tt.want {
				if list[i] != recorded[j] {
					t.Fatalf("revocation %d: got %+v, want %+v", i, list[i], recorded[j])
				}
			}
		})
	}
	// Syncing with the cursor sees each later revocation exactly once.
	cursor = last + 1
	seen := map[int64]bool{}
	for round := 0; round < 3; round++ {
		want := map[int64]bool{}
		for i := 0; i < round+1; i++ {
			r := revoke(t, st, store.Revocation{UserID: int64(200 + 10*round + i), Before: sec, Expires: sec + hour}, now)
			want[r.At] = true
		}
		list, next := revocations(t, st, cursor, now)
		if len(list) != len(want) {
			t.Fatalf("round %d: got %d revocations, want %d", round, len(list), len(want))
		}
		for _, r := range list {
			if !want[r.At] || seen[r.At] {
				t.Fatalf("round %d: revocation %+v unexpected or seen before", round, r)
			}
			seen[r.At] = true
		}
		cursor = next
	}
}

func testConcurrentSpend(t *testing.T, newStore func(t *testing.T) store.Store) {
	st := newStore(t)
	base := nowMS()
	exp := base/1000 + hour
	start(t, st, store.Session{ID: "sid-c", UserID: 1, RefreshID: "r0", Expires: exp})
	const n = 8
	var wg sync.WaitGroup
	var mu sync.Mutex
	counts := map[store.Outcome]int{}
	var firstErr error
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			o, err := st.Spend(context.Background(), store.Spend{Session: "sid-c", UserID: 1, Presented: "r0",
				Next: "n" + strconv.Itoa(i), Now: base, Grace: 60000, Expires: exp})
			mu.Lock()
			defer mu.Unlock()
			if err != nil && firstErr == nil {
				firstErr = err
			}
			counts[o]++
		}(i)
	}
	wg.Wait()
	if firstErr != nil {
		t.Fatal(firstErr)
	}
	if counts[store.Granted] != 1 || counts[store.Retried] != n-1 {
		t.Fatalf("outcomes %v: want exactly one Granted and %d Retried", counts, n-1)
	}
}

// testExpiry waits for real time to pass the entries' expiry (Redis expires
// keys by its own clock): about two seconds.
func testExpiry(t *testing.T, newStore func(t *testing.T) store.Store) {
	st := newStore(t)
	base := nowMS()
	exp := base/1000 + 1
	start(t, st, store.Session{ID: "sid-e", UserID: 1, RefreshID: "r0", Expires: exp})
	sp := store.Spend{Session: "sid-e", UserID: 1, Presented: "r0", Next: "r1", Now: base, Grace: 100, Expires: exp}
	if got := spend(t, st, sp); got != store.Granted {
		t.Fatalf("before expiry: got %s, want Granted", outcomeName(got))
	}
	revoke(t, st, store.Revocation{Session: "sid-r", UserID: 1, Expires: exp}, base)
	revoke(t, st, store.Revocation{UserID: 1, Before: exp - 1, Expires: exp}, base)
	if list, _ := revocations(t, st, 0, base); len(list) != 2 {
		t.Fatalf("before expiry: %d revocations, want 2", len(list))
	}
	time.Sleep(time.Duration(exp*1000+100-nowMS()) * time.Millisecond)
	now := nowMS()
	if list, _ := revocations(t, st, 0, now); len(list) != 0 {
		t.Fatalf("after expiry: revocations %+v, want none", list)
	}
	// The spent r0 would be reuse if the record were still there: it is
	// gone, so the session is adopted afresh.
	sp.Now, sp.Next, sp.Expires = now, "r2", now/1000+hour
	if got := spend(t, st, sp); got != store.Granted {
		t.Fatalf("after expiry, spent token: got %s, want Granted (record forgotten)", outcomeName(got))
	}
	revoked := store.Spend{Session: "sid-r", UserID: 1, Presented: "x0", Next: "x1", Now: now, Grace: 100, Expires: now/1000 + hour}
	if got := spend(t, st, revoked); got != store.Granted {
		t.Fatalf("after expiry, revoked session: got %s, want Granted (revocation forgotten)", outcomeName(got))
	}
}
