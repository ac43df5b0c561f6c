// Command deviceapi is a small in-memory DeviceHive REST API that stands
// behind the tokengate demo gateway. It answers what a DeviceHive client
// reads (server info, the current user, networks, device types, devices,
// notifications and commands, with long polling) in DeviceHive's shapes,
// filters every answer by the identity headers the gateway forwards, and
// echoes those headers in every JSON object it answers ("identity"), so a
// user sees what reached the backend.
//
// It uses only the Go standard library (Go 1.22 API).
//
//	deviceapi [-addr 127.0.0.1:8081]    (or DEVICEAPI_ADDR=...; -addr wins)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"
)

const defaultAddr = "127.0.0.1:8081"

// server is the API: its store and how long a waitTimeout second lasts.
type server struct {
	store *store
	// waitUnit is one second of a poll's waitTimeout (shorter in tests).
	waitUnit time.Duration
	// echoIDs numbers the networks POST /network echoes.
	echoIDs atomic.Int64
}

func newServer() *server {
	return &server{store: newStore(), waitUnit: time.Second}
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

// run serves on addr until SIGINT or SIGTERM. Long polls end at once then:
// every request's context derives from one that the signal cancels.
func run(addr string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	s := newServer()
	srv := &http.Server{
		Addr:              addr,
		Handler:           s.routes(),
		BaseContext:       func(net.Listener) context.Context { return ctx },
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		// Longer than the longest poll (waitTimeout at most 60 s).
		WriteTimeout:   (maxWaitTimeout + 15) * time.Second,
		IdleTimeout:    120 * time.Second,
		MaxHeaderBytes: 64 << 10,
	}

	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	//nolint:gosec // G706: the address and routes come from flags and code
	log.Printf("listening on http://%s (routes: %s)", addr, s.routeList())

	select {
	case err := <-errc:
		return fmt.Errorf("listen on %s: %w", addr, err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Print("stopped")
	return nil
}
