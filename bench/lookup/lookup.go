// Package lookup is a Traefik plugin that does the least a token gate
// that forwards identity must do per request: read the Authorization
// header, look it up with the path in a map guarded by a read lock, set six
// identity headers and call the next handler. bench/load.sh runs it beside
// tokengate: it is the ceiling for a cached decision under Yaegi, with no
// expiry check and no refusal (a miss passes too, without the headers).
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
	names  []string                     // the identity headers tokengate sets by default
	values [][]string
}

// New returns the handler, with an empty map.
func New(_ context.Context, next http.Handler, _ *Config, _ string) (http.Handler, error) {
	return &lookup{
		next: next, mu: &sync.RWMutex{}, routes: map[string]map[string]string{},
		names:  []string{"X-Auth-User-Id", "X-Auth-Login", "X-Auth-Role", "X-Auth-Actions", "X-Auth-Networks", "X-Auth-Device-Types"},
		values: [][]string{{"2"}, {"alice"}, {"client"}, {"GetDevice"}, {"1,2"}, {"*"}},
	}, nil
}

func (l *lookup) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if a := r.Header["Authorization"]; len(a) == 1 {
		l.mu.RLock()
		method := l.routes[r.URL.Path][a[0]]
		l.mu.RUnlock()
		if method == r.Method {
			for i, name := range l.names {
				r.Header[name] = l.values[i]
			}
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
