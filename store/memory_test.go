package store_test

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/tokengate/tokengate/store"
)

func TestMemory(t *testing.T) {
	testStore(t, func(t *testing.T) store.Store { return store.NewMemory(0) })
	t.Run("counters", func(t *testing.T) {
		testCounters(t, func(t *testing.T) store.Counters { return store.NewMemory(0) })
	})
}

// sharedKey is a Shared key of the test's own, new on every run (-count):
// the registry lives as long as the process.
func sharedKey(t *testing.T) string {
	return t.Name() + "/" + strconv.FormatInt(time.Now().UnixNano(), 10)
}

func TestShared(t *testing.T) {
	ctx := context.Background()
	key := sharedKey(t)
	a := store.Shared(key+"/a", 10)
	tests := []struct {
		name string
		got  *store.Memory
		same bool
	}{
		{"same key", store.Shared(key+"/a", 10), true},
		{"same key, other bound", store.Shared(key+"/a", 20), true},
		{"other key", store.Shared(key+"/b", 10), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if (tt.got == a) != tt.same {
				t.Fatalf("same store: %v, want %v", tt.got == a, tt.same)
			}
		})
	}

	t.Run("state survives a new instance", func(t *testing.T) {
		now := nowMS()
		exp := now/1000 + hour
		start(t, store.Shared(key+"/s", 10), store.Session{ID: "s", UserID: 1, RefreshID: "r0", Expires: exp})
		sp := store.Spend{Session: "s", UserID: 1, Presented: "r0", Next: "r1", Now: now, Expires: exp}
		if got := spend(t, store.Shared(key+"/s", 10), sp); got != store.Granted {
			t.Fatalf("got %s, want Granted", outcomeName(got))
		}
		sp.Next, sp.Now = "r2", now+1000
		if got := spend(t, store.Shared(key+"/s", 10), sp); got != store.Reused {
			t.Fatalf("spent again through another instance: got %s, want Reused", outcomeName(got))
		}
	})

	t.Run("a later bound applies", func(t *testing.T) {
		exp := nowMS()/1000 + hour
		m := store.Shared(key+"/bound", 1)
		start(t, m, store.Session{ID: "s1", RefreshID: "r", Expires: exp})
		if err := m.StartSession(ctx, store.Session{ID: "s2", RefreshID: "r", Expires: exp}); err != store.ErrFull {
			t.Fatalf("bound 1: got %v, want ErrFull", err)
		}
		start(t, store.Shared(key+"/bound", 2), store.Session{ID: "s2", RefreshID: "r", Expires: exp})
	})
}

func TestMemoryBound(t *testing.T) {
	ctx := context.Background()
	now := nowMS()
	exp := now/1000 + hour
	m := store.NewMemory(2)
	start(t, m, store.Session{ID: "a", UserID: 1, RefreshID: "a0", Expires: exp})
	start(t, m, store.Session{ID: "b", UserID: 2, RefreshID: "b0", Expires: exp})

	if err := m.StartSession(ctx, store.Session{ID: "c", RefreshID: "c0", Expires: exp}); err != store.ErrFull {
		t.Fatalf("StartSession when full: got %v, want ErrFull", err)
	}
	start(t, m, store.Session{ID: "a", UserID: 1, RefreshID: "a0", Expires: exp}) // known: no room needed

	tests := []struct {
		name    string
		spend   store.Spend
		want    store.Outcome
		wantErr error
	}{
		{"known session rotates", store.Spend{Session: "a", Presented: "a0", Next: "a1", Now: now, Expires: exp}, store.Granted, nil},
		{"unknown session, rotation off", store.Spend{Session: "z", Presented: "z0", Now: now, Expires: exp}, store.Granted, nil},
		{"unknown session adopted: no room", store.Spend{Session: "z", Presented: "z0", Next: "z1", Now: now, Expires: exp}, store.Ended, store.ErrFull},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := m.Spend(ctx, tt.spend)
			if got != tt.want || err != tt.wantErr {
				t.Fatalf("got %s, %v; want %s, %v", outcomeName(got), err, outcomeName(tt.want), tt.wantErr)
			}
		})
	}

	t.Run("revocations when full", func(t *testing.T) {
		// A user's revocation is not counted: one per user, always recorded.
		revoke(t, m, store.Revocation{UserID: 9, Before: now / 1000, Expires: exp}, now)
		user := revoke(t, m, store.Revocation{UserID: 9, Before: now/1000 + 1, Expires: exp}, now)
		// A recorded session's revocation takes its record's place.
		revoke(t, m, store.Revocation{Session: "b", UserID: 2, Expires: exp}, now)
		// So does a longer one of a revoked session.
		sess := revoke(t, m, store.Revocation{Session: "b", UserID: 2, Expires: exp + 10}, now)
		// A session the store holds no record of needs room: none.
		if _, err := m.Revoke(ctx, store.Revocation{Session: "x", UserID: 3, Expires: exp}, now); err != store.ErrFull {
			t.Fatalf("Revoke of an unrecorded session when full: got %v, want ErrFull", err)
		}
		list, _ := revocations(t, m, 0, now)
		if len(list) != 2 || list[0] != user || list[1] != sess {
			t.Fatalf("Revocations: %+v, want [%+v %+v]", list, user, sess)
		}
		sp := store.Spend{Session: "b", Presented: "b0", Next: "b1", Now: now, Expires: exp}
		if got := spend(t, m, sp); got != store.Ended {
			t.Fatalf("revoked session: got %s, want Ended", outcomeName(got))
		}
		// Once an entry expires, there is room again.
		later := (exp + 11) * 1000
		revoke(t, m, store.Revocation{Session: "x", UserID: 3, Expires: exp + hour}, later)
		if list, _ := revocations(t, m, 0, later); len(list) != 1 || list[0].Session != "x" {
			t.Fatalf("Revocations after expiry: %+v, want x's only", list)
		}
	})
}

