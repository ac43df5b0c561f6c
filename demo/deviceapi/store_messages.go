package main

// The store's notifications and commands: insert, update, get, list, and
// the queries long polls run.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"time"
)

// msgNotificationNotFound is DeviceHive's NOTIFICATION_NOT_FOUND.
const msgNotificationNotFound = "Requested notification not found"

func (s *store) addNotification(id string, sc scope, name string, params json.RawMessage) (Notification, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, err := s.entryLocked(id, sc)
	if err != nil {
		return Notification{}, err
	}
	return s.addNotificationLocked(e, name, params), nil
}

func (s *store) addNotificationLocked(e *deviceEntry, name string, params json.RawMessage) Notification {
	n := Notification{
		ID:           s.nextID,
		Notification: name,
		DeviceID:     e.dev.ID,
		NetworkID:    e.dev.NetworkID,
		DeviceTypeID: e.dev.DeviceTypeID,
		Timestamp:    stamp(s.stampLocked()),
		Parameters:   params,
	}
	s.nextID++
	e.notifications.add(n, messageOverhead+len(name)+len(params))
	s.broadcastLocked()
	return n
}

// addCommand stores c for a device, giving it its id, timestamps and the
// device's network and device type.
func (s *store) addCommand(id string, sc scope, c Command) (Command, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, err := s.entryLocked(id, sc)
	if err != nil {
		return Command{}, err
	}
	c.ID = s.nextID
	s.nextID++
	c.Timestamp = stamp(s.stampLocked())
	c.LastUpdated = c.Timestamp
	c.DeviceID, c.NetworkID, c.DeviceTypeID = e.dev.ID, e.dev.NetworkID, e.dev.DeviceTypeID
	c.updated = false
	e.commands.add(c, commandSize(c))
	s.broadcastLocked()
	return c, nil
}

func commandSize(c Command) int {
	n := messageOverhead + len(c.Parameters) + len(c.Result)
	if c.Command != nil {
		n += len(*c.Command)
	}
	if c.Status != nil {
		n += len(*c.Status)
	}
	return n
}

// commandUpdate is the body of PUT /device/{id}/command/{commandId}
// (DeviceHive's DeviceCommandUpdate: status and result).
type commandUpdate struct {
	Status *string         `json:"status"`
	Result json.RawMessage `json:"result"`
}

// updateCommand sets a command's status and result as DeviceHive's
// DeviceCommandService.update does: only the fields given, and always
// lastUpdated and the updated flag.
func (s *store) updateCommand(id string, sc scope, cmdID int64, u commandUpdate) *apiError {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, err := s.entryLocked(id, sc)
	if err != nil {
		return err
	}
	for i := range e.commands.entries {
		ent := &e.commands.entries[i]
		if ent.item.ID != cmdID {
			continue
		}
		if u.Status != nil {
			ent.item.Status = u.Status
		}
		if r := nullable(u.Result); r != nil {
			ent.item.Result = r
		}
		ent.item.updated = true
		ent.item.LastUpdated = stamp(s.stampLocked())
		size := commandSize(ent.item)
		e.commands.bytes += size - ent.size
		ent.size = size
		e.commands.trim()
		s.broadcastLocked()
		return nil
	}
	return &apiError{status: http.StatusNotFound, msg: fmt.Sprintf("Command with id = %d not found", cmdID)}
}

func (s *store) notifications(id string, sc scope) ([]Notification, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, err := s.entryLocked(id, sc)
	if err != nil {
		return nil, err
	}
	return e.notifications.items(), nil
}

func (s *store) commands(id string, sc scope) ([]Command, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, err := s.entryLocked(id, sc)
	if err != nil {
		return nil, err
	}
	return e.commands.items(), nil
}

func (s *store) notification(id string, sc scope, nID int64) (Notification, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, err := s.entryLocked(id, sc)
	if err != nil {
		return Notification{}, err
	}
	for _, ent := range e.notifications.entries {
		if ent.item.ID == nID {
			return ent.item, nil
		}
	}
	return Notification{}, &apiError{status: http.StatusNotFound, msg: msgNotificationNotFound}
}

// command finds a command; changed is closed at the next change of the
// store, for a caller that waits for the command to be updated.
func (s *store) command(id string, sc scope, cmdID int64) (c Command, changed <-chan struct{}, err *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, err := s.entryLocked(id, sc)
	if err != nil {
		return Command{}, nil, err
	}
	for _, ent := range e.commands.entries {
		if ent.item.ID == cmdID {
			return ent.item, s.changed, nil
		}
	}
	return Command{}, s.changed, &apiError{status: http.StatusNotFound, msg: fmt.Sprintf("Command with id = %d not found", cmdID)}
}

// pollFilter selects the messages a poll returns.
type pollFilter struct {
	// match reports whether messages of a device, network and device type
	// are wanted and visible to the caller.
	match func(deviceID string, networkID, deviceTypeID int64) bool
	names map[string]bool // nil: every name
	after time.Time       // only messages stamped after this
	limit int             // at most this many, the oldest first
	// updated selects commands updated after "after" (by lastUpdated)
	// instead of commands inserted after it.
	updated bool
}

// pollNotifications returns the matching notifications and a channel
// closed at the next change, read under one lock so no change is missed.
func (s *store) pollNotifications(f pollFilter) ([]Notification, <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []Notification{}
	for _, e := range s.devices {
		entries := e.notifications.entries
		// The log is in timestamp order: skip what is not after f.after.
		first := sort.Search(len(entries), func(i int) bool {
			return time.Time(entries[i].item.Timestamp).After(f.after)
		})
		for _, ent := range entries[first:] {
			n := ent.item
			if f.match(n.DeviceID, n.NetworkID, n.DeviceTypeID) && (f.names == nil || f.names[n.Notification]) {
				out = append(out, n)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		return time.Time(out[i].Timestamp).Before(time.Time(out[j].Timestamp))
	})
	return capList(out, f.limit), s.changed
}

// pollCommands is pollNotifications for commands.
func (s *store) pollCommands(f pollFilter) ([]Command, <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := func(c Command) time.Time {
		if f.updated {
			return time.Time(c.LastUpdated)
		}
		return time.Time(c.Timestamp)
	}
	out := []Command{}
	for _, e := range s.devices {
		for _, ent := range e.commands.entries {
			c := ent.item
			if !key(c).After(f.after) || (f.updated && !c.updated) || !f.match(c.DeviceID, c.NetworkID, c.DeviceTypeID) {
				continue
			}
			if f.names == nil || (c.Command != nil && f.names[*c.Command]) {
				out = append(out, c)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return key(out[i]).Before(key(out[j])) })
	return capList(out, f.limit), s.changed
}

func capList[T any](items []T, limit int) []T {
	if len(items) > limit {
		return items[:limit]
	}
	return items
}
