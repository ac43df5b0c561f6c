// Command deviceapi is a small DeviceHive-like JSON API that stands behind
// the tokengate demo gateway. It holds a fixed set of networks, device types
// and devices, keeps the last notifications and commands posted per device in
// memory, and echoes in every JSON answer the identity headers the gateway
// forwarded, so a user sees what reached the backend.
//
// It uses only the Go standard library (Go 1.22 API).
//
//	deviceapi [-addr 127.0.0.1:8081]    (or DEVICEAPI_ADDR=...; -addr wins)
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"sync"
	"syscall"
	"time"
)

const (
	defaultAddr = "127.0.0.1:8081"
	// maxBodyBytes bounds every request body.
	maxBodyBytes = 64 << 10
	// maxPerDevice bounds the notifications (and, separately, the commands)
	// kept per device; the oldest are dropped first.
	maxPerDevice = 100
)

// errTrailingData rejects request bodies with more than one JSON value.
var errTrailingData = errors.New("trailing data after the JSON object")

// identityHeaders are the headers the gateway sets on forwarded requests.
var identityHeaders = []string{
	"X-Auth-User-Id",
	"X-Auth-Login",
	"X-Auth-Role",
	"X-Auth-Actions",
	"X-Auth-Networks",
	"X-Auth-Device-Types",
}

// Network is a DeviceHive network.
type Network struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
}

// DeviceType is a DeviceHive device type.
type DeviceType struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
}

// Device is a DeviceHive device.
type Device struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	NetworkID    int64  `json:"networkId"`
	DeviceTypeID int64  `json:"deviceTypeId"`
	IsBlocked    bool   `json:"isBlocked"`
}

var (
	networks = map[int64]Network{
		1: {ID: 1, Name: "network-1", Description: "alice's first network"},
		2: {ID: 2, Name: "network-2", Description: "alice's second network"},
		3: {ID: 3, Name: "network-3", Description: "bob's network"},
	}
	deviceTypes = map[int64]DeviceType{
		10: {ID: 10, Name: "thermometer", Description: "device type 10"},
		20: {ID: 20, Name: "door-sensor", Description: "device type 20"},
	}
	devices = map[string]Device{
		"d1": {ID: "d1", Name: "thermometer in network 1", NetworkID: 1, DeviceTypeID: 10},
		"d2": {ID: "d2", Name: "door sensor in network 2", NetworkID: 2, DeviceTypeID: 20},
		"d3": {ID: "d3", Name: "thermometer in network 3", NetworkID: 3, DeviceTypeID: 10},
	}
)

// server holds the mutable state: the messages posted per device.
type server struct {
	now func() time.Time

	mu            sync.Mutex
	nextID        int64
	notifications map[string][]map[string]any
	commands      map[string][]map[string]any
}

func newServer() *server {
	return &server{
		now:           time.Now,
		nextID:        1,
		notifications: make(map[string][]map[string]any),
		commands:      make(map[string][]map[string]any),
	}
}

func (s *server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /network/{id}", s.getNetwork)
	mux.HandleFunc("POST /network", s.createNetwork)
	mux.HandleFunc("GET /devicetype/{id}", s.getDeviceType)
	mux.HandleFunc("GET /device/{id}", s.getDevice)
	mux.HandleFunc("GET /device/{id}/notification", s.listMessages("notification"))
	mux.HandleFunc("POST /device/{id}/notification", s.postMessage("notification"))
	mux.HandleFunc("GET /device/{id}/command", s.listMessages("command"))
	mux.HandleFunc("POST /device/{id}/command", s.postMessage("command"))
	mux.HandleFunc("GET /user/current", s.currentUser)
	mux.HandleFunc("/", s.notFound)
	return logRequests(mux)
}

func (s *server) healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(w, "ok")
}

func (s *server) getNetwork(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	n, ok := networks[id]
	if err != nil || !ok {
		writeError(w, r, http.StatusNotFound, fmt.Sprintf("Network with id = %s not found", r.PathValue("id")))
		return
	}
	writeJSON(w, r, http.StatusOK, map[string]any{"id": n.ID, "name": n.Name, "description": n.Description})
}

