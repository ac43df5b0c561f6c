package main

// Notifications and commands of one device: DeviceHive's
// DeviceNotificationResource and DeviceCommandResource (insert, query,
// get, command update). Polls are in poll.go.

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// defaultTake is DeviceHive's take for notification and command queries
// (Constants.DEFAULT_TAKE_STR).
const defaultTake = 100

// messageQuery is what GET /device/{id}/notification and /command filter,
// sort and page by.
type messageQuery struct {
	start, end time.Time // zero: no bound
	name       string    // notification or command name; "" for any
	status     string    // commands: status, case-insensitive; "" for any
	sortField  string
	desc       bool
	skip, take int
}

func parseMessageQuery(q url.Values, nameParam string) (messageQuery, *apiError) {
	mq := messageQuery{
		name:      q.Get(nameParam),
		status:    q.Get("status"),
		sortField: q.Get("sortField"),
		desc:      sortDescending(q.Get("sortOrder"), true),
	}
	var err *apiError
	if mq.start, err = queryTime(q, "start"); err != nil {
		return mq, err
	}
	if mq.end, err = queryTime(q, "end"); err != nil {
		return mq, err
	}
	if mq.skip, err = queryInt(q, "skip", 0); err != nil {
		return mq, err
	}
	if mq.take, err = queryInt(q, "take", defaultTake); err != nil {
		return mq, err
	}
	return mq, nil
}

// inRange reports whether t is within start and end, both included.
func (mq messageQuery) inRange(t stamp) bool {
	tt := time.Time(t)
	return (mq.start.IsZero() || !tt.Before(mq.start)) && (mq.end.IsZero() || !tt.After(mq.end))
}

// listNotifications answers the notifications of a device, newest first
// unless sortOrder says otherwise (sortField timestamp or notification).
func (s *server) listNotifications(w http.ResponseWriter, r *http.Request) {
	mq, err := parseMessageQuery(r.URL.Query(), "notification")
	if err != nil {
		writeAPIError(w, r, err)
		return
	}
	items, err := s.store.notifications(r.PathValue("id"), scopeOf(r))
	if err != nil {
		writeAPIError(w, r, err)
		return
	}
	out := items[:0]
	for _, n := range items {
		if mq.inRange(n.Timestamp) && (mq.name == "" || n.Notification == mq.name) {
			out = append(out, n)
		}
	}
	less := func(a, b Notification) bool { return time.Time(a.Timestamp).Before(time.Time(b.Timestamp)) }
	if strings.EqualFold(mq.sortField, "notification") {
		less = func(a, b Notification) bool { return a.Notification < b.Notification }
	}
	sortList(out, less, mq.desc)
	writeList(w, r, page(out, mq.skip, mq.take))
}

// listCommands answers the commands of a device, newest first unless
// sortOrder says otherwise (sortField timestamp, command or status).
func (s *server) listCommands(w http.ResponseWriter, r *http.Request) {
	mq, err := parseMessageQuery(r.URL.Query(), "command")
	if err != nil {
		writeAPIError(w, r, err)
		return
	}
	items, err := s.store.commands(r.PathValue("id"), scopeOf(r))
	if err != nil {
		writeAPIError(w, r, err)
		return
	}
	out := items[:0]
	for _, c := range items {
		if mq.inRange(c.Timestamp) && (mq.name == "" || deref(c.Command) == mq.name) &&
			(mq.status == "" || strings.EqualFold(deref(c.Status), mq.status)) {
			out = append(out, c)
		}
	}
	less := func(a, b Command) bool { return time.Time(a.Timestamp).Before(time.Time(b.Timestamp)) }
	switch {
	case strings.EqualFold(mq.sortField, "command"):
		less = func(a, b Command) bool { return deref(a.Command) < deref(b.Command) }
	case strings.EqualFold(mq.sortField, "status"):
		less = func(a, b Command) bool { return deref(a.Status) < deref(b.Status) }
	}
	sortList(out, less, mq.desc)
	writeList(w, r, page(out, mq.skip, mq.take))
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// pathMessageID reads the numeric message id of the path parameter name.
// For anything else it answers the device's error (403 or 404) or 404
// notFound itself, and reports false.
func (s *server) pathMessageID(w http.ResponseWriter, r *http.Request, name, notFound string) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err == nil {
		return id, true
	}
	if _, derr := s.store.device(r.PathValue("id"), scopeOf(r)); derr != nil {
		writeAPIError(w, r, derr)
		return 0, false
	}
	writeError(w, r, http.StatusNotFound, notFound)
	return 0, false
}

