package dane

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"errors"
	"math/big"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/mxclient/mxclient/dane/danetest"
)

// negativeSerialCertificate returns the DER of a self-signed Ed25519
// certificate whose serial number is -1. RFC 5280 §4.1.2.2 forbids
// negative serial numbers but states that certificate users SHOULD handle
// such certificates gracefully. Since Go 1.23, x509.ParseCertificate
// rejects them unless GODEBUG has x509negativeserial=1, while OpenSSL
// parses them. crypto/x509 cannot issue such a certificate, so the serial
// of an issued one is overwritten. That breaks the signature, which no
// DANE-EE check and no Full(0) comparison looks at. The test is skipped
// when x509.ParseCertificate accepts the certificate.
func negativeSerialCertificate(t testing.TB) []byte {
	t.Helper()
	der := negativeSerialDER(t)
	if _, err := x509.ParseCertificate(der); err == nil {
		t.Skip("x509.ParseCertificate accepts negative serial numbers in this configuration")
	}
	return der
}

// negativeSerialDER returns the certificate of negativeSerialCertificate.
func negativeSerialDER(t testing.TB) []byte {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	template := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "mx.example.net"},
		DNSNames:     []string{"mx.example.net"},
		NotBefore:    testNow.Add(-day),
		NotAfter:     testNow.Add(300 * day),
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, pub, priv)
	if err != nil {
		t.Fatal(err)
	}
	// The version field [0] { INTEGER 2 } followed by the serial INTEGER 1.
	versionAndSerial := []byte{0xa0, 0x03, 0x02, 0x01, 0x02, 0x02, 0x01, 0x01}
	i := bytes.Index(der, versionAndSerial)
	if i < 0 {
		t.Fatal("serial number not found in the certificate")
	}
	der[i+len(versionAndSerial)-1] = 0xff
	return der
}

// TestFullCertificateNegativeSerial checks that a Full(0) record stays
// usable when its data is a well-formed DER certificate that crypto/x509
// declines to parse. Were it unusable, a set of only such records would
// be NoUsableRecords, and an SMTP client would accept any certificate
// without authentication. OpenSSL 3.0 loads the same "3 0 0" record and
// then rejects a server that presents another certificate with "no
// matching DANE TLSA records".
func TestFullCertificateNegativeSerial(t *testing.T) {
	t.Parallel()
	p := pki(t)
	der := negativeSerialCertificate(t)
	data := hex.EncodeToString(der)
	for _, usage := range []uint8{DANEEE, DANETA} {
		rr := rawRecord(usage, SelectorCert, MatchingFull, data)
		t.Run(Describe(rr), func(t *testing.T) {
			t.Parallel()
			v := verifier([]*dns.TLSA{rr})
			if got := v.Set.Status(); got != UsableRecords {
				t.Errorf("Status() = %v (%s), want %v", got, v.Set.Records[0].Detail, UsableRecords)
			}
			// An impostor presents a chain of its own.
			_, err := v.Verify(danetest.Chain(p.leaf, p.inter))
			if err == nil {
				t.Fatal("Verify() accepted the impostor's chain")
			}
			if errors.Is(err, ErrNoUsableRecords) {
				t.Errorf("Verify() = %v; the record is usable, so the chain must fail to match it, "+
					"not leave the server unauthenticated", err)
			}
		})
	}

	// Matching compares bytes, so the DANE-EE record matches the
	// certificate itself. crypto/tls parses the server's certificates
	// with crypto/x509, so a handshake only gets this far when GODEBUG has
	// x509negativeserial=1.
	leaf := &x509.Certificate{Raw: der}
	m, err := verifier([]*dns.TLSA{rawRecord(DANEEE, SelectorCert, MatchingFull, data)}).
		Verify([]*x509.Certificate{leaf})
	wantMatch(t, m, err, 0, 0)

	// As a DANE-TA trust anchor absent from the chain, the certificate
	// must be parsed, so the record does not match.
	m, err = verifier([]*dns.TLSA{rawRecord(DANETA, SelectorCert, MatchingFull, data)}).
		Verify(danetest.Chain(p.leaf, p.inter))
	me := wantMismatch(t, m, err, NoMatch)
	want := "cannot serve as a trust anchor absent from the chain: x509: negative serial number"
	if got := me.Attempts[0].Err; got == nil || !strings.Contains(got.Error(), want) {
		t.Errorf("attempt error = %v, want it to contain %q", got, want)
	}
}

