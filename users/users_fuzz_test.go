package users

// Fuzz targets for the users file parser and SHA-crypt
// (go test -run '^$' -fuzz '^FuzzCryptHash$' ./users). Internal tests: they
// call parseFile and read a Hash's fields.
//
//   - FuzzParseUsersFile: any bytes parse or fail without panicking; what is
//     accepted is one valid JSON value, has as many users as the input's
//     list, survives a re-encoding unchanged, and validates (or fails
//     naming users[i].field) without panicking.
//   - FuzzCryptHash: ParseHash and Verify never panic on any hash and
//     password; a parsed hash re-parses to itself; a hash MakeHash produces
//     parses, verifies its password, and no other.
//
// Yaegi's `yaegi test` ignores Fuzz functions but loads this file.

import (
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// encodeUsersFile writes specs back as a users file, every key spelled out
// and lists as arrays of strings (absent when nil).
func encodeUsersFile(t *testing.T, specs []Spec) []byte {
	t.Helper()
	list := make([]map[string]any, 0, len(specs))
	for _, sp := range specs {
		u := map[string]any{
			"id": json.Number(strconv.FormatInt(sp.ID, 10)), "login": sp.Login, "passwordHash": sp.PasswordHash,
			"role": sp.Role, "status": sp.Status,
		}
		if sp.Actions != nil {
			u["actions"] = sp.Actions
		}
		if sp.NetworkIDs != nil {
			u["networkIds"] = sp.NetworkIDs
		}
		if sp.DeviceTypeIDs != nil {
			u["deviceTypeIds"] = sp.DeviceTypeIDs
		}
		list = append(list, u)
	}
	out, err := json.Marshal(map[string]any{"users": list})
	if err != nil {
		t.Fatalf("re-encoding %+v: %v", specs, err)
	}
	return out
}

// userCount is the number of users the input lists, read with
// encoding/json's generic decoding.
func userCount(t *testing.T, data []byte) int {
	t.Helper()
	var doc any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("parseFile accepted invalid JSON %q: %v", data, err)
	}
	if obj, ok := doc.(map[string]any); ok {
		doc = obj["users"]
	}
	list, _ := doc.([]any)
	return len(list)
}

var loadFields = []string{"id", "login", "passwordHash", "role", "status", "actions", "networkIds", "deviceTypeIds"}

func FuzzParseUsersFile(f *testing.F) {
	hash := "$6$rounds=1000$fixture.alice$naR10Bfl3.rGrCXf41vgpB3JavNe3.1KNXbnLk3oFnJznU4jm1Q1k7wh8HF/Bq.EQ2bfBAYjrZ9kGHO0nrMK60"
	seeds := []string{
		`{"users": [{"id": 10, "login": "alice", "passwordHash": "` + hash + `", "networkIds": [1, "2"], "deviceTypeIds": ["*"]}]}`,
		`[{"id": 11, "login": "bob", "passwordHash": "` + hash + `", "role": "client", "status": "locked", "actions": ["GetDevice", 4], "networkIds": null}]`,
		`[{"id": 12, "login": "root", "passwordHash": "` + hash + `", "role": "admin", "actions": ["*"]}]`,
		`{"users": null}`, `{"users": []}`, `[]`, `{}`, ``, `   `, `null`, `"users"`, `[1]`, `[null]`,
		`{"users": [], "extra": 1}`, `{"users": {}}`, `[{"id": 1.5}]`, `[{"id": "1"}]`, `[{"id": 9223372036854775808}]`,
		`[{"id": -0, "login": " x "}]`, `[{"networkIds": [1e3]}]`, `[{"networkIds": [true]}]`, `[{"actions": "GetDevice"}]`,
		`[{"nick": "x"}]`, `[{"login": "a", "login": "b"}]`, `[{}] [{}]`, `[{}] x`, `{"users": [{"login": "\u0000\ud800"}]}`,
		`[{"id": 1, "login": "a", "passwordHash": "$5$x$yHbtfs4Y8t6X1xcJemNX.4JQRfUTafA2qQenWGLBee2"}, {"id": 1, "login": "a"}]`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		specs, err := parseFile(data)
		if err != nil {
			return
		}
		if !json.Valid(data) {
			t.Fatalf("parseFile accepted %q, which is not one JSON value", data)
		}
		if n := userCount(t, data); n != len(specs) {
			t.Fatalf("parseFile(%q) gave %d users, the input lists %d", data, len(specs), n)
		}
		again, err := parseFile(encodeUsersFile(t, specs))
		if err != nil {
			t.Fatalf("re-encoded users do not parse: %v\n%+v", err, specs)
		}
		if !reflect.DeepEqual(again, specs) {
			t.Fatalf("users changed on re-encoding:\n%+v\n%+v", specs, again)
		}
		entries, err := load(specs, "users")
		if err != nil {
			msg := err.Error()
			ok := false
			for _, field := range loadFields {
				for i := range specs {
					prefix := "users[" + strconv.Itoa(i) + "]." + field
					ok = ok || strings.HasPrefix(msg, prefix+": ") || strings.HasPrefix(msg, prefix+"[")
				}
			}
			if !ok {
				t.Fatalf("load error %q names no users[i].field", msg)
			}
			return
		}
		for i, e := range entries {
			if e.user.ID <= 0 || e.user.Login == "" || e.hash == nil || e.origin != "users["+strconv.Itoa(i)+"]" {
				t.Fatalf("load accepted users[%d] as %+v", i, e)
			}
		}
		_, _, _ = buildIndex(entries, nil)
	})
}