func commandNotFound(r *http.Request) string {
	return "Command with id = " + r.PathValue("commandId") + " not found"
}

func (s *server) getNotification(w http.ResponseWriter, r *http.Request) {
	nID, ok := s.pathMessageID(w, r, "notificationId", msgNotificationNotFound)
	if !ok {
		return
	}
	n, err := s.store.notification(r.PathValue("id"), scopeOf(r), nID)
	if err != nil {
		writeAPIError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, n)
}

func (s *server) getCommand(w http.ResponseWriter, r *http.Request) {
	cID, ok := s.pathMessageID(w, r, "commandId", commandNotFound(r))
	if !ok {
		return
	}
	c, _, err := s.store.command(r.PathValue("id"), scopeOf(r), cID)
	if err != nil {
		writeAPIError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, c)
}

// notificationBody is the body of POST /device/{id}/notification
// (DeviceHive's DeviceNotificationWrapper). A timestamp sent by the client
// is ignored: this API stamps every message itself, in order.
type notificationBody struct {
	Notification *string         `json:"notification"`
	Parameters   json.RawMessage `json:"parameters"`
}

// postNotification stores a notification and answers 201 {id, timestamp}.
func (s *server) postNotification(w http.ResponseWriter, r *http.Request) {
	id, sc := r.PathValue("id"), scopeOf(r)
	if _, err := s.store.device(id, sc); err != nil {
		writeAPIError(w, r, err)
		return
	}
	var b notificationBody
	if !readObject(w, r, &b) {
		return
	}
	switch name := deref(b.Notification); name {
	case "":
		writeAPIError(w, r, errBadRequest(msgInvalidParams))
		return
	case notifDeviceAdd, notifDeviceUpdate:
		writeError(w, r, http.StatusForbidden,
			"It's forbidden to insert these special notifications: "+notifDeviceUpdate+", "+notifDeviceAdd+".")
		return
	}
	n, err := s.store.addNotification(id, sc, *b.Notification, nullable(b.Parameters))
	if err != nil {
		writeAPIError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusCreated, notificationInserted{ID: n.ID, Timestamp: n.Timestamp})
}

// commandBody is the body of POST /device/{id}/command (DeviceHive's
// DeviceCommandWrapper; the timestamp is ignored, as for notifications).
type commandBody struct {
	Command    *string         `json:"command"`
	Parameters json.RawMessage `json:"parameters"`
	Lifetime   *int64          `json:"lifetime"`
	Status     *string         `json:"status"`
	Result     json.RawMessage `json:"result"`
}

// postCommand stores a command from the forwarded user and answers 201
// {id, timestamp, lastUpdated, userId}.
func (s *server) postCommand(w http.ResponseWriter, r *http.Request) {
	id, sc := r.PathValue("id"), scopeOf(r)
	if _, err := s.store.device(id, sc); err != nil {
		writeAPIError(w, r, err)
		return
	}
	var b commandBody
	if !readObject(w, r, &b) {
		return
	}
	c, err := s.store.addCommand(id, sc, Command{
		Command:    b.Command,
		UserID:     userID(r),
		Parameters: nullable(b.Parameters),
		Lifetime:   b.Lifetime,
		Status:     b.Status,
		Result:     nullable(b.Result),
	})
	if err != nil {
		writeAPIError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusCreated, commandInserted{
		ID: c.ID, Timestamp: c.Timestamp, LastUpdated: c.LastUpdated, UserID: c.UserID,
	})
}

// updateCommand sets a command's status and result: 204, as DeviceHive.
func (s *server) updateCommand(w http.ResponseWriter, r *http.Request) {
	var u commandUpdate
	if !readObject(w, r, &u) {
		return
	}
	cID, ok := s.pathMessageID(w, r, "commandId", commandNotFound(r))
	if !ok {
		return
	}
	if err := s.store.updateCommand(r.PathValue("id"), scopeOf(r), cID, u); err != nil {
		writeAPIError(w, r, err)
		return
	}
	writeNoContent(w)
}
