package dane

import (
	"crypto/x509"
	"encoding/hex"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mxclient/mxclient/dane/danetest"
)

// testNow is the pinned validation time of the tests.
var testNow = danetest.Now

const day = 24 * time.Hour

// testPKI holds the certificates the tests share. Every leaf is issued for
// mx.example.net unless its name says otherwise.
type testPKI struct {
	root, otherRoot, expiredRoot *danetest.Cert
	// inter (ECDSA), interPSS (RSA, signs with RSA-PSS) and interEd
	// (Ed25519) are issued by root; expiredInter too, but it expired a day
	// before testNow.
	inter, interPSS, interEd, expiredInter *danetest.Cert
	// interUnderExpired is issued by expiredRoot. interCross has the name
	// and key of inter but is issued by otherRoot, as a cross-signed
	// intermediate is.
	interUnderExpired, interCross *danetest.Cert

	// Leaves issued by inter.
	leaf, leafRSA, leafEd, expiredLeaf, futureLeaf, otherName, wildcard, commonNameOnly,
	clientAuthOnly *danetest.Cert
	// leafPSS is issued by interPSS, leafUnderEd by interEd, leafUnderExpired
	// by expiredInter, leafUnderExpiredRoot by interUnderExpired.
	leafPSS, leafUnderEd, leafUnderExpired, leafUnderExpiredRoot *danetest.Cert
	// selfSigned is a self-signed leaf.
	selfSigned *danetest.Cert
}

var (
	pkiOnce   sync.Once
	sharedPKI *testPKI
)

// pki returns the shared certificates, made on first use: RSA keys take
// a while to generate.
func pki(t testing.TB) *testPKI {
	t.Helper()
	pkiOnce.Do(func() { sharedPKI = newTestPKI() })
	return sharedPKI
}

func newTestPKI() *testPKI {
	mx := []string{"mx.example.net"}
	p := &testPKI{}
	p.root = danetest.NewRoot(danetest.Options{Key: danetest.RSA, CommonName: "Test Root"})
	p.otherRoot = danetest.NewRoot(danetest.Options{CommonName: "Other Root"})
	p.expiredRoot = danetest.NewRoot(danetest.Options{CommonName: "Expired Root",
		NotBefore: testNow.Add(-400 * day), NotAfter: testNow.Add(-day)})

	p.inter = p.root.Intermediate(danetest.Options{CommonName: "Test Intermediate"})
	p.interPSS = p.root.Intermediate(danetest.Options{Key: danetest.RSAPSS, CommonName: "PSS Intermediate"})
	p.interEd = p.root.Intermediate(danetest.Options{Key: danetest.Ed25519, CommonName: "Ed25519 Intermediate"})
	p.expiredInter = p.root.Intermediate(danetest.Options{CommonName: "Expired Intermediate",
		NotBefore: testNow.Add(-400 * day), NotAfter: testNow.Add(-day)})
	p.interUnderExpired = p.expiredRoot.Intermediate(danetest.Options{CommonName: "Intermediate Under Expired"})
	p.interCross = p.otherRoot.Intermediate(danetest.Options{CommonName: "Test Intermediate", Signer: p.inter.Key})

	p.leaf = p.inter.Leaf(danetest.Options{CommonName: "mx.example.net", DNSNames: mx})
	p.leafRSA = p.inter.Leaf(danetest.Options{Key: danetest.RSA, DNSNames: mx})
	p.leafEd = p.inter.Leaf(danetest.Options{Key: danetest.Ed25519, DNSNames: mx})
	p.expiredLeaf = p.inter.Leaf(danetest.Options{DNSNames: mx,
		NotBefore: testNow.Add(-100 * day), NotAfter: testNow.Add(-day)})
	p.futureLeaf = p.inter.Leaf(danetest.Options{DNSNames: mx,
		NotBefore: testNow.Add(day), NotAfter: testNow.Add(100 * day)})
	p.otherName = p.inter.Leaf(danetest.Options{DNSNames: []string{"mail.example.org"}})
	p.wildcard = p.inter.Leaf(danetest.Options{DNSNames: []string{"*.example.net"}})
	p.commonNameOnly = p.inter.Leaf(danetest.Options{CommonName: "mx.example.net"})
	p.clientAuthOnly = p.inter.Leaf(danetest.Options{DNSNames: mx,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})

	p.leafPSS = p.interPSS.Leaf(danetest.Options{Key: danetest.RSA, DNSNames: mx})
	p.leafUnderEd = p.interEd.Leaf(danetest.Options{Key: danetest.Ed25519, DNSNames: mx})
	p.leafUnderExpired = p.expiredInter.Leaf(danetest.Options{DNSNames: mx})
	p.leafUnderExpiredRoot = p.interUnderExpired.Leaf(danetest.Options{DNSNames: mx})
	p.selfSigned = danetest.NewSelfSigned(danetest.Options{Key: danetest.Ed25519, DNSNames: mx})
	return p
}

// record returns the TLSA record with the given parameters for cert.
func record(t testing.TB, usage, selector, matchingType uint8, cert *danetest.Cert) *dns.TLSA {
	t.Helper()
	data, err := AssociationData(cert.Cert, selector, matchingType)
	if err != nil {
		t.Fatal(err)
	}
	return rawRecord(usage, selector, matchingType, hex.EncodeToString(data))
}

// rawRecord returns a TLSA record with the given fields as they are.
func rawRecord(usage, selector, matchingType uint8, data string) *dns.TLSA {
	return &dns.TLSA{
		Hdr:   dns.RR_Header{Name: "_25._tcp.mx.example.net.", Rrtype: dns.TypeTLSA, Class: dns.ClassINET},
		Usage: usage, Selector: selector, MatchingType: matchingType, Certificate: data,
	}
}

// verifier returns a Verifier for records at testNow with the TLSA base
// domain mx.example.net and the further reference identifiers names.
func verifier(records []*dns.TLSA, names ...string) *Verifier {
	return &Verifier{
		Set:        Classify(records),
		BaseDomain: "mx.example.net.",
		Names:      names,
		Now:        func() time.Time { return testNow },
	}
}

// skipMissingTool skips the test because something from Debian is missing,
// unless MXCLIENT_REQUIRE_TOOLS=1, which CI sets after installing the tools.
func skipMissingTool(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("MXCLIENT_REQUIRE_TOOLS") == "1" {
		t.Fatalf(format+" (MXCLIENT_REQUIRE_TOOLS=1 turns this skip into a failure)", args...)
	}
	t.Skipf(format, args...)
}
