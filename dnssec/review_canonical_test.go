package dnssec

import (
	"testing"

	"github.com/miekg/dns"

	"github.com/mxclient/mxclient/internal/dnscrypto"
)

// reviewMixedLengthMX is an MX RRset whose canonical order (RFC 4034 §6.3:
// by RDATA alone) puts the longer record first: preference 10 sorts before
// 20. Sorting whole wire records compares RDLENGTH first and puts the
// shorter record first, which signs different bytes.
func reviewMixedLengthMX(t *testing.T) []dns.RR {
	t.Helper()
	return []dns.RR{
		reviewRR(t, "example.test. 300 IN MX 10 mail.example.test."),
		reviewRR(t, "example.test. 300 IN MX 20 mx.example.test."),
	}
}

// reviewMiekgSig signs rrs with the github.com/miekg/dns signer, an
// implementation independent of internal/dnscrypto.
func reviewMiekgSig(t *testing.T, z *reviewZone, rrs []dns.RR) *dns.RRSIG {
	t.Helper()
	tmpl := z.sigTemplate(rrs[0].Header().Name, rrs[0].Header().Rrtype, rrs[0].Header().Ttl)
	sig := &dns.RRSIG{
		Algorithm:  tmpl.Algorithm,
		Expiration: tmpl.Expiration,
		Inception:  tmpl.Inception,
		KeyTag:     tmpl.KeyTag,
		SignerName: tmpl.SignerName,
	}
	if err := sig.Sign(z.key, rrs); err != nil {
		t.Fatalf("signing with miekg/dns: %v", err)
	}
	if err := sig.Verify(z.dnskey, rrs); err != nil {
		t.Fatalf("miekg/dns rejects its own signature: %v", err)
	}
	return sig
}

// TestReviewCanonicalOrderIgnoresRDLENGTH verifies a signature made by
// another implementation over an RRset whose records differ in length.
func TestReviewCanonicalOrderIgnoresRDLENGTH(t *testing.T) {
	w := newReviewWorld(t)
	rrs := reviewMixedLengthMX(t)
	sig := reviewMiekgSig(t, w.zone, rrs)

	if err := dnscrypto.Verify(sig, w.zone.dnskey, rrs); err != nil {
		t.Errorf("dnscrypto.Verify(MX RRset signed by miekg/dns) = %v, want nil", err)
	}

	w.src.set("example.test.", dns.TypeMX, reviewMsg(dns.RcodeSuccess, append(rrs, sig), nil))
	res := reviewLookup(t, w.validator(t, Limits{}), "example.test.", dns.TypeMX)
	if res.Security != Secure {
		t.Errorf("Lookup(example.test. MX) signed by miekg/dns = %s, want secure", reviewDescribe(res))
	}
}
