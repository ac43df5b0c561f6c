package main

// Long polling, as DeviceHive's DeviceNotificationResourceImpl.poll and
// DeviceCommandResourceImpl.poll/wait do it: answer at once what was stored
// after the given timestamp, else wait up to waitTimeout seconds for the
// next message, and answer [] (200) when none came.
//
// A waiting poll holds no goroutine of its own: its handler selects on the
// store's "changed" channel (closed at every change), a timer and the
// request's context, which ends when the client goes away or the server
// shuts down.

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

const (
	defaultWaitTimeout = 30 // seconds (DeviceHive's Constants.DEFAULT_WAIT_TIMEOUT)
	maxWaitTimeout     = 60 // seconds (DeviceHive's Constants.MAX_WAIT_TIMEOUT)
	// maxPollItems bounds a poll's answer; the oldest come first, so a
	// client continuing from the last timestamp it received misses nothing.
	maxPollItems = maxPerDevice
)

// pollParams are the query parameters every poll route takes.
type pollParams struct {
	wait          time.Duration
	limit         int
	after         time.Time
	names         map[string]bool // nil: every name
	returnUpdated bool
}

// parsePoll reads waitTimeout (0 to 60 seconds, 30 by default; outside
// that DeviceHive answers 400), limit, timestamp (by default: now, that is
// after everything stored so far), names and returnUpdatedCommands.
//
// limit is 100 by default; 0 means as many as a poll answers at most
// (maxPollItems, as does a bigger limit). DeviceHive's notification
// poll has no limit, and its command poll answers nothing for limit=0; but
// devicehive-python's HTTP transport sends waitTimeout=0&limit=0 on every
// poll of a subscription (its probe request sets them in a dictionary the
// polls share: transports/http_transport.py, _subscription_probe), so with
// "0 = nothing" that client would never receive a command.
func (s *server) parsePoll(q url.Values) (pollParams, *apiError) {
	p := pollParams{returnUpdated: strings.EqualFold(q.Get("returnUpdatedCommands"), "true")}
	wait := int64(defaultWaitTimeout)
	if v := q.Get("waitTimeout"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		switch {
		case err != nil:
			return p, errBadRequest(msgInvalidParams)
		case n < 0:
			return p, errBadRequest("Timeout can't be less than 0 seconds. ")
		case n > maxWaitTimeout:
			return p, errBadRequest(fmt.Sprintf("Timeout can't be more than %d seconds. ", maxWaitTimeout))
		}
		wait = n
	}
	p.wait = time.Duration(wait * int64(s.waitUnit))
	var err *apiError
	if p.limit, err = queryInt(q, "limit", defaultTake); err != nil {
		return p, err
	}
	if p.limit == 0 || p.limit > maxPollItems {
		p.limit = maxPollItems
	}
	if p.after, err = queryTime(q, "timestamp"); err != nil {
		return p, err
	}
	if p.after.IsZero() {
		p.after = s.store.lastStamp()
	}
	if names := csv(q.Get("names")); len(names) > 0 {
		p.names = make(map[string]bool, len(names))
		for _, n := range names {
			p.names[n] = true
		}
	}
	return p, nil
}

// matchFunc reports whether the messages of a device, network and device
// type are wanted.
type matchFunc func(deviceID string, networkID, deviceTypeID int64) bool

// deviceMatch selects one device, which the caller must be allowed to see.
func (s *server) deviceMatch(id string, sc scope) (matchFunc, *apiError) {
	if _, err := s.store.device(id, sc); err != nil {
		return nil, err
	}
	return func(deviceID string, networkID, deviceTypeID int64) bool {
		return deviceID == id && sc.networks.has(networkID) && sc.deviceTypes.has(deviceTypeID)
	}, nil
}

// manyMatch reads the filters of /device/notification/poll and
// /device/command/poll: deviceId, networkIds and deviceTypeIds (comma
// separated). Messages outside the caller's scope never match; naming a
// network or device type that is unknown or out of scope is refused as
// DeviceHive's BaseFilterService does (403 for a restricted caller, else
// 404 for unknown ones).
func (s *server) manyMatch(q url.Values, sc scope) (matchFunc, *apiError) {
	deviceID := q.Get("deviceId")
	if deviceID != "" {
		if _, err := s.store.device(deviceID, sc); err != nil {
			return nil, err
		}
	}
	networks, err := idFilter(q.Get("networkIds"), sc.networks, func(id int64) bool {
		_, ok := s.store.network(id)
		return ok
	}, "Networks with such networkIds wasn't found: {%s}")
	if err != nil {
		return nil, err
	}
	deviceTypes, err := idFilter(q.Get("deviceTypeIds"), sc.deviceTypes, func(id int64) bool {
		_, ok := s.store.deviceType(id)
		return ok
	}, "Device types with such deviceTypeIds wasn't found: {%s}")
	if err != nil {
		return nil, err
	}
	return func(dev string, networkID, deviceTypeID int64) bool {
		return (deviceID == "" || dev == deviceID) &&
			sc.networks.has(networkID) && sc.deviceTypes.has(deviceTypeID) &&
			(networks == nil || networks[networkID]) && (deviceTypes == nil || deviceTypes[deviceTypeID])
	}, nil
}

