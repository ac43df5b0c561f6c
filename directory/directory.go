// Package directory resolves a device id to the network and device type it
// belongs to, so that routes naming only a device can be checked against a
// token's network and device-type scopes.
//
// Devices come from a static table, from a lookup URL on the backend, or
// both (the table first). Lookup results are cached, found and not-found
// devices with separate TTLs, in a bounded go-cache without a janitor
// goroutine. A failed lookup is an error, never a pass.
package directory

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/patrickmn/go-cache"

	"github.com/tokengate/tokengate/bounded"
)

// Errors returned by Lookup.
var (
	ErrUnknownDevice = errors.New("device not found")
	ErrUnavailable   = errors.New("device directory is unavailable")
)

// Device is where a device belongs.
type Device struct {
	NetworkID    string
	DeviceTypeID string
}

// Options configures a Directory.
type Options struct {
	Static          map[string]Device // devices known without a lookup
	LookupURL       string            // e.g. http://api/device/{deviceId}; empty = no lookup
	NetworkField    string            // JSON field of the network id, dotted for nesting
	DeviceTypeField string            // JSON field of the device type id
	Header          string            // header sent with lookups, e.g. Authorization
	HeaderValue     string            // its value, e.g. "Bearer <service token>"
	Timeout         time.Duration     // per lookup
	TTL             time.Duration     // how long a found device is cached
	NegativeTTL     time.Duration     // how long a not-found device is cached
	MaxEntries      int               // cache bound
}

// Directory looks devices up. It is safe for concurrent use.
type Directory struct {
	opts     Options
	client   *http.Client
	cache    *cache.Cache
	bound    *bounded.Admission // of cache
	lookups  int64              // lookups sent to the backend; atomic
	failures int64              // of those, the ones that did not answer a device or 404; atomic
}

// Stats returns how many lookups were sent to the backend, and how many of
// them failed (no answer, 5xx, not JSON...).
func (d *Directory) Stats() (lookups, failures int64) {
	return atomic.LoadInt64(&d.lookups), atomic.LoadInt64(&d.failures)
}

// notFound marks a cached negative result.
type notFound struct{}

// maxLookupBody bounds a lookup response.
const maxLookupBody = 64 << 10

// New checks the options. It starts no goroutine.
func New(opts Options) (*Directory, error) {
	d := &Directory{opts: opts}
	if opts.LookupURL == "" {
		return d, nil
	}
	u, err := url.Parse(strings.Replace(opts.LookupURL, "{deviceId}", "x", 1))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("lookupURL: %q must be an http(s) URL", opts.LookupURL)
	}
	if strings.Count(opts.LookupURL, "{deviceId}") != 1 {
		return nil, fmt.Errorf("lookupURL: %q must hold {deviceId} once", opts.LookupURL)
	}
	if opts.NetworkField == "" || opts.DeviceTypeField == "" {
		return nil, errors.New("networkField and deviceTypeField: required with lookupURL")
	}
	if opts.Timeout <= 0 || opts.TTL < 0 || opts.NegativeTTL < 0 || opts.MaxEntries < 0 {
		return nil, errors.New("timeout must be positive; cache TTLs and size must not be negative")
	}
	if opts.Header != "" && strings.ContainsAny(opts.Header+opts.HeaderValue, "\r\n") {
		return nil, errors.New("lookupHeader: must not contain line breaks")
	}
	d.client = &http.Client{
		Timeout: opts.Timeout,
		// A redirect is an answer we do not understand: fail, do not follow.
		CheckRedirect: func(req *http.Request, via []*http.Request) error { return http.ErrUseLastResponse },
		Transport: &http.Transport{
			Proxy:               nil,
			MaxIdleConnsPerHost: 32,
			IdleConnTimeout:     30 * time.Second,
		},
	}
	d.cache = cache.New(opts.TTL, 0)
	d.bound = bounded.New(opts.MaxEntries, func(_ int64) int {
		d.cache.DeleteExpired()
		return d.cache.ItemCount()
	})
	return d, nil
}

