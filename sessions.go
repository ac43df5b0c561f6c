package tokengate

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tokengate/tokengate/resp"
	"github.com/tokengate/tokengate/store"
	"github.com/tokengate/tokengate/tokens"
)

// view is an instance's side of the state store: the store itself, and the
// revocations recorded there, which the guard reads without a round trip
// to the store. It is shared by every middleware instance of the process
// that uses the same store (see views), so a revocation recorded by one is
// seen by all at once; other replicas' revocations arrive at the next sync,
// made on the request path when due (never from a goroutine).
type view struct {
	store      store.Store
	name       string // for log lines: "memory" or "redis host:port"
	every      int64  // sync interval, ns
	staleness  int64  // how long a failed sync may be served around, ns
	serveStale bool

	nextSync int64 // Unix ns; atomic
	synced   int64 // Unix ns of the last good sync, 0 before the first; atomic

	mu        sync.RWMutex
	bySession map[string]int64         // revoked session id -> expires (Unix s)
	byUser    map[int64]userRevocation // user id -> tokens issued before are revoked

	entries int64 // len(bySession)+len(byUser), for a lock-free "nothing revoked"; atomic
	// quiet is the Unix ns until which a check needs nothing else: nothing
	// revoked, no sync due, the last sync fresh; 0 when a check must look.
	// Set by sync and cleared by a revocation, under mu; atomic.
	quiet int64

	syncMu sync.Mutex // held by the request that syncs, store call included
	cursor int64      // ms: next Revocations call starts here; under syncMu

	lost   int32 // 1 once the store's loss is logged, until it answers again; atomic
	errors int64 // operations the store failed; atomic
}

type userRevocation struct {
	before, expires int64 // Unix s
}

// views holds the views of the process by store key. It is the deliberate
// home of state that must outlive Traefik's rebuilding of middlewares on
// every configuration reload: bounded by the number of distinct store
// configurations, never by traffic.
var views = &viewRegistry{m: map[string]*view{}}

type viewRegistry struct {
	mu sync.Mutex
	m  map[string]*view
}

// Errors of the state store, as clients see them.
var (
	errStoreDown = &httpError{status: http.StatusServiceUnavailable, msg: "session store is unavailable, try again later"}
	errStoreFull = &httpError{status: http.StatusServiceUnavailable, msg: "session store is full (store.maxEntries), try again later"}
	errRevoked   = &httpError{status: http.StatusUnauthorized, msg: "token has been revoked"}
)

// storeSettings are the compiled store options.
type storeSettings struct {
	key        string // views' key
	name       string
	redis      *resp.Options // nil: memory
	keyPrefix  string
	maxEntries int
	every      time.Duration
	staleness  time.Duration
	serveStale bool
}

// compileStore validates the store options. The memory store is shared by
// the instances of the same issuer (not of the same key: a key rotation
// must not forget sessions), the Redis store by those of the same servers,
// database, user, password, key prefix and TLS setting.
func compileStore(cfg StoreConfig, issuer string) (storeSettings, error) {
	s := storeSettings{maxEntries: cfg.MaxEntries, serveStale: cfg.ServeStale, keyPrefix: cfg.Redis.KeyPrefix}
	var err error
	if s.every, err = positiveDuration("store.syncInterval", cfg.SyncInterval); err != nil {
		return s, err
	}
	if s.staleness, err = positiveDuration("store.maxStaleness", cfg.MaxStaleness); err != nil {
		return s, err
	}
	if s.staleness < s.every {
		return s, fmt.Errorf("store.maxStaleness: %q must not be shorter than store.syncInterval %q", cfg.MaxStaleness, cfg.SyncInterval)
	}
	if len(cfg.Redis.Endpoints) == 0 {
		if cfg.MaxEntries <= 0 {
			return s, fmt.Errorf("store.maxEntries: must be positive, got %d", cfg.MaxEntries)
		}
		s.name = "memory"
		s.key = "memory\n" + issuer
		return s, nil
	}
	opts, err := redisOptions(cfg.Redis)
	if err != nil {
		return s, err
	}
	s.redis = &opts
	s.name = "redis " + strings.Join(cfg.Redis.Endpoints, ",")
	secret := sha256.Sum256([]byte(cfg.Redis.Password))
	s.key = strings.Join([]string{"redis", strings.Join(cfg.Redis.Endpoints, ","), strconv.Itoa(cfg.Redis.Database),
		cfg.Redis.Username, hex.EncodeToString(secret[:8]), cfg.Redis.KeyPrefix, strconv.FormatBool(cfg.Redis.TLS.Enabled)}, "\n")
	return s, nil
}

