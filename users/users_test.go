package users_test

import (
	"bytes"
	"errors"
	"fmt"
	"log"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokengate/tokengate/internal/testclock"
	"github.com/tokengate/tokengate/permissions"
	"github.com/tokengate/tokengate/users"
)

// hashOf makes a cheap (MinRounds) SHA-512-crypt hash for tests.
func hashOf(t testing.TB, password string) string {
	t.Helper()
	s, err := users.MakeHash('6', password, "testsalt", users.MinRounds)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newStore(t testing.TB, specs []users.Spec, file string, every time.Duration) *users.Store {
	t.Helper()
	s, err := users.NewStore(specs, file, every)
	if err != nil {
		t.Fatalf("NewStore: %v", err)
	}
	return s
}

func TestNewStoreRolesAndDefaults(t *testing.T) {
	h := hashOf(t, "pw")
	tests := []struct {
		name string
		spec users.Spec
		want users.User
	}{
		{
			name: "client by default",
			spec: users.Spec{ID: 1, Login: "alice", PasswordHash: h},
			want: users.User{ID: 1, Login: "alice", Role: "client", Status: "active", Actions: permissions.ClientActions()},
		},
		{
			name: "admin has everything",
			spec: users.Spec{ID: 2, Login: "root", PasswordHash: h, Role: "admin", Status: "locked"},
			want: users.User{ID: 2, Login: "root", Role: "admin", Status: "locked", Actions: []permissions.Action{permissions.Any}, NetworkIDs: []string{"*"}, DeviceTypeIDs: []string{"*"}},
		},
		{
			name: "admin may restate *",
			spec: users.Spec{ID: 3, Login: "root", PasswordHash: h, Role: " Admin ", Actions: []string{"*"}, NetworkIDs: []string{"*"}, DeviceTypeIDs: []string{" * "}},
			want: users.User{ID: 3, Login: "root", Role: "admin", Status: "active", Actions: []permissions.Action{permissions.Any}, NetworkIDs: []string{"*"}, DeviceTypeIDs: []string{"*"}},
		},
		{
			name: "client actions override, names and ids, normalized",
			spec: users.Spec{ID: 4, Login: " bob ", PasswordHash: h, Role: "client", Status: "DISABLED", Actions: []string{"GetDevice", "5", " getnetwork ", "GetDevice"}},
			want: users.User{ID: 4, Login: "bob", Role: "client", Status: "disabled", Actions: []permissions.Action{permissions.GetNetwork, permissions.GetDevice, permissions.GetDeviceCommand}},
		},
		{
			name: "hash with surrounding white space",
			spec: users.Spec{ID: 7, Login: "erin", PasswordHash: " " + h + "\n"},
			want: users.User{ID: 7, Login: "erin", Role: "client", Status: "active", Actions: permissions.ClientActions()},
		},
		{
			name: "client ids trimmed and kept",
			spec: users.Spec{ID: 5, Login: "carol", PasswordHash: h, NetworkIDs: []string{" 1 ", "2"}, DeviceTypeIDs: []string{"*"}},
			want: users.User{ID: 5, Login: "carol", Role: "client", Status: "active", Actions: permissions.ClientActions(), NetworkIDs: []string{"1", "2"}, DeviceTypeIDs: []string{"*"}},
		},
		{
			name: "client with every action",
			spec: users.Spec{ID: 6, Login: "dave", PasswordHash: h, Actions: []string{"GetDevice", "*"}},
			want: users.User{ID: 6, Login: "dave", Role: "client", Status: "active", Actions: []permissions.Action{permissions.Any}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t, []users.Spec{tt.spec}, "", 0)
			got, ok := s.ByID(tt.spec.ID)
			if !ok {
				t.Fatal("ByID: not found")
			}
			if !sameUser(got, tt.want) {
				t.Errorf("user =\n %+v\nwant\n %+v", got, tt.want)
			}
		})
	}
}