// Bounds that keep one input within a few milliseconds: SHA-crypt's cost
// is rounds times the password's length.
const (
	fuzzMaxRounds   = 5000
	fuzzMaxPassword = 256
)

// canonicalHash writes a parsed hash with its rounds always spelled out.
func canonicalHash(h *Hash) string {
	return "$" + string(h.kind) + "$rounds=" + strconv.Itoa(h.rounds) + "$" + h.salt + "$" + h.digest
}

func FuzzCryptHash(f *testing.F) {
	f.Add("$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1",
		"Hello world!", "Hello world", "saltstring", uint16(0), true)
	f.Add("$5$rounds=1000$roundstoolow$yfvwcWrQ8l/K0DAWyuPMDNHpIVlTQebY9l/gL972bIC",
		"the minimum number is still observed", "", "roundstoolow", uint16(1), false)
	f.Add("$6$$QMXjqd7rHQZPQ1yHsXkQqC1FBzDiVfTHXL.LaeDAeVV.IzMaV9VU4MQ8kPuZa2SOP1A0RPm772EaFYjpEJtdu.",
		"foo", "Foo", "$bar$", uint16(8), true)
	f.Add("$5$x$yHbtfs4Y8t6X1xcJemNX.4JQRfUTafA2qQenWGLBee2", "", " ", "x", uint16(3), false)
	f.Add("$6$rounds=999999999$s$"+strings.Repeat("a", 86), "pw", "pw2", "rounds=1000", uint16(5), true)
	f.Add("$6$rounds=01000$s$"+strings.Repeat(".", 86), "pw", "pw2", "rounds=x$y", uint16(7), true)
	f.Add("$2b$10$abcdefghijklmnopqrstuuWx2cYEYQ2O4Y9qZq3bHHDWZJ4iJQ1cW", "p", "q", "0123456789abcdefXYZ", uint16(9), false)
	f.Add("$6$rounds=1000$", "Grüße, 世界!", strings.Repeat("a", 300), "pässwörd", uint16(2), true)
	f.Add("$6$rounds=1000x$salt$", strings.Repeat("a", 1025), "b", "", uint16(4), false)
	f.Add("$5$salt$"+strings.Repeat("/", 42)+"~", "x", "y", "s\x00t", uint16(11), false)
	f.Add("", "", "", "", uint16(0), true)
	// MakeHash once wrote this one as "$6$rounds=5000$<digest>" (see crypt_regress_test.go).
	f.Add("$6$rounds=5000$", "pw", "pw ", "rounds=5000", uint16(16), true)
	f.Fuzz(func(t *testing.T, hash, password, other, salt string, rounds uint16, sha512 bool) {
		if h, err := ParseHash(hash); err != nil {
			if len(hash) >= 24 && strings.Contains(err.Error(), hash[12:]) {
				t.Fatalf("ParseHash error quotes the hash: %v", err)
			}
		} else {
			again, err := ParseHash(canonicalHash(h))
			if err != nil || *again != *h {
				t.Fatalf("ParseHash(%q) = %+v, which re-parses as %+v, %v", hash, *h, again, err)
			}
			if len(password) > MaxPasswordLen && h.Verify(password) {
				t.Fatalf("Verify accepted a %d-byte password", len(password))
			}
			if h.rounds <= fuzzMaxRounds && len(password) <= fuzzMaxPassword {
				_ = h.Verify(password)
			}
		}

		// MakeHash: mostly explicit low rounds; 1 in 8 uses the default.
		if len(password) > fuzzMaxPassword {
			password = password[:fuzzMaxPassword]
		}
		if len(other) > fuzzMaxPassword {
			other = other[:fuzzMaxPassword]
		}
		r := MinRounds + int(rounds)%500
		if rounds%8 == 0 {
			r = 0
		}
		kind := byte('5')
		if sha512 {
			kind = '6'
		}
		made, err := MakeHash(kind, password, salt, r)
		if err != nil {
			t.Fatalf("MakeHash(%c, %q, %d): %v", kind, salt, r, err)
		}
		h, err := ParseHash(made)
		if err != nil {
			t.Fatalf("MakeHash(%c, salt %q, rounds %d) = %q, which ParseHash refuses: %v", kind, salt, r, made, err)
		}
		wantSalt := salt
		if i := strings.IndexByte(wantSalt, '$'); i >= 0 {
			wantSalt = wantSalt[:i]
		}
		if len(wantSalt) > MaxSaltLen {
			wantSalt = wantSalt[:MaxSaltLen]
		}
		wantRounds := r
		if r == 0 {
			wantRounds = DefaultRounds
		}
		if h.kind != kind || h.salt != wantSalt || h.rounds != wantRounds {
			t.Fatalf("MakeHash(%c, %q, %d) = %q parses as kind %c, salt %q, rounds %d", kind, salt, r, made, h.kind, h.salt, h.rounds)
		}
		if !h.Verify(password) {
			t.Fatalf("%q does not verify its own password %q", made, password)
		}
		if other != password && h.Verify(other) {
			t.Fatalf("%q, made for %q, verifies %q", made, password, other)
		}
		if h.Verify(password + "\x00") {
			t.Fatalf("%q, made for %q, verifies it with a NUL appended", made, password)
		}
	})
}