func redisOptions(cfg RedisConfig) (resp.Options, error) {
	timeout, err := time.ParseDuration(cfg.Timeout)
	if err != nil || timeout <= 0 {
		return resp.Options{}, fmt.Errorf("store.redis.timeout: %q is not a positive duration such as 500ms", cfg.Timeout)
	}
	opts := resp.Options{
		Endpoints: cfg.Endpoints, Username: cfg.Username, Password: cfg.Password,
		Database: cfg.Database, Timeout: timeout,
	}
	if cfg.TLS.Enabled {
		tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: cfg.TLS.ServerName}
		if cfg.TLS.CA != "" {
			pem, err := os.ReadFile(cfg.TLS.CA)
			if err != nil {
				return resp.Options{}, fmt.Errorf("store.redis.tls.ca: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return resp.Options{}, fmt.Errorf("store.redis.tls.ca: %q holds no PEM certificate", cfg.TLS.CA)
			}
			tc.RootCAs = pool
		}
		opts.TLS = tc
	}
	// resp.New validates what is left (endpoints, database) and names the
	// field; it does not dial.
	if _, err := resp.New(opts); err != nil {
		return resp.Options{}, fmt.Errorf("store.redis.%w", err)
	}
	return opts, nil
}

// viewFor returns the process's view of the configured store, making it
// on first use. retention is the longest a token lives.
func viewFor(s storeSettings, retention time.Duration) (*view, error) {
	views.mu.Lock()
	defer views.mu.Unlock()
	if v, ok := views.m[s.key]; ok {
		return v, nil
	}
	var st store.Store
	if s.redis == nil {
		st = store.Shared(s.key, s.maxEntries)
	} else {
		client, err := resp.New(*s.redis)
		if err != nil {
			return nil, fmt.Errorf("store.redis.%w", err)
		}
		st = store.NewRedis(client, s.keyPrefix, retention)
	}
	v := &view{
		store: st, name: s.name, every: int64(s.every), staleness: int64(s.staleness), serveStale: s.serveStale,
		bySession: map[string]int64{}, byUser: map[int64]userRevocation{},
	}
	views.m[s.key] = v
	return v, nil
}

// checkRevoked refuses a token the view knows to be revoked, and, when
// the store could not be read for longer than the staleness allows, any
// token (fail closed, unless serveStale). ns is now in Unix nanoseconds.
// It runs for every request the memo does not answer: a function, not a
// method, and one atomic load while the view is quiet (CONTRIBUTING.md,
// the cost model).
func checkRevoked(v *view, c *tokens.Claims, ns int64) error {
	if ns < atomic.LoadInt64(&v.quiet) {
		return nil
	}
	return lookRevoked(v, c.SessionID, c.UserID, c.IssuedAt, ns)
}

// lookRevoked is checkRevoked when the view is not quiet: a sync is due,
// the store is stale, or something is revoked.
func lookRevoked(v *view, sid string, userID, issuedAt, ns int64) error {
	if ns >= atomic.LoadInt64(&v.nextSync) {
		v.sync(ns)
	}
	if atomic.LoadInt64(&v.synced) == 0 {
		// Never synced: another request may be doing the first sync;
		// wait for it rather than call the store stale.
		v.syncMu.Lock()
		v.syncMu.Unlock() //nolint:staticcheck // SA2001: waiting is the point
	}
	if !v.serveStale && ns-atomic.LoadInt64(&v.synced) > v.staleness {
		return errStoreDown
	}
	if atomic.LoadInt64(&v.entries) == 0 {
		return nil // nothing revoked: no lock, no lookups
	}
	v.mu.RLock()
	_, revoked := v.bySession[sid]
	u := v.byUser[userID]
	v.mu.RUnlock()
	if (revoked && sid != "") || issuedAt < u.before {
		return errRevoked
	}
	return nil
}

