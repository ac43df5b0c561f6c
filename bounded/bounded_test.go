package bounded

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestRoom(t *testing.T) {
	start := time.Unix(1_800_000_000, 0).UnixNano()
	sweeps := 0
	left := 2
	var sweptAt int64
	a := New(2, func(now int64) int {
		sweeps++
		sweptAt = now
		return left
	})
	steps := []struct {
		desc       string
		now        int64
		left       int // what the sweep leaves
		want       bool
		wantSweeps int
	}{
		{desc: "a full cache is swept", now: start, left: 2, want: false, wantSweeps: 1},
		{desc: "not again within the second", now: start + int64(time.Second) - 1, left: 0, want: false, wantSweeps: 1},
		{desc: "a second later, a sweep that makes room admits", now: start + int64(time.Second), left: 1, want: true, wantSweeps: 2},
		{desc: "then not again within the second", now: start + int64(time.Second), left: 0, want: false, wantSweeps: 2},
		{desc: "nor when the clock goes back", now: start, left: 0, want: false, wantSweeps: 2},
		{desc: "a sweep that leaves the cache full refuses", now: start + 2*int64(time.Second), left: 3, want: false, wantSweeps: 3},
	}
	for _, step := range steps {
		left = step.left
		before := sweeps
		if got := Room(a, step.now); got != step.want || sweeps != step.wantSweeps {
			t.Fatalf("%s: Room = %v after %d sweeps, want %v after %d", step.desc, got, sweeps, step.want, step.wantSweeps)
		}
		if sweeps != before && sweptAt != step.now {
			t.Fatalf("%s: swept at %d, want %d", step.desc, sweptAt, step.now)
		}
	}
}

// TestRoomConcurrent races callers of a full cache (run natively with
// -race): one of them sweeps, the others are refused.
func TestRoomConcurrent(t *testing.T) {
	var sweeps int64
	a := New(1, func(_ int64) int {
		atomic.AddInt64(&sweeps, 1)
		return 0
	})
	now := time.Unix(1_800_000_000, 0).UnixNano()
	var admitted int64
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 100; j++ {
				if Room(a, now) {
					atomic.AddInt64(&admitted, 1)
				}
			}
		}()
	}
	wg.Wait()
	if sweeps != 1 || admitted != 1 {
		t.Fatalf("%d sweeps and %d admitted, want 1 and 1", sweeps, admitted)
	}
}
