package store_test

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokengate/tokengate/store"
)

// The behaviour every Counters shares, run against Memory and Redis.

const minute = int64(60000) // ms

func failure(t *testing.T, c store.Counters, key string, now, resetAfter int64) store.Count {
	t.Helper()
	got, err := c.Failure(context.Background(), key, now, resetAfter)
	if err != nil {
		t.Fatalf("Failure(%q, %d, %d): %v", key, now, resetAfter, err)
	}
	return got
}

func peek(t *testing.T, c store.Counters, keys []string, now int64) []store.Count {
	t.Helper()
	got, err := c.Peek(context.Background(), keys, now)
	if err != nil {
		t.Fatalf("Peek(%q, %d): %v", keys, now, err)
	}
	if len(got) != len(keys) {
		t.Fatalf("Peek(%q): %d counts, want %d", keys, len(got), len(keys))
	}
	return got
}

func peekOne(t *testing.T, c store.Counters, key string, now int64) store.Count {
	t.Helper()
	return peek(t, c, []string{key}, now)[0]
}

func reset(t *testing.T, c store.Counters, key string) {
	t.Helper()
	if err := c.Reset(context.Background(), key); err != nil {
		t.Fatalf("Reset(%q): %v", key, err)
	}
}

func testCounters(t *testing.T, newCounters func(t *testing.T) store.Counters) {
	t.Run("failures count up", func(t *testing.T) { testCountUp(t, newCounters) })
	t.Run("peek", func(t *testing.T) { testPeek(t, newCounters) })
	t.Run("expiry by the now given", func(t *testing.T) { testCounterExpiry(t, newCounters) })
	t.Run("reset", func(t *testing.T) { testCounterReset(t, newCounters) })
	t.Run("keys of any bytes are distinct", func(t *testing.T) { testCounterKeys(t, newCounters) })
	t.Run("concurrent failures of one key", func(t *testing.T) { testConcurrentFailures(t, newCounters) })
	t.Run("invalid arguments", func(t *testing.T) { testCounterArgs(t, newCounters) })
	t.Run("expiry in real time", func(t *testing.T) { testCounterRealExpiry(t, newCounters) })
}

func testCountUp(t *testing.T, newCounters func(t *testing.T) store.Counters) {
	c := newCounters(t)
	base := nowMS()
	steps := []struct {
		name  string
		after int64 // ms past base
		want  store.Count
	}{
		{"first", 0, store.Count{Failures: 1, Last: base}},
		{"second", 10, store.Count{Failures: 2, Last: base + 10}},
		{"third", 2000, store.Count{Failures: 3, Last: base + 2000}},
		{"an earlier now still counts, Last stays", 1500, store.Count{Failures: 4, Last: base + 2000}},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			got := failure(t, c, "k", base+s.after, minute)
			if got != s.want {
				t.Fatalf("Failure: got %+v, want %+v", got, s.want)
			}
			if p := peekOne(t, c, "k", base+2000); p != s.want {
				t.Fatalf("Peek: got %+v, want %+v", p, s.want)
			}
		})
	}
}

