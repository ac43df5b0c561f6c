package resp

import (
	"context"
	"crypto/sha1" //nolint:gosec // G505: Redis names scripts by their SHA1; no security depends on it
	"encoding/hex"
	"errors"
	"strconv"
)

// Script is a Lua script run with EVALSHA, falling back to EVAL when the
// server does not know it yet (after a restart or SCRIPT FLUSH).
type Script struct {
	src  string
	hash string
}

// NewScript returns a script for src; it computes the SHA1 once.
func NewScript(src string) *Script {
	sum := sha1.Sum([]byte(src)) //nolint:gosec // G401: see the import
	return &Script{src: src, hash: hex.EncodeToString(sum[:])}
}

// Hash returns the script's SHA1 in hex, as EVALSHA and SCRIPT EXISTS take it.
func (s *Script) Hash() string { return s.hash }

// Eval runs s with keys (KEYS in Lua) and args (ARGV): EVALSHA first, EVAL
// when the server answers NOSCRIPT (which also loads the script for the next
// EVALSHA). Errors are as for Do.
func (c *Client) Eval(ctx context.Context, s *Script, keys []string, args []string) (Value, error) {
	if s == nil {
		return Value{}, errors.New("resp: nil script")
	}
	cmd := make([]string, 0, 3+len(keys)+len(args))
	cmd = append(cmd, "EVALSHA", s.hash, strconv.Itoa(len(keys)))
	cmd = append(cmd, keys...)
	cmd = append(cmd, args...)
	v, err := c.Do(ctx, cmd...)
	if err == nil {
		return v, nil
	}
	if se, ok := err.(*Error); !ok || se.Prefix() != "NOSCRIPT" {
		return v, err
	}
	cmd[0] = "EVAL"
	cmd[1] = s.src
	v, err = c.Do(ctx, cmd...)
	return v, err
}
