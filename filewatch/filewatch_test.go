package filewatch_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokengate/tokengate/filewatch"
	"github.com/tokengate/tokengate/internal/testclock"
)

// due is what a caller writes on its request path.
func due(w *filewatch.Watch) {
	if now := w.Now().UnixNano(); now >= atomic.LoadInt64(&w.Next) {
		w.Check(now)
	}
}

func writeTestFile(t testing.TB, path, content string, mtime time.Time) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, mtime, mtime); err != nil {
		t.Fatal(err)
	}
}

// recorder is a Watch's owner: it keeps the last good content of one file.
type recorder struct {
	path     string
	good     string
	loads    int
	reloads  int
	problems []string
	statErrs int
}

func (r *recorder) options(every time.Duration, files ...string) filewatch.Options {
	return filewatch.Options{
		Files:    files,
		Every:    every,
		Load:     func(statErr error) error { return r.load(statErr) },
		Reloaded: func() { r.reloads++ },
		Problem:  func(msg string) { r.problems = append(r.problems, msg) },
	}
}

// load refuses content starting with "bad".
func (r *recorder) load(statErr error) error {
	r.loads++
	if statErr != nil {
		r.statErrs++
		return statErr
	}
	data, err := os.ReadFile(r.path)
	if err != nil {
		return err
	}
	if strings.HasPrefix(string(data), "bad") {
		return errors.New("refused: " + string(data))
	}
	r.good = string(data)
	return nil
}

func TestNew(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	writeTestFile(t, path, "one", time.Now())
	tests := []struct {
		desc     string
		path     string
		content  string
		wantErr  string
		statErrs int
	}{
		{desc: "good file", path: path, content: "one"},
		{desc: "missing file: Load is told", path: filepath.Join(dir, "missing"), wantErr: "no such file", statErrs: 1},
		{desc: "Load's error is New's", path: path, content: "bad one", wantErr: "refused: bad one"},
	}
	for _, test := range tests {
		t.Run(test.desc, func(t *testing.T) {
			if test.content != "" {
				writeTestFile(t, path, test.content, time.Now())
			}
			r := &recorder{path: test.path}
			before := time.Now()
			w, err := filewatch.New(r.options(time.Minute, test.path))
			if r.loads != 1 || r.statErrs != test.statErrs || r.reloads != 0 || len(r.problems) != 0 {
				t.Errorf("loads %d, stat errors %d, reloads %d, problems %q; want 1, %d, 0, none",
					r.loads, r.statErrs, r.reloads, r.problems, test.statErrs)
			}
			if test.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), test.wantErr) || w != nil {
					t.Fatalf("New = %v, %v; want no watch and an error with %q", w, err, test.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			next := atomic.LoadInt64(&w.Next)
			if next < before.Add(time.Minute).UnixNano() || next > time.Now().Add(time.Minute).UnixNano() {
				t.Errorf("Next = %v, want a minute after New", time.Unix(0, next))
			}
			if r.good != test.content {
				t.Errorf("loaded %q, want %q", r.good, test.content)
			}
		})
	}
}

// TestCheck: the files are read again when one changed (modification time,
// size, removed, back), once the interval has passed on the watch's clock;
// a refused version keeps the last good copy and each problem is reported
// once.
func TestCheck(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	other := filepath.Join(dir, "other")
	mtime := time.Now().Add(-time.Hour)
	writeTestFile(t, path, "one", mtime)
	writeTestFile(t, other, "x", mtime)
	r := &recorder{path: path}
	w, err := filewatch.New(r.options(time.Minute, path, other))
	if err != nil {
		t.Fatal(err)
	}
	clock := testclock.New(time.Unix(1_800_000_000, 0))
	w.SetClock(clock.Now)
	if got, want := atomic.LoadInt64(&w.Next), clock.Now().Add(time.Minute).UnixNano(); got != want {
		t.Fatalf("Next after SetClock = %d, want %d", got, want)
	}

	const (
		keep   = "keep"   // leave the file alone
		remove = "remove" // remove it
	)
	steps := []struct {
		desc     string
		content  string // or keep, or remove
		mtime    time.Duration
		otherTo  string // the other file's new content, "" to leave it
		advance  time.Duration
		good     string // the last good copy
		loads    int    // Load calls so far, New's included
		reloads  int
		problems int
	}{
		{desc: "unchanged", content: "one", advance: time.Minute, good: "one", loads: 1},
		{desc: "changed, not due", content: "two", mtime: time.Second, advance: time.Minute - time.Nanosecond, good: "one", loads: 1},
		{desc: "due", content: keep, advance: time.Nanosecond, good: "two", loads: 2, reloads: 1},
		{desc: "same time, other size", content: "three", mtime: time.Second, advance: time.Minute, good: "three", loads: 3, reloads: 2},
		{desc: "same time and size, not seen", content: "four!", mtime: time.Second, advance: time.Minute, good: "three", loads: 3, reloads: 2},
		{desc: "refused: last good copy stays", content: "bad 1", mtime: 2 * time.Second, advance: time.Minute, good: "three", loads: 4, reloads: 2, problems: 1},
		{desc: "refused alike: reported once", content: "bad 1", mtime: 3 * time.Second, advance: time.Minute, good: "three", loads: 5, reloads: 2, problems: 1},
		{desc: "another problem: reported", content: "bad 2", mtime: 4 * time.Second, advance: time.Minute, good: "three", loads: 6, reloads: 2, problems: 2},
		{desc: "removed", content: remove, advance: time.Minute, good: "three", loads: 7, reloads: 2, problems: 3},
		{desc: "still removed: not read", content: keep, advance: time.Minute, good: "three", loads: 7, reloads: 2, problems: 3},
		{desc: "back as it was", content: "bad 2", mtime: 4 * time.Second, advance: time.Minute, good: "three", loads: 8, reloads: 2, problems: 4},
		{desc: "fixed", content: "five", mtime: 5 * time.Second, advance: time.Minute, good: "five", loads: 9, reloads: 3, problems: 4},
		{desc: "refused after a success: reported again", content: "bad 2", mtime: 6 * time.Second, advance: time.Minute, good: "five", loads: 10, reloads: 3, problems: 5},
		{desc: "another file changed", content: "six", mtime: 6 * time.Second, otherTo: "y", advance: time.Minute, good: "six", loads: 11, reloads: 4, problems: 5},
	}
	for _, step := range steps {
		t.Run(step.desc, func(t *testing.T) {
			switch step.content {
			case keep:
			case remove:
				if err := os.Remove(path); err != nil {
					t.Fatal(err)
				}
			default:
				writeTestFile(t, path, step.content, mtime.Add(step.mtime))
			}
			if step.otherTo != "" {
				writeTestFile(t, other, step.otherTo, mtime)
			}
			before := atomic.LoadInt64(&w.Next)
			clock.Add(step.advance)
			due(w)
			due(w) // a second call in the same instant is not due
			if r.good != step.good || r.loads != step.loads || r.reloads != step.reloads || len(r.problems) != step.problems {
				t.Fatalf("good %q, loads %d, reloads %d, problems %q; want %q, %d, %d, %d",
					r.good, r.loads, r.reloads, r.problems, step.good, step.loads, step.reloads, step.problems)
			}
			next := atomic.LoadInt64(&w.Next)
			if now := clock.Now().UnixNano(); now >= before && next != now+int64(time.Minute) {
				t.Errorf("Next = %d, want a minute after the check, %d", next, now+int64(time.Minute))
			}
			if now := clock.Now().UnixNano(); now < before && next != before {
				t.Errorf("Next moved without a check: %d, want %d", next, before)
			}
		})
	}
}

