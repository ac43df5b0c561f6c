// Package audit writes tokengate's audit trail: one JSON object per line for
// every token event (logins, refreshes, rotations, revocations, /token/create,
// key and users file reloads), to stdout or to a file.
//
// What a line may hold is fixed by Event: names, numbers, addresses and token
// identifiers (jti, session id). There is no way to pass a token, a
// password, a password hash or a key, and string values that look like a
// JWT are replaced by "[redacted]" all the same.
//
// A file is opened with O_APPEND and each line is written with a single
// write call, so lines stay whole when several middleware instances (one
// per router, more after each reload) and several Traefik processes append
// to the same file. A file rotated away is noticed and reopened without a
// goroutine: at most once a second a write compares the path with the open
// file (see Log.WriteAt).
//
// Writing never fails the caller: a line that cannot be written is dropped,
// counted (Log.Failures, for the metrics) and the problem is reported once
// through Log.Logf. Token service goes on while the audit log is broken; the
// operator learns of it from that ERR line and from the metric. The
// alternative, refusing logins while the disk is full, would turn an
// audit-log problem into an outage of every device.
package audit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
)

// Stdout is the target that writes lines to the process's standard output.
// Inside Traefik a plugin's stdout shows in Traefik's log only at DEBUG
// level: use a file in production. A file named "stdout" is written
// "./stdout".
const Stdout = "stdout"

// checkEvery is how often, in milliseconds, a write checks whether the
// file was rotated away.
const checkEvery = 1000

// jwtMark starts every JWT: "{\"" in base64url.
var jwtMark = []byte("eyJ")

// timeFormat is RFC 3339 with milliseconds; times are written in UTC.
const timeFormat = "2006-01-02T15:04:05.000Z07:00"

// Log is an audit log. A nil *Log is an audit log that is off: every method
// does nothing. A Log is safe for concurrent use.
type Log struct {
	failures int64 // operations that failed: lines lost and failed reopens; atomic

	target string // Stdout or a file path
	stdout bool

	// Logf, when set, is told about each distinct problem once (a failed
	// write or reopen: call it at ERR level), and Infof that writing works
	// again. Messages name the target and the error, never a line's
	// content. Set them before the Log is used or shared, or use SetLogf and
	// SetInfof later.
	Logf  func(format string, args ...any)
	Infof func(format string, args ...any)

	mu        sync.Mutex
	f         *os.File // nil after a failure or Close, until reopened
	nextCheck int64    // unix milliseconds of the next rotation check
	problem   string   // the problem last reported; "" while writing works
	stale     bool     // the path was rotated away and could not be reopened
}

// Open returns the audit log for target: nil for "" (off), standard output
// for "stdout", otherwise the file at that path, created (mode 0600) if
// missing and appended to. The error names the auditLog option.
//
// Middleware instances should use Shared instead, so that they share one
// *Log per target.
func Open(target string) (*Log, error) {
	if target == "" {
		return nil, nil //nolint:nilnil // a nil *Log is the audit log that is off
	}
	if target == Stdout {
		return &Log{target: target, stdout: true, f: os.Stdout}, nil
	}
	f, err := openFile(target)
	if err != nil {
		return nil, fmt.Errorf("auditLog %q: %w", target, err)
	}
	return &Log{target: target, f: f}, nil
}

func openFile(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600) //nolint:gosec // the operator's auditLog path
}

// logs holds the process's shared audit logs by target.
type logs struct {
	mu sync.Mutex
	m  map[string]*Log
}

// shared is deliberately package state: Traefik builds a middleware instance
// per router and again on every configuration reload, all in one process,
// and they must share one file descriptor and one mutex per file. It only
// grows by the distinct targets the configuration names.
var shared = &logs{m: map[string]*Log{}}

// Shared returns the audit log for target (see Open), the same *Log for
// every call in the process with the same target (a file path is compared
// in absolute form), opening it on first use. A failed open is not
// remembered: the next call tries again. Shared logs are never closed.
func Shared(target string) (*Log, error) {
	if target == "" {
		return nil, nil //nolint:nilnil // a nil *Log is the audit log that is off
	}
	key := target
	if target != Stdout {
		if abs, err := filepath.Abs(target); err == nil {
			key = abs
		}
	}
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if l, ok := shared.m[key]; ok {
		return l, nil
	}
	l, err := Open(target)
	if err != nil {
		return nil, err
	}
	shared.m[key] = l
	return l, nil
}

// Target returns what the log writes to: "stdout" or the file path ("" for
// a nil Log).
func (l *Log) Target() string {
	if l == nil {
		return ""
	}
	return l.target
}

// SetLogf and SetInfof replace Logf and Infof while the Log may be in use.
func (l *Log) SetLogf(fn func(format string, args ...any)) {
	if l == nil {
		return
	}
	l.mu.Lock()
	l.Logf = fn
	l.mu.Unlock()
}

