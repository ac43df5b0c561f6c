// Package noop is a Traefik plugin that does nothing but call the next
// handler. bench/load.sh runs it beside tokengate to measure what any
// interpreted plugin costs on the same machine, in the same run.
package noop

import (
	"context"
	"net/http"
)

// Config is empty.
type Config struct{}

// CreateConfig returns the empty configuration.
func CreateConfig() *Config { return &Config{} }

type noop struct{ next http.Handler }

// New returns the pass-through handler.
func New(_ context.Context, next http.Handler, _ *Config, _ string) (http.Handler, error) {
	return &noop{next: next}, nil
}

func (n *noop) ServeHTTP(w http.ResponseWriter, r *http.Request) { n.next.ServeHTTP(w, r) }
