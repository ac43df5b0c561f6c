package tokengate

// Responses and logging: the one error -> status mapping, the answers the
// gate writes itself, and the two log helpers.

import (
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"

	"github.com/tokengate/tokengate/tokens"
	"github.com/tokengate/tokengate/users"
)

// httpError is an error that carries its own status and a message that is
// safe to show to the client.
type httpError struct {
	status     int
	msg        string
	retryAfter string // seconds, for 429 and 503 answers; "" for none
}

func (e *httpError) Error() string { return e.msg }

func badRequest(format string, args ...any) error {
	return &httpError{status: http.StatusBadRequest, msg: fmt.Sprintf(format, args...)}
}

// statusOf is the one place that maps an error to an HTTP status and a
// client-safe message. Errors it does not know become a 500 whose cause is
// logged but never shown.
func statusOf(err error) (int, string) {
	if he, ok := err.(*httpError); ok {
		return he.status, he.msg
	}
	if errors.Is(err, users.ErrPasswordTooLong) {
		return http.StatusBadRequest, err.Error()
	}
	// Conditions joined with ||, not a case list.
	// Yaegi: see CONTRIBUTING.md, traps (tagless switch).
	if errors.Is(err, users.ErrBadCredentials) || errors.Is(err, users.ErrUserLocked) ||
		errors.Is(err, users.ErrUserDisabled) || tokens.IsInvalid(err) {
		return http.StatusUnauthorized, err.Error()
	}
	// The error may name a file or a key id; it never holds a secret.
	logErrorf("internal error: %v", err)
	return http.StatusInternalServerError, "internal error"
}

// answerStatus is statusOf for an answer being written: it also sets
// Retry-After when the error says when to come back.
func answerStatus(w http.ResponseWriter, err error) (int, string) {
	if he, ok := err.(*httpError); ok && he.retryAfter != "" {
		w.Header().Set("Retry-After", he.retryAfter)
	}
	return statusOf(err)
}

// writeJSON writes v as the response. Token responses must never be cached.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		body = []byte(`{"error":500,"message":"internal error"}`)
	}
	// Canonical names, set as Header.Set would, without its three calls.
	h := w.Header()
	h["Content-Type"] = []string{"application/json; charset=utf-8"}
	h["Cache-Control"] = []string{"no-store"}
	h["Pragma"] = []string{"no-cache"}
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}

func restError(status int, msg string) map[string]any {
	return map[string]any{"error": status, "message": msg}
}

// deny answers status with a DeviceHive error body.
func deny(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, restError(status, msg))
}

// challenge answers 400 or 401 with an RFC 6750 WWW-Authenticate header.
// errCode is empty when the request simply had no token.
func (g *gate) challenge(w http.ResponseWriter, status int, errCode, msg string) {
	value := `Bearer realm="` + g.realm + `"`
	if errCode != "" {
		value += `, error="` + errCode + `", error_description="` + msg + `"`
	}
	w.Header().Set("WWW-Authenticate", value)
	writeJSON(w, status, restError(status, msg))
}

// logInfof writes to standard output, which Traefik's interpreter sends to
// Traefik's log at level DEBUG.
func logInfof(format string, args ...any) {
	fmt.Printf("tokengate: "+format+"\n", args...)
}

// logErrorf logs through the log package, which Traefik's interpreter sends
// to Traefik's own log at level ERR (a plugin's os.Stderr is not). Nothing
// secret is ever passed here.
func logErrorf(format string, args ...any) {
	log.Printf("tokengate: "+format, args...)
}