// sameUser compares users, treating nil and empty lists alike.
func sameUser(a, b users.User) bool {
	if a.ID != b.ID || a.Login != b.Login || a.Role != b.Role || a.Status != b.Status {
		return false
	}
	return fmt.Sprint(a.Actions) == fmt.Sprint(b.Actions) &&
		fmt.Sprint(a.NetworkIDs) == fmt.Sprint(b.NetworkIDs) &&
		fmt.Sprint(a.DeviceTypeIDs) == fmt.Sprint(b.DeviceTypeIDs) &&
		len(a.NetworkIDs) == len(b.NetworkIDs) && len(a.DeviceTypeIDs) == len(b.DeviceTypeIDs)
}

func TestNewStoreErrorsNameTheField(t *testing.T) {
	h := hashOf(t, "pw")
	ok := users.Spec{ID: 1, Login: "alice", PasswordHash: h}
	tests := []struct {
		name  string
		specs []users.Spec
		want  string
	}{
		{"id missing", []users.Spec{{Login: "a", PasswordHash: h}}, "users[0].id: required"},
		{"id negative", []users.Spec{ok, {ID: -1, Login: "b", PasswordHash: h}}, "users[1].id: required"},
		{"login blank", []users.Spec{{ID: 1, Login: "  ", PasswordHash: h}}, "users[0].login: required"},
		{"hash missing", []users.Spec{ok, {ID: 2, Login: "b"}}, "users[1].passwordHash: empty password hash: use SHA-512-crypt"},
		{"hash bcrypt", []users.Spec{ok, ok, {ID: 3, Login: "c", PasswordHash: "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW"}}, `users[2].passwordHash: unsupported password hash format "$2b$" (bcrypt): use SHA-512-crypt ($6$) or SHA-256-crypt ($5$), made with: openssl passwd -6`},
		{"hash plain", []users.Spec{{ID: 1, Login: "a", PasswordHash: "secret"}}, "users[0].passwordHash: unsupported password hash format (not a $id$ crypt hash"},
		{"role unknown", []users.Spec{{ID: 1, Login: "a", PasswordHash: h, Role: "root"}}, `users[0].role: unknown role "root": want "admin" or "client"`},
		{"status unknown", []users.Spec{{ID: 1, Login: "a", PasswordHash: h, Status: "banned"}}, `users[0].status: unknown status "banned"`},
		{"action unknown", []users.Spec{{ID: 1, Login: "a", PasswordHash: h, Actions: []string{"GetDevice", "Fly"}}}, `users[0].actions[1]: unknown action "Fly"`},
		{"admin with actions", []users.Spec{{ID: 1, Login: "a", PasswordHash: h, Role: "admin", Actions: []string{"GetDevice"}}}, `users[0].actions: role "admin" always has "*"`},
		{"admin with networks", []users.Spec{{ID: 1, Login: "a", PasswordHash: h, Role: "admin", NetworkIDs: []string{"1"}}}, `users[0].networkIds: role "admin"`},
		{"admin with device types", []users.Spec{{ID: 1, Login: "a", PasswordHash: h, Role: "admin", DeviceTypeIDs: []string{"*", "2"}}}, `users[0].deviceTypeIds: role "admin"`},
		{"blank network id", []users.Spec{{ID: 1, Login: "a", PasswordHash: h, NetworkIDs: []string{"1", " "}}}, "users[0].networkIds[1]: blank id"},
		{"blank device type id", []users.Spec{{ID: 1, Login: "a", PasswordHash: h, DeviceTypeIDs: []string{""}}}, "users[0].deviceTypeIds[0]: blank id"},
		{"duplicate login", []users.Spec{ok, {ID: 2, Login: " alice ", PasswordHash: h}}, `users[1].login: "alice" is already used by users[0]`},
		{"duplicate id", []users.Spec{ok, {ID: 1, Login: "bob", PasswordHash: h}}, "users[1].id: 1 is already used by users[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := users.NewStore(tt.specs, "", 0)
			if err == nil {
				t.Fatal("NewStore accepted it")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q\ndoes not contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), h[20:]) {
				t.Errorf("error %q quotes a hash", err)
			}
		})
	}
}

