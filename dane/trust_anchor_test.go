package dane

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mxclient/mxclient/dane/danetest"
)

// issueCustom returns a certificate from template, with a new ECDSA key,
// that issuer signs, or that signs itself when issuer is nil. Its
// validity dates default to those of danetest. It makes the certificates
// that danetest cannot: without basic constraints, without keyCertSign,
// or with a path length constraint, extended key usage or name
// constraints on a CA.
func issueCustom(t *testing.T, issuer *danetest.Cert, template *x509.Certificate) *danetest.Cert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	template.SerialNumber = big.NewInt(4)
	if template.NotBefore.IsZero() {
		template.NotBefore, template.NotAfter = testNow.Add(-30*day), testNow.Add(300*day)
	}
	parent, signer := template, any(key)
	if issuer != nil {
		parent, signer = issuer.Cert, issuer.Key
	}
	der, err := x509.CreateCertificate(rand.Reader, template, parent, &key.PublicKey, signer)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &danetest.Cert{Cert: cert, Key: key}
}

// caTemplate returns the template of a CA certificate with subject name
// name, basic constraints and keyCertSign.
func caTemplate(name string) *x509.Certificate {
	return &x509.Certificate{
		Subject:               pkix.Name{CommonName: name},
		BasicConstraintsValid: true,
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
}

// TestDANETATrustAnchorChecks checks what a DANE-TA trust anchor
// certificate must be, whether the server sent it or the record carries
// it, and whatever the selector. It must be a CA certificate, as in
// OpenSSL 3.0, and its path length constraint, extended key usage and name
// constraints bind the chain below it. Only a key that the server did not
// send has no such properties. crypto/x509 rejects most issuers that are
// not CAs when it checks their signatures, and TestDANETAVersion1Root
// covers the rest.
func TestDANETATrustAnchorChecks(t *testing.T) {
	t.Parallel()
	p := pki(t)
	mx := danetest.Options{DNSNames: []string{"mx.example.net"}}

	notCA := p.inter.Leaf(danetest.Options{CommonName: "Not A CA", DNSNames: []string{"x.example.org"}})
	underNotCA := notCA.Leaf(mx)
	noBasicConstraints := issueCustom(t, p.root, &x509.Certificate{
		Subject: pkix.Name{CommonName: "No Basic Constraints"}, KeyUsage: x509.KeyUsageCertSign})
	underNoBasicConstraints := noBasicConstraints.Leaf(mx)
	noCertSign := caTemplate("No keyCertSign")
	noCertSign.KeyUsage = x509.KeyUsageDigitalSignature
	noSign := issueCustom(t, p.root, noCertSign)
	underNoSign := noSign.Leaf(mx)
	noKeyUsage := caTemplate("No Key Usage")
	noKeyUsage.KeyUsage = 0
	noKU := issueCustom(t, p.root, noKeyUsage)
	underNoKU := noKU.Leaf(mx)

	pathLenZero := caTemplate("Path Length Zero Root")
	pathLenZero.MaxPathLenZero = true
	shortRoot := issueCustom(t, nil, pathLenZero)
	shortInter := shortRoot.Intermediate(danetest.Options{CommonName: "Under Path Length Zero"})
	underShort := shortInter.Leaf(mx)

	clientAuth := caTemplate("Client Authentication Root")
	clientAuth.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	clientRoot := issueCustom(t, nil, clientAuth)
	clientInter := clientRoot.Intermediate(danetest.Options{CommonName: "Under Client Authentication Root"})
	underClient := clientInter.Leaf(mx)

	excluding := caTemplate("Root Excluding example.net")
	excluding.ExcludedDNSDomains = []string{"example.net"}
	excludingRoot := issueCustom(t, nil, excluding)
	excludingInter := excludingRoot.Intermediate(danetest.Options{CommonName: "Under Excluding Root"})
	underExcluding := excludingInter.Leaf(mx)

	tests := []struct {
		name   string
		record *dns.TLSA
		chain  []*danetest.Cert
		// wantErr is text the attempt's error must contain, or "" for a
		// match at wantDepth.
		wantErr   string
		wantDepth int
	}{
		{"not a CA, 2 1 1", record(t, 2, 1, 1, notCA), []*danetest.Cert{underNotCA, notCA},
			"to the trust anchor public key at depth 1 (CN=Not A CA): x509: certificate signed by unknown " +
				"authority (possibly because of \"x509: invalid signature: parent certificate cannot sign " +
				"this kind of certificate\"", 0},
		{"not a CA, 2 0 1", record(t, 2, 0, 1, notCA), []*danetest.Cert{underNotCA, notCA},
			"parent certificate cannot sign this kind of certificate", 0},
		{"not a CA, absent 2 0 0", record(t, 2, 0, 0, notCA), []*danetest.Cert{underNotCA},
			"to the trust anchor certificate from the TLSA record: x509: certificate signed by unknown " +
				"authority (possibly because of \"x509: invalid signature: parent certificate cannot sign", 0},
		{"not a CA, absent 2 1 0", record(t, 2, 1, 0, notCA), []*danetest.Cert{underNotCA}, "", 1},
		{"no basic constraints", record(t, 2, 1, 1, noBasicConstraints),
			[]*danetest.Cert{underNoBasicConstraints, noBasicConstraints}, "parent certificate cannot sign", 0},
		{"key usage without keyCertSign", record(t, 2, 1, 1, noSign), []*danetest.Cert{underNoSign, noSign},
			"parent certificate cannot sign", 0},
		{"intermediate without keyCertSign", record(t, 2, 1, 1, p.root),
			[]*danetest.Cert{underNoSign, noSign, p.root}, "parent certificate cannot sign", 0},
		{"no key usage", record(t, 2, 1, 1, noKU), []*danetest.Cert{underNoKU, noKU}, "", 1},
		{"path length of a sent root", record(t, 2, 1, 1, shortRoot),
			[]*danetest.Cert{underShort, shortInter, shortRoot}, "too many intermediates", 0},
		{"path length of an absent key", record(t, 2, 1, 0, shortRoot),
			[]*danetest.Cert{underShort, shortInter}, "", 2},
		{"extended key usage of a sent root", record(t, 2, 1, 1, clientRoot),
			[]*danetest.Cert{underClient, clientInter, clientRoot}, "key usage", 0},
		{"name constraints of a sent root", record(t, 2, 1, 1, excludingRoot),
			[]*danetest.Cert{underExcluding, excludingInter, excludingRoot}, "excluded by constraint", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, err := verifier([]*dns.TLSA{tt.record}).Verify(danetest.Chain(tt.chain...))
			if tt.wantErr == "" {
				wantMatch(t, m, err, 0, tt.wantDepth)
				return
			}
			me := wantMismatch(t, m, err, ChainInvalid)
			if got := me.Attempts[0].Err; got == nil || !strings.Contains(got.Error(), tt.wantErr) {
				t.Errorf("attempt error = %v, want it to contain %q", got, tt.wantErr)
			}
		})
	}
}

