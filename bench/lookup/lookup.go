// Package lookup is a Traefik plugin that does the least any token gate
// must do per request: read the Authorization header and look it up,
// with the path, in a map guarded by a read lock, then call the next
// handler. bench/load.sh runs it beside tokengate: it is the ceiling for a
// cached decision under Yaegi, with no expiry check, no identity headers
// and no refusal (a miss passes too).
package lookup

import (
	"context"
	"net/http"
	"sync"
)

// Config is empty.
type Config struct{}

// CreateConfig returns the empty configuration.
func CreateConfig() *Config { return &Config{} }

type lookup struct {
	next   http.Handler
	mu     *sync.RWMutex
	routes map[string]map[string]string // path -> Authorization value -> method
}

// New returns the handler, with an empty map.
func New(_ context.Context, next http.Handler, _ *Config, _ string) (http.Handler, error) {
	return &lookup{next: next, mu: &sync.RWMutex{}, routes: map[string]map[string]string{}}, nil
}

func (l *lookup) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if a := r.Header["Authorization"]; len(a) == 1 {
		l.mu.RLock()
		method := l.routes[r.URL.Path][a[0]]
		l.mu.RUnlock()
		if method == r.Method {
			l.next.ServeHTTP(w, r)
			return
		}
		l.remember(r.URL.Path, a[0], r.Method)
	}
	l.next.ServeHTTP(w, r)
}

func (l *lookup) remember(path, authorization, method string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.routes[path] == nil {
		l.routes[path] = map[string]string{}
	}
	l.routes[path][authorization] = method
}
