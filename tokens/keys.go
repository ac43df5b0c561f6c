package tokens

import (
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"os"
	"strings"

	"github.com/golang-jwt/jwt/v5"
)

// KeySpec is one key as configured: plain values, material inline or as a
// file path (exactly one of the two).
type KeySpec struct {
	ID             string // the "kid" header; required
	Algorithm      string // HS256, HS384, HS512, RS256, ES256 or EdDSA
	Secret         string // HMAC secret (HS*)
	SecretFile     string
	PrivateKey     string // PEM (RS256, ES256, EdDSA)
	PrivateKeyFile string
	PublicKey      string // PEM, for verify-only asymmetric keys
	PublicKeyFile  string
	VerifyOnly     bool
}

// Key is a parsed key: its algorithm, and the material to sign (nil for
// verify-only keys) and to verify with.
type Key struct {
	ID         string
	Algorithm  string
	VerifyOnly bool
	method     jwt.SigningMethod
	signKey    any
	verifyKey  any
	lowS       bool // ES256: low-s signatures only (ecdsa.go)
	// mac is the hash of an HS* key, whose signatures Verify checks with
	// crypto/hmac itself (the standard library's three calls, which
	// golang-jwt's Verify makes too, without its interpreted wrapper);
	// macKey is the secret. nil for other algorithms.
	mac    func() hash.Hash
	macKey []byte
	// header is the JOSE header segment Issue writes for this key:
	// {"alg":...,"kid":...,"typ":"JWT"}, base64url.
	header string
}

// Algorithms lists the signing algorithms tokengate accepts.
func Algorithms() []string {
	return []string{"HS256", "HS384", "HS512", "RS256", "ES256", "EdDSA"}
}

// algES256 is the one algorithm with a malleable signature (ecdsa.go).
const algES256 = "ES256"

// minRSABits is the smallest RSA modulus accepted.
const minRSABits = 2048

// ParseKey validates a KeySpec and loads its material. Errors name the
// field at fault and never contain key material.
func ParseKey(spec KeySpec) (*Key, error) {
	if strings.TrimSpace(spec.ID) == "" {
		return nil, errors.New("id: required (it becomes the tokens' kid header)")
	}
	k := &Key{ID: spec.ID, Algorithm: spec.Algorithm, VerifyOnly: spec.VerifyOnly, header: headerSegment(spec.Algorithm, spec.ID)}
	switch spec.Algorithm {
	case "HS256", "HS384", "HS512":
		return k, k.loadHMAC(spec)
	case "RS256", "ES256", "EdDSA":
		return k, k.loadAsymmetric(spec)
	case "":
		return nil, fmt.Errorf("algorithm: required, one of %s", strings.Join(Algorithms(), ", "))
	default:
		return nil, fmt.Errorf("algorithm: %q is not allowed, use one of %s", spec.Algorithm, strings.Join(Algorithms(), ", "))
	}
}

func (k *Key) loadHMAC(spec KeySpec) error {
	if spec.PrivateKey != "" || spec.PrivateKeyFile != "" || spec.PublicKey != "" || spec.PublicKeyFile != "" {
		return fmt.Errorf("%s takes secret or secretFile, not a PEM key", spec.Algorithm)
	}
	secret, field, err := material(spec.Secret, spec.SecretFile, "secret", "secretFile")
	if err != nil {
		return err
	}
	secret = strings.TrimRight(secret, "\r\n")
	k.method = jwt.GetSigningMethod(spec.Algorithm)
	need := k.method.(*jwt.SigningMethodHMAC).Hash.Size()
	if len(secret) < need {
		return fmt.Errorf("%s: %s needs a secret of at least %d bytes, got %d (make one with: openssl rand -base64 %d)",
			field, spec.Algorithm, need, len(secret), need)
	}
	// One assignment per statement.
	// Yaegi: see CONTRIBUTING.md, traps (`a, b = x, f()`).
	k.signKey = []byte(secret)
	k.verifyKey = []byte(secret)
	k.macKey = []byte(secret)
	k.mac = macHash(spec.Algorithm)
	return nil
}

// macHash returns the hash of an HS* algorithm.
func macHash(alg string) func() hash.Hash {
	switch alg {
	case "HS384":
		return sha512.New384
	case "HS512":
		return sha512.New
	}
	return sha256.New
}

// headerSegment is the JOSE header this package writes, base64url: the
// keys of a JSON object in sorted order, as json.Marshal writes a map.
func headerSegment(alg, kid string) string {
	header, err := json.Marshal(map[string]any{"alg": alg, "kid": kid, "typ": "JWT"})
	if err != nil {
		return "" // a map of strings always marshals
	}
	return strictBase64.EncodeToString(header)
}

func (k *Key) loadAsymmetric(spec KeySpec) error {
	if spec.Secret != "" || spec.SecretFile != "" {
		return fmt.Errorf("%s takes a PEM key (privateKey, privateKeyFile, publicKey or publicKeyFile), not a secret", spec.Algorithm)
	}
	k.method = jwt.GetSigningMethod(spec.Algorithm)
	k.lowS = spec.Algorithm == algES256
	hasPrivate := spec.PrivateKey != "" || spec.PrivateKeyFile != ""
	if !hasPrivate && !spec.VerifyOnly {
		return errors.New("privateKey: required for a signing key (or set verifyOnly with a publicKey)")
	}
	if hasPrivate {
		pem, field, err := material(spec.PrivateKey, spec.PrivateKeyFile, "privateKey", "privateKeyFile")
		if err != nil {
			return err
		}
		if err := k.parsePrivate([]byte(pem)); err != nil {
			return fmt.Errorf("%s: %w", field, err)
		}
		if spec.PublicKey == "" && spec.PublicKeyFile == "" {
			return nil
		}
	}
	pem, field, err := material(spec.PublicKey, spec.PublicKeyFile, "publicKey", "publicKeyFile")
	if err != nil {
		return err
	}
	if hasPrivate {
		return fmt.Errorf("%s: give either a private key or a public key, not both", field)
	}
	if err := k.parsePublic([]byte(pem)); err != nil {
		return fmt.Errorf("%s: %w", field, err)
	}
	return nil
}

