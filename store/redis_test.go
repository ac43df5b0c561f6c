package store_test

import (
	"context"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokengate/tokengate/internal/redistest"
	"github.com/tokengate/tokengate/resp"
	"github.com/tokengate/tokengate/store"
)

// allKeys lists the server's keys with SCAN.
func allKeys(t *testing.T, c *resp.Client) []string {
	t.Helper()
	var keys []string
	cursor := "0"
	for {
		v := redistest.Do(t, c, "SCAN", cursor, "COUNT", "1000")
		if v.Kind != resp.KindArray || len(v.Elems) != 2 {
			t.Fatalf("SCAN: unexpected reply %s", v)
		}
		cursor = v.Elems[0].Text
		batch, err := v.Elems[1].Strings()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, batch...)
		if cursor == "0" {
			return keys
		}
	}
}

func TestRedis(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	c := redistest.Client(t, resp.Options{Endpoints: []string{srv.Addr}})
	n := 0
	testStore(t, func(t *testing.T) store.Store {
		n++
		return store.NewRedis(c, "t"+strconv.Itoa(n)+":", time.Hour)
	})
	t.Run("counters", func(t *testing.T) {
		testCounters(t, func(t *testing.T) store.Counters {
			n++
			return store.NewRedis(c, "c"+strconv.Itoa(n)+":", time.Hour)
		})
	})

	t.Run("counter key layout", func(t *testing.T) {
		st := store.NewRedis(c, "clayout:", time.Hour)
		now := nowMS()
		failure(t, st, "l:abc", now, minute)
		failure(t, st, "l:abc", now+5, minute)
		h, err := redistest.Do(t, c, "HGETALL", "clayout:thr:l:abc").Strings()
		if err != nil {
			t.Fatal(err)
		}
		fields := map[string]string{}
		for i := 0; i+1 < len(h); i += 2 {
			fields[h[i]] = h[i+1]
		}
		want := map[string]string{"n": "2", "last": strconv.FormatInt(now+5, 10), "exp": strconv.FormatInt(now+5+minute, 10)}
		if len(fields) != len(want) {
			t.Errorf("fields %v, want %v", fields, want)
		}
		for k, v := range want {
			if fields[k] != v {
				t.Errorf("field %s: %q, want %q", k, fields[k], v)
			}
		}
		if typ := redistest.Do(t, c, "TYPE", "clayout:thr:l:abc").Text; typ != "hash" {
			t.Errorf("type %q, want hash", typ)
		}
		ttl, _ := redistest.Do(t, c, "PTTL", "clayout:thr:l:abc").Int()
		if ttl <= minute-5000 || ttl > minute {
			t.Errorf("PTTL %d, want about %d", ttl, minute)
		}
		reset(t, st, "l:abc")
		if v := redistest.Do(t, c, "EXISTS", "clayout:thr:l:abc"); v.Num != 0 {
			t.Errorf("after Reset: EXISTS %d, want 0", v.Num)
		}
		failure(t, st, "short", nowMS(), 200)
		time.Sleep(400 * time.Millisecond)
		if v := redistest.Do(t, c, "EXISTS", "clayout:thr:short"); v.Num != 0 {
			t.Errorf("resetAfter 200ms, 400ms later: EXISTS %d, want 0 (the key expired)", v.Num)
		}
		if got := peekOne(t, st, "absent", now); got != (store.Count{}) {
			t.Errorf("Peek of an absent key: %+v", got)
		}
		if v := redistest.Do(t, c, "EXISTS", "clayout:thr:absent"); v.Num != 0 {
			t.Errorf("Peek created the key")
		}
	})

	t.Run("key layout", func(t *testing.T) {
		st := store.NewRedis(c, "layout:", time.Hour)
		now := nowMS()
		exp := now/1000 + hour
		start(t, st, store.Session{ID: "s1", UserID: 1, RefreshID: "r0", Expires: exp})
		revoke(t, st, store.Revocation{Session: "s2", UserID: 2, Expires: exp + 10}, now)
		start(t, st, store.Session{ID: "s3", UserID: 3, RefreshID: "r0", Expires: exp})
		sp := store.Spend{Session: "s3", UserID: 3, Presented: "r0", Next: "r1", Now: now, Expires: exp, RevokeUntil: exp + 20}
		spend(t, st, sp)
		if got := spend(t, st, sp); got != store.Reused {
			t.Fatalf("s3's r0 again: got %s, want Reused", outcomeName(got))
		}
		revoke(t, st, store.Revocation{UserID: 4, Before: exp - hour, Expires: exp + 30}, now)
		tests := []struct {
			key, typ  string
			pexpireat int64 // 0: only checks for a TTL
		}{
			{"layout:sess:s1", "hash", exp * 1000},
			{"layout:sess:s2", "hash", (exp + 10) * 1000},
			{"layout:sess:s3", "hash", (exp + 20) * 1000},  // revoked by reuse until RevokeUntil
			{"layout:urev:4", "string", (exp + 30) * 1000}, // user 4's one revocation
			{"layout:revocations", "zset", 0},
		}
		for _, tt := range tests {
			if typ := redistest.Do(t, c, "TYPE", tt.key).Text; typ != tt.typ {
				t.Errorf("%s: type %q, want %q", tt.key, typ, tt.typ)
			}
			ttl, _ := redistest.Do(t, c, "PTTL", tt.key).Int()
			if ttl <= 0 || ttl > 2*time.Hour.Milliseconds() {
				t.Errorf("%s: PTTL %d, want within (0, 2h]", tt.key, ttl)
			}
			if tt.pexpireat != 0 {
				at, _ := redistest.Do(t, c, "PEXPIRETIME", tt.key).Int()
				if at != tt.pexpireat {
					t.Errorf("%s: PEXPIRETIME %d, want %d", tt.key, at, tt.pexpireat)
				}
			}
		}
	})

	t.Run("every key has a TTL", func(t *testing.T) {
		keys := allKeys(t, c)
		if len(keys) < 10 {
			t.Fatalf("only %d keys after the suite: %v", len(keys), keys)
		}
		counters := 0
		for _, k := range keys {
			if strings.Contains(k, ":thr:") {
				counters++
			}
			ttl, err := redistest.Do(t, c, "PTTL", k).Int()
			if ttl == -2 {
				continue // expired since SCAN
			}
			if err != nil || ttl <= 0 {
				t.Errorf("%s: PTTL %d (%v), want a TTL", k, ttl, err)
			}
		}
		if counters < 10 {
			t.Errorf("only %d counter keys after the suite", counters)
		}
	})

	t.Run("revocations older than retention are trimmed", func(t *testing.T) {
		st := store.NewRedis(c, "trim:", time.Second)
		now := nowMS()
		exp := now/1000 + hour
		revoke(t, st, store.Revocation{UserID: 1, Expires: exp}, now)
		time.Sleep(1100 * time.Millisecond)
		r := revoke(t, st, store.Revocation{UserID: 2, Expires: exp}, now)
		list, _ := revocations(t, st, 0, now)
		if len(list) != 1 || list[0] != r {
			t.Fatalf("Revocations: %+v, want only %+v", list, r)
		}
		if ttl, _ := redistest.Do(t, c, "PTTL", "trim:revocations").Int(); ttl <= 0 || ttl > 1000 {
			t.Fatalf("PTTL %d, want within (0, 1000]", ttl)
		}
	})

	t.Run("NOSCRIPT after SCRIPT FLUSH", func(t *testing.T) {
		st := store.NewRedis(c, "flush:", time.Hour)
		now := nowMS()
		exp := now/1000 + hour
		start(t, st, store.Session{ID: "s", RefreshID: "r0", Expires: exp})
		redistest.Do(t, c, "SCRIPT", "FLUSH")
		sp := store.Spend{Session: "s", Presented: "r0", Next: "r1", Now: now, Expires: exp}
		if got := spend(t, st, sp); got != store.Granted {
			t.Fatalf("Spend after SCRIPT FLUSH: got %s, want Granted", outcomeName(got))
		}
		redistest.Do(t, c, "SCRIPT", "FLUSH")
		revoke(t, st, store.Revocation{Session: "s", Expires: exp}, now)
		redistest.Do(t, c, "SCRIPT", "FLUSH")
		start(t, st, store.Session{ID: "s3", RefreshID: "r0", Expires: exp})
		if got := spend(t, st, sp); got != store.Ended {
			t.Fatalf("Spend after Revoke: got %s, want Ended", outcomeName(got))
		}
		failure(t, st, "k", now, minute)
		redistest.Do(t, c, "SCRIPT", "FLUSH")
		if got := failure(t, st, "k", now, minute); got.Failures != 2 {
			t.Fatalf("Failure after SCRIPT FLUSH: got %+v, want 2 failures", got)
		}
	})
}

