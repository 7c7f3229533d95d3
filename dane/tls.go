package dane

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"strings"
	"sync"
)

// TLSConfig returns a client configuration for crypto/tls that
// authenticates the server with v instead of WebPKI, and the Result that
// returns the record that authenticated a completed handshake. The
// configuration sends v.BaseDomain as the SNI name (RFC 7672 §8.1), sets
// InsecureSkipVerify only so that crypto/tls skips its own WebPKI check,
// and makes VerifyConnection call v.Verify on the certificates the server
// sent, for full handshakes and resumptions alike. A failed check aborts
// the handshake with Verify's error, which errors.As turns back into a
// *MismatchError.
//
// Use it only for a set whose Status is UsableRecords: with
// NoUsableRecords, TLS is mandatory but there is nothing to authenticate
// against, so every handshake would fail with ErrNoUsableRecords. The
// caller may change other fields of the returned configuration, such as
// MinVersion, but not the three above.
func (v *Verifier) TLSConfig() (*tls.Config, *Result) {
	r := &Result{}
	config := &tls.Config{
		ServerName:         strings.TrimSuffix(v.BaseDomain, "."),
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			m, err := v.Verify(cs.PeerCertificates)
			if err != nil {
				return err
			}
			r.record(cs.PeerCertificates, m)
			return nil
		},
	}
	return config, r
}

// Result records the match of the handshakes made with a configuration
// from TLSConfig. Its methods are safe for concurrent use.
//
// crypto/tls calls VerifyConnection before the server proves that it
// holds the private key of its certificate, with the CertificateVerify
// message in TLS 1.3 or the ServerKeyExchange signature in TLS 1.2. So a
// match recorded there may come from an impostor that replays the real
// server's certificates, and Match hands it out only for a connection
// whose handshake has completed.
type Result struct {
	mu sync.Mutex
	// chain is the certificates of the last handshake that VerifyConnection
	// matched, and match what Verify returned for them.
	chain []*x509.Certificate
	match *Match
}

func (r *Result) record(chain []*x509.Certificate, m *Match) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.chain, r.match = chain, m
}

// Match returns the record that authenticated the connection whose state
// is cs, as tls.Conn.ConnectionState returns it after Handshake returned
// nil. It returns nil when cs.HandshakeComplete is false, which includes
// every failed handshake, and when cs.PeerCertificates are not the
// certificates of the last handshake that matched. That happens only when
// handshakes that present other certificates share the configuration, so
// give each connection a configuration of its own.
func (r *Result) Match(cs tls.ConnectionState) *Match {
	if !cs.HandshakeComplete {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.match == nil || !sameCertificates(cs.PeerCertificates, r.chain) {
		return nil
	}
	return r.match
}

func sameCertificates(a, b []*x509.Certificate) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i].Raw, b[i].Raw) {
			return false
		}
	}
	return true
}