// SetInfof: see SetLogf.
func (l *Log) SetInfof(fn func(format string, args ...any)) {
	if l == nil {
		return
	}
	l.mu.Lock()
	l.Infof = fn
	l.mu.Unlock()
}

// Failures returns how many operations failed since the Log was opened:
// lines that could not be written (they are lost) and failed attempts to
// reopen a rotated file. It only grows; expose it as a counter.
func (l *Log) Failures() int64 {
	if l == nil {
		return 0
	}
	return atomic.LoadInt64(&l.failures)
}

// Write writes e as one line stamped with the current time. See WriteAt.
func (l *Log) Write(e Event) {
	if l == nil {
		return
	}
	l.WriteAt(e, time.Now().UnixMilli())
}

// WriteAt writes e as one line stamped with nowMilli (Unix milliseconds),
// which also paces the rotation check. It never fails the caller: see the
// package documentation.
//
// Rotation: at most once a second (by nowMilli), before writing, the path
// is compared with the open file (os.SameFile). When the path is gone or is
// another file (logrotate's "create": the file was renamed and maybe a new
// one created), the path is opened again (created if missing) and the old
// descriptor closed. When the reopen fails, the old descriptor is kept (the
// lines go on to the rotated file) and the failure is reported and
// counted. logrotate's "copytruncate" (the same file truncated) needs
// nothing: with O_APPEND every write lands at the file's current end.
func (l *Log) WriteAt(e Event, nowMilli int64) {
	if l == nil {
		return
	}
	e.Time = time.UnixMilli(nowMilli).UTC().Format(timeFormat)
	line, err := json.Marshal(e)
	// A JWT in any field shows in the line as is (JSON escapes none of its
	// characters) and starts with "eyJ". One compiled search of the line
	// is the fast path; field-by-field scrubbing costs tens of
	// microseconds under the interpreter.
	if err == nil && bytes.Contains(line, jwtMark) {
		e = scrubbed(e)
		line, err = json.Marshal(e)
	}
	if err != nil {
		l.mu.Lock()
		l.failLocked("encoding a line: " + err.Error())
		l.mu.Unlock()
		return
	}
	line = append(line, '\n')

	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.stdout && nowMilli >= l.nextCheck {
		l.nextCheck = nowMilli + checkEvery
		l.reopenIfRotated()
	}
	if l.f == nil {
		l.failLocked(l.problem) // reported when the file was lost
		return
	}
	// One write call per line: os.File.Write issues a single write(2) for
	// a line this size and only loops after a short write.
	if _, err := l.f.Write(line); err != nil {
		l.failLocked(err.Error())
		if !l.stdout {
			// Reopen at the next check: the descriptor may be what broke.
			_ = l.f.Close()
			l.f = nil
		}
		return
	}
	if l.problem != "" && !l.stale {
		l.problem = ""
		l.infof("auditLog %q: writing audit lines again", l.target)
	}
}

// reopenIfRotated opens the path again when it no longer names the open
// file, or when no file is open. Called with mu held.
func (l *Log) reopenIfRotated() {
	if l.f != nil {
		onDisk, errPath := os.Stat(l.target)
		open, errFile := l.f.Stat()
		if errPath == nil && errFile == nil && os.SameFile(onDisk, open) {
			l.stale = false // the path is back (or never left)
			return
		}
	}
	f, err := openFile(l.target)
	if err != nil {
		if l.f == nil {
			l.report(err.Error()) // the line about to be lost is counted
			return
		}
		l.stale = true // lines go on to the rotated file meanwhile
		l.failLocked(err.Error())
		return
	}
	if l.f != nil {
		_ = l.f.Close()
	}
	l.f = f
	l.stale = false
}

// failLocked counts a failure and reports problem. Called with mu held.
func (l *Log) failLocked(problem string) {
	atomic.AddInt64(&l.failures, 1)
	l.report(problem)
}

// report tells Logf about problem unless it is the one reported last.
// Called with mu held.
func (l *Log) report(problem string) {
	if problem == "" || problem == l.problem {
		return
	}
	l.problem = problem
	l.logf("auditLog %q: %s: audit lines are lost until this is fixed; token service goes on; "+
		"the failures are counted in the metrics", l.target, problem)
}

// Close closes the file. It is for logs from Open; a later write reopens
// the path. Standard output is never closed.
func (l *Log) Close() error {
	if l == nil || l.stdout {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.nextCheck = 0
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	if err != nil {
		return fmt.Errorf("auditLog %q: %w", l.target, err)
	}
	return nil
}

// logf and infof call Logf and Infof with the arguments spread (args...).
// Yaegi: see CONTRIBUTING.md, traps (variadic arguments to a func field).
func (l *Log) logf(format string, args ...any) {
	if l.Logf != nil {
		l.Logf(format, args...)
	}
}

func (l *Log) infof(format string, args ...any) {
	if l.Infof != nil {
		l.Infof(format, args...)
	}
}
