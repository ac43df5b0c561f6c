package main

// Reading requests and writing answers: bounded JSON bodies, DeviceHive's
// error shape, the identity echo, query parameters and timestamps.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// maxBodyBytes bounds every request body.
const maxBodyBytes = 64 << 10

const (
	msgAccessDenied  = "Access is denied"           // DeviceHive's ACCESS_DENIED
	msgInvalidParams = "Invalid request parameters" // DeviceHive's INVALID_REQUEST_PARAMETERS
	msgBadTimestamp  = "Unparseable timestamp"      // DeviceHive's UNPARSEABLE_TIMESTAMP
)

// errTrailingData rejects request bodies with more than one JSON value.
var errTrailingData = errors.New("trailing data after the JSON object")

// apiError is an answer in DeviceHive's error shape.
type apiError struct {
	status int
	msg    string
}

func (e *apiError) Error() string { return strconv.Itoa(e.status) + " " + e.msg }

func errAccessDenied() *apiError {
	return &apiError{status: http.StatusForbidden, msg: msgAccessDenied}
}

func errBadRequest(msg string) *apiError {
	return &apiError{status: http.StatusBadRequest, msg: msg}
}

// readObject decodes a bounded JSON object body into dst, answering 413 or
// 400 itself when it cannot.
func readObject(w http.ResponseWriter, r *http.Request, dst any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	var raw json.RawMessage
	err := dec.Decode(&raw)
	if err == nil {
		// Reject anything but whitespace after the value, such as "{} x".
		if _, terr := dec.Token(); terr == nil {
			err = errTrailingData
		} else if !errors.Is(terr, io.EOF) {
			err = terr
		}
	}
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		writeError(w, r, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body exceeds %d bytes", maxBodyBytes))
		return false
	case errors.Is(err, io.EOF):
		writeError(w, r, http.StatusBadRequest, "request body must be a JSON object")
		return false
	case err != nil:
		writeError(w, r, http.StatusBadRequest, "request body must be a JSON object: "+err.Error())
		return false
	case len(raw) == 0 || raw[0] != '{':
		writeError(w, r, http.StatusBadRequest, "request body must be a JSON object")
		return false
	}
	obj := json.NewDecoder(bytes.NewReader(raw))
	obj.UseNumber()
	if err := obj.Decode(dst); err != nil {
		writeError(w, r, http.StatusBadRequest, "invalid request body: "+err.Error())
		return false
	}
	return true
}

// nullable turns a JSON null (or nothing) into nil.
func nullable(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	return raw
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

// writeJSON answers a JSON object, v, with one more field: "identity", the
// identity headers this API received, so a user sees what reached the
// backend. DeviceHive clients ignore fields they do not know.
func writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	body, err := json.Marshal(v)
	if err == nil && (len(body) < 2 || body[0] != '{') {
		err = fmt.Errorf("answer is not a JSON object: %.40s", body)
	}
	var id []byte
	if err == nil {
		id, err = json.Marshal(identity(r))
	}
	if err != nil {
		log.Printf("encoding the answer to %s %q: %v", r.Method, r.URL.Path, err) //nolint:gosec // G706: quoted, cannot forge lines
		writeRaw(w, r, http.StatusInternalServerError, []byte(`{"error":500,"message":"cannot encode the answer"}`))
		return
	}
	var buf bytes.Buffer
	buf.Grow(len(body) + len(id) + 16)
	buf.Write(body[:len(body)-1])
	if len(body) > 2 {
		buf.WriteByte(',')
	}
	buf.WriteString(`"identity":`)
	buf.Write(id)
	buf.WriteByte('}')
	writeRaw(w, r, status, buf.Bytes())
}

// writeList answers a JSON array, as DeviceHive does for lists and polls
// (an array has no room for the identity echo).
func writeList[T any](w http.ResponseWriter, r *http.Request, items []T) {
	if items == nil {
		items = []T{}
	}
	body, err := json.Marshal(items)
	if err != nil {
		log.Printf("encoding the answer to %s %q: %v", r.Method, r.URL.Path, err) //nolint:gosec // G706: quoted, cannot forge lines
		writeRaw(w, r, http.StatusInternalServerError, []byte(`{"error":500,"message":"cannot encode the answer"}`))
		return
	}
	writeRaw(w, r, http.StatusOK, body)
}

// writeRaw indents body and sends it.
func writeRaw(w http.ResponseWriter, r *http.Request, status int, body []byte) {
	var out bytes.Buffer
	if err := json.Indent(&out, body, "", "  "); err != nil {
		out.Reset()
		out.Write(body)
	}
	out.WriteByte('\n')
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if _, err := w.Write(out.Bytes()); err != nil {
		log.Printf("writing the answer to %s %q: %v", r.Method, r.URL.Path, err) //nolint:gosec // G706: quoted, cannot forge lines
	}
}

// writeError answers DeviceHive's error shape {"error":code,"message":...}.
func writeError(w http.ResponseWriter, r *http.Request, status int, msg string) {
	writeJSON(w, r, status, map[string]any{"error": status, "message": msg})
}

func writeAPIError(w http.ResponseWriter, r *http.Request, err *apiError) {
	writeError(w, r, err.status, err.msg)
}

// writeNoContent answers 204, as DeviceHive does for updates and deletes.
func writeNoContent(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}

// queryInt reads an integer query parameter of at least 0, def when absent.
func queryInt(q url.Values, name string, def int) (int, *apiError) {
	v := q.Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, errBadRequest(name + " must be an integer of at least 0")
	}
	return n, nil
}

// queryID reads an optional numeric id query parameter.
func queryID(q url.Values, name string) (*int64, *apiError) {
	v := q.Get(name)
	if v == "" {
		return nil, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return nil, errBadRequest(msgInvalidParams)
	}
	return &n, nil
}

// queryTime reads an optional timestamp query parameter.
func queryTime(q url.Values, name string) (time.Time, *apiError) {
	v := q.Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := parseTimestamp(v)
	if err != nil {
		return time.Time{}, errBadRequest(msgBadTimestamp)
	}
	return t, nil
}

// parseTimestamp reads a timestamp as DeviceHive accepts one: ISO 8601 with
// or without a zone (UTC when none; DeviceHive's own format has none), or
// milliseconds since the epoch.
func parseTimestamp(v string) (time.Time, error) {
	if ms, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.UnixMilli(ms).UTC(), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("unparseable timestamp %q", v)
}

// csv splits a comma-separated query parameter, dropping empty parts.
func csv(v string) []string {
	parts := strings.Split(v, ",")
	out := make([]string, 0, len(parts))
	for _, part := range parts {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

// sortDescending reports whether a list is sorted in descending order:
// DeviceHive sorts messages newest first unless sortOrder is given and is
// not DESC (devicehive-backend service/helpers/CommandResponseFilterAndSort),
// and sorts devices, networks and device types ascending unless sortOrder
// is DESC.
func sortDescending(sortOrder string, messages bool) bool {
	if messages && sortOrder == "" {
		return true
	}
	return strings.EqualFold(sortOrder, "desc")
}

// page applies skip and take to items (DeviceHive: nothing when take is 0).
func page[T any](items []T, skip, take int) []T {
	if skip >= len(items) || take <= 0 {
		return []T{}
	}
	items = items[skip:]
	if take < len(items) {
		items = items[:take]
	}
	return items
}
