package directory_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokengate/tokengate/directory"
)

// deviceAPI answers like the demo device API and counts its lookups.
func deviceAPI(t *testing.T, calls *int64) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		atomic.AddInt64(calls, 1)
		if r.Header.Get("Authorization") != "Bearer service" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		switch r.URL.Path {
		case "/device/d1":
			_, _ = w.Write([]byte(`{"id":"d1","networkId":1,"deviceTypeId":10}`))
		case "/device/nested":
			_, _ = w.Write([]byte(`{"device":{"network":{"id":"n7"},"type":20}}`))
		case "/device/slow":
			time.Sleep(300 * time.Millisecond)
			_, _ = w.Write([]byte(`{"networkId":1,"deviceTypeId":10}`))
		case "/device/broken":
			w.WriteHeader(http.StatusInternalServerError)
		case "/device/notjson":
			_, _ = w.Write([]byte(`<html>`))
		case "/device/moved":
			http.Redirect(w, r, "/device/d1", http.StatusFound)
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func newDirectory(t *testing.T, url string, mutate func(o *directory.Options)) *directory.Directory {
	t.Helper()
	opts := directory.Options{
		Static:          map[string]directory.Device{"s1": {NetworkID: "5", DeviceTypeID: "50"}},
		LookupURL:       url,
		NetworkField:    "networkId",
		DeviceTypeField: "deviceTypeId",
		Header:          "Authorization",
		HeaderValue:     "Bearer service",
		Timeout:         100 * time.Millisecond,
		TTL:             time.Minute,
		NegativeTTL:     time.Minute,
		MaxEntries:      100,
	}
	if mutate != nil {
		mutate(&opts)
	}
	d, err := directory.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestLookup(t *testing.T) {
	var calls int64
	srv := deviceAPI(t, &calls)
	d := newDirectory(t, srv.URL+"/device/{deviceId}", nil)
	nested := newDirectory(t, srv.URL+"/device/{deviceId}", func(o *directory.Options) {
		o.NetworkField, o.DeviceTypeField = "device.network.id", "device.type"
	})
	tests := []struct {
		desc string
		dir  *directory.Directory
		id   string
		want directory.Device
		err  error
	}{
		{desc: "static", dir: d, id: "s1", want: directory.Device{NetworkID: "5", DeviceTypeID: "50"}},
		{desc: "looked up", dir: d, id: "d1", want: directory.Device{NetworkID: "1", DeviceTypeID: "10"}},
		{desc: "nested fields", dir: nested, id: "nested", want: directory.Device{NetworkID: "n7", DeviceTypeID: "20"}},
		{desc: "unknown", dir: d, id: "d9", err: directory.ErrUnknownDevice},
		{desc: "timeout", dir: d, id: "slow", err: directory.ErrUnavailable},
		{desc: "server error", dir: d, id: "broken", err: directory.ErrUnavailable},
		{desc: "not JSON", dir: d, id: "notjson", err: directory.ErrUnavailable},
		{desc: "redirect not followed", dir: d, id: "moved", err: directory.ErrUnavailable},
		{desc: "escaped id", dir: d, id: "../d1", err: directory.ErrUnknownDevice},
	}
	for _, test := range tests {
		t.Run(test.desc, func(t *testing.T) {
			got, err := test.dir.Lookup(context.Background(), test.id)
			if !errors.Is(err, test.err) {
				t.Fatalf("err = %v, want %v", err, test.err)
			}
			if got != test.want {
				t.Fatalf("got %+v, want %+v", got, test.want)
			}
		})
	}
}

func TestLookupCache(t *testing.T) {
	var calls int64
	srv := deviceAPI(t, &calls)
	d := newDirectory(t, srv.URL+"/device/{deviceId}", nil)
	for i := 0; i < 3; i++ {
		if _, err := d.Lookup(context.Background(), "d1"); err != nil {
			t.Fatal(err)
		}
		if _, err := d.Lookup(context.Background(), "d9"); !errors.Is(err, directory.ErrUnknownDevice) {
			t.Fatal(err)
		}
		_, _ = d.Lookup(context.Background(), "broken")
	}
	// d1 and d9 once each (positive and negative cache); failures are never cached.
	if got := atomic.LoadInt64(&calls); got != 5 {
		t.Fatalf("lookups = %d, want 5", got)
	}
}

func TestLookupCacheBound(t *testing.T) {
	var calls int64
	srv := deviceAPI(t, &calls)
	d := newDirectory(t, srv.URL+"/device/{deviceId}", func(o *directory.Options) { o.MaxEntries = 1 })
	for _, id := range []string{"d1", "d9", "d1", "d9"} {
		_, _ = d.Lookup(context.Background(), id)
	}
	// d1 is cached; d9 finds the cache full and is looked up each time.
	if got := atomic.LoadInt64(&calls); got != 3 {
		t.Fatalf("lookups = %d, want 3", got)
	}
}

// TestLookupCacheSweep fills the cache with an entry that then expires: the
// next result sweeps it out and takes its place.
func TestLookupCacheSweep(t *testing.T) {
	var calls int64
	srv := deviceAPI(t, &calls)
	d := newDirectory(t, srv.URL+"/device/{deviceId}", func(o *directory.Options) {
		o.MaxEntries = 1
		o.TTL = 50 * time.Millisecond
	})
	_, _ = d.Lookup(context.Background(), "d1")
	time.Sleep(60 * time.Millisecond)
	for i := 0; i < 2; i++ {
		_, _ = d.Lookup(context.Background(), "d9")
	}
	// d1 once, then d9 once: the expired d1 made room for it.
	if got := atomic.LoadInt64(&calls); got != 2 {
		t.Fatalf("lookups = %d, want 2", got)
	}
}

func TestStaticOnly(t *testing.T) {
	d := newDirectory(t, "", nil)
	if _, err := d.Lookup(context.Background(), "d1"); !errors.Is(err, directory.ErrUnknownDevice) {
		t.Fatalf("err = %v", err)
	}
	if !d.Enabled() {
		t.Fatal("a static table enables the directory")
	}
	empty, err := directory.New(directory.Options{})
	if err != nil || empty.Enabled() {
		t.Fatalf("empty directory: %v, enabled %v", err, empty.Enabled())
	}
}

func TestNewRejects(t *testing.T) {
	tests := []struct {
		desc    string
		mutate  func(o *directory.Options)
		wantErr string
	}{
		{desc: "not http", mutate: func(o *directory.Options) { o.LookupURL = "ftp://x/{deviceId}" }, wantErr: "lookupURL"},
		{desc: "no placeholder", mutate: func(o *directory.Options) { o.LookupURL = "http://x/device" }, wantErr: "{deviceId}"},
		{desc: "no fields", mutate: func(o *directory.Options) { o.NetworkField = "" }, wantErr: "networkField"},
		{desc: "no timeout", mutate: func(o *directory.Options) { o.Timeout = 0 }, wantErr: "timeout"},
		{desc: "header injection", mutate: func(o *directory.Options) { o.HeaderValue = "a\r\nX: y" }, wantErr: "line breaks"},
	}
	for _, test := range tests {
		t.Run(test.desc, func(t *testing.T) {
			opts := directory.Options{LookupURL: "http://127.0.0.1:1/device/{deviceId}", NetworkField: "n", DeviceTypeField: "t",
				Header: "Authorization", Timeout: time.Second}
			test.mutate(&opts)
			_, err := directory.New(opts)
			if err == nil || !strings.Contains(err.Error(), test.wantErr) {
				t.Fatalf("err = %v, want %q", err, test.wantErr)
			}
		})
	}
}

// TestLookupNumericIDs pins the numbers a lookup answer may hold as ids: an
// integer literal is read as written (ids above 2^53 once collapsed onto
// their neighbours through float64: a device in network 9007199254740993
// was read as in 9007199254740992); any other number (a fraction, an
// exponent, out of int64 range) reads as no value, like a missing field,
// which no token scope but "*" holds.
func TestLookupNumericIDs(t *testing.T) {
	answers := map[string]string{
		"big":       `{"networkId": 9007199254740993, "deviceTypeId": 10}`,
		"plain":     `{"networkId": 10, "deviceTypeId": 20}`,
		"negative":  `{"networkId": -5, "deviceTypeId": 20}`,
		"fraction":  `{"networkId": 1.0, "deviceTypeId": 20}`,
		"exponent":  `{"networkId": 1e3, "deviceTypeId": 20}`,
		"too large": `{"networkId": 9223372036854775808, "deviceTypeId": 20}`,
		"string":    `{"networkId": "9007199254740993", "deviceTypeId": "t1"}`,
		"missing":   `{"deviceTypeId": 20}`,
		"trailing":  `{"networkId": 1, "deviceTypeId": 20} {}`,
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := answers[strings.TrimPrefix(r.URL.Path, "/device/")]
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	d := newDirectory(t, srv.URL+"/device/{deviceId}", func(o *directory.Options) { o.Header = "" })
	tests := []struct {
		id   string
		want directory.Device
		err  error
	}{
		{id: "big", want: directory.Device{NetworkID: "9007199254740993", DeviceTypeID: "10"}},
		{id: "plain", want: directory.Device{NetworkID: "10", DeviceTypeID: "20"}},
		{id: "negative", want: directory.Device{NetworkID: "-5", DeviceTypeID: "20"}},
		{id: "fraction", want: directory.Device{DeviceTypeID: "20"}},
		{id: "exponent", want: directory.Device{DeviceTypeID: "20"}},
		{id: "too large", want: directory.Device{DeviceTypeID: "20"}},
		{id: "string", want: directory.Device{NetworkID: "9007199254740993", DeviceTypeID: "t1"}},
		{id: "missing", want: directory.Device{DeviceTypeID: "20"}},
		{id: "trailing", err: directory.ErrUnavailable},
	}
	for _, test := range tests {
		t.Run(test.id, func(t *testing.T) {
			got, err := d.Lookup(context.Background(), test.id)
			if !errors.Is(err, test.err) {
				t.Fatalf("err = %v, want %v", err, test.err)
			}
			if got != test.want {
				t.Fatalf("got %+v, want %+v", got, test.want)
			}
		})
	}
}
