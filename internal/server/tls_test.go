//go:build lab

package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"flag"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// With -tls, Serve speaks HTTPS and offers HTTP/2, on a certificate made at
// start-up or loaded from -cert and -key.
func TestServeTLSWithHTTP2(t *testing.T) {
	cert, err := SelfSignedCertificate()
	require.NoError(t, err)
	certFile, keyFile := writePEM(t, cert)

	for _, tc := range []struct {
		name string
		args []string
	}{
		{"self-signed", []string{"-tls"}},
		{"from files", []string{"-tls", "-cert", certFile, "-key", keyFile}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := flag.NewFlagSet("test", flag.ContinueOnError)
			cfg := Flags(fs)
			cfg.TLSFlags(fs)
			require.NoError(t, fs.Parse(tc.args))
			cfg.Logger = discard()

			url, stop := serveInBackground(t, *cfg, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, r.Proto)
			}))
			defer func() { assert.NoError(t, stop()) }()

			client := &http.Client{Transport: &http.Transport{
				TLSClientConfig:   &tls.Config{InsecureSkipVerify: true}, // self-signed: nothing to verify against
				ForceAttemptHTTP2: true,
			}}
			defer client.CloseIdleConnections()
			resp, err := client.Get(url)
			require.NoError(t, err)
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			assert.Equal(t, "HTTP/2.0", string(body))
			require.NotNil(t, resp.TLS)
			assert.Contains(t, resp.TLS.PeerCertificates[0].IPAddresses[0].String(), "127.0.0.1")
		})
	}
}

func TestTLSNeedsBothCertAndKey(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	cfg := Config{Logger: discard(), TLS: TLSConfig{Enabled: true, CertFile: "cert.pem"}}
	err = Serve(t.Context(), ln, cfg, http.NotFoundHandler())
	assert.ErrorContains(t, err, "-cert and -key go together")
}

// OnShutdown is called when shutdown begins, while requests are still in
// flight: here it releases a handler that would otherwise wait forever.
func TestOnShutdownReleasesWaitingHandlers(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{})
	cfg := Config{Logger: discard(), OnShutdown: func() { close(release) }}
	url, stop := serveInBackground(t, cfg, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
		io.WriteString(w, "released")
	}))

	answer := make(chan string, 1)
	go func() {
		resp, err := http.Get(url)
		if err != nil {
			answer <- err.Error()
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		answer <- string(body)
	}()
	<-started
	require.NoError(t, stop())
	assert.Equal(t, "released", <-answer)
}

// serveInBackground runs Serve with cfg on a free loopback port and returns
// its URL and a function that stops it and returns Serve's error.
func serveInBackground(t *testing.T, cfg Config, h http.Handler) (url string, stop func() error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	served := make(chan error, 1)
	go func() { served <- Serve(ctx, ln, cfg, h) }()
	scheme := "http"
	if cfg.TLS.Enabled {
		scheme = "https"
	}
	return scheme + "://" + ln.Addr().String(), func() error {
		cancel()
		return <-served
	}
}

// writePEM writes cert and its key as PEM files and returns their paths.
func writePEM(t *testing.T, cert tls.Certificate) (certFile, keyFile string) {
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	key, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]}), 0o600))
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key}), 0o600))
	return certFile, keyFile
}
