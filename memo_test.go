package tokengate_test

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

// TestMemoRevocationDuringCheck: a request whose token passed the
// revocation check before a revocation, and whose check ends after it (here
// a device lookup during which the token is revoked), is let through once
// but not memoised: the revocation emptied the memo, and the decision must
// not be added back after it.
func TestMemoRevocationDuringCheck(t *testing.T) {
	var h http.Handler
	var access string
	var revokeNow int32
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if atomic.CompareAndSwapInt32(&revokeNow, 1, 0) {
			if res := do(t, h, "POST", "/token/revoke", `{"token":"`+access+`"}`); res.code != 200 {
				t.Errorf("revoke: %d %s", res.code, res.raw)
			}
		}
		if r.URL.Path == "/device/d1" {
			_, _ = w.Write([]byte(`{"networkId":1,"deviceTypeId":10}`))
			return
		}
		w.WriteHeader(http.StatusNotFound)
	}))
	defer api.Close()
	cfg := sessionConfig(t)
	cfg.DeviceDirectory.Devices = nil
	cfg.DeviceDirectory.LookupURL = api.URL + "/device/{deviceId}"
	h, _ = newHandler(t, cfg)
	access, _ = login(t, h, "alice")
	atomic.StoreInt32(&revokeNow, 1)
	if res := doMulti(t, h, "GET", "/device/d1", "Authorization", "Bearer "+access); res.code != 418 {
		t.Fatalf("the request in flight: %d %s", res.code, res.raw)
	}
	for i := 0; i < 3; i++ {
		if res := doMulti(t, h, "GET", "/device/d1", "Authorization", "Bearer "+access); res.code != 401 {
			t.Fatalf("request %d after the revocation: %d %s, want 401", i+1, res.code, res.raw)
		}
	}
}
