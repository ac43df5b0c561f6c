package redistest

import (
	"context"
	"testing"
	"time"

	"github.com/tokengate/tokengate/resp"
)

// Timeout is the tests' client timeout, generous: the machine is shared
// and the interpreter is slow.
const Timeout = 3 * time.Second

// Client returns a resp client with options o (Timeout when o sets none),
// closed when the test ends.
func Client(t *testing.T, o resp.Options) *resp.Client {
	t.Helper()
	if o.Timeout == 0 {
		o.Timeout = Timeout
	}
	c, err := resp.New(o)
	if err != nil {
		t.Fatalf("resp.New: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// Do runs a command that must succeed.
func Do(t *testing.T, c *resp.Client, args ...string) resp.Value {
	t.Helper()
	v, err := c.Do(context.Background(), args...)
	if err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	return v
}
