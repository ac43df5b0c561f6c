package users

import (
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"
)

// SHA-crypt parameters from Ulrich Drepper's "Unix crypt using SHA-256 and
// SHA-512" specification.
const (
	// DefaultRounds is the number of rounds used when a hash has no
	// "rounds=N$" parameter.
	DefaultRounds = 5000
	// MinRounds and MaxRounds bound an explicit "rounds=N$" parameter.
	MinRounds = 1000
	MaxRounds = 999999999
	// MaxSaltLen is the longest salt, in bytes.
	MaxSaltLen = 16
	// MaxPasswordLen is the longest password Verify hashes; longer ones
	// never match. SHA-crypt's cost grows with the password's length, so
	// this keeps a login request from buying unbounded CPU time.
	MaxPasswordLen = 1024
)

const (
	cryptAlphabet = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	roundsPrefix  = "rounds="
	howToHash     = "use SHA-512-crypt ($6$) or SHA-256-crypt ($5$), made with: openssl passwd -6"
)

// Hash is a parsed SHA-crypt password hash ("$6$..." or "$5$...").
// It holds no password; its zero value matches nothing.
type Hash struct {
	kind   byte // '5' (SHA-256) or '6' (SHA-512)
	rounds int
	salt   string
	digest string // the encoded digest after the last '$'
}

// ParseHash parses a SHA-512-crypt ($6$) or SHA-256-crypt ($5$) hash such
// as `openssl passwd -6` or `mkpasswd -m sha-512` print. Any other format
// (bcrypt, MD5-crypt, yescrypt, argon2, plain text) is rejected with an error
// that says which formats work. Errors never quote the hash beyond its
// "$id$" prefix.
func ParseHash(s string) (*Hash, error) {
	if s == "" {
		return nil, errors.New("empty password hash: " + howToHash)
	}
	var h Hash
	switch {
	case strings.HasPrefix(s, "$6$"):
		h.kind = '6'
	case strings.HasPrefix(s, "$5$"):
		h.kind = '5'
	default:
		return nil, fmt.Errorf("unsupported password hash format %s: %s", describePrefix(s), howToHash)
	}
	name := kindName(h.kind)
	rest := s[3:]
	h.rounds = DefaultRounds
	if strings.HasPrefix(rest, roundsPrefix) {
		end := strings.IndexByte(rest, '$')
		if end < 0 {
			return nil, fmt.Errorf("malformed %s hash: missing '$' after rounds", name)
		}
		n, ok := parseRounds(rest[len(roundsPrefix):end])
		if !ok {
			return nil, fmt.Errorf("malformed %s hash: rounds must be a number from %d to %d", name, MinRounds, MaxRounds)
		}
		h.rounds = n
		rest = rest[end+1:]
	}
	end := strings.IndexByte(rest, '$')
	if end < 0 {
		return nil, fmt.Errorf("malformed %s hash: want $%c$[rounds=N$]salt$digest", name, h.kind)
	}
	h.salt = rest[:end]
	h.digest = rest[end+1:]
	if len(h.salt) > MaxSaltLen {
		return nil, fmt.Errorf("malformed %s hash: salt longer than %d bytes", name, MaxSaltLen)
	}
	if len(h.digest) != encodedLen(h.kind) {
		return nil, fmt.Errorf("malformed %s hash: digest must be %d characters, not %d", name, encodedLen(h.kind), len(h.digest))
	}
	for i := 0; i < len(h.digest); i++ {
		if strings.IndexByte(cryptAlphabet, h.digest[i]) < 0 {
			return nil, fmt.Errorf("malformed %s hash: digest has a character outside [./0-9A-Za-z]", name)
		}
	}
	return &h, nil
}

// Verify reports whether password matches the hash. The digests are
// compared in constant time. Passwords longer than MaxPasswordLen never
// match.
func (h *Hash) Verify(password string) bool {
	if h == nil || h.kind == 0 || len(password) > MaxPasswordLen {
		return false
	}
	got := encodeDigest(h.kind, shaCrypt(h.kind, []byte(password), []byte(h.salt), h.rounds))
	return subtle.ConstantTimeCompare([]byte(got), []byte(h.digest)) == 1
}