// TestCheckEveryZero: an interval of 0 (or less) checks on every call.
func TestCheckEveryZero(t *testing.T) {
	for _, every := range []time.Duration{0, -time.Second} {
		t.Run(every.String(), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "f")
			mtime := time.Now().Add(-time.Hour)
			writeTestFile(t, path, "one", mtime)
			r := &recorder{path: path}
			w, err := filewatch.New(r.options(every, path))
			if err != nil {
				t.Fatal(err)
			}
			writeTestFile(t, path, "two", mtime.Add(time.Second))
			due(w)
			if r.good != "two" || r.reloads != 1 {
				t.Errorf("good %q, reloads %d; want the change read at once", r.good, r.reloads)
			}
		})
	}
}

// TestCheckReentrant: a callback that asks for the files while they are
// being checked finds them not due (rather than waiting for itself).
func TestCheckReentrant(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	mtime := time.Now().Add(-time.Hour)
	writeTestFile(t, path, "one", mtime)
	var w *filewatch.Watch
	inner := 0
	opts := filewatch.Options{
		Files: []string{path},
		Every: time.Minute,
		Load: func(statErr error) error {
			if w != nil {
				inner++
				due(w)
			}
			return statErr
		},
		Reloaded: func() { due(w) },
	}
	w, err := filewatch.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	clock := testclock.New(time.Now())
	w.SetClock(clock.Now)
	writeTestFile(t, path, "two", mtime.Add(time.Second))
	clock.Add(time.Minute)
	due(w)
	if inner != 1 {
		t.Errorf("Load called %d times by the check, want 1", inner)
	}
}

// TestCheckConcurrent, with -race: callers due at once load the files one
// at a time, and each change once. (A caller that finds the files not due
// while another reads them goes on with the last copy: Next moves before
// the reading, see Check.)
func TestCheckConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	mtime := time.Now().Add(-time.Hour)
	writeTestFile(t, path, "0", mtime)
	var loading, overlaps, loads int64
	var mu sync.Mutex
	content := ""
	w, err := filewatch.New(filewatch.Options{
		Files: []string{path},
		Every: time.Minute,
		Load: func(statErr error) error {
			if atomic.AddInt64(&loading, 1) != 1 {
				atomic.AddInt64(&overlaps, 1)
			}
			defer atomic.AddInt64(&loading, -1)
			atomic.AddInt64(&loads, 1)
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			mu.Lock()
			content = string(data)
			mu.Unlock()
			return statErr
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	clock := testclock.New(time.Now())
	w.SetClock(clock.Now)
	const rounds = 5
	for i := 1; i <= rounds; i++ {
		writeTestFile(t, path, strings.Repeat("x", i), mtime.Add(time.Duration(i)*time.Second))
		clock.Add(time.Minute)
		var wg sync.WaitGroup
		for g := 0; g < 4; g++ {
			wg.Add(1)
			go func(worker int) {
				defer wg.Done()
				due(w)
				mu.Lock()
				got := content
				mu.Unlock()
				if len(got) != i && len(got) != i-1 {
					t.Errorf("round %d, worker %d: content %q", i, worker, got)
				}
			}(g)
		}
		wg.Wait()
		if len(content) != i {
			t.Errorf("round %d: content %q after the check", i, content)
		}
	}
	if overlaps != 0 || loads != rounds+1 {
		t.Errorf("%d overlapping loads, %d loads; want 0, %d", overlaps, loads, rounds+1)
	}
}