func TestAuthenticate(t *testing.T) {
	s := newStore(t, []users.Spec{
		{ID: 1, Login: "alice", PasswordHash: hashOf(t, "alice-pw")},
		{ID: 2, Login: "bob", PasswordHash: hashOf(t, "bob-pw"), Status: "locked"},
		{ID: 3, Login: "carol", PasswordHash: hashOf(t, "carol-pw"), Status: "disabled"},
		{ID: 4, Login: "root", PasswordHash: hashOf(t, "root-pw"), Role: "admin"},
	}, "", 0)
	tests := []struct {
		name, login, password string
		wantErr               error
		wantID                int64
	}{
		{"right password", "alice", "alice-pw", nil, 1},
		{"admin", "root", "root-pw", nil, 4},
		{"wrong password", "alice", "bob-pw", users.ErrBadCredentials, 0},
		{"empty password", "alice", "", users.ErrBadCredentials, 0},
		{"unknown login", "mallory", "alice-pw", users.ErrBadCredentials, 0},
		{"empty login", "", "", users.ErrBadCredentials, 0},
		{"login is case-sensitive", "Alice", "alice-pw", users.ErrBadCredentials, 0},
		{"login is not trimmed", " alice", "alice-pw", users.ErrBadCredentials, 0},
		{"locked, right password", "bob", "bob-pw", users.ErrUserLocked, 0},
		{"locked, wrong password", "bob", "alice-pw", users.ErrBadCredentials, 0},
		{"disabled, right password", "carol", "carol-pw", users.ErrUserDisabled, 0},
		{"disabled, wrong password", "carol", "x", users.ErrBadCredentials, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := s.Authenticate(tt.login, tt.password)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || err != tt.wantErr {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				if u.ID != 0 {
					t.Errorf("got user %d with an error", u.ID)
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if u.ID != tt.wantID || u.Login != tt.login {
				t.Errorf("user = %d %q, want %d %q", u.ID, u.Login, tt.wantID, tt.login)
			}
		})
	}
}

func TestErrorMessages(t *testing.T) {
	for err, want := range map[error]string{
		users.ErrBadCredentials: "invalid login or password",
		users.ErrUserLocked:     "user is locked",
		users.ErrUserDisabled:   "user is disabled",
	} {
		if err.Error() != want {
			t.Errorf("%q, want %q", err.Error(), want)
		}
	}
}

// An unknown login must cost a full default-rounds hash verification, like
// a wrong password for a real user, so that timing does not tell which
// logins exist. The check is loose (fastest of several runs, factor 4).
func TestAuthenticateUnknownLoginCostsAVerify(t *testing.T) {
	h, err := users.MakeHash('6', "pw", "salt", 0) // default rounds, like the dummy
	if err != nil {
		t.Fatal(err)
	}
	s := newStore(t, []users.Spec{{ID: 1, Login: "alice", PasswordHash: h}}, "", 0)
	fastest := func(login string) time.Duration {
		best := time.Hour
		for i := 0; i < 5; i++ {
			start := time.Now()
			if _, err := s.Authenticate(login, "wrong"); err != users.ErrBadCredentials {
				t.Fatalf("err = %v", err)
			}
			if d := time.Since(start); d < best {
				best = d
			}
		}
		return best
	}
	known := fastest("alice")
	unknown := fastest("nobody")
	t.Logf("wrong password: %v, unknown login: %v", known, unknown)
	if unknown < known/4 {
		t.Errorf("unknown login took %v, a wrong password %v: no dummy verify?", unknown, known)
	}
}

func TestByID(t *testing.T) {
	s := newStore(t, []users.Spec{
		{ID: 7, Login: "alice", PasswordHash: hashOf(t, "pw"), NetworkIDs: []string{"1"}},
		{ID: 8, Login: "bob", PasswordHash: hashOf(t, "pw"), Status: "locked"},
	}, "", 0)
	tests := []struct {
		id         int64
		ok         bool
		login      string
		wantStatus string
	}{
		{7, true, "alice", "active"},
		{8, true, "bob", "locked"},
		{9, false, "", ""},
		{0, false, "", ""},
	}
	for _, tt := range tests {
		t.Run(strconv.FormatInt(tt.id, 10), func(t *testing.T) {
			u, ok := s.ByID(tt.id)
			if ok != tt.ok || u.Login != tt.login || u.Status != tt.wantStatus {
				t.Errorf("ByID(%d) = %q %q %v, want %q %q %v", tt.id, u.Login, u.Status, ok, tt.login, tt.wantStatus, tt.ok)
			}
		})
	}
}

func TestReturnedUsersAreCopies(t *testing.T) {
	s := newStore(t, []users.Spec{{ID: 1, Login: "alice", PasswordHash: hashOf(t, "pw"), NetworkIDs: []string{"1"}}}, "", 0)
	u, _ := s.ByID(1)
	u.Actions[0] = permissions.Any
	u.NetworkIDs[0] = "*"
	v, _ := s.Authenticate("alice", "pw")
	if v.Actions[0] == permissions.Any || v.NetworkIDs[0] != "1" {
		t.Errorf("changing a returned user changed the store: %+v", v)
	}
}

func TestUsersFileForms(t *testing.T) {
	tests := []struct {
		name, file string
		want       []users.User
	}{
		{"object form", "users.json", []users.User{
			{ID: 10, Login: "alice", Role: "client", Status: "active", Actions: permissions.ClientActions(), NetworkIDs: []string{"1", "2"}, DeviceTypeIDs: []string{"*"}},
			{ID: 11, Login: "bob", Role: "client", Status: "locked", Actions: []permissions.Action{permissions.GetNetwork, permissions.GetDevice, permissions.GetDeviceNotification}},
			{ID: 12, Login: "root", Role: "admin", Status: "active", Actions: []permissions.Action{permissions.Any}, NetworkIDs: []string{"*"}, DeviceTypeIDs: []string{"*"}},
			{ID: 13, Login: "erin", Role: "client", Status: "disabled", Actions: permissions.ClientActions()},
		}},
		{"array form", "users-array.json", []users.User{
			{ID: 20, Login: "dora", Role: "client", Status: "active", Actions: []permissions.Action{permissions.Any}, NetworkIDs: []string{"7"}, DeviceTypeIDs: []string{"3"}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			config := []users.Spec{{ID: 1, Login: "config-user", PasswordHash: hashOf(t, "config-pw")}}
			s := newStore(t, config, filepath.Join("..", "testdata", "users", tt.file), time.Minute)
			for _, want := range tt.want {
				got, ok := s.ByID(want.ID)
				if !ok || !sameUser(got, want) {
					t.Errorf("ByID(%d) = %+v, %v\nwant %+v", want.ID, got, ok, want)
				}
			}
			if _, err := s.Authenticate("config-user", "config-pw"); err != nil {
				t.Errorf("config user: %v", err)
			}
			// Every fixture password is login + "-pass".
			for _, want := range tt.want {
				_, err := s.Authenticate(want.Login, want.Login+"-pass")
				var wantErr error
				switch want.Status {
				case "locked":
					wantErr = users.ErrUserLocked
				case "disabled":
					wantErr = users.ErrUserDisabled
				}
				if err != wantErr {
					t.Errorf("Authenticate(%s) = %v, want %v", want.Login, err, wantErr)
				}
			}
		})
	}
}

func writeFile(t testing.TB, path, content string, mtime time.Time) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, mtime, mtime); err != nil {
		t.Fatal(err)
	}
}