// sync reads the revocations recorded since the last sync, when due. One
// request does it; the others go on with the view as it is.
func (v *view) sync(ns int64) {
	next := atomic.LoadInt64(&v.nextSync)
	if ns < next || !atomic.CompareAndSwapInt64(&v.nextSync, next, ns+v.every) {
		return
	}
	// The store call is made under syncMu, not the view's lock: requests
	// go on with the view as it is meanwhile.
	v.syncMu.Lock()
	defer v.syncMu.Unlock()
	list, cursor, err := v.store.Revocations(context.Background(), v.cursor, ns/int64(time.Millisecond))
	if err != nil {
		v.failed(err)
		return
	}
	v.answered()
	v.cursor = cursor
	v.mu.Lock()
	v.applyLocked(list, ns/int64(time.Second))
	atomic.StoreInt64(&v.synced, ns)
	if atomic.LoadInt64(&v.entries) == 0 {
		// Quiet until the next sync is due (nextSync is ns+every), and,
		// failing closed, no longer than the staleness allows.
		quiet := ns + v.every
		if !v.serveStale && ns+v.staleness < quiet {
			quiet = ns + v.staleness
		}
		atomic.StoreInt64(&v.quiet, quiet)
	}
	v.mu.Unlock()
}

// applyLocked adds revocations to the view and forgets expired ones. An
// entry's expiry is never shortened: the view may have learnt a longer one
// than the store recorded (rotateRefresh's learn on reuse).
func (v *view) applyLocked(list []store.Revocation, now int64) {
	for _, r := range list {
		if r.Session != "" {
			if exp, ok := v.bySession[r.Session]; !ok || r.Expires > exp {
				v.bySession[r.Session] = r.Expires
			}
			continue
		}
		if u := v.byUser[r.UserID]; r.Before > u.before {
			v.byUser[r.UserID] = userRevocation{before: r.Before, expires: r.Expires}
		}
	}
	for sid, exp := range v.bySession {
		if exp < now {
			delete(v.bySession, sid)
		}
	}
	for id, u := range v.byUser {
		if u.expires < now {
			delete(v.byUser, id)
		}
	}
	n := int64(len(v.bySession) + len(v.byUser))
	atomic.StoreInt64(&v.entries, n)
	if n > 0 {
		atomic.StoreInt64(&v.quiet, 0)
	}
}

// failed logs the store's loss once (one ERR line, not one per request);
// answered logs its return, at the same level so that both are seen.
func (v *view) failed(err error) {
	atomic.AddInt64(&v.errors, 1)
	if atomic.CompareAndSwapInt32(&v.lost, 0, 1) {
		logErrorf("session store %s is unreachable: %v; refresh and revoke answer 503, "+
			"the guard serves from the last synced revocations for at most store.maxStaleness", v.name, err)
	}
}

func (v *view) answered() {
	if atomic.LoadInt32(&v.lost) == 1 && atomic.CompareAndSwapInt32(&v.lost, 1, 0) {
		logErrorf("session store %s is reachable again", v.name)
	}
}

// errorCount and upValue are read by the metrics.
func (v *view) errorCount() int64 { return atomic.LoadInt64(&v.errors) }

func (v *view) upValue() float64 {
	if atomic.LoadInt32(&v.lost) == 1 {
		return 0
	}
	return 1
}

// revoke records r in the store and, at once, in the view.
func (v *view) revoke(ctx context.Context, r store.Revocation, now time.Time) error {
	rec, err := v.store.Revoke(ctx, r, now.UnixNano()/int64(time.Millisecond))
	if err != nil {
		return storeError(v, err)
	}
	v.answered()
	v.learn(rec, now)
	return nil
}

// learn adds a revocation the store has already recorded to the view.
func (v *view) learn(r store.Revocation, now time.Time) {
	v.mu.Lock()
	v.applyLocked([]store.Revocation{r}, now.Unix())
	v.mu.Unlock()
}

// storeError maps a store failure to the client's 503. A full memory store
// is said as such (and not logged: every refusal would be a line).
func storeError(v *view, err error) error {
	if errors.Is(err, store.ErrFull) {
		return errStoreFull
	}
	v.failed(err)
	return errStoreDown
}