// Lookup returns the device's network and device type. ErrUnknownDevice
// means the directory is sure the device does not exist; any other error
// means it could not tell.
func (d *Directory) Lookup(ctx context.Context, id string) (Device, error) {
	if dev, ok := d.opts.Static[id]; ok {
		return dev, nil
	}
	if d.client == nil {
		return Device{}, ErrUnknownDevice
	}
	return d.lookupRemote(ctx, id)
}

// lookupRemote answers from the cache or asks the backend. It is apart from
// Lookup so that a static hit does not pay for it (CONTRIBUTING.md, rules
// for the request path).
func (d *Directory) lookupRemote(ctx context.Context, id string) (Device, error) {
	if v, ok := d.cache.Get(id); ok {
		if dev, found := v.(Device); found {
			return dev, nil
		}
		return Device{}, ErrUnknownDevice
	}
	atomic.AddInt64(&d.lookups, 1)
	dev, err := d.fetch(ctx, id)
	switch err {
	case nil:
		d.remember(id, dev, d.opts.TTL)
	case ErrUnknownDevice:
		d.remember(id, notFound{}, d.opts.NegativeTTL)
	default:
		atomic.AddInt64(&d.failures, 1)
	}
	return dev, err
}

func (d *Directory) fetch(ctx context.Context, id string) (Device, error) {
	u := strings.Replace(d.opts.LookupURL, "{deviceId}", url.PathEscape(id), 1)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return Device{}, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	req.Header.Set("Accept", "application/json")
	if d.opts.Header != "" {
		req.Header.Set(d.opts.Header, d.opts.HeaderValue)
	}
	res, err := d.client.Do(req)
	if err != nil {
		return Device{}, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	defer res.Body.Close()
	if res.StatusCode == http.StatusNotFound {
		return Device{}, ErrUnknownDevice
	}
	if res.StatusCode != http.StatusOK {
		return Device{}, fmt.Errorf("%w: lookup answered %d", ErrUnavailable, res.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(res.Body, maxLookupBody+1))
	if err != nil || len(body) > maxLookupBody {
		return Device{}, fmt.Errorf("%w: unreadable or oversized lookup answer", ErrUnavailable)
	}
	// Numbers stay json.Number, so that an id keeps every digit (float64
	// holds integers exactly only up to 2^53).
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		return Device{}, fmt.Errorf("%w: lookup answer is not a JSON object", ErrUnavailable)
	}
	if _, err := dec.Token(); err != io.EOF {
		return Device{}, fmt.Errorf("%w: lookup answer is not a JSON object", ErrUnavailable)
	}
	return Device{NetworkID: field(doc, d.opts.NetworkField), DeviceTypeID: field(doc, d.opts.DeviceTypeField)}, nil
}

// field reads a dotted path of a JSON object as a string id. A number is
// an id only as an integer literal in int64's range, kept as written; any
// other number (1.0, 1e3, beyond int64) gives "", as a missing field does,
// which no scope but "*" holds.
func field(doc map[string]any, path string) string {
	var v any = doc
	for _, key := range strings.Split(path, ".") {
		obj, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		v = obj[key]
	}
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		if _, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return string(x)
		}
	}
	return ""
}

// remember caches a result unless the cache is full of live entries
// (package bounded).
func (d *Directory) remember(id string, v any, ttl time.Duration) {
	if ttl <= 0 || d.bound.Max == 0 {
		return
	}
	if d.cache.ItemCount() >= d.bound.Max && !bounded.Room(d.bound, time.Now().UnixNano()) {
		return
	}
	d.cache.Set(id, v, ttl)
}

// TTL is how long a looked-up device may be trusted: the positive cache
// TTL, or a very long time when every device is static.
func (d *Directory) TTL() time.Duration {
	if d.client == nil {
		return 1 << 62
	}
	return d.opts.TTL
}

// Static returns the devices known without a lookup, for a caller that
// reads them itself with a map index rather than a call of Lookup
// (CONTRIBUTING.md, the cost model). The map must not be changed.
func (d *Directory) Static() map[string]Device { return d.opts.Static }

// Enabled reports whether the directory can resolve anything.
func (d *Directory) Enabled() bool { return d.client != nil || len(d.opts.Static) > 0 }