func userJSON(id int64, login, hash string) string {
	return fmt.Sprintf(`{"id": %d, "login": %q, "passwordHash": %q}`, id, login, hash)
}

func TestUsersFileErrors(t *testing.T) {
	h := hashOf(t, "pw")
	tests := []struct {
		name, content, want string
	}{
		{"empty file", " \n", "empty file: want"},
		{"invalid JSON", `{"users": [`, "invalid JSON"},
		{"trailing data", `[] []`, "data after the top-level value"},
		{"not an array", `"alice"`, `want {"users": [...]} or an array of user objects`},
		{"users not an array", `{"users": {}}`, "users: want an array"},
		{"unknown top-level key", `{"users": [], "user": []}`, `unknown key "user"`},
		{"user not an object", `[1]`, "users[0]: want a JSON object"},
		{"unknown user key", `[` + userJSON(1, "a", h) + `, {"id": 2, "login": "b", "pasword": "x"}]`, `users[1]: unknown key "pasword"`},
		{"id as string", `[{"id": "1", "login": "a"}]`, "users[0].id: want an integer"},
		{"id fractional", `[{"id": 1.5, "login": "a"}]`, "users[0].id: want an integer"},
		{"login a number", `[{"id": 1, "login": 5}]`, "users[0].login: want a string"},
		{"actions not a list", `[{"id": 1, "login": "a", "actions": "GetDevice"}]`, "users[0].actions: want an array"},
		{"network id a bool", `[{"id": 1, "login": "a", "networkIds": [true]}]`, "users[0].networkIds: [0]: want a string or an integer"},
		{"bad hash", `[` + userJSON(1, "a", h) + `,` + userJSON(2, "b", "$1$abc$def") + `]`, `users[1].passwordHash: unsupported password hash format "$1$" (MD5-crypt)`},
		{"bad role", `[{"id": 1, "login": "a", "passwordHash": "` + h + `", "role": "boss"}]`, `users[0].role: unknown role "boss"`},
		{"duplicate login in file", `[` + userJSON(5, "a", h) + `,` + userJSON(6, "a", h) + `]`, `users[1].login: "a" is already used by usersFile`},
		{"login also configured", `[` + userJSON(5, "config-user", h) + `]`, `users[0].login: "config-user" is already used by users[0] of the configuration`},
		{"id also configured", `[` + userJSON(1, "other", h) + `]`, `users[0].id: 1 is already used by users[0] of the configuration`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "users.json")
			writeFile(t, path, tt.content, time.Now())
			config := []users.Spec{{ID: 1, Login: "config-user", PasswordHash: h}}
			_, err := users.NewStore(config, path, time.Minute)
			if err == nil {
				t.Fatal("NewStore accepted it")
			}
			prefix := fmt.Sprintf("usersFile %q: ", path)
			if !strings.HasPrefix(err.Error(), prefix) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q\nwant prefix %q and %q", err, prefix, tt.want)
			}
			if strings.Contains(err.Error(), h[20:]) {
				t.Errorf("error %q quotes a hash", err)
			}
		})
	}
}

