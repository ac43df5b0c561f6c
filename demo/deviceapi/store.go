package main

// The in-memory store: networks, device types, devices and the last
// notifications and commands of each device, all bounded. Every change
// closes the current "changed" channel and makes a new one, which is how
// long polls wait without a goroutine of their own.

import (
	"sync"
	"time"
)

const (
	// maxPerDevice bounds the notifications (and, separately, the commands)
	// kept per device; the oldest are dropped first.
	maxPerDevice = 1000
	// maxBytesPerDevice bounds the names, parameters and results kept per
	// device and kind, so that big messages are dropped sooner.
	maxBytesPerDevice = 1 << 20
	// messageOverhead is what a stored message costs besides its payload.
	messageOverhead = 128
)

// entry is a stored message and what it counts against maxBytesPerDevice.
type entry[T any] struct {
	item T
	size int
}

// msgLog is the bounded, time-ordered log of one kind of message of one
// device.
type msgLog[T any] struct {
	entries []entry[T]
	bytes   int
}

func (l *msgLog[T]) add(item T, size int) {
	l.entries = append(l.entries, entry[T]{item: item, size: size})
	l.bytes += size
	l.trim()
}

// trim drops the oldest entries until the log is within its bounds,
// keeping at least the newest one.
func (l *msgLog[T]) trim() {
	for len(l.entries) > maxPerDevice || (l.bytes > maxBytesPerDevice && len(l.entries) > 1) {
		l.bytes -= l.entries[0].size
		l.entries[0] = entry[T]{} // let the payload go
		l.entries = l.entries[1:]
	}
}

func (l *msgLog[T]) items() []T {
	out := make([]T, len(l.entries))
	for i, e := range l.entries {
		out[i] = e.item
	}
	return out
}

type deviceEntry struct {
	dev           Device
	seq           int64 // creation order: the default order of GET /device
	notifications msgLog[Notification]
	commands      msgLog[Command]
}

type store struct {
	now func() time.Time

	mu          sync.Mutex
	networks    map[int64]Network
	deviceTypes map[int64]DeviceType
	devices     map[string]*deviceEntry
	seq         int64
	nextID      int64
	last        time.Time     // the last timestamp handed out
	changed     chan struct{} // closed and replaced on every change
	waiters     int           // long polls waiting now
}

func newStore() *store {
	s := &store{
		now:         time.Now,
		networks:    make(map[int64]Network),
		deviceTypes: make(map[int64]DeviceType),
		devices:     make(map[string]*deviceEntry),
		nextID:      1,
		changed:     make(chan struct{}),
	}
	for _, n := range seedNetworks() {
		s.networks[n.ID] = n
	}
	for _, dt := range seedDeviceTypes() {
		s.deviceTypes[dt.ID] = dt
	}
	for _, d := range seedDevices() {
		s.seq++
		s.devices[d.ID] = &deviceEntry{dev: d, seq: s.seq}
	}
	return s
}

// stamp hands out a timestamp: now, to the millisecond, and always after
// the previous one, so that a poll continuing from the last timestamp it
// received (as DeviceHive clients do) neither misses nor repeats anything.
func (s *store) stamp() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stampLocked()
}

func (s *store) stampLocked() time.Time {
	t := s.now().UTC().Truncate(time.Millisecond)
	if !t.After(s.last) {
		t = s.last.Add(time.Millisecond)
	}
	s.last = t
	return t
}

// lastStamp is the last timestamp handed out: every message stored from
// now on is stamped after it. Polls without a timestamp start there
// (DeviceHive: the server's time).
func (s *store) lastStamp() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.last.IsZero() {
		return s.stampLocked()
	}
	return s.last
}

// broadcastLocked wakes every waiting poll.
func (s *store) broadcastLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// waiting counts a long poll in (+1) or out (-1).
func (s *store) waiting(delta int) {
	s.mu.Lock()
	s.waiters += delta
	s.mu.Unlock()
}

// waiterCount is the number of long polls waiting now.
func (s *store) waiterCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.waiters
}
