package dane

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"testing"

	"github.com/miekg/dns"

	"github.com/mxclient/mxclient/dane/danetest"
)

// TestTLSConfigNoMatchWithoutKeyProof checks that TLSConfig's Result
// reports no match for a server that fails to prove it holds the key of
// the certificate it presents. crypto/tls calls VerifyConnection right
// after the Certificate message, before it checks the server's
// CertificateVerify (TLS 1.3) or ServerKeyExchange (TLS 1.2) signature.
// So VerifyConnection matches an impostor that replays the real server's
// public chain, and only then does the handshake fail.
func TestTLSConfigNoMatchWithoutKeyProof(t *testing.T) {
	t.Parallel()
	p := pki(t)
	// p.leaf has a P-256 key; the impostor signs with another P-256 key.
	impostorKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	server := startTLSServer(t, tls.Certificate{
		Certificate: [][]byte{p.leaf.Cert.Raw, p.inter.Cert.Raw},
		PrivateKey:  impostorKey,
	})
	for _, version := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		t.Run(tls.VersionName(version), func(t *testing.T) {
			t.Parallel()
			config, result := verifier([]*dns.TLSA{record(t, DANEEE, SelectorSPKI, MatchingSHA256, p.leaf)}).
				TLSConfig()
			config.MinVersion, config.MaxVersion = version, version

			state, err := server.dial(t, config)
			if err == nil {
				t.Fatal("handshake with a server that lacks the leaf's private key succeeded")
			}
			if m := result.Match(state); m != nil {
				t.Errorf("Result.Match() = a match of %s at depth %d, but the handshake failed: %v",
					m.Record, m.Depth, err)
			}
		})
	}
}

// TestResultMatch checks when Result.Match hands out the match that
// VerifyConnection recorded: only for a completed handshake with the
// certificates that matched.
func TestResultMatch(t *testing.T) {
	t.Parallel()
	p := pki(t)
	chain := danetest.Chain(p.leaf, p.inter)
	config, result := verifier([]*dns.TLSA{record(t, DANEEE, SelectorSPKI, MatchingSHA256, p.leaf)}).
		TLSConfig()

	if m := result.Match(tls.ConnectionState{HandshakeComplete: true, PeerCertificates: chain}); m != nil {
		t.Errorf("Result.Match() before any handshake = %+v, want nil", m)
	}
	if err := config.VerifyConnection(tls.ConnectionState{PeerCertificates: chain}); err != nil {
		t.Fatalf("VerifyConnection() = %v, want nil", err)
	}
	if m := result.Match(tls.ConnectionState{PeerCertificates: chain}); m != nil {
		t.Errorf("Result.Match() of an incomplete handshake = %+v, want nil", m)
	}
	other := danetest.Chain(p.leafRSA, p.inter)
	if m := result.Match(tls.ConnectionState{HandshakeComplete: true, PeerCertificates: other}); m != nil {
		t.Errorf("Result.Match() of a handshake with other certificates = %+v, want nil", m)
	}
	m := result.Match(tls.ConnectionState{HandshakeComplete: true, PeerCertificates: chain})
	if m == nil || m.Record.Index != 0 || m.Depth != 0 {
		t.Errorf("Result.Match() of the completed handshake = %+v, want record 0 at depth 0", m)
	}

	// A failed check leaves the last match in place.
	rejected := danetest.Chain(p.otherName, p.inter)
	if err := config.VerifyConnection(tls.ConnectionState{PeerCertificates: rejected}); err == nil {
		t.Fatal("VerifyConnection() of a chain that no record matches = nil, want an error")
	}
	if m := result.Match(tls.ConnectionState{HandshakeComplete: true, PeerCertificates: rejected}); m != nil {
		t.Errorf("Result.Match() of the rejected certificates = %+v, want nil", m)
	}
}