func (s *server) createNetwork(w http.ResponseWriter, r *http.Request) {
	body, ok := readObject(w, r)
	if !ok {
		return
	}
	// Echo only: the fixed network table does not change.
	s.mu.Lock()
	body["id"] = 1000 + s.nextID
	s.nextID++
	s.mu.Unlock()
	writeJSON(w, r, http.StatusCreated, body)
}

func (s *server) getDeviceType(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	dt, ok := deviceTypes[id]
	if err != nil || !ok {
		writeError(w, r, http.StatusNotFound, fmt.Sprintf("Device type with id = %s not found", r.PathValue("id")))
		return
	}
	writeJSON(w, r, http.StatusOK, map[string]any{"id": dt.ID, "name": dt.Name, "description": dt.Description})
}

func (s *server) getDevice(w http.ResponseWriter, r *http.Request) {
	d, ok := lookupDevice(w, r)
	if !ok {
		return
	}
	writeJSON(w, r, http.StatusOK, map[string]any{
		"id": d.ID, "name": d.Name, "networkId": d.NetworkID, "deviceTypeId": d.DeviceTypeID, "isBlocked": d.IsBlocked,
	})
}

// listMessages answers the messages of one kind ("notification" or
// "command") kept for a device, oldest first.
func (s *server) listMessages(kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		d, ok := lookupDevice(w, r)
		if !ok {
			return
		}
		s.mu.Lock()
		stored := s.store(kind)[d.ID]
		items := make([]map[string]any, len(stored))
		copy(items, stored) // the maps themselves are never modified after storing
		s.mu.Unlock()
		writeJSON(w, r, http.StatusOK, map[string]any{"deviceId": d.ID, kind + "s": items})
	}
}

// postMessage stores a notification or command and echoes it back with the
// id and timestamp it was given.
func (s *server) postMessage(kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		d, ok := lookupDevice(w, r)
		if !ok {
			return
		}
		body, ok := readObject(w, r)
		if !ok {
			return
		}
		s.mu.Lock()
		body["id"] = s.nextID
		s.nextID++
		body["deviceId"] = d.ID
		body["timestamp"] = s.now().UTC().Format("2006-01-02T15:04:05.000Z")
		if uid := r.Header.Get("X-Auth-User-Id"); uid != "" {
			if n, err := strconv.ParseInt(uid, 10, 64); err == nil {
				body["userId"] = n
			}
		}
		m := s.store(kind)
		m[d.ID] = append(m[d.ID], body)
		if list := m[d.ID]; len(list) > maxPerDevice {
			m[d.ID] = append([]map[string]any(nil), list[len(list)-maxPerDevice:]...)
		}
		// Answer a copy: writeJSON adds "identity", which must not be stored.
		answer := make(map[string]any, len(body)+1)
		for k, v := range body {
			answer[k] = v
		}
		s.mu.Unlock()
		writeJSON(w, r, http.StatusCreated, answer)
	}
}

// store returns the map for kind; s.mu must be held.
func (s *server) store(kind string) map[string][]map[string]any {
	if kind == "command" {
		return s.commands
	}
	return s.notifications
}

// currentUser describes the user the gateway authenticated, from the
// identity headers alone: this API has no user table of its own.
func (s *server) currentUser(w http.ResponseWriter, r *http.Request) {
	uid := r.Header.Get("X-Auth-User-Id")
	if uid == "" {
		writeError(w, r, http.StatusUnauthorized, "no authenticated user: X-Auth-User-Id was not forwarded")
		return
	}
	u := map[string]any{"id": uid}
	if n, err := strconv.ParseInt(uid, 10, 64); err == nil {
		u["id"] = n
	}
	if v := r.Header.Get("X-Auth-Login"); v != "" {
		u["login"] = v
	}
	if v := r.Header.Get("X-Auth-Role"); v != "" {
		u["role"] = v
	}
	writeJSON(w, r, http.StatusOK, u)
}

func (s *server) notFound(w http.ResponseWriter, r *http.Request) {
	writeError(w, r, http.StatusNotFound, fmt.Sprintf("no route for %s %s", r.Method, r.URL.Path))
}

