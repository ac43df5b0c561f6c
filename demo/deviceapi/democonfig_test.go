package main

// Checks that the demo's configuration files agree with each other, so the
// native demo, the docker-compose demo and demo/users.json do not drift.

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func readDemoFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Clean(path))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// section returns the lines from the one equal to start up to, not
// including, the one equal to end.
func section(t *testing.T, name, text, start, end string) string {
	t.Helper()
	i := strings.Index(text, "\n"+start+"\n")
	j := strings.Index(text, "\n"+end+"\n")
	if i < 0 || j < i {
		t.Fatalf("%s: cannot find the section %q .. %q", name, start, end)
	}
	return text[i:j]
}

func TestDemoMiddlewareBlocksIdentical(t *testing.T) {
	native := section(t, "demo/dynamic.yml", readDemoFile(t, "../dynamic.yml"), "  middlewares:", "  services:")
	compose := section(t, "demo/compose/dynamic.yml", readDemoFile(t, "../compose/dynamic.yml"), "  middlewares:", "  services:")
	// The device API's address is the one allowed difference.
	compose = strings.ReplaceAll(compose, "http://deviceapi:8081", "http://127.0.0.1:8081")
	if native != compose {
		t.Errorf("the middleware blocks of demo/dynamic.yml and demo/compose/dynamic.yml differ:\n"+
			"--- demo/dynamic.yml%s\n--- demo/compose/dynamic.yml%s", native, compose)
	}
}

func TestDemoStaticConfigsUseModulePath(t *testing.T) {
	gomod := readDemoFile(t, "../../go.mod")
	first, _, _ := strings.Cut(gomod, "\n")
	module := strings.TrimSpace(strings.TrimPrefix(first, "module"))
	for _, f := range []string{"../traefik.yml", "../compose/traefik.yml"} {
		text := readDemoFile(t, f)
		if !strings.Contains(text, "moduleName: "+module+"\n") {
			t.Errorf("%s does not load the local plugin %s", f, module)
		}
		for _, want := range []string{"checkNewVersion: false", "sendAnonymousUsage: false", "localPlugins:"} {
			if !strings.Contains(text, want) {
				t.Errorf("%s lacks %q", f, want)
			}
		}
	}
}

func TestDemoUsersAgree(t *testing.T) {
	var file struct {
		Users []struct {
			ID            int64    `json:"id"`
			Login         string   `json:"login"`
			PasswordHash  string   `json:"passwordHash"`
			Role          string   `json:"role"`
			NetworkIDs    []string `json:"networkIds"`
			DeviceTypeIDs []string `json:"deviceTypeIds"`
		} `json:"users"`
	}
	if err := json.Unmarshal([]byte(readDemoFile(t, "../users.json")), &file); err != nil {
		t.Fatalf("demo/users.json: %v", err)
	}
	if len(file.Users) != 3 {
		t.Fatalf("demo/users.json has %d users, want 3 (admin, alice, bob)", len(file.Users))
	}
	dynamic := readDemoFile(t, "../dynamic.yml")
	openssl, _ := exec.LookPath("openssl")
	for _, u := range file.Users {
		if !strings.Contains(dynamic, "login: "+u.Login+"\n") ||
			!strings.Contains(dynamic, `passwordHash: "`+u.PasswordHash+`"`) {
			t.Errorf("user %s of demo/users.json is not in demo/dynamic.yml with the same hash", u.Login)
		}
		parts := strings.Split(u.PasswordHash, "$")
		if len(parts) != 4 || parts[1] != "6" {
			t.Errorf("user %s: hash %q is not $6$salt$hash", u.Login, u.PasswordHash)
			continue
		}
		if openssl == "" {
			continue
		}
		out, err := exec.Command(openssl, "passwd", "-6", "-salt", parts[2], u.Login+"-pass").Output()
		if err != nil {
			t.Logf("openssl passwd failed, hash not re-checked: %v", err)
			continue
		}
		if got := strings.TrimSpace(string(out)); got != u.PasswordHash {
			t.Errorf("user %s: openssl passwd -6 -salt %s %s-pass = %s, file has %s", u.Login, parts[2], u.Login, got, u.PasswordHash)
		}
	}
}
