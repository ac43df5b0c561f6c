package tokengate_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/tokengate/tokengate"
	"github.com/tokengate/tokengate/internal/testclock"
)

// withClock gives the gate h a clock starting now. The gate must have an
// issuer of its own (its sessions' view is shared by issuer).
func withClock(t testing.TB, h http.Handler) *testclock.Clock {
	t.Helper()
	c := testclock.New(time.Now())
	if !tokengate.SetClock(h, c.Now) {
		t.Fatalf("%T is not a tokengate middleware", h)
	}
	return c
}

// TestInterpreterTrapHandlerInterface: under Yaegi v0.16.1, the handler New
// returns, held as an http.Handler outside the package, is the
// interpreter's wrapper of that interface: asserting it to any interface
// declared in interpreted code fails, though the gate has the methods
// (even interface{ ServeHTTP(...) }). The package's own assertion to its
// type works, hence tokengate.SetClock is a function.
func TestInterpreterTrapHandlerInterface(t *testing.T) {
	h, _ := newHandler(t, testConfig())
	pinTrap(t, "h.(interface{ GateName() string }) on the handler New returned", trapOutcome(func() string {
		_, ok := h.(interface{ GateName() string })
		return strconv.FormatBool(ok)
	}), "true")
	if !tokengate.SetClock(h, time.Now) {
		t.Fatal("SetClock must find the gate")
	}
}

// TestTokensExpireOnTheGateClock: an access token is refused once the
// gate's clock passes its exp and the leeway, though its claims are cached
// and its decision memoised on the wall clock.
func TestTokensExpireOnTheGateClock(t *testing.T) {
	cfg := sessionConfig(t)
	h, _ := newHandler(t, cfg)
	clock := withClock(t, h)
	access, _ := login(t, h, "alice")
	expectGuard(t, h, access, 418, "")
	expectGuard(t, h, access, 418, "")         // from the memo
	clock.Add(30*time.Minute + 29*time.Second) // accessTokenLifetime, within the 30s leeway
	expectGuard(t, h, access, 418, "")
	clock.Add(2 * time.Second)
	expectGuard(t, h, access, 401, "token has expired")
}