// idFilter parses a comma-separated id list; nil when empty.
func idFilter(v string, allowed idSet, exists func(int64) bool, notFound string) (map[int64]bool, *apiError) {
	parts := csv(v)
	if len(parts) == 0 {
		return nil, nil
	}
	set := make(map[int64]bool, len(parts))
	unknown := make([]string, 0, len(parts))
	for _, p := range parts {
		id, err := strconv.ParseInt(p, 10, 64)
		if err != nil {
			return nil, errBadRequest(msgInvalidParams)
		}
		switch {
		case !allowed.has(id):
			return nil, errAccessDenied()
		case !exists(id):
			unknown = append(unknown, p)
		}
		set[id] = true
	}
	if len(unknown) > 0 {
		return nil, &apiError{status: http.StatusNotFound, msg: fmt.Sprintf(notFound, "["+strings.Join(unknown, ", ")+"]")}
	}
	return set, nil
}

// waitFor runs query until it finds something, the wait is over or the
// request ends.
func waitFor[T any](s *server, r *http.Request, wait time.Duration, query func() ([]T, <-chan struct{})) []T {
	items, changed := query()
	if len(items) > 0 || wait <= 0 {
		return items
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	s.store.waiting(1)
	defer s.store.waiting(-1)
	for {
		select {
		case <-changed:
		case <-timer.C:
			return nil
		case <-r.Context().Done():
			return nil // the client went away or the server is stopping
		}
		if items, changed = query(); len(items) > 0 {
			return items
		}
	}
}

func (s *server) pollNotifications(w http.ResponseWriter, r *http.Request, match matchFunc, p pollParams) {
	items := waitFor(s, r, p.wait, func() ([]Notification, <-chan struct{}) {
		return s.store.pollNotifications(pollFilter{match: match, names: p.names, after: p.after, limit: p.limit})
	})
	writeList(w, r, items)
}

func (s *server) pollCommands(w http.ResponseWriter, r *http.Request, match matchFunc, p pollParams) {
	items := waitFor(s, r, p.wait, func() ([]Command, <-chan struct{}) {
		return s.store.pollCommands(pollFilter{match: match, names: p.names, after: p.after, limit: p.limit, updated: p.returnUpdated})
	})
	writeList(w, r, items)
}

// pollRoute builds the handler of one poll route: match selects the
// messages, poll waits for them.
func (s *server) pollRoute(
	match func(r *http.Request, sc scope) (matchFunc, *apiError),
	poll func(w http.ResponseWriter, r *http.Request, match matchFunc, p pollParams),
) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, err := s.parsePoll(r.URL.Query())
		if err != nil {
			writeAPIError(w, r, err)
			return
		}
		m, err := match(r, scopeOf(r))
		if err != nil {
			writeAPIError(w, r, err)
			return
		}
		poll(w, r, m, p)
	}
}

func (s *server) matchPathDevice(r *http.Request, sc scope) (matchFunc, *apiError) {
	return s.deviceMatch(r.PathValue("id"), sc)
}

func (s *server) matchQuery(r *http.Request, sc scope) (matchFunc, *apiError) {
	return s.manyMatch(r.URL.Query(), sc)
}

// waitCommand answers GET /device/{id}/command/{commandId}/poll as
// DeviceHive's DeviceCommandResourceImpl.wait: the command once it has
// been updated (200), or 204 when it is unknown or not updated within
// waitTimeout.
func (s *server) waitCommand(w http.ResponseWriter, r *http.Request) {
	p, err := s.parsePoll(r.URL.Query())
	if err != nil {
		writeAPIError(w, r, err)
		return
	}
	cID, ok := s.pathMessageID(w, r, "commandId", commandNotFound(r))
	if !ok {
		return
	}
	id, sc := r.PathValue("id"), scopeOf(r)
	if _, err := s.store.device(id, sc); err != nil {
		writeAPIError(w, r, err)
		return
	}
	if _, _, err := s.store.command(id, sc, cID); err != nil {
		writeNoContent(w) // DeviceHive: 204 for a command it does not know
		return
	}
	found := waitFor(s, r, p.wait, func() ([]Command, <-chan struct{}) {
		c, changed, err := s.store.command(id, sc, cID)
		if err != nil || !c.updated {
			return nil, changed
		}
		return []Command{c}, changed
	})
	if len(found) == 1 {
		writeJSON(w, r, http.StatusOK, found[0])
		return
	}
	writeNoContent(w)
}