// TestMemorySweep drives the store's clock with the now given to
// Revocations: expired entries are dropped when the store is full, at most
// once a second.
func TestMemorySweep(t *testing.T) {
	ctx := context.Background()
	sec := nowMS() / 1000
	m := store.NewMemory(2)
	start(t, m, store.Session{ID: "a", RefreshID: "a0", Expires: sec + 10})
	start(t, m, store.Session{ID: "b", RefreshID: "b0", Expires: sec + 20})
	x := (sec+10)*1000 - 200 // just before a expires
	steps := []struct {
		name  string
		clock int64
		want  error
	}{
		{"nothing expired yet", x, store.ErrFull},
		{"a expired, but swept less than a second ago", x + 400, store.ErrFull},
		{"a second later: swept", x + 1000, nil},
		{"full again", x + 1100, store.ErrFull},
	}
	for i, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			revocations(t, m, 0, s.clock)
			err := m.StartSession(ctx, store.Session{ID: "c" + strconv.Itoa(i), RefreshID: "r", Expires: sec + hour})
			if err != s.want {
				t.Fatalf("StartSession: got %v, want %v", err, s.want)
			}
		})
	}
	t.Run("expired revocations are swept too", func(t *testing.T) {
		m := store.NewMemory(2)
		revoke(t, m, store.Revocation{UserID: 1, Expires: sec + 1}, sec*1000)
		revoke(t, m, store.Revocation{UserID: 2, Expires: sec + 1}, sec*1000)
		revocations(t, m, 0, (sec+2)*1000)
		start(t, m, store.Session{ID: "s", RefreshID: "r", Expires: sec + hour})
		start(t, m, store.Session{ID: "t", RefreshID: "r", Expires: sec + hour})
	})
}

// TestMemoryConcurrent is for -race: sessions started, spent and revoked
// from several goroutines while another syncs revocations with the cursor.
func TestMemoryConcurrent(t *testing.T) {
	ctx := context.Background()
	m := store.NewMemory(1000)
	now := nowMS()
	exp := now/1000 + hour
	const workers, rounds = 4, 30
	var wg sync.WaitGroup
	errs := make(chan string, workers+1)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < rounds; i++ {
				sid := "s" + strconv.Itoa(w) + "-" + strconv.Itoa(i)
				if err := m.StartSession(ctx, store.Session{ID: sid, UserID: int64(w), RefreshID: "r0", Expires: exp}); err != nil {
					errs <- err.Error()
					return
				}
				o, err := m.Spend(ctx, store.Spend{Session: sid, Presented: "r0", Next: "r1", Now: now, Expires: exp})
				if err != nil || o != store.Granted {
					errs <- "spend " + sid + ": " + outcomeName(o)
					return
				}
				if _, err := m.Revoke(ctx, store.Revocation{Session: sid, Expires: exp}, now); err != nil {
					errs <- err.Error()
					return
				}
			}
		}(w)
	}
	seen := map[int64]bool{}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		var cursor int64
		for {
			last := false
			select {
			case <-stop:
				last = true // one more read after the workers are done
			default:
			}
			list, next, err := m.Revocations(ctx, cursor, now)
			if err != nil {
				errs <- err.Error()
				return
			}
			for _, r := range list {
				if seen[r.At] {
					errs <- "revocation seen twice"
					return
				}
				seen[r.At] = true
			}
			cursor = next
			if last {
				return
			}
		}
	}()
	wg.Wait()
	close(stop)
	<-done
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if len(seen) != workers*rounds {
		t.Errorf("synced %d revocations, want %d", len(seen), workers*rounds)
	}
}

