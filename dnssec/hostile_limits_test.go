package dnssec

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// keyWithTag returns a DNSKEY of zone whose key tag is tag. The
// public key is random bytes, which is all a key tag or a DS digest needs.
func keyWithTag(t *testing.T, zone string, tag uint16) *dns.DNSKEY {
	t.Helper()
	raw := make([]byte, 64)
	if _, err := rand.Read(raw); err != nil {
		t.Fatal(err)
	}
	key := &dns.DNSKEY{
		Hdr:       dns.RR_Header{Name: zone, Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET, Ttl: 3600},
		Flags:     dns.ZONE | dns.SEP,
		Protocol:  3,
		Algorithm: dns.ECDSAP256SHA256,
	}
	// The last two octets of the RDATA are one 16-bit word of the key tag
	// sum (RFC 4034 Appendix B), so setting them steers the tag.
	raw[62], raw[63] = 0, 0
	key.PublicKey = base64.StdEncoding.EncodeToString(raw)
	word := uint16(tag - key.KeyTag())
	for _, delta := range []uint16{0, 0xffff, 1} {
		w := word + delta
		raw[62], raw[63] = byte(w>>8), byte(w)
		key.PublicKey = base64.StdEncoding.EncodeToString(raw)
		if key.KeyTag() == tag {
			return key
		}
	}
	t.Fatalf("could not steer a key to tag %d", tag)
	return nil
}

func scriptedMsgSize(t *testing.T, m *dns.Msg) int {
	t.Helper()
	c := m.Copy()
	c.SetQuestion("example.test.", dns.TypeDS)
	c.Compress = true
	wire, err := c.Pack()
	if err != nil {
		t.Fatalf("packing: %v", err)
	}
	return len(wire)
}

// TestDSDigestWorkBounded publishes, for example.test., a signed DS
// RRset of 1300 records and a DNSKEY RRset of 700 keys, every one with the
// same key tag and algorithm and no DS matching any key. Each response
// still fits in one TCP message. matchKeys computes a digest for every
// (key, DS) pair before any signature check, about 900,000 SHA-256 digests,
// and no Limits field bounds that work. Unbound 1.19.1 stops after 4 DS
// mismatches (MAX_DS_MATCH_FAILURES).
func TestDSDigestWorkBounded(t *testing.T) {
	w := newScriptedWorld(t)
	const tag = 4242
	var ds []dns.RR
	digest := make([]byte, 32)
	for range 1300 {
		if _, err := rand.Read(digest); err != nil {
			t.Fatal(err)
		}
		ds = append(ds, &dns.DS{
			Hdr:        dns.RR_Header{Name: "example.test.", Rrtype: dns.TypeDS, Class: dns.ClassINET, Ttl: 3600},
			KeyTag:     tag,
			Algorithm:  dns.ECDSAP256SHA256,
			DigestType: dns.SHA256,
			Digest:     hex.EncodeToString(digest),
		})
	}
	dsResp := scriptedMsg(dns.RcodeSuccess, w.tld.signed(t, ds...), nil)
	var keys []dns.RR
	for range 700 {
		keys = append(keys, keyWithTag(t, "example.test.", tag))
	}
	keysResp := scriptedMsg(dns.RcodeSuccess, keys, nil)
	for _, m := range []*dns.Msg{dsResp, keysResp} {
		if n := scriptedMsgSize(t, m); n > dns.MaxMsgSize {
			t.Fatalf("a scripted response is %d octets, more than one DNS message holds", n)
		}
	}
	w.src.set("example.test.", dns.TypeDS, dsResp)
	w.src.set("example.test.", dns.TypeDNSKEY, keysResp)
	w.src.set("www.example.test.", dns.TypeA, scriptedMsg(dns.RcodeSuccess,
		w.zone.signed(t, scriptedRR(t, "www.example.test. 300 IN A 192.0.2.1")), nil))

	v := w.validator(t, Limits{})
	start := time.Now()
	res := scriptedLookup(t, v, "www.example.test.", dns.TypeA)
	took := time.Since(start)
	if res.Security != Bogus {
		t.Errorf("Lookup(www.example.test. A) = %s, want bogus", scriptedDescribe(res))
	}
	// With a cap of a few DS mismatches the lookup computes a handful of
	// digests. Unbounded, it took about 2 s on a 2-core test VM.
	if took > time.Second {
		t.Errorf("Lookup(www.example.test. A) took %s of DS digest work, want under 1s", took.Round(time.Millisecond))
	}
}