func TestUsersFileMissingOrTooLarge(t *testing.T) {
	dir := t.TempDir()
	if _, err := users.NewStore(nil, filepath.Join(dir, "nope.json"), time.Minute); err == nil || !strings.Contains(err.Error(), "nope.json") {
		t.Errorf("missing file: err = %v", err)
	}
	big := filepath.Join(dir, "big.json")
	writeFile(t, big, "["+strings.Repeat(" ", users.MaxFileSize)+"]", time.Now())
	if _, err := users.NewStore(nil, big, time.Minute); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("large file: err = %v", err)
	}
}

// logRecorder collects Logf calls.
type logRecorder struct {
	mu    sync.Mutex
	lines []string
}

func (r *logRecorder) Logf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lines = append(r.lines, fmt.Sprintf(format, args...))
}

func (r *logRecorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.lines
	r.lines = nil
	return out
}

func TestUsersFileReload(t *testing.T) {
	hashA, hashB, hashC := hashOf(t, "a-pw"), hashOf(t, "b-pw"), hashOf(t, "c-pw")
	path := filepath.Join(t.TempDir(), "users.json")
	mtime := time.Now().Add(-time.Hour)
	writeFile(t, path, `{"users": [`+userJSON(1, "alice", hashA)+`]}`, mtime)

	s := newStore(t, nil, path, time.Minute)
	clock := testclock.New(time.Now())
	s.SetClock(clock.Now)
	logs := &logRecorder{}
	s.Logf = logs.Logf
	s.Infof = logs.Logf

	expect := func(step, login, password string, want error) {
		t.Helper()
		if _, err := s.Authenticate(login, password); err != want {
			t.Fatalf("%s: Authenticate(%s) = %v, want %v", step, login, err, want)
		}
	}
	expectLogs := func(step string, want ...string) {
		t.Helper()
		got := logs.take()
		if len(got) != len(want) {
			t.Fatalf("%s: logs %q, want %d lines like %q", step, got, len(want), want)
		}
		for i := range want {
			if !strings.Contains(got[i], want[i]) {
				t.Errorf("%s: log %q does not contain %q", step, got[i], want[i])
			}
			for _, h := range []string{hashA, hashB, hashC} {
				if strings.Contains(got[i], h[20:]) {
					t.Errorf("%s: log %q quotes a hash", step, got[i])
				}
			}
		}
	}
	expect("start", "alice", "a-pw", nil)

	// A new file is not seen before the check interval has passed.
	mtime = mtime.Add(time.Second)
	writeFile(t, path, `[`+userJSON(2, "bob", hashB)+`]`, mtime)
	clock.Add(59 * time.Second)
	expect("before interval", "alice", "a-pw", nil)
	expect("before interval", "bob", "b-pw", users.ErrBadCredentials)
	expectLogs("before interval")

	clock.Add(time.Second)
	expect("after interval", "bob", "b-pw", nil)
	expect("after interval", "alice", "a-pw", users.ErrBadCredentials)
	if _, ok := s.ByID(1); ok {
		t.Error("removed user still found by id")
	}
	expectLogs("after interval", "reloaded, now 1 user(s) in all")

	// A broken file keeps the last good users and is reported once.
	mtime = mtime.Add(time.Second)
	writeFile(t, path, `[{"id": 3, "login": "carol", "passwordHash": "$2b$10$x"}]`, mtime)
	clock.Add(time.Minute)
	expect("broken file", "bob", "b-pw", nil)
	clock.Add(time.Minute)
	expect("broken file again", "bob", "b-pw", nil)
	expectLogs("broken file", `users[0].passwordHash: unsupported password hash format "$2b$" (bcrypt)`)

	// A removed file too; a new problem is a new report.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	clock.Add(time.Minute)
	expect("missing file", "bob", "b-pw", nil)
	clock.Add(time.Minute)
	if _, ok := s.ByID(2); !ok {
		t.Error("missing file: last good user lost")
	}
	expectLogs("missing file", "keeping the last good users")

	// Fixed: the new users come in.
	mtime = mtime.Add(time.Second)
	writeFile(t, path, `[`+userJSON(3, "carol", hashC)+`]`, mtime)
	clock.Add(time.Minute)
	expect("fixed", "carol", "c-pw", nil)
	expect("fixed", "bob", "b-pw", users.ErrBadCredentials)
	expectLogs("fixed", "reloaded")

	// Same modification time, different size: still re-read.
	writeFile(t, path, `[`+userJSON(3, "carol", hashC)+`,`+userJSON(4, "dave", hashA)+`]`, mtime)
	clock.Add(time.Minute)
	expect("size change", "dave", "a-pw", nil)
	expectLogs("size change", "reloaded, now 2 user(s) in all")

	// Unchanged file: not re-read, nothing logged.
	clock.Add(time.Minute)
	expect("unchanged", "dave", "a-pw", nil)
	expectLogs("unchanged")
}