// TestClassifyFullDataStructure checks the outer DER structure that
// Classify requires of Full(0) data.
func TestClassifyFullDataStructure(t *testing.T) {
	t.Parallel()
	p := pki(t)
	cert := p.root.Cert.Raw
	spki := p.leaf.Cert.RawSubjectPublicKeyInfo
	tests := []struct {
		name     string
		selector uint8
		data     []byte
		// wantDetail is text Detail must contain, or "" for a usable record.
		wantDetail string
	}{
		{"certificate", SelectorCert, cert, ""},
		{"SubjectPublicKeyInfo", SelectorSPKI, spki, ""},
		{"certificate with bytes after it", SelectorCert, append(cloneBytes(cert), 0),
			"not an X.509 certificate: 1 bytes after its end"},
		{"certificate with a fourth element", SelectorCert, appendElement(t, cert),
			"not an X.509 certificate: 2 bytes after the last element of its SEQUENCE"},
		{"SubjectPublicKeyInfo with a third element", SelectorSPKI, appendElement(t, spki),
			"not a SubjectPublicKeyInfo: 2 bytes after the last element of its SEQUENCE"},
		{"tbsCertificate not a SEQUENCE", SelectorCert, tbsAsSet(t, cert),
			"not an X.509 certificate: its tbsCertificate is not a SEQUENCE"},
		{"certificate as SPKI", SelectorSPKI, cert, "not a SubjectPublicKeyInfo"},
		{"SPKI as certificate", SelectorCert, spki, "not an X.509 certificate"},
		{"SET instead of SEQUENCE", SelectorCert, []byte{0x31, 0x00}, "not a SEQUENCE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rr := rawRecord(DANEEE, tt.selector, MatchingFull, hex.EncodeToString(tt.data))
			rec := Classify([]*dns.TLSA{rr}).Records[0]
			if tt.wantDetail == "" {
				if !rec.Usable() {
					t.Errorf("Classify(%s) is unusable (%s), want usable", rec, rec.Detail)
				}
				return
			}
			if rec.Reason != ReasonMalformedData || !strings.Contains(rec.Detail, tt.wantDetail) {
				t.Errorf("Classify(%s) = %v (%s), want %v with %q", rec, rec.Reason, rec.Detail,
					ReasonMalformedData, tt.wantDetail)
			}
		})
	}
}

func cloneBytes(b []byte) []byte { return append([]byte(nil), b...) }

// appendElement returns der, a DER SEQUENCE, with a NULL added as its
// last element.
func appendElement(t *testing.T, der []byte) []byte {
	t.Helper()
	header, body := splitSequence(t, der)
	return encodeDER(header[0], append(cloneBytes(body), 0x05, 0x00))
}

// tbsAsSet returns the certificate der with the tag of its tbsCertificate
// changed from SEQUENCE to SET.
func tbsAsSet(t *testing.T, der []byte) []byte {
	t.Helper()
	_, body := splitSequence(t, der)
	body = cloneBytes(body)
	if body[0] != 0x30 {
		t.Fatalf("tbsCertificate starts with tag %#x, want a SEQUENCE", body[0])
	}
	body[0] = 0x31
	return encodeDER(0x30, body)
}

// splitSequence returns the identifier and length octets of the DER
// SEQUENCE der and its contents.
func splitSequence(t *testing.T, der []byte) (header, body []byte) {
	t.Helper()
	if len(der) < 2 || der[0] != 0x30 {
		t.Fatal("not a DER SEQUENCE")
	}
	n := 2
	if der[1] >= 0x80 {
		n += int(der[1] & 0x7f)
	}
	return der[:n], der[n:]
}

// encodeDER returns the DER value with tag and contents body.
func encodeDER(tag byte, body []byte) []byte {
	n := len(body)
	switch {
	case n < 0x80:
		return append([]byte{tag, byte(n)}, body...)
	case n < 0x100:
		return append([]byte{tag, 0x81, byte(n)}, body...)
	}
	return append([]byte{tag, 0x82, byte(n >> 8), byte(n)}, body...)
}
