package dnssec

import (
	"testing"

	"github.com/miekg/dns"

	"github.com/mxclient/mxclient/internal/dnscrypto"
)

// mixedLengthMX is an MX RRset whose canonical order (RFC 4034 §6.3:
// by RDATA alone) puts the longer record first: preference 10 sorts before
// 20. Sorting whole wire records compares RDLENGTH first and puts the
// shorter record first, which signs different bytes.
func mixedLengthMX(t *testing.T) []dns.RR {
	t.Helper()
	return []dns.RR{
		scriptedRR(t, "example.test. 300 IN MX 10 mail.example.test."),
		scriptedRR(t, "example.test. 300 IN MX 20 mx.example.test."),
	}
}

// miekgSig signs rrs with the github.com/miekg/dns signer, an
// implementation independent of internal/dnscrypto.
func miekgSig(t *testing.T, z *scriptedZone, rrs []dns.RR) *dns.RRSIG {
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

// TestCanonicalOrderIgnoresRDLENGTH verifies a signature made by
// another implementation over an RRset whose records differ in length.
func TestCanonicalOrderIgnoresRDLENGTH(t *testing.T) {
	w := newScriptedWorld(t)
	rrs := mixedLengthMX(t)
	sig := miekgSig(t, w.zone, rrs)

	if err := dnscrypto.Verify(sig, w.zone.dnskey, rrs); err != nil {
		t.Errorf("dnscrypto.Verify(MX RRset signed by miekg/dns) = %v, want nil", err)
	}

	w.src.set("example.test.", dns.TypeMX, scriptedMsg(dns.RcodeSuccess, append(rrs, sig), nil))
	res := scriptedLookup(t, w.validator(t, Limits{}), "example.test.", dns.TypeMX)
	if res.Security != Secure {
		t.Errorf("Lookup(example.test. MX) signed by miekg/dns = %s, want secure", scriptedDescribe(res))
	}
}