// MakeHash returns the SHA-crypt hash of password, as crypt(3) would:
// kind '6' for SHA-512-crypt, '5' for SHA-256-crypt. The salt is cut at its
// first '$' and to MaxSaltLen bytes. rounds <= 0 means DefaultRounds with no
// "rounds=" parameter in the result (unless the salt itself starts with
// "rounds="); any other value is clamped to MinRounds..MaxRounds and written
// into the result.
func MakeHash(kind byte, password, salt string, rounds int) (string, error) {
	if kind != '5' && kind != '6' {
		return "", fmt.Errorf("unknown SHA-crypt kind %q: want '5' or '6'", kind)
	}
	if i := strings.IndexByte(salt, '$'); i >= 0 {
		salt = salt[:i]
	}
	if len(salt) > MaxSaltLen {
		salt = salt[:MaxSaltLen]
	}
	prefix := "$" + string(kind) + "$"
	if rounds <= 0 {
		rounds = DefaultRounds
		// A salt that starts like the rounds parameter would be read back
		// as one: spell the default out, as crypt(3) then does.
		if strings.HasPrefix(salt, roundsPrefix) {
			prefix += roundsPrefix + strconv.Itoa(rounds) + "$"
		}
	} else {
		if rounds < MinRounds {
			rounds = MinRounds
		}
		if rounds > MaxRounds {
			rounds = MaxRounds
		}
		prefix += roundsPrefix + strconv.Itoa(rounds) + "$"
	}
	sum := shaCrypt(kind, []byte(password), []byte(salt), rounds)
	return prefix + salt + "$" + encodeDigest(kind, sum), nil
}

// shaCrypt runs the SHA-crypt algorithm (steps 1-21 of the specification)
// and returns the final digest, before the output encoding.
func shaCrypt(kind byte, p, s []byte, rounds int) []byte {
	newHash := sha512.New
	if kind == '5' {
		newHash = sha256.New
	}
	n := newHash().Size()

	// Digest B = H(P S P).
	b := sumOf(newHash(), p, s, p)

	// Digest A = H(P S, len(P) bytes of B, then for each bit of len(P)
	// from the lowest: B when the bit is 1, P when it is 0).
	ha := newHash()
	ha.Write(p)
	ha.Write(s)
	ha.Write(repeatTo(b, len(p)))
	for l := len(p); l > 0; l >>= 1 {
		if l&1 != 0 {
			ha.Write(b)
		} else {
			ha.Write(p)
		}
	}
	a := ha.Sum(nil)

	// P' = H(P repeated len(P) times), repeated to len(P) bytes.
	hp := newHash()
	for i := 0; i < len(p); i++ {
		hp.Write(p)
	}
	pp := repeatTo(hp.Sum(nil), len(p))

	// S' = H(S repeated 16+A[0] times), repeated to len(S) bytes.
	hs := newHash()
	for i := 0; i < 16+int(a[0]); i++ {
		hs.Write(s)
	}
	sp := repeatTo(hs.Sum(nil), len(s))

	// Round i hashes: (odd i ? P' : C), S' unless i%3 == 0, P' unless
	// i%7 == 0, (odd i ? C : P'), where C is the previous round's digest
	// (A before the first round). The layout repeats every 42 rounds, so
	// build those 42 inputs once with a hole for C: each round is then one
	// copy and one native hash call (CONTRIBUTING.md, the cost model).
	var bufs, holes [42][]byte
	for j := 0; j < 42; j++ {
		var buf []byte
		at := 0
		if j%2 == 1 {
			buf = append(buf, pp...)
		} else {
			buf = append(buf, make([]byte, n)...)
		}
		if j%3 != 0 {
			buf = append(buf, sp...)
		}
		if j%7 != 0 {
			buf = append(buf, pp...)
		}
		if j%2 == 1 {
			at = len(buf)
			buf = append(buf, make([]byte, n)...)
		} else {
			buf = append(buf, pp...)
		}
		bufs[j] = buf
		holes[j] = buf[at : at+n]
	}

	copy(holes[0], a)
	j := 0
	if kind == '5' {
		var sum [sha256.Size]byte
		for i := 0; i < rounds; i++ {
			sum = sha256.Sum256(bufs[j])
			j++
			if j == 42 {
				j = 0
			}
			copy(holes[j], sum[:])
		}
		return sum[:]
	}
	var sum [sha512.Size]byte
	for i := 0; i < rounds; i++ {
		sum = sha512.Sum512(bufs[j])
		j++
		if j == 42 {
			j = 0
		}
		copy(holes[j], sum[:])
	}
	return sum[:]
}

