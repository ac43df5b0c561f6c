package tokens

import (
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/tokengate/tokengate/filewatch"
)

// KeySource gives the key set in force. A *KeySet is its own source; a
// *KeyRing re-reads key files when they change.
type KeySource interface {
	Current() *KeySet
}

// Current returns ks itself.
func (ks *KeySet) Current() *KeySet { return ks }

// KeyRing holds a key set loaded from specs and re-reads its key files when
// their modification time or size changes, checking at most once per
// interval, on the calling goroutine (it starts none). A file that becomes
// unreadable or invalid keeps the last good key set; the problem is logged
// once.
type KeyRing struct {
	specs []KeySpec
	// Logf reports reload problems. Default: no logging.
	Logf func(format string, args ...any)
	// OnReload, when set, is told of each key set swapped in from the
	// files, with its number of keys (for the audit trail).
	OnReload func(keys int)

	current atomic.Value     // *KeySet
	watch   *filewatch.Watch // the key files'; nil when there is none
}

// NewKeyRing parses every key. Errors name the key's index and field, as
// in "keys[1].secret: ...".
func NewKeyRing(specs []KeySpec, every time.Duration) (*KeyRing, error) {
	r := &KeyRing{specs: specs}
	var files []string
	for _, s := range specs {
		for _, f := range []string{s.SecretFile, s.PrivateKeyFile, s.PublicKeyFile} {
			if f != "" {
				files = append(files, f)
			}
		}
	}
	if len(files) == 0 {
		if err := r.load(); err != nil {
			return nil, err
		}
		return r, nil
	}
	w, err := filewatch.New(filewatch.Options{
		Files: files,
		Every: every,
		// The key files' own errors say which key they belong to: a
		// missing file is reported by loading it.
		Load:     func(statErr error) error { return r.load() },
		Reloaded: func() { r.reloaded() },
		Problem:  func(msg string) { r.logProblem(msg) },
	})
	if err != nil {
		return nil, err
	}
	r.watch = w
	return r, nil
}

// SetClock makes the ring read the time from now instead of time.Now and
// schedules the next key files check one interval after now(). It exists
// for tests; call it before the ring is used. A ring without files has no
// use for a clock.
func (r *KeyRing) SetClock(now func() time.Time) {
	if r.watch != nil {
		r.watch.SetClock(now)
	}
}

// load parses the keys and swaps them in when they are all valid.
func (r *KeyRing) load() error {
	ks, err := loadKeySet(r.specs)
	if err != nil {
		return err
	}
	r.current.Store(ks)
	return nil
}

// reloaded reports a key set swapped in from the files.
func (r *KeyRing) reloaded() {
	if r.OnReload != nil {
		ks, _ := r.current.Load().(*KeySet)
		r.OnReload(len(ks.Keys()))
	}
}

func (r *KeyRing) logProblem(msg string) {
	if r.Logf != nil {
		r.Logf("key files changed but cannot be loaded, keeping the previous keys: %s", msg)
	}
}

func loadKeySet(specs []KeySpec) (*KeySet, error) {
	if len(specs) == 0 {
		return nil, errors.New("keys: at least one signing key is required")
	}
	keys := make([]*Key, 0, len(specs))
	for i, spec := range specs {
		k, err := ParseKey(spec)
		if err != nil {
			return nil, fmt.Errorf("keys[%d].%w", i, err)
		}
		keys = append(keys, k)
	}
	return NewKeySet(keys)
}

// Reloads reports whether the ring watches any file.
func (r *KeyRing) Reloads() bool { return r.watch != nil }

// NextCheck is when Current will next look at the key files; the zero
// time when the ring watches no file. Whatever is derived from the current
// key set may be reused until then without calling Current.
func (r *KeyRing) NextCheck() time.Time {
	if r.watch == nil {
		return time.Time{}
	}
	return time.Unix(0, atomic.LoadInt64(&r.watch.Next))
}

// Current returns the key set in force, re-reading the key files first when
// the check interval has passed and one of them changed. The test for being
// due is written out here, not a call into filewatch: it runs on every
// verification (CONTRIBUTING.md, the cost model).
func (r *KeyRing) Current() *KeySet {
	if w := r.watch; w != nil {
		if now := w.Now().UnixNano(); now >= atomic.LoadInt64(&w.Next) {
			w.Check(now)
		}
	}
	ks, _ := r.current.Load().(*KeySet)
	return ks
}