// TestMemoryCountersBound: the counters have a budget of their own
// (maxEntries keys) and fail closed when it is spent: a new key is refused
// by Failure and by Peek with ErrFull, keys already counted keep working.
func TestMemoryCountersBound(t *testing.T) {
	ctx := context.Background()
	now := nowMS()
	m := store.NewMemory(2)
	failure(t, m, "a", now, minute)
	failure(t, m, "b", now, minute)

	tests := []struct {
		name    string
		run     func() error
		wantErr error
	}{
		{"Failure of a new key", func() error {
			_, err := m.Failure(ctx, "c", now, minute)
			return err
		}, store.ErrFull},
		{"Failure of a counted key", func() error {
			got, err := m.Failure(ctx, "a", now, minute)
			if err == nil && got.Failures != 2 {
				t.Errorf("Failure(a): got %+v, want 2 failures", got)
			}
			return err
		}, nil},
		{"Peek of counted keys", func() error {
			_, err := m.Peek(ctx, []string{"a", "b"}, now)
			return err
		}, nil},
		{"Peek of a new key", func() error {
			_, err := m.Peek(ctx, []string{"a", "c"}, now)
			return err
		}, store.ErrFull},
		{"Reset of an absent key", func() error { return m.Reset(ctx, "c") }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.run(); err != tt.wantErr {
				t.Fatalf("got %v, want %v", err, tt.wantErr)
			}
		})
	}

	t.Run("the new key is not recorded", func(t *testing.T) {
		reset(t, m, "b") // makes room for one
		if got := peekOne(t, m, "c", now); got != (store.Count{}) {
			t.Fatalf("c: got %+v, want zero", got)
		}
		if _, err := m.Peek(ctx, []string{"c", "d"}, now); err != store.ErrFull {
			t.Fatalf("Peek of two new keys with room for one: got %v, want ErrFull", err)
		}
		failure(t, m, "c", now, minute)
		if _, err := m.Failure(ctx, "d", now, minute); err != store.ErrFull {
			t.Fatalf("Failure(d) when full again: got %v, want ErrFull", err)
		}
	})

	t.Run("sessions and counters have budgets of their own", func(t *testing.T) {
		exp := now/1000 + hour
		start(t, m, store.Session{ID: "s1", RefreshID: "r", Expires: exp})
		start(t, m, store.Session{ID: "s2", RefreshID: "r", Expires: exp})
		if err := m.StartSession(ctx, store.Session{ID: "s3", RefreshID: "r", Expires: exp}); err != store.ErrFull {
			t.Fatalf("third session: got %v, want ErrFull", err)
		}
		reset(t, m, "a")
		reset(t, m, "c")
		failure(t, m, "x", now, minute)
		failure(t, m, "y", now, minute)
		if err := m.StartSession(ctx, store.Session{ID: "s3", RefreshID: "r", Expires: exp}); err != store.ErrFull {
			t.Fatalf("third session after counter resets: got %v, want ErrFull", err)
		}
	})
}

// TestMemoryCountersSweep: expired counters are dropped when the budget is
// spent, at most once a second (by the now given), and Shared's bound
// applies to the counters too.
func TestMemoryCountersSweep(t *testing.T) {
	ctx := context.Background()
	base := nowMS()
	m := store.NewMemory(2)
	failure(t, m, "a", base, 10000) // expires at base+10s
	failure(t, m, "b", base, 20000)
	x := base + 10000 - 200 // just before a expires
	steps := []struct {
		name string
		at   int64
		want error
	}{
		{"nothing expired yet", x, store.ErrFull},
		{"a expired, but swept less than a second ago", x + 400, store.ErrFull},
		{"a second later: swept", x + 1000, nil},
		{"full again", x + 1100, store.ErrFull},
	}
	for i, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			_, err := m.Failure(ctx, "c"+strconv.Itoa(i), s.at, 60000)
			if err != s.want {
				t.Fatalf("Failure: got %v, want %v", err, s.want)
			}
		})
	}
	t.Run("an expired key is counted afresh even when full", func(t *testing.T) {
		m := store.NewMemory(1)
		failure(t, m, "a", base, 1000)
		if got := failure(t, m, "a", base+1000, 1000); got.Failures != 1 {
			t.Fatalf("got %+v, want 1 failure", got)
		}
	})
	t.Run("Shared bound", func(t *testing.T) {
		key := sharedKey(t)
		s := store.Shared(key, 1)
		failure(t, s, "a", base, minute)
		if _, err := s.Failure(ctx, "b", base, minute); err != store.ErrFull {
			t.Fatalf("bound 1: got %v, want ErrFull", err)
		}
		failure(t, store.Shared(key, 2), "b", base, minute)
		if got := peekOne(t, store.Shared(key, 2), "a", base); got.Failures != 1 {
			t.Fatalf("shared counter: got %+v, want 1 failure", got)
		}
	})
}

// TestMemoryCountersConcurrent is for -race: failures, peeks and resets of
// overlapping keys from several goroutines, within a small budget.
func TestMemoryCountersConcurrent(t *testing.T) {
	ctx := context.Background()
	m := store.NewMemory(16)
	now := nowMS()
	const workers, rounds = 4, 50
	var wg sync.WaitGroup
	errs := make(chan string, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < rounds; i++ {
				key := "k" + strconv.Itoa(i%8)
				if _, err := m.Failure(ctx, key, now+int64(i), minute); err != nil {
					errs <- err.Error()
					return
				}
				if _, err := m.Peek(ctx, []string{key, "k" + strconv.Itoa(w)}, now); err != nil {
					errs <- err.Error()
					return
				}
				if i%5 == 0 {
					_ = m.Reset(ctx, key)
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