func testPeek(t *testing.T, newCounters func(t *testing.T) store.Counters) {
	c := newCounters(t)
	base := nowMS()
	failure(t, c, "a", base, minute)
	failure(t, c, "a", base+1, minute)
	failure(t, c, "b", base+2, minute)
	tests := []struct {
		name string
		keys []string
		want []store.Count
	}{
		{"none", nil, nil},
		{"absent", []string{"x"}, []store.Count{{}}},
		{"in order, absent between", []string{"b", "x", "a"}, []store.Count{{Failures: 1, Last: base + 2}, {}, {Failures: 2, Last: base + 1}}},
		{"twice the same", []string{"a", "a"}, []store.Count{{Failures: 2, Last: base + 1}, {Failures: 2, Last: base + 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := peek(t, c, tt.keys, base+10)
			for i := range tt.want {
				if got[i] != tt.want[i] {
					t.Fatalf("count %d (%q): got %+v, want %+v", i, tt.keys[i], got[i], tt.want[i])
				}
			}
		})
	}
	// Peeking changes nothing.
	if got := failure(t, c, "a", base+3, minute); got.Failures != 3 {
		t.Fatalf("Failure after Peeks: got %+v, want 3 failures", got)
	}
	if got := peekOne(t, c, "x", base+10); got != (store.Count{}) {
		t.Fatalf("absent key after Peeks: got %+v", got)
	}
}

func testCounterExpiry(t *testing.T, newCounters func(t *testing.T) store.Counters) {
	c := newCounters(t)
	base := nowMS()
	failure(t, c, "k", base, minute)
	failure(t, c, "k", base+1000, minute) // renews: expires at base+1000+minute
	tests := []struct {
		name string
		at   int64
		want store.Count
	}{
		{"within resetAfter of the first", base + minute - 1, store.Count{Failures: 2, Last: base + 1000}},
		{"resetAfter after the first: renewed by the second", base + minute, store.Count{Failures: 2, Last: base + 1000}},
		{"just before resetAfter after the last", base + 1000 + minute - 1, store.Count{Failures: 2, Last: base + 1000}},
		{"resetAfter after the last: gone", base + 1000 + minute, store.Count{}},
		{"long after", base + 100*minute, store.Count{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := peekOne(t, c, "k", tt.at); got != tt.want {
				t.Fatalf("Peek at +%dms: got %+v, want %+v", tt.at-base, got, tt.want)
			}
		})
	}
	t.Run("a failure after expiry starts from one", func(t *testing.T) {
		at := base + 1000 + minute
		want := store.Count{Failures: 1, Last: at}
		if got := failure(t, c, "k", at, minute); got != want {
			t.Fatalf("Failure: got %+v, want %+v", got, want)
		}
		if got := peekOne(t, c, "k", at); got != want {
			t.Fatalf("Peek: got %+v, want %+v", got, want)
		}
	})
	t.Run("a shorter resetAfter does not cut a longer one short", func(t *testing.T) {
		failure(t, c, "s", base, minute)
		failure(t, c, "s", base+10, 1000)
		if got := peekOne(t, c, "s", base+minute-1); got.Failures != 2 {
			t.Fatalf("Peek: got %+v, want 2 failures", got)
		}
	})
}

func testCounterReset(t *testing.T, newCounters func(t *testing.T) store.Counters) {
	c := newCounters(t)
	base := nowMS()
	failure(t, c, "k", base, minute)
	failure(t, c, "k", base, minute)
	failure(t, c, "other", base, minute)
	reset(t, c, "k")
	if got := peekOne(t, c, "k", base); got != (store.Count{}) {
		t.Fatalf("after Reset: got %+v, want zero", got)
	}
	if got := peekOne(t, c, "other", base); got.Failures != 1 {
		t.Fatalf("other key after Reset: got %+v, want 1 failure", got)
	}
	reset(t, c, "k")      // again
	reset(t, c, "absent") // never seen
	if got := failure(t, c, "k", base+1, minute); got != (store.Count{Failures: 1, Last: base + 1}) {
		t.Fatalf("Failure after Reset: got %+v, want 1 failure", got)
	}
}

func testCounterKeys(t *testing.T, newCounters func(t *testing.T) store.Counters) {
	c := newCounters(t)
	base := nowMS()
	keys := []string{"a", "a ", "A", "l:a", "ä\n\x00|*", strings.Repeat("x", 5000), "sess:a"}
	for i, k := range keys {
		for j := 0; j <= i; j++ {
			failure(t, c, k, base, minute)
		}
	}
	got := peek(t, c, keys, base)
	for i, k := range keys {
		if got[i].Failures != int64(i+1) {
			t.Errorf("key %q (len %d): %d failures, want %d", k, len(k), got[i].Failures, i+1)
		}
	}
}

func testConcurrentFailures(t *testing.T, newCounters func(t *testing.T) store.Counters) {
	c := newCounters(t)
	base := nowMS()
	const n = 8
	var wg sync.WaitGroup
	var mu sync.Mutex
	seen := map[int64]bool{}
	var errs []string
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			got, err := c.Failure(context.Background(), "k", base+int64(i), minute)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err.Error())
				return
			}
			if seen[got.Failures] {
				errs = append(errs, "count "+strconv.FormatInt(got.Failures, 10)+" returned twice")
			}
			seen[got.Failures] = true
		}(i)
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatal(strings.Join(errs, "; "))
	}
	for i := int64(1); i <= n; i++ {
		if !seen[i] {
			t.Fatalf("count %d never returned (%v)", i, seen)
		}
	}
	want := store.Count{Failures: n, Last: base + n - 1}
	if got := peekOne(t, c, "k", base); got != want {
		t.Fatalf("Peek: got %+v, want %+v", got, want)
	}
}

func testCounterArgs(t *testing.T, newCounters func(t *testing.T) store.Counters) {
	c := newCounters(t)
	now := nowMS()
	tests := []struct {
		name       string
		key        string
		resetAfter int64
		want       string
	}{
		{"empty key", "", minute, "empty key"},
		{"zero resetAfter", "k", 0, "resetAfter must be positive"},
		{"negative resetAfter", "k", -1, "resetAfter must be positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Failure(context.Background(), tt.key, now, tt.resetAfter)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error saying %q", err, tt.want)
			}
		})
	}
	if got := peekOne(t, c, "k", now); got != (store.Count{}) {
		t.Fatalf("after refused failures: got %+v, want zero", got)
	}
}

// testCounterRealExpiry lets real time pass resetAfter (Redis expires keys
// by its own clock).
func testCounterRealExpiry(t *testing.T, newCounters func(t *testing.T) store.Counters) {
	c := newCounters(t)
	failure(t, c, "short", nowMS(), 300)
	failure(t, c, "long", nowMS(), minute)
	time.Sleep(500 * time.Millisecond)
	got := peek(t, c, []string{"short", "long"}, nowMS())
	if got[0] != (store.Count{}) || got[1].Failures != 1 {
		t.Fatalf("after 500ms: got %+v, want short gone and long at 1", got)
	}
}
