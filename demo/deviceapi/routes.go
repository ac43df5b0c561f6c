package main

// The route table and the request log.

import (
	"log"
	"net/http"
	"strings"
)

// routeTable lists every route this API serves.
func (s *server) routeTable() []struct {
	pattern string
	handler http.HandlerFunc
} {
	return []struct {
		pattern string
		handler http.HandlerFunc
	}{
		{"GET /healthz", s.healthz},
		{"GET /info", s.info},
		{"GET /info/config/cluster", s.clusterInfo},
		{"GET /user/current", s.currentUser},

		{"GET /network", s.listNetworks},
		{"POST /network", s.createNetwork},
		{"GET /network/{id}", s.getNetwork},
		{"GET /devicetype", s.listDeviceTypes},
		{"GET /devicetype/{id}", s.getDeviceType},

		{"GET /device", s.listDevices},
		{"GET /device/{id}", s.getDevice},
		{"PUT /device/{id}", s.putDevice},
		{"DELETE /device/{id}", s.deleteDevice},

		{"GET /device/notification/poll", s.pollRoute(s.matchQuery, s.pollNotifications)},
		{"GET /device/command/poll", s.pollRoute(s.matchQuery, s.pollCommands)},

		{"GET /device/{id}/notification", s.listNotifications},
		{"POST /device/{id}/notification", s.postNotification},
		{"GET /device/{id}/notification/poll", s.pollRoute(s.matchPathDevice, s.pollNotifications)},
		{"GET /device/{id}/notification/{notificationId}", s.getNotification},

		{"GET /device/{id}/command", s.listCommands},
		{"POST /device/{id}/command", s.postCommand},
		{"GET /device/{id}/command/poll", s.pollRoute(s.matchPathDevice, s.pollCommands)},
		{"GET /device/{id}/command/{commandId}", s.getCommand},
		{"PUT /device/{id}/command/{commandId}", s.updateCommand},
		{"GET /device/{id}/command/{commandId}/poll", s.waitCommand},
	}
}

func (s *server) routes() http.Handler {
	mux := http.NewServeMux()
	for _, rt := range s.routeTable() {
		mux.HandleFunc(rt.pattern, rt.handler)
	}
	mux.HandleFunc("/", s.notFound)
	return logRequests(mux)
}

// routeList is the route table for the start-up log line.
func (s *server) routeList() string {
	table := s.routeTable()
	patterns := make([]string, len(table))
	for i, rt := range table {
		patterns[i] = rt.pattern
	}
	return strings.Join(patterns, ", ")
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

// Unwrap lets http.ResponseController reach the connection.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// logRequests logs one line per request: method, path, status, the
// forwarded user (if any) and whether a token arrived.
func logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if r.URL.Path == "/healthz" {
			return // polled by the demo script; not interesting
		}
		user := r.Header.Get(headerLogin)
		if user == "" {
			user = "-"
		}
		//nolint:gosec // G706: the request's values are quoted (%q) and cannot forge log lines
		log.Printf("%s %q -> %d user=%q authorization=%t", r.Method, r.URL.RequestURI(), rec.status, user, r.Header.Get("Authorization") != "")
	})
}
