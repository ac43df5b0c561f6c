// Package filewatch re-reads files when they change, keeps the last good
// copy of what they hold when they cannot be used, and reports each
// distinct problem once: the users file (users) and the key files (tokens)
// are watched this way.
//
// No goroutine is started: the files are checked on the caller's goroutine,
// at most once per interval. Being due is tested from the Watch's fields
// rather than by a method call (CONTRIBUTING.md, the cost model): by
// CheckDue, or written out inline where the caller always has a watch:
//
//	if now := w.Now().UnixNano(); now >= atomic.LoadInt64(&w.Next) {
//		w.Check(now)
//	}
//
// It uses the Go 1.22 standard library only (CONTRIBUTING.md).
package filewatch

import (
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Options configure a Watch.
type Options struct {
	// Files are the paths watched. A file changes when its modification
	// time or size changes, or whether it can be stat'ed at all.
	Files []string
	// Every is the check interval; 0 (or less) checks on every call.
	Every time.Duration
	// Load reads the files and swaps in what they hold, or returns why
	// they cannot be used, leaving the last good copy in place. statErr is
	// the first error stat'ing the files, nil when every file was found;
	// Load may report it as it is or try the files anyway. Required.
	Load func(statErr error) error
	// Reloaded, when set, is told of each successful Load but the first
	// (New's).
	Reloaded func()
	// Problem, when set, is told of a failed Load's error message, once
	// per distinct problem: a message is not reported again until another
	// one is, or a Load succeeds.
	Problem func(msg string)
}

// Watch watches files for a caller that keeps what they hold. It is safe
// for concurrent use.
type Watch struct {
	// Next is when the files are next due for a check, in Unix
	// nanoseconds. Read it with atomic.LoadInt64; only the Watch writes it.
	// (First in the struct: 64-bit aligned for atomic use on 32-bit
	// platforms.)
	Next int64
	// Now is the clock the check interval runs on, time.Now unless
	// SetClock changed it. Read it, do not set it.
	Now func() time.Time

	files    []string
	every    int64 // nanoseconds
	load     func(statErr error) error
	reloaded func()
	problem  func(msg string)

	mu     sync.Mutex // serialises checks
	stamps []stamp    // per file, as last read
	last   string     // the last problem reported, "" when the files are fine
}

// stamp is what tells a file's versions apart.
type stamp struct {
	mod  int64 // modification time, Unix nanoseconds
	size int64
	err  string // why the file could not be stat'ed, "" when it could
}

// New stats the files and calls Load once: its error, if any, is New's
// (and is not passed to Problem). The first check is due one interval
// later.
func New(opts Options) (*Watch, error) {
	every := opts.Every
	if every < 0 {
		every = 0
	}
	w := &Watch{
		Now:      time.Now,
		files:    opts.Files,
		every:    int64(every),
		load:     opts.Load,
		reloaded: opts.Reloaded,
		problem:  opts.Problem,
	}
	stamps, statErr := statFiles(w.files)
	w.stamps = stamps
	if err := w.load(statErr); err != nil {
		return nil, err
	}
	atomic.StoreInt64(&w.Next, w.Now().UnixNano()+w.every)
	return w, nil
}

// SetClock makes the Watch read the time from now instead of time.Now and
// schedules the next check one interval after now(). It exists for tests;
// call it before the Watch is used.
func (w *Watch) SetClock(now func() time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.Now = now
	atomic.StoreInt64(&w.Next, now().UnixNano()+w.every)
}

// CheckDue checks the files when they are due. A function, not a method:
// it runs on the request path (users.Find), called only when there is a
// watch, so that callers without one do not pay for its frame.
func CheckDue(w *Watch) {
	if now := w.Now().UnixNano(); now >= atomic.LoadInt64(&w.Next) {
		w.Check(now)
	}
}

// Check checks the files, now being the caller's w.Now().UnixNano() at or
// after Next: when one of them changed since it was last read, Load reads
// them again. The next check is due one interval after now, and Next says
// so before Load is called: callers that found the files due wait for the
// one that checks them, but one that reads Next after it moved goes on
// with the last copy while Load runs (as it would have a moment earlier).
func (w *Watch) Check(now int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if now < atomic.LoadInt64(&w.Next) {
		return // another caller checked meanwhile
	}
	// Scheduled before reading, so that a callback that asks for what the
	// files hold finds them not due (rather than waiting for this lock).
	atomic.StoreInt64(&w.Next, now+w.every)
	stamps, statErr := statFiles(w.files)
	if sameStamps(stamps, w.stamps) {
		return
	}
	// Remember these versions even when they cannot be used, so that they
	// are read (and reported) once rather than at every check.
	w.stamps = stamps
	if err := w.load(statErr); err != nil {
		if msg := err.Error(); msg != w.last {
			w.last = msg
			if w.problem != nil {
				w.problem(msg)
			}
		}
		return
	}
	w.last = ""
	if w.reloaded != nil {
		w.reloaded()
	}
}

// statFiles stamps each file and returns the first stat error.
func statFiles(files []string) ([]stamp, error) {
	var first error
	out := make([]stamp, len(files))
	for i, f := range files {
		fi, err := os.Stat(f)
		if err != nil {
			out[i].err = err.Error()
			if first == nil {
				first = err
			}
			continue
		}
		out[i].mod = fi.ModTime().UnixNano()
		out[i].size = fi.Size()
	}
	return out, first
}

func sameStamps(a, b []stamp) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].mod != b[i].mod || a[i].size != b[i].size || a[i].err != b[i].err {
			return false
		}
	}
	return true
}
