// Package users holds the users the token service authenticates: their
// validation, their SHA-crypt password hashes and the optional users file,
// which is re-read when it changes.
//
// It uses the Go 1.22 standard library only, starts no goroutines and
// decodes JSON by hand (CONTRIBUTING.md, the interpreter rulebook).
package users

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tokengate/tokengate/filewatch"
	"github.com/tokengate/tokengate/permissions"
)

// Errors returned by Store.Authenticate.
var (
	ErrBadCredentials = errors.New("invalid login or password")
	ErrUserLocked     = errors.New("user is locked")
	ErrUserDisabled   = errors.New("user is disabled")
	// ErrPasswordTooLong refuses a password longer than MaxPasswordBytes,
	// whoever the login: SHA-crypt's cost grows with the password's length.
	ErrPasswordTooLong = errors.New("password is longer than 256 bytes")
)

// Roles and statuses.
const (
	RoleAdmin      = "admin"
	RoleClient     = "client"
	StatusActive   = "active"
	StatusLocked   = "locked"
	StatusDisabled = "disabled"
)

// MaxPasswordBytes bounds the passwords Authenticate checks.
const MaxPasswordBytes = 256

// MaxLoginBytes bounds logins: a configured login may not be longer, so
// the token service refuses a longer one before counting or recording it.
const MaxLoginBytes = 256

// MaxFileSize bounds the users file.
const MaxFileSize = 4 << 20

// dummyHash is verified for unknown logins so that they cost as much as a
// wrong password. Its password is irrelevant: it is never matched against a
// user.
const dummyHash = "$6$dummy.salt.1234$2.kYf/KIT8obUZEvAibJ8xaqRu5yj6QJSGx/wu/TxYDQIkKy6PKgcvUtkviRXhc3UKazf4xRxHKcDHcr2zWdz0"

// Spec is one user as configured (plain data, as in the plugin
// configuration or the users file).
type Spec struct {
	ID           int64
	Login        string
	PasswordHash string // SHA-crypt: "$6$..." or "$5$..."
	Role         string // "admin" or "client" (default)
	Status       string // "active" (default), "locked" or "disabled"
	// TokensValidAfter (RFC 3339) refuses every token of the user issued
	// before that instant. Default empty: none refused.
	TokensValidAfter string
	// Actions are DeviceHive action names or ids. Nil (absent) gives a
	// client the default client set; any other list, even an empty one,
	// replaces it: empty means no action. Admins always have every action.
	Actions []string
	// NetworkIDs and DeviceTypeIDs are what a client may reach; "*" means
	// all, empty means none. Admins always have "*".
	NetworkIDs    []string
	DeviceTypeIDs []string
}

// User is a validated user. Values returned by a Store are copies: changing
// one does not change the store.
type User struct {
	ID     int64
	Login  string
	Role   string
	Status string
	// TokensValidAfter is the Unix second before which the user's tokens
	// were issued are refused; 0 for none.
	TokensValidAfter int64
	Actions          []permissions.Action
	NetworkIDs       []string
	DeviceTypeIDs    []string
}

func (u User) clone() User {
	u.Actions = append([]permissions.Action(nil), u.Actions...)
	u.NetworkIDs = append([]string(nil), u.NetworkIDs...)
	u.DeviceTypeIDs = append([]string(nil), u.DeviceTypeIDs...)
	return u
}

// entry is a validated user with its hash; never changed once built.
type entry struct {
	user   User
	hash   *Hash
	origin string // where it was configured, e.g. `users[2]`
}

// Store holds the configured users and those of the users file. It is safe
// for concurrent use. The users file is checked on the request path, at
// most once per check interval; no goroutine is started.
type Store struct {
	// The int64s read atomically come first: 64-bit aligned on 32-bit
	// platforms.
	version int64 // counts the users swapped in from the file; atomic
	never   int64 // math.MaxInt64, NextCheck's answer without a users file

	// Logf, when set, is told about problems with the users file (once per
	// distinct problem), and Infof about successful reloads. Messages never
	// hold passwords or hashes. Set them before the store is used.
	Logf  func(format string, args ...any)
	Infof func(format string, args ...any)
	// OnReload, when set, is told of each reload of the users file, with
	// the number of users in all (for the audit trail).
	OnReload func(users int)

	file  string
	where string           // `usersFile "path"`, for messages
	watch *filewatch.Watch // the users file's; nil without one
	// nextCheck is &watch.Next, or &never without a users file: NextCheck
	// is then a single load, without a branch (CONTRIBUTING.md, the cost
	// model).
	nextCheck *int64
	dummy     *Hash
	config    []*entry

	mu      sync.RWMutex
	byLogin map[string]*entry
	byID    map[int64]*entry
}