func lookupDevice(w http.ResponseWriter, r *http.Request) (Device, bool) {
	id := r.PathValue("id")
	d, ok := devices[id]
	if !ok {
		writeError(w, r, http.StatusNotFound, fmt.Sprintf("Device with id = %s not found", id))
	}
	return d, ok
}

// readObject decodes a bounded JSON object body, answering 413 or 400 itself
// when it cannot.
func readObject(w http.ResponseWriter, r *http.Request) (map[string]any, bool) {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	dec.UseNumber()
	var body map[string]any
	err := dec.Decode(&body)
	if err == nil {
		// Reject anything but whitespace after the object, such as "{} x".
		if _, terr := dec.Token(); terr == nil {
			err = errTrailingData
		} else if terr != io.EOF {
			err = terr
		}
	}
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		writeError(w, r, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body exceeds %d bytes", maxBodyBytes))
		return nil, false
	case errors.Is(err, io.EOF):
		writeError(w, r, http.StatusBadRequest, "request body must be a JSON object")
		return nil, false
	case err != nil:
		writeError(w, r, http.StatusBadRequest, "request body must be a JSON object: "+err.Error())
		return nil, false
	case body == nil:
		writeError(w, r, http.StatusBadRequest, "request body must be a JSON object")
		return nil, false
	}
	return body, true
}

// identity echoes the identity headers that arrived (absent ones omitted)
// and whether an Authorization header arrived, never its value.
func identity(r *http.Request) map[string]any {
	id := map[string]any{"authorization": r.Header.Get("Authorization") != ""}
	for _, h := range identityHeaders {
		if v := r.Header.Values(h); len(v) > 0 {
			id[h] = v[0]
		}
	}
	return id
}

func writeJSON(w http.ResponseWriter, r *http.Request, status int, body map[string]any) {
	body["identity"] = identity(r)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(body); err != nil {
		log.Printf("writing the answer to %s %q: %v", r.Method, r.URL.Path, err) //nolint:gosec // G706: quoted, cannot forge lines
	}
}

// writeError answers DeviceHive's error shape {"error":code,"message":...}.
func writeError(w http.ResponseWriter, r *http.Request, status int, msg string) {
	writeJSON(w, r, status, map[string]any{"error": status, "message": msg})
}

// statusRecorder remembers the status for the request log.
type statusRecorder struct {
	http.ResponseWriter

	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b) //nolint:wrapcheck // a wrapped ResponseWriter passes errors through unchanged
}

// logRequests logs one line per request: method, path, status, the
// forwarded user (if any) and whether a token arrived.
func logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if r.URL.Path == "/healthz" {
			return // polled by the demo script; not interesting
		}
		user := r.Header.Get("X-Auth-Login")
		if user == "" {
			user = "-"
		}
		//nolint:gosec // G706: the request's values are quoted (%q) and cannot forge log lines
		log.Printf("%s %q -> %d user=%q authorization=%t", r.Method, r.URL.RequestURI(), rec.status, user, r.Header.Get("Authorization") != "")
	})
}

func main() {
	def := defaultAddr
	if v := os.Getenv("DEVICEAPI_ADDR"); v != "" {
		def = v
	}
	addr := flag.String("addr", def, "listen address (default from DEVICEAPI_ADDR, else "+defaultAddr+")")
	flag.Parse()
	log.SetPrefix("deviceapi: ")
	log.SetFlags(log.LstdFlags)
	if err := run(*addr); err != nil {
		log.Fatal(err)
	}
}

// run serves on addr until SIGINT or SIGTERM.
func run(addr string) error {
	srv := &http.Server{
		Addr:              addr,
		Handler:           newServer().routes(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	//nolint:gosec // G706: the address and routes come from flags and code
	log.Printf("listening on http://%s (routes: %s)", addr, routeList())

	select {
	case err := <-errc:
		return fmt.Errorf("listen on %s: %w", addr, err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Print("stopped")
	return nil
}

func routeList() string {
	ids := make([]string, 0, len(devices))
	for id := range devices {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return fmt.Sprintf("/network/{1,2,3} /devicetype/{10,20} /device/%v[/notification|/command] /user/current /healthz", ids)
}
