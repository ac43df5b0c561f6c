package tokens

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"
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
	files []string
	every time.Duration
	// Logf reports reload problems. Default: no logging.
	Logf func(format string, args ...any)
	// OnReload, when set, is told of each key set swapped in from the
	// files, with its number of keys (for the audit trail).
	OnReload func(keys int)

	current   atomic.Value // *KeySet
	nextCheck int64        // Unix nanoseconds; atomic
	mu        sync.Mutex   // serialises reloads
	stamps    []string     // per file: "mtime/size", or the stat error
	lastErr   string
}

// NewKeyRing parses every key. Errors name the key's index and field, as
// in "keys[1].secret: ...".
func NewKeyRing(specs []KeySpec, every time.Duration) (*KeyRing, error) {
	r := &KeyRing{specs: specs, every: every}
	for _, s := range specs {
		for _, f := range []string{s.SecretFile, s.PrivateKeyFile, s.PublicKeyFile} {
			if f != "" {
				r.files = append(r.files, f)
			}
		}
	}
	r.stamps = r.stat()
	ks, err := loadKeySet(specs)
	if err != nil {
		return nil, err
	}
	r.current.Store(ks)
	atomic.StoreInt64(&r.nextCheck, time.Now().Add(every).UnixNano())
	return r, nil
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
func (r *KeyRing) Reloads() bool { return len(r.files) > 0 }

// NextCheck is when Current will next look at the key files; the zero
// time when the ring watches no file. Whatever is derived from the current
// key set may be reused until then without calling Current.
func (r *KeyRing) NextCheck() time.Time {
	if len(r.files) == 0 {
		return time.Time{}
	}
	return time.Unix(0, atomic.LoadInt64(&r.nextCheck))
}

// Current returns the key set in force, re-reading the key files first when
// the check interval has passed and one of them changed.
func (r *KeyRing) Current() *KeySet {
	if len(r.files) > 0 {
		now := time.Now().UnixNano()
		next := atomic.LoadInt64(&r.nextCheck)
		if now >= next && atomic.CompareAndSwapInt64(&r.nextCheck, next, now+int64(r.every)) {
			r.reload()
		}
	}
	ks, _ := r.current.Load().(*KeySet)
	return ks
}

func (r *KeyRing) reload() {
	r.mu.Lock()
	defer r.mu.Unlock()
	stamps := r.stat()
	if equalStrings(stamps, r.stamps) {
		return
	}
	r.stamps = stamps
	ks, err := loadKeySet(r.specs)
	if err != nil {
		// Keep the last good keys; report each distinct problem once.
		if msg := err.Error(); msg != r.lastErr {
			r.lastErr = msg
			if r.Logf != nil {
				r.Logf("key files changed but cannot be loaded, keeping the previous keys: %s", msg)
			}
		}
		return
	}
	r.lastErr = ""
	r.current.Store(ks)
	if r.OnReload != nil {
		r.OnReload(len(ks.Keys()))
	}
}

func (r *KeyRing) stat() []string {
	out := make([]string, len(r.files))
	for i, f := range r.files {
		fi, err := os.Stat(f)
		if err != nil {
			out[i] = "error: " + err.Error()
			continue
		}
		out[i] = fmt.Sprintf("%d/%d", fi.ModTime().UnixNano(), fi.Size())
	}
	return out
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
