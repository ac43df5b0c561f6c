package store

import (
	"context"
	"fmt"
	"strconv"

	"github.com/tokengate/tokengate/resp"
)

// The Redis store's Counters. Each key is a hash <prefix>thr:<key> (fields
// in redis_scripts.go, failureScript) that expires resetAfter after its
// latest failure: every counter key has a TTL. Failure is one script (atomic:
// concurrent failures of one key from any replica each count once), Peek one
// pipelined round trip of HMGETs, Reset a DEL. Redis and network errors are
// returned wrapped, naming the operation ("store: redis failure: ..."); the
// caller refuses the attempt. Redis bounds nothing by itself: give it a
// maxmemory with maxmemory-policy noeviction (writes then fail: closed) or a
// volatile-* policy (counters may then be evicted early: open).

func (r *Redis) counterKey(key string) string { return r.prefix + "thr:" + key }

// Failure records a failure of key at now (see Counters).
func (r *Redis) Failure(ctx context.Context, key string, now, resetAfter int64) (Count, error) {
	if err := checkFailure(key, resetAfter); err != nil {
		return Count{}, err
	}
	v, err := r.client.Eval(ctx, failureScript, []string{r.counterKey(key)}, []string{itoa(now), itoa(resetAfter)})
	if err != nil {
		return Count{}, fmt.Errorf("store: redis failure: %w", err)
	}
	if v.Kind != resp.KindArray || len(v.Elems) != 2 {
		return Count{}, fmt.Errorf("store: redis failure: unexpected reply %s", v)
	}
	n, err1 := v.Elems[0].Int()
	last, err2 := v.Elems[1].Int()
	if err1 != nil || err2 != nil || n < 1 {
		return Count{}, fmt.Errorf("store: redis failure: unexpected reply %s", v)
	}
	return Count{Failures: n, Last: last}, nil
}

// Peek returns the counts of keys at now (see Counters), in one round trip.
func (r *Redis) Peek(ctx context.Context, keys []string, now int64) ([]Count, error) {
	if len(keys) == 0 {
		return []Count{}, nil
	}
	cmds := make([][]string, len(keys))
	for i, key := range keys {
		cmds[i] = []string{"HMGET", r.counterKey(key), "n", "last", "exp"}
	}
	vals, err := r.client.Pipeline(ctx, cmds)
	if err != nil {
		return nil, fmt.Errorf("store: redis peek: %w", err)
	}
	if len(vals) != len(keys) {
		return nil, fmt.Errorf("store: redis peek: %d replies for %d keys", len(vals), len(keys))
	}
	out := make([]Count, len(keys))
	for i, v := range vals {
		if e := v.Err(); e != nil {
			return nil, fmt.Errorf("store: redis peek: %w", e)
		}
		f, err := v.Strings()
		if err != nil || len(f) != 3 {
			return nil, fmt.Errorf("store: redis peek: unexpected reply %s", v)
		}
		if f[0] == "" {
			continue // absent
		}
		n, err1 := strconv.ParseInt(f[0], 10, 64)
		last, err2 := strconv.ParseInt(f[1], 10, 64)
		exp, err3 := strconv.ParseInt(f[2], 10, 64)
		if err1 != nil || err2 != nil || err3 != nil {
			return nil, fmt.Errorf("store: redis peek: unexpected reply %s", v)
		}
		if exp > now {
			out[i] = Count{Failures: n, Last: last}
		}
	}
	return out, nil
}

// Reset forgets key's count.
func (r *Redis) Reset(ctx context.Context, key string) error {
	if _, err := r.client.Do(ctx, "DEL", r.counterKey(key)); err != nil {
		return fmt.Errorf("store: redis reset: %w", err)
	}
	return nil
}