// TestRedisDown: with the server stopped every operation fails, within the
// client's timeout, with an error naming it; once the server is back the
// store works again.
func TestRedisDown(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	c := redistest.Client(t, resp.Options{Endpoints: []string{srv.Addr}, Timeout: 500 * time.Millisecond})
	st := store.NewRedis(c, "down:", time.Hour)
	ctx := context.Background()
	now := nowMS()
	exp := now/1000 + hour
	start(t, st, store.Session{ID: "s", RefreshID: "r0", Expires: exp})

	ops := []struct {
		name string
		op   string
		run  func() error
	}{
		{"StartSession", "start session", func() error {
			return st.StartSession(ctx, store.Session{ID: "s2", RefreshID: "r0", Expires: exp})
		}},
		{"Spend", "spend", func() error {
			o, err := st.Spend(ctx, store.Spend{Session: "s", Presented: "r0", Next: "r1", Now: now, Expires: exp})
			if err != nil && o != store.Ended {
				t.Errorf("Spend failed with outcome %s, want Ended", outcomeName(o))
			}
			return err
		}},
		{"Revoke", "revoke", func() error {
			_, err := st.Revoke(ctx, store.Revocation{UserID: 1, Expires: exp}, now)
			return err
		}},
		{"Revocations", "revocations", func() error {
			_, _, err := st.Revocations(ctx, 0, now)
			return err
		}},
		{"Failure", "failure", func() error {
			_, err := st.Failure(ctx, "k", now, minute)
			return err
		}},
		{"Peek", "peek", func() error {
			counts, err := st.Peek(ctx, []string{"k", "j"}, now)
			if err != nil && counts != nil {
				t.Errorf("Peek failed with counts %+v, want none", counts)
			}
			return err
		}},
		{"Reset", "reset", func() error {
			return st.Reset(ctx, "k")
		}},
	}

	srv.Stop()
	for _, tt := range ops {
		t.Run(tt.name+" while down", func(t *testing.T) {
			began := time.Now()
			err := tt.run()
			if err == nil {
				t.Fatal("no error with the server stopped")
			}
			if !strings.Contains(err.Error(), "store: redis "+tt.op+":") {
				t.Fatalf("error %q does not name the operation", err)
			}
			if d := time.Since(began); d > 2*time.Second {
				t.Fatalf("took %s with a 500ms timeout", d)
			}
		})
	}

	srv.Restart()
	for _, tt := range ops {
		t.Run(tt.name+" once back", func(t *testing.T) {
			if err := tt.run(); err != nil {
				t.Fatalf("after restart: %v", err)
			}
		})
	}
}

// TestRedisStalled: a server that accepts and never answers fails the
// operation within the client's timeout.
func TestRedisStalled(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, nc := range conns {
			_ = nc.Close()
		}
	})
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, nc)
			mu.Unlock()
		}
	}()
	st := store.NewRedis(redistest.Client(t, resp.Options{Endpoints: []string{ln.Addr().String()}, Timeout: 300 * time.Millisecond}), "stalled:", time.Hour)
	now := nowMS()
	began := time.Now()
	o, err := st.Spend(context.Background(), store.Spend{Session: "s", Presented: "r0", Next: "r1", Now: now, Expires: now/1000 + hour})
	if err == nil || o != store.Ended {
		t.Fatalf("got %s, %v; want Ended and an error", outcomeName(o), err)
	}
	if d := time.Since(began); d > 2*time.Second {
		t.Fatalf("took %s with a 300ms timeout", d)
	}
}
