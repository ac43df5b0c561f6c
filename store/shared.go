package store

import "sync"

// registry holds the process's shared memory stores by key.
type registry struct {
	mu sync.Mutex
	m  map[string]*Memory
}

// shared is deliberately package state: Traefik builds a new middleware
// instance per router and on every configuration reload, and sessions and
// revocations must outlive each of them. It only grows by the distinct keys
// the configuration names.
var shared = &registry{m: map[string]*Memory{}}

// Shared returns the memory store for key, the same one for every call in
// the process with that key, creating it on first use. maxEntries (see
// NewMemory) replaces the bound of an existing store.
func Shared(key string, maxEntries int) *Memory {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	m, ok := shared.m[key]
	if ok {
		m.setMax(maxEntries)
		return m
	}
	m = NewMemory(maxEntries)
	shared.m[key] = m
	return m
}