// version1Root returns a self-signed X.509 version 1 certificate with an
// ECDSA key, which has no extensions and so no basic constraints.
// crypto/x509 cannot issue one, so its DER is put together here.
func version1Root(t *testing.T, name string) *danetest.Cert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	subject, err := asn1.Marshal(pkix.Name{CommonName: name}.ToRDNSequence())
	if err != nil {
		t.Fatal(err)
	}
	spki, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}

	ecdsaWithSHA256 := pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}}
	tbs, err := asn1.Marshal(struct {
		SerialNumber *big.Int
		Signature    pkix.AlgorithmIdentifier
		Issuer       asn1.RawValue
		Validity     struct{ NotBefore, NotAfter time.Time }
		Subject      asn1.RawValue
		PublicKey    asn1.RawValue
	}{
		SerialNumber: big.NewInt(5),
		Signature:    ecdsaWithSHA256,
		Issuer:       asn1.RawValue{FullBytes: subject},
		Validity: struct{ NotBefore, NotAfter time.Time }{
			testNow.Add(-30 * day).Truncate(time.Second), testNow.Add(300 * day).Truncate(time.Second)},
		Subject:   asn1.RawValue{FullBytes: subject},
		PublicKey: asn1.RawValue{FullBytes: spki},
	})
	if err != nil {
		t.Fatal(err)
	}

	digest := sha256.Sum256(tbs)
	signature, err := ecdsa.SignASN1(rand.Reader, key, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	der, err := asn1.Marshal(struct {
		TBSCertificate     asn1.RawValue
		SignatureAlgorithm pkix.AlgorithmIdentifier
		SignatureValue     asn1.BitString
	}{asn1.RawValue{FullBytes: tbs}, ecdsaWithSHA256, asn1.BitString{Bytes: signature, BitLength: 8 * len(signature)}})
	if err != nil {
		t.Fatal(err)
	}

	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	if cert.Version != 1 || cert.BasicConstraintsValid {
		t.Fatalf("made a version %d certificate with basic constraints %t, want version 1 without",
			cert.Version, cert.BasicConstraintsValid)
	}
	return &danetest.Cert{Cert: cert, Key: key}
}

// TestDANETAVersion1Root checks that a version 1 root, which has no basic
// constraints, is no trust anchor. crypto/x509 accepts its signature, and
// OpenSSL 3.0.22 accepts it at the top of a chain, but a trust anchor
// certificate must carry basic constraints that mark it as a CA.
func TestDANETAVersion1Root(t *testing.T) {
	t.Parallel()
	root := version1Root(t, "Version 1 Root")
	inter := root.Intermediate(danetest.Options{CommonName: "Under Version 1 Root"})
	leaf := inter.Leaf(danetest.Options{DNSNames: []string{"mx.example.net"}})
	want := "the certificate at depth 2 (CN=Version 1 Root) is not a CA certificate: it has no basic constraints"
	for _, tt := range []struct {
		name   string
		record *dns.TLSA
		chain  []*danetest.Cert
	}{
		{"sent, 2 1 1", record(t, 2, 1, 1, root), []*danetest.Cert{leaf, inter, root}},
		{"sent, 2 0 1", record(t, 2, 0, 1, root), []*danetest.Cert{leaf, inter, root}},
		{"absent, 2 0 0", record(t, 2, 0, 0, root), []*danetest.Cert{leaf, inter}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, err := verifier([]*dns.TLSA{tt.record}).Verify(danetest.Chain(tt.chain...))
			me := wantMismatch(t, m, err, ChainInvalid)
			if got := me.Attempts[0].Err; got == nil || !strings.Contains(got.Error(), want) {
				t.Errorf("attempt error = %v, want it to contain %q", got, want)
			}
		})
	}

	// As a key that the server did not send, it has no basic constraints
	// to lack.
	m, err := verifier([]*dns.TLSA{record(t, 2, 1, 0, root)}).Verify(danetest.Chain(leaf, inter))
	wantMatch(t, m, err, 0, 2)
}