// TestUsersFileVersionAndNextCheck: Version changes with each set of users
// swapped in, and NextCheck is when the file is next checked (never without
// a file), one interval after each check on the store's clock.
func TestUsersFileVersionAndNextCheck(t *testing.T) {
	h := hashOf(t, "pw")
	noFile := newStore(t, []users.Spec{{ID: 1, Login: "alice", PasswordHash: h}}, "", time.Minute)
	noFile.SetClock(time.Now) // no file: no use for a clock
	if noFile.Reloads() || noFile.NextCheck() != math.MaxInt64 || noFile.Version() != 0 {
		t.Errorf("no file: Reloads %v, NextCheck %d, Version %d; want false, MaxInt64, 0", noFile.Reloads(), noFile.NextCheck(), noFile.Version())
	}

	path := filepath.Join(t.TempDir(), "users.json")
	mtime := time.Now().Add(-time.Hour)
	writeFile(t, path, `[`+userJSON(2, "bob", h)+`]`, mtime)
	s := newStore(t, nil, path, time.Minute)
	if !s.Reloads() {
		t.Fatal("a store with a users file reloads")
	}
	clock := testclock.New(time.Unix(1_800_000_000, 0))
	s.SetClock(clock.Now)
	if got, want := s.NextCheck(), clock.Now().Add(time.Minute).UnixNano(); got != want {
		t.Fatalf("NextCheck after SetClock = %d, want %d", got, want)
	}
	version := s.Version()
	steps := []struct {
		desc    string
		content string // "" leaves the file alone
		advance time.Duration
		changed bool // Version changed
	}{
		{desc: "not due", content: `[` + userJSON(3, "carol", h) + `]`, advance: time.Minute - time.Nanosecond},
		{desc: "due: changed", advance: time.Nanosecond, changed: true},
		{desc: "due: unchanged", advance: time.Minute},
		{desc: "invalid file", content: `[`, advance: time.Minute},
		{desc: "valid again", content: `[` + userJSON(4, "dave", h) + `]`, advance: time.Minute, changed: true},
	}
	for i, step := range steps {
		t.Run(step.desc, func(t *testing.T) {
			if step.content != "" {
				writeFile(t, path, step.content, mtime.Add(time.Duration(i+1)*time.Second))
			}
			before := s.NextCheck()
			clock.Add(step.advance)
			got := s.Version()
			if (got != version) != step.changed {
				t.Errorf("Version %d -> %d, want changed %v", version, got, step.changed)
			}
			version = got
			due := clock.Now().UnixNano() >= before
			if want := clock.Now().Add(time.Minute).UnixNano(); due && s.NextCheck() != want {
				t.Errorf("NextCheck after a check = %d, want %d", s.NextCheck(), want)
			}
			if !due && s.NextCheck() != before {
				t.Errorf("NextCheck moved without a check: %d, want %d", s.NextCheck(), before)
			}
		})
	}
}