// NewStore validates the configured users and, when file is not empty,
// loads the users file, which must then exist and be valid. The file is
// re-read when its modification time or size changes, checked at most once
// per checkEvery (0 checks on every call). Errors name the offending user
// and field, e.g. `users[2].role: ...` or `usersFile "f": users[0].id: ...`.
//
// The users file is JSON, {"users": [...]} or a bare array, of at most
// MaxFileSize bytes. Each user is an object with the keys id, login,
// passwordHash, role, status, actions, networkIds and deviceTypeIds (list
// items may be strings or integers); any other key is an error. Logins and
// ids must be unique across the configured users and the file.
func NewStore(specs []Spec, file string, checkEvery time.Duration) (*Store, error) {
	config, err := load(specs, "users")
	if err != nil {
		return nil, err
	}
	dummy, err := ParseHash(dummyHash)
	if err != nil {
		return nil, err
	}
	s := &Store{
		file:   file,
		where:  fmt.Sprintf("usersFile %q", file),
		dummy:  dummy,
		config: config,
		never:  math.MaxInt64,
	}
	s.nextCheck = &s.never
	byLogin, byID, err := buildIndex(config, nil)
	if err != nil {
		return nil, err
	}
	s.byLogin = byLogin
	s.byID = byID
	if file != "" {
		w, err := filewatch.New(filewatch.Options{
			Files:    []string{file},
			Every:    checkEvery,
			Load:     func(statErr error) error { return s.loadFile(statErr) },
			Reloaded: func() { s.reloaded() },
			Problem:  func(msg string) { s.logf("%s; keeping the last good users", msg) },
		})
		if err != nil {
			return nil, err
		}
		s.watch = w
		s.nextCheck = &w.Next
	}
	return s, nil
}

// SetClock makes the store read the time from now instead of time.Now and
// schedules the next users file check one interval after now(). It exists
// for tests; call it before the store is used. Without a users file the
// store has no use for a clock.
func (s *Store) SetClock(now func() time.Time) {
	if s.watch != nil {
		s.watch.SetClock(now)
	}
}

// Authenticate checks a login and password; the login must match exactly
// (case-sensitive). An unknown login and a wrong password both give
// ErrBadCredentials, and an unknown login still costs a default-rounds
// SHA-512-crypt verification, so timing matches users whose hashes use the
// default rounds.
// ErrUserLocked and ErrUserDisabled are only returned once the password
// has matched.
func (s *Store) Authenticate(login, password string) (User, error) {
	if len(password) > MaxPasswordBytes {
		// Refused before any lookup or hashing: the same answer and the
		// same (no) cost for every login.
		return User{}, ErrPasswordTooLong
	}
	s.checkFile()
	s.mu.RLock()
	e := s.byLogin[login]
	s.mu.RUnlock()
	if e == nil {
		s.dummy.Verify(password)
		return User{}, ErrBadCredentials
	}
	if !e.hash.Verify(password) {
		return User{}, ErrBadCredentials
	}
	switch e.user.Status {
	case StatusLocked:
		return User{}, ErrUserLocked
	case StatusDisabled:
		return User{}, ErrUserDisabled
	}
	return e.user.clone(), nil
}

// ByID returns the current user with that id, whatever its status: the
// caller decides what a locked or disabled user may still do. It reports
// false when no such user exists (any more).
func (s *Store) ByID(id int64) (User, bool) {
	s.checkFile()
	s.mu.RLock()
	e := s.byID[id]
	s.mu.RUnlock()
	if e == nil {
		return User{}, false
	}
	return e.user.clone(), true
}

