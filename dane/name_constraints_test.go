package dane

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/mxclient/mxclient/dane/danetest"
)

// nameConstrainedIntermediate returns an ECDSA CA certificate that issuer
// signs, with the given permitted and excluded DNS name constraints.
// danetest cannot make name constraints, so the certificate is made here.
func nameConstrainedIntermediate(t *testing.T, issuer *danetest.Cert, permitted, excluded []string) *danetest.Cert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	template := &x509.Certificate{
		SerialNumber:          big.NewInt(2),
		Subject:               pkix.Name{CommonName: "Name-Constrained Intermediate"},
		NotBefore:             testNow.Add(-30 * day),
		NotAfter:              testNow.Add(300 * day),
		BasicConstraintsValid: true,
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign,
		PermittedDNSDomains:   permitted,
		ExcludedDNSDomains:    excluded,
	}
	der, err := x509.CreateCertificate(rand.Reader, template, issuer.Cert, &key.PublicKey, issuer.Key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	// The zero key type is ECDSA, which matches key.
	return &danetest.Cert{Cert: cert, Key: key}
}

// TestNameConstraintsCommonName checks that the DNS name constraints of a
// CA in a DANE-TA chain also bind a leaf without DNS names, which is
// matched by its subject common name. crypto/x509 applies name
// constraints to subject alternative names only, so Verify does not use
// the common name under a CA with DNS name constraints. OpenSSL 3.0.22
// rejects the first two chains with "permitted subtree violation" and
// "excluded subtree violation" (NAME_CONSTRAINTS_check_CN). It accepts
// the third, whose common name is inside the permitted subtree, and the
// two wildcard common names too.
func TestNameConstraintsCommonName(t *testing.T) {
	t.Parallel()
	p := pki(t)
	anchor := record(t, DANETA, SelectorSPKI, MatchingSHA256, p.root)
	tests := []struct {
		name                string
		permitted, excluded []string
		leaf                danetest.Options
		// wantErr is text the attempt's error must contain.
		wantErr string
	}{
		{"common name outside permitted subtree", []string{"example.org"}, nil,
			danetest.Options{CommonName: "mx.example.net"}, "has DNS name constraints"},
		{"common name in excluded subtree", nil, []string{"example.net"},
			danetest.Options{CommonName: "mx.example.net"}, "has DNS name constraints"},
		{"common name inside permitted subtree", []string{"example.net"}, nil,
			danetest.Options{CommonName: "mx.example.net"}, "has DNS name constraints"},
		{"wildcard common name over excluded name", nil, []string{"mx.example.net"},
			danetest.Options{CommonName: "*.example.net"}, "has DNS name constraints"},
		{"wildcard common name above permitted name", []string{"mx.example.net"}, nil,
			danetest.Options{CommonName: "*.example.net"}, "has DNS name constraints"},
		// crypto/x509 enforces the same constraints on a DNS subject
		// alternative name.
		{"DNS name outside permitted subtree", []string{"example.org"}, nil,
			danetest.Options{DNSNames: []string{"mx.example.net"}}, "not permitted by any constraint"},
		{"DNS name in excluded subtree", nil, []string{"example.net"},
			danetest.Options{DNSNames: []string{"mx.example.net"}}, "excluded by constraint"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			inter := nameConstrainedIntermediate(t, p.root, tt.permitted, tt.excluded)
			leaf := inter.Leaf(tt.leaf)
			m, err := verifier([]*dns.TLSA{anchor}).Verify(danetest.Chain(leaf, inter, p.root))
			if err == nil {
				t.Fatalf("Verify() matched record %s at depth %d, want a rejection: the leaf's name "+
					"violates the name constraints of %s", m.Record, m.Depth, inter.Cert.Subject)
			}
			me, ok := err.(*MismatchError)
			if !ok || len(me.Attempts) != 1 {
				t.Fatalf("Verify() error = %v (%T), want a *MismatchError with one attempt", err, err)
			}
			if got := me.Attempts[0].Err; got == nil || !strings.Contains(got.Error(), tt.wantErr) {
				t.Errorf("attempt error = %v, want it to contain %q", got, tt.wantErr)
			}
		})
	}
}

// TestNameConstraintsOtherTypes checks that name constraints of other
// types leave the common name in use, as in OpenSSL: only DNS name
// constraints apply to a DNS name.
func TestNameConstraintsOtherTypes(t *testing.T) {
	t.Parallel()
	p := pki(t)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	template := &x509.Certificate{
		SerialNumber:            big.NewInt(3),
		Subject:                 pkix.Name{CommonName: "Mail-Constrained Intermediate"},
		NotBefore:               testNow.Add(-30 * day),
		NotAfter:                testNow.Add(300 * day),
		BasicConstraintsValid:   true,
		IsCA:                    true,
		KeyUsage:                x509.KeyUsageCertSign,
		PermittedEmailAddresses: []string{"example.net"},
	}
	der, err := x509.CreateCertificate(rand.Reader, template, p.root.Cert, &key.PublicKey, p.root.Key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	inter := &danetest.Cert{Cert: cert, Key: key}
	leaf := inter.Leaf(danetest.Options{CommonName: "mx.example.net"})

	m, err := verifier([]*dns.TLSA{record(t, DANETA, SelectorSPKI, MatchingSHA256, p.root)}).
		Verify(danetest.Chain(leaf, inter, p.root))
	wantMatch(t, m, err, 0, 2)
}
