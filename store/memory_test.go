package store_test

import (
	"context"
	"strconv"
	"sync"
	"testing"

	"github.com/tokengate/tokengate/store"
)

func TestMemory(t *testing.T) {
	testStore(t, func(t *testing.T) store.Store { return store.NewMemory(0) })
}

func TestShared(t *testing.T) {
	ctx := context.Background()
	key := t.Name()
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

	t.Run("revocations are recorded when full", func(t *testing.T) {
		user := revoke(t, m, store.Revocation{UserID: 9, Before: now / 1000, Expires: exp}, now)
		sess := revoke(t, m, store.Revocation{Session: "b", UserID: 2, Expires: exp}, now)
		list, _ := revocations(t, m, 0, now)
		if len(list) != 2 || list[0] != user || list[1] != sess {
			t.Fatalf("Revocations: %+v, want [%+v %+v]", list, user, sess)
		}
		sp := store.Spend{Session: "b", Presented: "b0", Next: "b1", Now: now, Expires: exp}
		if got := spend(t, m, sp); got != store.Ended {
			t.Fatalf("revoked session: got %s, want Ended", outcomeName(got))
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
