package resp_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tokengate/tokengate/internal/redistest"
	"github.com/tokengate/tokengate/resp"
)

// testPKI is a CA and a server certificate for 127.0.0.1, as PEM files.
type testPKI struct {
	CAFile, CertFile, KeyFile string
	Pool                      *x509.CertPool
}

func newTestPKI(t *testing.T) testPKI {
	t.Helper()
	dir := t.TempDir()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "resp test CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	srvKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	srvTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:     []string{"localhost"},
	}
	srvDER, err := x509.CreateCertificate(rand.Reader, srvTmpl, caCert, &srvKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(srvKey)
	if err != nil {
		t.Fatal(err)
	}
	p := testPKI{
		CAFile:   filepath.Join(dir, "ca.crt"),
		CertFile: filepath.Join(dir, "server.crt"),
		KeyFile:  filepath.Join(dir, "server.key"),
		Pool:     x509.NewCertPool(),
	}
	p.Pool.AddCert(caCert)
	writePEM(t, p.CAFile, "CERTIFICATE", caDER)
	writePEM(t, p.CertFile, "CERTIFICATE", srvDER)
	writePEM(t, p.KeyFile, "PRIVATE KEY", keyDER)
	return p
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	data := pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestTLS(t *testing.T) {
	pki := newTestPKI(t)
	trusting := &tls.Config{RootCAs: pki.Pool, MinVersion: tls.VersionTLS12}
	srv := startRedisTLS(t, pki, trusting)
	tests := []struct {
		name    string
		cfg     *tls.Config
		wantErr string // "" when it must work
	}{
		{"CA trusted", trusting, ""},
		{"CA trusted, ServerName localhost", &tls.Config{RootCAs: pki.Pool, ServerName: "localhost", MinVersion: tls.VersionTLS12}, ""},
		{"CA not trusted", &tls.Config{MinVersion: tls.VersionTLS12}, "TLS handshake"},
		{"wrong server name", &tls.Config{RootCAs: pki.Pool, ServerName: "redis.example", MinVersion: tls.VersionTLS12}, "TLS handshake"},
		{"plain TCP to a TLS port", nil, "resp:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := redistest.Client(t, resp.Options{Endpoints: []string{srv.Addr}, TLS: tt.cfg, Timeout: time.Second})
			v, err := c.Pipeline(context.Background(), [][]string{{"SET", "tls:k", "v"}, {"GET", "tls:k"}})
			if tt.wantErr == "" {
				if err != nil || v[1].String() != "v" {
					t.Fatalf("got %v %v", v, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("got %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

// startRedisTLS starts a TLS-only redis-server, or skips the test when
// redis-server was built without TLS (its binary then never calls OpenSSL).
func startRedisTLS(t *testing.T, pki testPKI, cfg *tls.Config) *redistest.Server {
	t.Helper()
	bin := redistest.Bin(t)
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, []byte("SSL_CTX_new")) {
		t.Skipf("%s was built without TLS support (no SSL_CTX_new in it): TLS not tested", bin)
	}
	return redistest.Start(t, redistest.Options{TLS: cfg, Args: []string{
		"--tls-cert-file", pki.CertFile, "--tls-key-file", pki.KeyFile,
		"--tls-ca-cert-file", pki.CAFile, "--tls-auth-clients", "no",
	}})
}