// TestUsersFileRemovedAndRestored: a file that comes back after it was
// removed is read again, even with its old modification time and size, and
// a second removal is reported again.
func TestUsersFileRemovedAndRestored(t *testing.T) {
	h := hashOf(t, "pw")
	path := filepath.Join(t.TempDir(), "users.json")
	mtime := time.Now().Add(-time.Hour)
	content := `[` + userJSON(2, "bob", h) + `]`
	writeFile(t, path, content, mtime)
	s := newStore(t, nil, path, time.Minute)
	clock := testclock.New(time.Now())
	s.SetClock(clock.Now)
	logs := &logRecorder{}
	s.Logf = logs.Logf
	s.Infof = logs.Logf
	reloads := 0
	s.OnReload = func(n int) { reloads += n }
	steps := []struct {
		desc    string
		remove  bool
		restore bool
		want    []string // log lines, in part
	}{
		{desc: "removed", remove: true, want: []string{fmt.Sprintf("usersFile %q: stat %s: ", path, path), "; keeping the last good users"}},
		{desc: "still removed"},
		{desc: "restored as it was", restore: true, want: []string{fmt.Sprintf("usersFile %q: reloaded, now 1 user(s) in all", path)}},
		{desc: "removed again", remove: true, want: []string{"; keeping the last good users"}},
	}
	for _, step := range steps {
		t.Run(step.desc, func(t *testing.T) {
			if step.remove {
				if err := os.Remove(path); err != nil {
					t.Fatal(err)
				}
			}
			if step.restore {
				writeFile(t, path, content, mtime)
			}
			clock.Add(time.Minute)
			if u := users.Find(s, 2); u == nil || u.Login != "bob" {
				t.Fatalf("Find(2) = %+v: the last good users are lost", u)
			}
			got := strings.Join(logs.take(), "\n")
			for _, want := range step.want {
				if !strings.Contains(got, want) {
					t.Errorf("logs %q do not contain %q", got, want)
				}
			}
			if len(step.want) == 0 && got != "" {
				t.Errorf("logs %q, want none", got)
			}
		})
	}
	if reloads != 1 {
		t.Errorf("OnReload told of %d users, want 1 (one reload of one user)", reloads)
	}
}