// sumOf returns the digest of the parts written to h in order.
func sumOf(h hash.Hash, parts ...[]byte) []byte {
	for _, part := range parts {
		h.Write(part)
	}
	return h.Sum(nil)
}

// repeatTo returns n bytes made of d repeated (the last copy cut short).
func repeatTo(d []byte, n int) []byte {
	out := make([]byte, 0, n)
	for len(out)+len(d) <= n {
		out = append(out, d...)
	}
	return append(out, d[:n-len(out)]...)
}

// encodeDigest writes the final digest in crypt's base64 with the byte
// order the specification prescribes: 3-byte groups, each emitted as four
// 6-bit characters, lowest bits first; the last group is short.
func encodeDigest(kind byte, d []byte) string {
	// Separate statements on purpose: yaegi v0.16.1 drops all but the call
	// in an assignment like `order, tail = digestOrder256(), 3`.
	order := digestOrder512()
	tail := 2
	if kind == '5' {
		order = digestOrder256()
		tail = 3
	}
	out := make([]byte, 0, encodedLen(kind))
	for i := 0; i < len(order); i += 3 {
		w := 0
		for k := 0; k < 3; k++ {
			w <<= 8
			if order[i+k] >= 0 {
				w |= int(d[order[i+k]])
			}
		}
		chars := 4
		if i+3 == len(order) {
			chars = tail
		}
		for k := 0; k < chars; k++ {
			out = append(out, cryptAlphabet[w&0x3f])
			w >>= 6
		}
	}
	return string(out)
}

// digestOrder512 lists SHA-512-crypt's output groups as digest byte
// indexes, most significant byte first; -1 stands for a zero byte.
func digestOrder512() []int {
	return []int{
		0, 21, 42, 22, 43, 1, 44, 2, 23, 3, 24, 45, 25, 46, 4, 47, 5, 26, 6, 27, 48,
		28, 49, 7, 50, 8, 29, 9, 30, 51, 31, 52, 10, 53, 11, 32, 12, 33, 54, 34, 55, 13,
		56, 14, 35, 15, 36, 57, 37, 58, 16, 59, 17, 38, 18, 39, 60, 40, 61, 19, 62, 20, 41,
		-1, -1, 63,
	}
}

// digestOrder256 is digestOrder512 for SHA-256-crypt.
func digestOrder256() []int {
	return []int{
		0, 10, 20, 21, 1, 11, 12, 22, 2, 3, 13, 23, 24, 4, 14,
		15, 25, 5, 6, 16, 26, 27, 7, 17, 18, 28, 8, 9, 19, 29,
		-1, 31, 30,
	}
}

// encodedLen is the length of the encoded digest.
func encodedLen(kind byte) int {
	if kind == '5' {
		return 43
	}
	return 86
}

func kindName(kind byte) string {
	if kind == '5' {
		return "SHA-256-crypt"
	}
	return "SHA-512-crypt"
}

// parseRounds parses the N of "rounds=N$" (decimal digits only) and checks
// its range.
func parseRounds(s string) (int, bool) {
	if s == "" || len(s) > 9 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < MinRounds || n > MaxRounds {
		return 0, false
	}
	return n, true
}

// describePrefix names an unsupported hash by its "$id$" prefix (or says
// it is not a crypt hash) without quoting anything secret.
func describePrefix(s string) string {
	if len(s) > 1 && s[0] == '$' {
		if end := strings.IndexByte(s[1:], '$'); end >= 0 && end <= 10 {
			return strconv.Quote(s[:end+2]) + knownScheme(s[1:end+1])
		}
	}
	return "(not a $id$ crypt hash; plain-text passwords are not accepted)"
}

// knownScheme names well-known crypt ids.
func knownScheme(id string) string {
	switch id {
	case "1":
		return " (MD5-crypt)"
	case "2", "2a", "2b", "2x", "2y":
		return " (bcrypt)"
	case "y", "gy", "7":
		return " (yescrypt/scrypt)"
	case "argon2i", "argon2d", "argon2id":
		return " (argon2)"
	}
	return ""
}