func (k *Key) parsePrivate(pem []byte) error {
	switch k.Algorithm {
	case "RS256":
		priv, err := jwt.ParseRSAPrivateKeyFromPEM(pem)
		if err != nil {
			return fmt.Errorf("not a PEM RSA private key: %w", err)
		}
		if priv.N.BitLen() < minRSABits {
			return fmt.Errorf("RSA key has %d bits, need at least %d", priv.N.BitLen(), minRSABits)
		}
		k.signKey = priv
		k.verifyKey = &priv.PublicKey
	case algES256:
		priv, err := jwt.ParseECPrivateKeyFromPEM(pem)
		if err != nil {
			return fmt.Errorf("not a PEM EC private key: %w", err)
		}
		if priv.Curve != elliptic.P256() {
			return errors.New("ES256 needs a P-256 key")
		}
		k.signKey = priv
		k.verifyKey = &priv.PublicKey
	default: // EdDSA
		priv, err := jwt.ParseEdPrivateKeyFromPEM(pem)
		if err != nil {
			return fmt.Errorf("not a PEM Ed25519 private key: %w", err)
		}
		edPriv, ok := priv.(ed25519.PrivateKey)
		if !ok {
			return errors.New("not an Ed25519 private key")
		}
		k.signKey = edPriv
		k.verifyKey = edPriv.Public()
	}
	return nil
}

func (k *Key) parsePublic(pem []byte) error {
	switch k.Algorithm {
	case "RS256":
		pub, err := jwt.ParseRSAPublicKeyFromPEM(pem)
		if err != nil {
			return fmt.Errorf("not a PEM RSA public key: %w", err)
		}
		if pub.N.BitLen() < minRSABits {
			return fmt.Errorf("RSA key has %d bits, need at least %d", pub.N.BitLen(), minRSABits)
		}
		k.verifyKey = pub
	case algES256:
		pub, err := jwt.ParseECPublicKeyFromPEM(pem)
		if err != nil {
			return fmt.Errorf("not a PEM EC public key: %w", err)
		}
		if pub.Curve != elliptic.P256() {
			return errors.New("ES256 needs a P-256 key")
		}
		k.verifyKey = pub
	default: // EdDSA
		pub, err := jwt.ParseEdPublicKeyFromPEM(pem)
		if err != nil {
			return fmt.Errorf("not a PEM Ed25519 public key: %w", err)
		}
		edPub, ok := pub.(ed25519.PublicKey)
		if !ok {
			return errors.New("not an Ed25519 public key")
		}
		k.verifyKey = edPub
	}
	return nil
}

// material returns the inline value or the content of the file, exactly one
// of which must be set, and the name of the field it came from.
func material(inline, file, inlineField, fileField string) (string, string, error) {
	switch {
	case inline != "" && file != "":
		return "", inlineField, fmt.Errorf("%s and %s: give one, not both", inlineField, fileField)
	case inline != "":
		return inline, inlineField, nil
	case file != "":
		b, err := os.ReadFile(file) //nolint:gosec // G304: the operator names the key file
		if err != nil {
			return "", fileField, fmt.Errorf("%s: %w", fileField, err)
		}
		return string(b), fileField, nil
	default:
		return "", inlineField, fmt.Errorf("%s or %s: required", inlineField, fileField)
	}
}

// KeySet is the keys a gateway signs and verifies with: exactly one signing
// key and any number of verify-only keys, looked up by kid.
type KeySet struct {
	signing *Key
	byID    map[string]*Key
	all     []*Key // in configuration order
	// byHeader maps each key's JOSE header segment, as this package writes
	// it ({"alg":...,"kid":...,"typ":"JWT"}, base64url), to the key: a token
	// with exactly that header needs no header decoding.
	byHeader map[string]*Key
}

// NewKeySet checks that ids are unique and exactly one key signs.
// Errors name the index of the key at fault.
func NewKeySet(keys []*Key) (*KeySet, error) {
	ks := &KeySet{byID: make(map[string]*Key, len(keys)), byHeader: make(map[string]*Key, len(keys))}
	for i, k := range keys {
		if _, dup := ks.byID[k.ID]; dup {
			return nil, fmt.Errorf("keys[%d].id: %q is used twice", i, k.ID)
		}
		ks.byID[k.ID] = k
		ks.byHeader[k.header] = k
		ks.all = append(ks.all, k)
		if k.VerifyOnly {
			continue
		}
		if ks.signing != nil {
			return nil, fmt.Errorf("keys[%d]: only one key may sign; mark the others verifyOnly", i)
		}
		ks.signing = k
	}
	if ks.signing == nil {
		return nil, errors.New("keys: need one signing key (a key without verifyOnly)")
	}
	return ks, nil
}

// Signing returns the key that signs new tokens.
func (ks *KeySet) Signing() *Key { return ks.signing }

// Keys returns every key, signing key first.
func (ks *KeySet) Keys() []*Key {
	out := []*Key{ks.signing}
	for _, k := range ks.all {
		if k != ks.signing {
			out = append(out, k)
		}
	}
	return out
}
