package resp

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"
)

// TestPoolWaitTimeout: with every slot taken, a caller gives up after
// Timeout with a pool error, without dialing.
func TestPoolWaitTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	const timeout = 200 * time.Millisecond
	c, err := New(Options{Endpoints: []string{ln.Addr().String()}, PoolSize: 2, Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	c.slots <- struct{}{}
	c.slots <- struct{}{}
	start := time.Now()
	_, err = c.Do(context.Background(), "PING")
	took := time.Since(start)
	if err == nil || !strings.Contains(err.Error(), "no pooled connection free in time") {
		t.Fatalf("got %v", err)
	}
	if took < timeout*8/10 || took > 5*timeout {
		t.Fatalf("gave up after %s with a %s timeout", took, timeout)
	}
	<-c.slots
	<-c.slots
}
