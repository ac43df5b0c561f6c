//go:build e2e

package e2e

// The users file through Traefik: re-read when it changes, on the request
// path; an invalid file keeps the last good users and logs one ERR line.

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Users of the users file (password = login + "-pass"). The hashes were
// made with
//
//	openssl passwd -6 -salt erinsalt erin-pass
//	openssl passwd -6 -salt franksalt frank-pass
const (
	erinHash  = "$6$erinsalt$/6wZLeaJD5K35BURtnS8yI0oxYD1nhPYXK23eve2ohsTy9dd19m3npXdzRUnBE.NEYKN4ZHPx6abXdEHG6Bwb/"
	frankHash = "$6$franksalt$Sr4yp60044nceWN6.kNnt8hkrPrflwdKcHJgzb.4ETTMiGNkjXnvMQocqFa.jc37gBvvApWTkS1ERh/K9v8q0/"
	// A string in bcrypt's format (no known password): the users file
	// refuses bcrypt, so a file holding it is invalid.
	ginaBcrypt = "$2y$10$4PXDtdCkyn2U6Q7E7pXJ9.Ue3HnI3n7dG4m7wlB3vYqkqg1G1jH5K"
)

// usersFileJSON is a users file: erin (id 7) with erinStatus, frank (id 8)
// active, and the extra users.
func usersFileJSON(erinStatus string, extra ...M) string {
	list := make([]any, 0, 2+len(extra))
	list = append(list,
		M{"id": 7, "login": "erin", "passwordHash": erinHash, "status": erinStatus,
			"networkIds": []string{"1"}, "deviceTypeIds": []string{"*"}},
		M{"id": 8, "login": "frank", "passwordHash": frankHash,
			"networkIds": []string{"2"}, "deviceTypeIds": []string{"*"}})
	for _, u := range extra {
		list = append(list, u)
	}
	return string(mustJSON(M{"users": list}))
}

// replaceFile writes content beside path and renames it over path, so the
// plugin never reads half a file, then sets its modification time.
func replaceFile(t *testing.T, path, content string, mtime time.Time) {
	t.Helper()
	tmp := path + ".tmp"
	writeFile(t, tmp, content)
	if err := os.Chtimes(tmp, mtime, mtime); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// TestUsersFileReload: users from usersFile (checked every second) log
// in; a user locked in the file since can neither log in nor refresh once
// the change is seen; a file that turns invalid keeps the last good users
// and logs exactly one ERR line, without any password hash.
func TestUsersFileReload(t *testing.T) {
	usersFile := filepath.Join(t.TempDir(), "users.json")
	// An old modification time: the rewrite below changes it, not the size
	// ("active" and "locked" are as long).
	replaceFile(t, usersFile, usersFileJSON("active"), time.Now().Add(-time.Hour))
	g := startTraefik(t, oneRouter(pluginOptions(M{
		"users":                  nil,
		"usersFile":              usersFile,
		"usersFileCheckInterval": "1s",
	})))
	g.expectErrors() // the invalid file below; asserted at the end

	loginAs := func(login string) *reply {
		return g.post(t, "/token", fmt.Sprintf(`{"login":%q,"password":%q}`, login, login+"-pass"))
	}
	refreshWith := func(token string) *reply {
		return g.post(t, "/token/refresh", fmt.Sprintf(`{"refreshToken":%q}`, token))
	}

	// Users of the file log in, refresh, and pass the guard.
	erinAccess, erinRefresh := g.login(t, "erin")
	g.login(t, "frank")
	expectStatus(t, "erin: POST /token/refresh", refreshWith(erinRefresh), http.StatusCreated)
	r := g.do(t, http.MethodGet, "/device/d1", "", bearer(erinAccess)...)
	expectPass(t, "erin: GET /device/d1 (network 1)", r)
	if r.code == http.StatusOK {
		if e := r.echo(t); e.Auth["X-Auth-User-Id"] != "7" || e.Auth["X-Auth-Login"] != "erin" {
			t.Errorf("erin: backend saw identity %v", e.Auth)
		}
	}
	expectRefused(t, "a configured user that is not in the file", loginAs("alice"), http.StatusUnauthorized, "")

	// erin locked: seen at the first check after the change (at most 1s).
	replaceFile(t, usersFile, usersFileJSON("locked"), time.Now())
	time.Sleep(1100 * time.Millisecond)
	expectRefused(t, "erin locked: POST /token", loginAs("erin"), http.StatusUnauthorized, "user is locked")
	r = refreshWith(erinRefresh)
	expectRefused(t, "erin locked: POST /token/refresh", r, http.StatusUnauthorized, "user is locked")
	if _, ok := r.json["accessToken"]; ok {
		t.Errorf("erin locked: the refresh answer holds an access token: %s", r)
	}
	g.login(t, "frank")
	if lines := errLines(g.logPath); len(lines) != 0 {
		t.Errorf("ERR lines before the users file went bad:\n%s", strings.Join(lines, "\n"))
	}

	// An invalid file (gina's bcrypt hash is refused; erin would be active
	// again): the last good users stay, erin locked among them.
	invalid := usersFileJSON("active", M{"id": 9, "login": "gina", "passwordHash": ginaBcrypt})
	replaceFile(t, usersFile, invalid, time.Now())
	time.Sleep(1100 * time.Millisecond)
	for i := 1; i <= 3; i++ { // three checks, one second apart: one ERR line
		what := fmt.Sprintf("check %d after the file went bad", i)
		if r := loginAs("frank"); r.code != http.StatusCreated {
			t.Errorf("%s: frank: POST /token: want 201, got %s", what, r)
		}
		expectRefused(t, what+": erin (still locked): POST /token", loginAs("erin"), http.StatusUnauthorized, "user is locked")
		expectRefused(t, what+": erin: POST /token/refresh", refreshWith(erinRefresh), http.StatusUnauthorized, "user is locked")
		expectRefused(t, what+": gina (only in the invalid file): POST /token", loginAs("gina"), http.StatusUnauthorized, "")
		if i < 3 {
			time.Sleep(1050 * time.Millisecond)
		}
	}

	lines := errLines(g.logPath)
	if len(lines) != 1 {
		t.Fatalf("want exactly one ERR line about the invalid users file, got %d:\n%s", len(lines), strings.Join(lines, "\n"))
	}
	line := lines[0]
	for _, want := range []string{"usersFile", "users.json", "users[2].passwordHash", "keeping the last good users"} {
		if !strings.Contains(line, want) {
			t.Errorf("the ERR line does not say %q: %s", want, line)
		}
	}
	t.Logf("ERR line: %s", line)

	// No hash of the file, nor any part of one past its salt, anywhere in
	// Traefik's log (which holds the dynamic configuration, at DEBUG).
	log, err := os.ReadFile(g.logPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, hash := range []string{erinHash, frankHash, ginaBcrypt} {
		digest := hash[strings.LastIndexByte(hash, '$')+1:]
		for _, needle := range []string{hash, digest, digest[:16], jsonEscaped(hash)} {
			if strings.Contains(string(log), needle) {
				t.Errorf("Traefik's log holds a password hash (or part of it: %q)", needle)
			}
		}
	}
}

// jsonEscaped is s as it appears inside a JSON string, without the quotes
// (a log line may quote a value that way).
func jsonEscaped(s string) string {
	data := mustJSON(s)
	return string(data[1 : len(data)-1])
}