// Find returns the current user with that id, or nil, without copying: the
// User is shared and must not be changed. It exists for the request path,
// where ByID's copies of the user's slices would allocate: a function,
// calling filewatch.CheckDue only with a users file (CONTRIBUTING.md, the
// cost model).
func Find(s *Store, id int64) *User {
	if s.watch != nil {
		filewatch.CheckDue(s.watch)
	}
	s.mu.RLock()
	e := s.byID[id]
	s.mu.RUnlock()
	if e == nil {
		return nil
	}
	return &e.user
}

// checkFile re-reads the users file when it is due for a check and has
// changed. A file that became unreadable or invalid leaves the last good
// users in place.
func (s *Store) checkFile() {
	if s.watch != nil {
		filewatch.CheckDue(s.watch)
	}
}

// loadFile reads the users file and swaps in its users when they are
// valid; statErr is the watch's (see filewatch.Options.Load). Only the
// watch calls it, one call at a time.
func (s *Store) loadFile(statErr error) error {
	if statErr != nil {
		return fmt.Errorf("%s: %v", s.where, statErr)
	}
	specs, err := readFile(s.file, s.where)
	if err != nil {
		return err
	}
	entries, err := load(specs, s.where+": users")
	if err != nil {
		return err
	}
	byLogin, byID, err := buildIndex(s.config, entries)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.byLogin = byLogin
	s.byID = byID
	s.mu.Unlock()
	// After the swap: whoever sees the new version finds the new users.
	atomic.AddInt64(&s.version, 1)
	return nil
}

// reloaded reports a reload of the users file.
func (s *Store) reloaded() {
	s.mu.RLock()
	n := len(s.byLogin)
	s.mu.RUnlock()
	s.infof("%s: reloaded, now %d user(s) in all", s.where, n)
	if s.OnReload != nil {
		s.OnReload(n)
	}
}

// Reloads reports whether the users can change: a users file is watched.
func (s *Store) Reloads() bool { return s.file != "" }

// Version checks the users file when due and returns a number that changes
// whenever the users change, so that callers can tell whether what they
// derived from an earlier version still holds.
func (s *Store) Version() int64 {
	s.checkFile()
	return atomic.LoadInt64(&s.version)
}

// NextCheck returns when the users file is next due for a check, in Unix
// nanoseconds: until then the users cannot change. Without a users file
// they never change: math.MaxInt64.
func (s *Store) NextCheck() int64 {
	return atomic.LoadInt64(s.nextCheck)
}

// logf and infof call Logf and Infof with the arguments spread (args...).
// Yaegi: see CONTRIBUTING.md, traps (variadic arguments to a func field).
func (s *Store) logf(format string, args ...any) {
	if s.Logf != nil {
		s.Logf(format, args...)
	}
}

func (s *Store) infof(format string, args ...any) {
	if s.Infof != nil {
		s.Infof(format, args...)
	}
}

// load validates specs; where prefixes the messages ("users" or
// `usersFile "f": users`).
func load(specs []Spec, where string) ([]*entry, error) {
	out := make([]*entry, 0, len(specs))
	for i, sp := range specs {
		origin := fmt.Sprintf("%s[%d]", where, i)
		e, field, err := validate(sp)
		if err != nil {
			return nil, fmt.Errorf("%s.%s: %w", origin, field, err)
		}
		e.origin = origin
		out = append(out, e)
	}
	return out, nil
}

