package server

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"flag"
	"math/big"
	"net"
	"time"
)

// TLSConfig says whether and how a server speaks HTTPS.
type TLSConfig struct {
	Enabled  bool
	CertFile string // PEM certificate; empty: generate a self-signed one
	KeyFile  string // PEM private key for CertFile
}

// TLSFlags registers -tls, -cert and -key on fs, for a server that offers
// HTTPS.
func (c *Config) TLSFlags(fs *flag.FlagSet) {
	fs.BoolVar(&c.TLS.Enabled, "tls", false, "serve HTTPS, with HTTP/2, on a self-signed certificate made at start-up (or -cert and -key)")
	fs.StringVar(&c.TLS.CertFile, "cert", "", "with -tls: PEM certificate file")
	fs.StringVar(&c.TLS.KeyFile, "key", "", "with -tls: PEM private key file")
}

// certificate loads the configured certificate or makes a self-signed one,
// and says which, for the start-up log.
func (c TLSConfig) certificate() (tls.Certificate, string, error) {
	switch {
	case c.CertFile != "" && c.KeyFile != "":
		cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
		return cert, c.CertFile, err
	case c.CertFile != "" || c.KeyFile != "":
		return tls.Certificate{}, "", errors.New("-cert and -key go together")
	}
	cert, err := SelfSignedCertificate()
	return cert, "self-signed, made at start-up (curl -k, or hey which does not verify)", err
}

// selfSignedValidity is how long a generated certificate is valid: longer
// than any lab session.
const selfSignedValidity = 7 * 24 * time.Hour

// SelfSignedCertificate makes a certificate for localhost, 127.0.0.1 and ::1,
// signed by its own key, in memory.
func SelfSignedCertificate() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return tls.Certificate{}, err
	}
	now := time.Now()
	template := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{Organization: []string{"concurrency lab"}},
		NotBefore:             now.Add(-time.Minute),
		NotAfter:              now.Add(selfSignedValidity),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}