func TestUsersFileCheckEveryZeroChecksEveryCall(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users.json")
	mtime := time.Now().Add(-time.Hour)
	writeFile(t, path, `[]`, mtime)
	s := newStore(t, nil, path, 0)
	if _, ok := s.ByID(1); ok {
		t.Fatal("user before it was written")
	}
	writeFile(t, path, `[`+userJSON(1, "alice", hashOf(t, "pw"))+`]`, mtime.Add(time.Second))
	if u, ok := s.ByID(1); !ok || u.Login != "alice" {
		t.Errorf("ByID after change = %+v, %v", u, ok)
	}
}

// Run with -race: requests while the file keeps changing.
func TestStoreConcurrentUse(t *testing.T) {
	h := hashOf(t, "pw")
	path := filepath.Join(t.TempDir(), "users.json")
	mtime := time.Now().Add(-time.Hour)
	writeFile(t, path, `[`+userJSON(2, "bob", h)+`]`, mtime)
	s := newStore(t, []users.Spec{{ID: 1, Login: "alice", PasswordHash: h}}, path, 0)
	// Not `s.Logf = t.Logf`: Yaegi v0.16.1 refuses that assignment.
	s.Logf = func(format string, args ...any) { t.Logf(format, args...) }
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(worker int) {
			defer wg.Done()
			for i := 0; i < 5; i++ {
				if _, err := s.Authenticate("alice", "pw"); err != nil {
					t.Errorf("worker %d: %v", worker, err)
				}
				s.ByID(2)
			}
		}(g)
	}
	for i := 0; i < 5; i++ {
		writeFile(t, path, `[`+userJSON(2, "bob", h)+strings.Repeat(" ", i)+`]`, mtime.Add(time.Duration(i)*time.Second))
	}
	wg.Wait()
}

// Yaegi v0.16.1 trap: assigning the method value t.Logf to Store.Logf does
// not compile under the interpreter ("cannot use type func(*testing.T,
// string, ...interface {}) as type func(string,...any)"). A *log.Logger's
// Printf, as the plugin would pass, works.
func TestInterpreterTrapLogfMethodValue(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users.json")
	mtime := time.Now().Add(-time.Hour)
	writeFile(t, path, `[]`, mtime)
	s := newStore(t, nil, path, 0)
	var buf bytes.Buffer
	logger := log.New(&buf, "tokengate: ", 0)
	s.Logf = logger.Printf
	writeFile(t, path, `[`, mtime.Add(time.Second))
	s.ByID(1)
	if !strings.Contains(buf.String(), "tokengate: usersFile") || !strings.Contains(buf.String(), "invalid JSON") {
		t.Errorf("log = %q", buf.String())
	}
}