// validate checks one user; on error it names the field at fault.
func validate(sp Spec) (*entry, string, error) {
	u := User{ID: sp.ID, Login: strings.TrimSpace(sp.Login)}
	if u.ID <= 0 {
		return nil, "id", errors.New("required, a number greater than 0")
	}
	if u.Login == "" {
		return nil, "login", errors.New("required")
	}
	if len(u.Login) > MaxLoginBytes {
		return nil, "login", fmt.Errorf("longer than %d bytes", MaxLoginBytes)
	}
	h, err := ParseHash(strings.TrimSpace(sp.PasswordHash))
	if err != nil {
		return nil, "passwordHash", err
	}
	u.Role = strings.ToLower(strings.TrimSpace(sp.Role))
	switch u.Role {
	case "":
		u.Role = RoleClient
	case RoleAdmin, RoleClient:
	default:
		return nil, "role", fmt.Errorf("unknown role %q: want %q or %q", sp.Role, RoleAdmin, RoleClient)
	}
	u.Status = strings.ToLower(strings.TrimSpace(sp.Status))
	switch u.Status {
	case "":
		u.Status = StatusActive
	case StatusActive, StatusLocked, StatusDisabled:
	default:
		return nil, "status", fmt.Errorf("unknown status %q: want %q, %q or %q", sp.Status, StatusActive, StatusLocked, StatusDisabled)
	}

	if sp.TokensValidAfter != "" {
		t, err := time.Parse(time.RFC3339, strings.TrimSpace(sp.TokensValidAfter))
		if err != nil {
			return nil, "tokensValidAfter", fmt.Errorf("%q is not an RFC 3339 time such as 2026-12-01T00:00:00Z", sp.TokensValidAfter)
		}
		u.TokensValidAfter = t.Unix()
	}

	if u.Role == RoleAdmin {
		// An admin has everything; a narrower list here would be silently
		// ignored, so refuse it.
		lists := []struct {
			field string
			list  []string
		}{{"actions", sp.Actions}, {"networkIds", sp.NetworkIDs}, {"deviceTypeIds", sp.DeviceTypeIDs}}
		for _, l := range lists {
			if !emptyOrStar(l.list) {
				return nil, l.field, errors.New(`role "admin" always has "*"; remove this list or use role "client"`)
			}
		}
		u.Actions = permissions.AdminActions()
		u.NetworkIDs = []string{"*"}
		u.DeviceTypeIDs = []string{"*"}
		return &entry{user: u, hash: h}, "", nil
	}

	u.Actions = permissions.ClientActions()
	if sp.Actions != nil {
		// A list that is there replaces the default set, an empty one
		// with nothing: an operator who empties a user's actions takes
		// its rights away, never gives it the default set.
		actions := make([]permissions.Action, 0, len(sp.Actions))
		for i, name := range sp.Actions {
			a, err := permissions.ParseAction(name)
			if err != nil {
				return nil, fmt.Sprintf("actions[%d]", i), err
			}
			actions = append(actions, a)
		}
		u.Actions = permissions.Normalize(actions)
	}
	u.NetworkIDs = trimIDs(sp.NetworkIDs)
	if i := blankAt(u.NetworkIDs); i >= 0 {
		return nil, fmt.Sprintf("networkIds[%d]", i), errors.New("blank id")
	}
	u.DeviceTypeIDs = trimIDs(sp.DeviceTypeIDs)
	if i := blankAt(u.DeviceTypeIDs); i >= 0 {
		return nil, fmt.Sprintf("deviceTypeIds[%d]", i), errors.New("blank id")
	}
	return &entry{user: u, hash: h}, "", nil
}

// trimIDs returns a trimmed copy of ids (nil when empty).
func trimIDs(ids []string) []string {
	if len(ids) == 0 {
		return nil
	}
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		out = append(out, strings.TrimSpace(id))
	}
	return out
}

// blankAt returns the index of the first empty string, or -1.
func blankAt(list []string) int {
	for i, v := range list {
		if v == "" {
			return i
		}
	}
	return -1
}

func emptyOrStar(list []string) bool {
	for _, v := range list {
		if strings.TrimSpace(v) != "*" {
			return false
		}
	}
	return true
}

// buildIndex indexes the configured users and then the file's, refusing a
// login or id used twice.
func buildIndex(config, file []*entry) (map[string]*entry, map[int64]*entry, error) {
	byLogin := make(map[string]*entry, len(config)+len(file))
	byID := make(map[int64]*entry, len(config)+len(file))
	all := append(append([]*entry(nil), config...), file...)
	for i, e := range all {
		if first := byLogin[e.user.Login]; first != nil {
			return nil, nil, fmt.Errorf("%s.login: %q is already used by %s", e.origin, e.user.Login, firstOrigin(first, i >= len(config)))
		}
		if first := byID[e.user.ID]; first != nil {
			return nil, nil, fmt.Errorf("%s.id: %d is already used by %s", e.origin, e.user.ID, firstOrigin(first, i >= len(config)))
		}
		byLogin[e.user.Login] = e
		byID[e.user.ID] = e
	}
	return byLogin, byID, nil
}

// firstOrigin names where a clashing user came first, making clear when a
// file user clashes with a configured one.
func firstOrigin(first *entry, fromFile bool) string {
	if fromFile && strings.HasPrefix(first.origin, "users[") {
		return first.origin + " of the configuration"
	}
	return first.origin
}

// readFile reads the users file: {"users": [...]} or a bare array of user
// objects.
func readFile(path, where string) ([]Spec, error) {
	f, err := os.Open(path) //nolint:gosec // G304: the operator names the users file
	if err != nil {
		return nil, fmt.Errorf("%s: %v", where, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %v", where, err)
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("%s: larger than %d bytes", where, MaxFileSize)
	}
	specs, err := parseFile(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	return specs, nil
}

// parseFile decodes the users file into generic values and copies them by
// hand. Yaegi: see CONTRIBUTING.md, traps (encoding/json into a struct).
func parseFile(data []byte) ([]Spec, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errors.New(`empty file: want {"users": [...]} or an array of user objects`)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("invalid JSON: %v", err)
	}
	var extra any
	if err := dec.Decode(&extra); err != io.EOF {
		return nil, errors.New("invalid JSON: data after the top-level value")
	}
	list, ok := doc.([]any)
	if obj, isObj := doc.(map[string]any); isObj {
		for _, key := range sortedKeys(obj) {
			if key != "users" {
				return nil, fmt.Errorf("unknown key %q: want {\"users\": [...]}", key)
			}
		}
		list, ok = obj["users"].([]any)
		if !ok && obj["users"] != nil {
			return nil, errors.New(`users: want an array of user objects`)
		}
		ok = true
	}
	if !ok {
		return nil, errors.New(`want {"users": [...]} or an array of user objects`)
	}
	specs := make([]Spec, 0, len(list))
	for i, item := range list {
		sp, field, err := specFromJSON(item)
		if err != nil {
			if field != "" {
				field = "." + field
			}
			return nil, fmt.Errorf("users[%d]%s: %w", i, field, err)
		}
		specs = append(specs, sp)
	}
	return specs, nil
}

// specFromJSON copies one decoded user object; on error it names the key
// at fault (or "" for the object itself).
func specFromJSON(item any) (Spec, string, error) {
	var sp Spec
	obj, ok := item.(map[string]any)
	if !ok {
		return sp, "", errors.New("want a JSON object")
	}
	for _, key := range sortedKeys(obj) {
		v := obj[key]
		if v == nil {
			continue // null: as if absent
		}
		var err error
		switch key {
		case "id":
			sp.ID, err = jsonInt(v)
		case "login":
			sp.Login, err = jsonString(v)
		case "passwordHash":
			sp.PasswordHash, err = jsonString(v)
		case "role":
			sp.Role, err = jsonString(v)
		case "status":
			sp.Status, err = jsonString(v)
		case "tokensValidAfter":
			sp.TokensValidAfter, err = jsonString(v)
		case "actions":
			sp.Actions, err = jsonStrings(v)
		case "networkIds":
			sp.NetworkIDs, err = jsonStrings(v)
		case "deviceTypeIds":
			sp.DeviceTypeIDs, err = jsonStrings(v)
		default:
			return sp, "", fmt.Errorf("unknown key %q: want id, login, passwordHash, role, status, tokensValidAfter, "+
				"actions, networkIds or deviceTypeIds", key)
		}
		if err != nil {
			return sp, key, err
		}
	}
	return sp, "", nil
}

func jsonInt(v any) (int64, error) {
	if n, ok := v.(json.Number); ok {
		if i, err := strconv.ParseInt(string(n), 10, 64); err == nil {
			return i, nil
		}
	}
	return 0, errors.New("want an integer")
}

func jsonString(v any) (string, error) {
	if s, ok := v.(string); ok {
		return s, nil
	}
	return "", errors.New("want a string")
}

// jsonStrings accepts an array of strings and integers (kept as decimal
// strings, so that 1 and "1" are the same id).
func jsonStrings(v any) ([]string, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, errors.New("want an array of strings or integers")
	}
	out := make([]string, 0, len(list))
	for i, item := range list {
		if s, isString := item.(string); isString {
			out = append(out, s)
			continue
		}
		n, err := jsonInt(item)
		if err != nil {
			return nil, fmt.Errorf("[%d]: want a string or an integer", i)
		}
		out = append(out, strconv.FormatInt(n, 10))
	}
	return out, nil
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
