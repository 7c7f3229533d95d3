package dnssectest

import (
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/mxclient/mxclient/internal/dnscrypto"
)

// faultZones are the zones of newFaultLab, each below test. and each with
// the records www A 192.0.2.1, mail A 192.0.2.2 and *.wild A 192.0.2.3.
var faultZones = []struct {
	origin string
	opts   ZoneOptions
}{
	{"expired.test.", ZoneOptions{Faults: []Fault{{Kind: ExpiredSignatures, Name: "www", Type: dns.TypeA}}}},
	{"expiredall.test.", ZoneOptions{Faults: []Fault{{Kind: ExpiredSignatures}}}},
	{"future.test.", ZoneOptions{Faults: []Fault{{Kind: NotYetValidSignatures, Name: "www", Type: dns.TypeA}}}},
	{"wrongds.test.", ZoneOptions{Faults: []Fault{{Kind: WrongDS}}}},
	{"unsupalg.test.", ZoneOptions{Faults: []Fault{{Kind: UnsupportedDSAlgorithm}}}},
	{"unsupdigest.test.", ZoneOptions{Faults: []Fault{{Kind: UnsupportedDSDigest}}}},
	{"wrongsha256.test.", ZoneOptions{Faults: []Fault{{Kind: WrongSHA256DS}}}},
	{"missing.test.", ZoneOptions{Faults: []Fault{{Kind: MissingRRSIG, Name: "www", Type: dns.TypeA}}}},
	{"nokeysig.test.", ZoneOptions{Faults: []Fault{{Kind: UnsignedDNSKEY}}}},
	{"altered.test.", ZoneOptions{Faults: []Fault{{Kind: AlteredData, Name: "www", Type: dns.TypeA}}}},
	{"corrupt.test.", ZoneOptions{Faults: []Fault{{Kind: CorruptSignature, Name: "www", Type: dns.TypeA}}}},
	{"irrelevant.test.", ZoneOptions{Faults: []Fault{{Kind: IrrelevantDenial}}}},
	{"irrelevant3.test.", ZoneOptions{Denial: NSEC3, Faults: []Fault{{Kind: IrrelevantDenial}}}},
	{"nowildproof.test.", ZoneOptions{Faults: []Fault{{Kind: WildcardWithoutProof}}}},
	{"keytrap.test.", ZoneOptions{Faults: []Fault{{Kind: KeyTrap}}}},
	{"keytraprsa.test.", ZoneOptions{Algorithm: dns.RSASHA256, RSABits: 1024, SplitKeys: true,
		Faults: []Fault{{Kind: KeyTrap, Count: 8}}}},
	{"iter500.test.", ZoneOptions{Denial: NSEC3, NSEC3Iterations: 500}},
	{"iter500bad.test.", ZoneOptions{Denial: NSEC3, NSEC3Iterations: 500,
		Faults: []Fault{{Kind: CorruptSignature, Type: dns.TypeNSEC3}}}},
	{"revoked.test.", ZoneOptions{Faults: []Fault{{Kind: RevokedKey, Name: "www", Type: dns.TypeA}}}},
	{"revokedksk.test.", ZoneOptions{SplitKeys: true, Faults: []Fault{{Kind: RevokedKSK}}}},
	{"replay.test.", ZoneOptions{}},
	{"sub.replay.test.", ZoneOptions{Faults: []Fault{{Kind: ReplayedWildcardSignature, Name: "www", Type: dns.TypeA}}}},
	{"other.replay.test.", ZoneOptions{Faults: []Fault{
		{Kind: ReplayedWildcardSignature, Name: "www", Type: dns.TypeA, Signer: "replay.test."}}}},
	{"misplaced.test.", ZoneOptions{Denial: NSEC3, Faults: []Fault{{Kind: WrongNSEC3Owner}}}},
}

func newFaultLab(t *testing.T) *Lab {
	t.Helper()
	l := New(Config{Now: testNow})
	t.Cleanup(l.Close)
	l.Zone(".", ZoneOptions{})
	l.Zone("test.", ZoneOptions{})
	for _, fz := range faultZones {
		l.Zone(fz.origin, fz.opts).Add(`
www     A  192.0.2.1
mail    A  192.0.2.2
*.wild  A  192.0.2.3
`)
	}
	if err := l.Start(); err != nil {
		t.Fatalf("Start() = %v", err)
	}
	return l
}

// signatureResults verifies each RRSIG in rrs over the RRset of its owner
// and type in rrs, and returns the number that verify and that fail.
func signatureResults(l *Lab, rrs []dns.RR) (ok, failed int) {
	sets := make(map[rrsetKey][]dns.RR)
	for _, rr := range rrs {
		if rr.Header().Rrtype != dns.TypeRRSIG {
			k := rrsetKey{strings.ToLower(rr.Header().Name), rr.Header().Rrtype}
			sets[k] = append(sets[k], rr)
		}
	}
	for _, sig := range records[*dns.RRSIG](rrs) {
		if verifyWithSigner(l, sig, sets[rrsetKey{strings.ToLower(sig.Hdr.Name), sig.TypeCovered}]) == nil {
			ok++
		} else {
			failed++
		}
	}
	return ok, failed
}

func TestFaults(t *testing.T) {
	l := newFaultLab(t)
	ask := func(t *testing.T, zone, name string, qtype uint16) *dns.Msg {
		t.Helper()
		return query(t, l.Authoritative(zone), name, qtype, true)
	}
	sigOf := func(t *testing.T, m *dns.Msg) *dns.RRSIG {
		t.Helper()
		sigs := records[*dns.RRSIG](m.Answer)
		if len(sigs) != 1 {
			t.Fatalf("answer has %d RRSIGs, want 1: %v", len(sigs), m.Answer)
		}
		return sigs[0]
	}

	t.Run("ExpiredSignatures on one RRset", func(t *testing.T) {
		if sig := sigOf(t, ask(t, "expired.test.", "www.expired.test.", dns.TypeA)); sig.ValidityPeriod(l.Now()) {
			t.Errorf("www RRSIG valid at %v, want expired", l.Now())
		} else if int64(sig.Expiration) >= l.Now().Unix() {
			t.Errorf("www RRSIG expiration %d not before now %d", sig.Expiration, l.Now().Unix())
		}
		if sig := sigOf(t, ask(t, "expired.test.", "mail.expired.test.", dns.TypeA)); !sig.ValidityPeriod(l.Now()) {
			t.Error("mail RRSIG not valid; the fault should target www A only")
		}
	})
	t.Run("ExpiredSignatures on the zone", func(t *testing.T) {
		resp := ask(t, "expiredall.test.", "expiredall.test.", dns.TypeDNSKEY)
		for _, sig := range records[*dns.RRSIG](resp.Answer) {
			if sig.ValidityPeriod(l.Now()) {
				t.Errorf("DNSKEY RRSIG %d valid, want expired", sig.KeyTag)
			}
		}
		if ok, failed := signatureResults(l, resp.Answer); ok != 1 || failed != 0 {
			t.Errorf("%d signatures verify and %d fail, want 1 and 0: only the time is wrong", ok, failed)
		}
	})
	t.Run("NotYetValidSignatures", func(t *testing.T) {
		sig := sigOf(t, ask(t, "future.test.", "www.future.test.", dns.TypeA))
		if int64(sig.Inception) <= l.Now().Unix() {
			t.Errorf("inception %d not after now %d", sig.Inception, l.Now().Unix())
		}
	})
	t.Run("WrongDS", func(t *testing.T) {
		ds := records[*dns.DS](ask(t, "test.", "wrongds.test.", dns.TypeDS).Answer)
		keys := records[*dns.DNSKEY](ask(t, "wrongds.test.", "wrongds.test.", dns.TypeDNSKEY).Answer)
		if len(ds) != 1 || len(keys) == 0 {
			t.Fatalf("%d DS and %d DNSKEYs, want 1 and some", len(ds), len(keys))
		}
		for _, k := range keys {
			if strings.EqualFold(k.ToDS(dns.SHA256).Digest, ds[0].Digest) {
				t.Errorf("DNSKEY %d matches the DS, want none to", k.KeyTag())
			}
		}
	})
	t.Run("UnsupportedDS", func(t *testing.T) {
		alg := records[*dns.DS](ask(t, "test.", "unsupalg.test.", dns.TypeDS).Answer)
		if len(alg) != 1 || alg[0].Algorithm != dns.PRIVATEDNS {
			t.Errorf("unsupalg.test. DS = %v, want one record with algorithm 253", alg)
		}
		digest := records[*dns.DS](ask(t, "test.", "unsupdigest.test.", dns.TypeDS).Answer)
		if len(digest) != 1 || digest[0].DigestType != 99 {
			t.Errorf("unsupdigest.test. DS = %v, want one record with digest type 99", digest)
		}
	})
	t.Run("WrongSHA256DS", func(t *testing.T) {
		ds := records[*dns.DS](ask(t, "test.", "wrongsha256.test.", dns.TypeDS).Answer)
		keys := records[*dns.DNSKEY](ask(t, "wrongsha256.test.", "wrongsha256.test.", dns.TypeDNSKEY).Answer)
		matched := map[uint8]bool{}
		for _, d := range ds {
			for _, k := range keys {
				if strings.EqualFold(k.ToDS(d.DigestType).Digest, d.Digest) {
					matched[d.DigestType] = true
				}
			}
		}
		if len(ds) != 2 || !matched[dns.SHA1] || matched[dns.SHA256] {
			t.Errorf("DS = %v, want a SHA-1 record that matches a key and a SHA-256 one that matches none", ds)
		}
	})
	t.Run("MissingRRSIG", func(t *testing.T) {
		if n := countType(ask(t, "missing.test.", "www.missing.test.", dns.TypeA).Answer, dns.TypeRRSIG); n != 0 {
			t.Errorf("www A has %d RRSIGs, want 0", n)
		}
		if n := countType(ask(t, "missing.test.", "mail.missing.test.", dns.TypeA).Answer, dns.TypeRRSIG); n != 1 {
			t.Errorf("mail A has %d RRSIGs, want 1", n)
		}
	})
	t.Run("UnsignedDNSKEY", func(t *testing.T) {
		resp := ask(t, "nokeysig.test.", "nokeysig.test.", dns.TypeDNSKEY)
		if countType(resp.Answer, dns.TypeDNSKEY) == 0 || countType(resp.Answer, dns.TypeRRSIG) != 0 {
			t.Errorf("answer = %v, want DNSKEYs without RRSIG", resp.Answer)
		}
	})
	t.Run("AlteredData", func(t *testing.T) {
		resp := ask(t, "altered.test.", "www.altered.test.", dns.TypeA)
		as := records[*dns.A](resp.Answer)
		if len(as) != 1 || as[0].A.String() == "192.0.2.1" {
			t.Fatalf("served A = %v, want an address other than the signed 192.0.2.1", as)
		}
		sig := sigOf(t, resp)
		if err := verifyWithSigner(l, sig, []dns.RR{as[0]}); err == nil {
			t.Error("RRSIG verifies over the served data")
		}
		original, _ := dns.NewRR("www.altered.test. 3600 IN A 192.0.2.1")
		if err := verifyWithSigner(l, sig, []dns.RR{original}); err != nil {
			t.Errorf("RRSIG does not verify over the original data: %v", err)
		}
	})
	t.Run("CorruptSignature", func(t *testing.T) {
		resp := ask(t, "corrupt.test.", "www.corrupt.test.", dns.TypeA)
		if ok, failed := signatureResults(l, resp.Answer); ok != 0 || failed != 1 {
			t.Errorf("%d signatures verify and %d fail, want 0 and 1", ok, failed)
		}
	})
	t.Run("IrrelevantDenial NSEC", func(t *testing.T) {
		const qname = "nope.irrelevant.test."
		resp := ask(t, "irrelevant.test.", qname, dns.TypeA)
		nsecs := records[*dns.NSEC](resp.Ns)
		if len(nsecs) != 1 {
			t.Fatalf("%d NSEC records, want 1", len(nsecs))
		}
		for _, name := range []string{qname, "*.irrelevant.test."} {
			if nsecCovers(nsecs[0], name) || nsecs[0].Hdr.Name == name {
				t.Errorf("NSEC %s -> %s proves something about %s", nsecs[0].Hdr.Name, nsecs[0].NextDomain, name)
			}
		}
		if ok, failed := signatureResults(l, resp.Ns); failed != 0 || ok != 2 {
			t.Errorf("%d signatures verify and %d fail, want 2 (SOA, NSEC) and 0", ok, failed)
		}
	})
	t.Run("IrrelevantDenial NSEC3", func(t *testing.T) {
		const qname = "nope.irrelevant3.test."
		resp := ask(t, "irrelevant3.test.", qname, dns.TypeA)
		nsec3s := records[*dns.NSEC3](resp.Ns)
		if len(nsec3s) != 1 {
			t.Fatalf("%d NSEC3 records, want 1", len(nsec3s))
		}
		for _, name := range []string{qname, "irrelevant3.test.", "*.irrelevant3.test."} {
			if nsec3s[0].Cover(name) || nsec3s[0].Match(name) {
				t.Errorf("NSEC3 %s proves something about %s", nsec3s[0].Hdr.Name, name)
			}
		}
		if _, failed := signatureResults(l, resp.Ns); failed != 0 {
			t.Errorf("%d signatures fail, want the irrelevant NSEC3 validly signed", failed)
		}
	})
	t.Run("WildcardWithoutProof", func(t *testing.T) {
		resp := ask(t, "nowildproof.test.", "host.wild.nowildproof.test.", dns.TypeA)
		sig := sigOf(t, resp)
		if int(sig.Labels) >= dns.CountLabel("host.wild.nowildproof.test.") {
			t.Errorf("RRSIG labels %d, want a wildcard expansion", sig.Labels)
		}
		if n := countType(resp.Ns, dns.TypeNSEC) + countType(resp.Ns, dns.TypeNSEC3); n != 0 {
			t.Errorf("authority has %d denial records, want none", n)
		}
	})
	t.Run("KeyTrap", func(t *testing.T) {
		for _, zone := range []string{"keytrap.test.", "keytraprsa.test."} {
			checkKeyTrap(t, l, zone)
		}
	})
	t.Run("NSEC3 500 iterations", func(t *testing.T) {
		resp := ask(t, "iter500.test.", "nope.iter500.test.", dns.TypeA)
		nsec3s := records[*dns.NSEC3](resp.Ns)
		if len(nsec3s) == 0 || nsec3s[0].Iterations != 500 {
			t.Fatalf("NSEC3 records = %v, want 500 iterations", nsec3s)
		}
		if _, failed := signatureResults(l, resp.Ns); failed != 0 {
			t.Errorf("%d signatures fail, want none", failed)
		}
	})
	t.Run("NSEC3 500 iterations with bad signatures", func(t *testing.T) {
		resp := ask(t, "iter500bad.test.", "nope.iter500bad.test.", dns.TypeA)
		nsec3s := records[*dns.NSEC3](resp.Ns)
		if len(nsec3s) == 0 || nsec3s[0].Iterations != 500 {
			t.Fatalf("NSEC3 records = %v, want 500 iterations", nsec3s)
		}
		ok, failed := signatureResults(l, resp.Ns)
		if ok != 1 || failed != len(nsec3s) {
			t.Errorf("%d signatures verify and %d fail, want 1 (SOA) and %d (NSEC3)", ok, failed, len(nsec3s))
		}
	})
	t.Run("RevokedKey", func(t *testing.T) {
		keys := ask(t, "revoked.test.", "revoked.test.", dns.TypeDNSKEY)
		var revoked *dns.DNSKEY
		for _, k := range records[*dns.DNSKEY](keys.Answer) {
			if k.Flags&dns.REVOKE != 0 {
				revoked = k
			}
		}
		if revoked == nil {
			t.Fatal("no DNSKEY with the REVOKE flag")
		}
		if ok, failed := signatureResults(l, keys.Answer); ok != 2 || failed != 0 {
			t.Errorf("DNSKEY RRset: %d signatures verify, %d fail; want 2 (KSK and revoked key) and 0", ok, failed)
		}
		sig := sigOf(t, ask(t, "revoked.test.", "www.revoked.test.", dns.TypeA))
		if sig.KeyTag != revoked.KeyTag() {
			t.Errorf("www A signed by key %d, want the revoked key %d", sig.KeyTag, revoked.KeyTag())
		}
		ds := l.ZoneAt("revoked.test.").DS()[0]
		if ds.KeyTag == revoked.KeyTag() {
			t.Error("DS points to the revoked key, want the real KSK")
		}
	})
	t.Run("RevokedKSK", func(t *testing.T) {
		ds := l.ZoneAt("revokedksk.test.").DS()[0]
		found := false
		for _, k := range l.ZoneAt("revokedksk.test.").DNSKEYs() {
			if k.KeyTag() == ds.KeyTag && strings.EqualFold(k.ToDS(dns.SHA256).Digest, ds.Digest) {
				found = true
				if k.Flags&dns.REVOKE == 0 {
					t.Errorf("the KSK the DS points to has flags %d, want REVOKE set", k.Flags)
				}
			}
		}
		if !found {
			t.Error("no DNSKEY matches the DS")
		}
	})
	t.Run("ReplayedWildcardSignature own key", func(t *testing.T) {
		sig := sigOf(t, ask(t, "sub.replay.test.", "www.sub.replay.test.", dns.TypeA))
		if sig.SignerName != "sub.replay.test." || sig.Labels != 2 {
			t.Errorf("RRSIG signer %s labels %d, want sub.replay.test. and 2", sig.SignerName, sig.Labels)
		}
		if int(sig.Labels) >= dns.CountLabel(sig.SignerName) {
			t.Errorf("labels %d not below the signer's label count", sig.Labels)
		}
		a, _ := dns.NewRR("www.sub.replay.test. 3600 IN A 192.0.2.1")
		if err := verifyWithSigner(l, sig, []dns.RR{a}); err != nil {
			t.Errorf("replayed RRSIG does not verify as *.replay.test.: %v", err)
		}
	})
	t.Run("ReplayedWildcardSignature other zone", func(t *testing.T) {
		sig := sigOf(t, ask(t, "other.replay.test.", "www.other.replay.test.", dns.TypeA))
		if sig.SignerName != "replay.test." || sig.Labels != 2 {
			t.Errorf("RRSIG signer %s labels %d, want replay.test. and 2", sig.SignerName, sig.Labels)
		}
		a, _ := dns.NewRR("www.other.replay.test. 3600 IN A 192.0.2.1")
		if err := verifyWithSigner(l, sig, []dns.RR{a}); err != nil {
			t.Errorf("replayed RRSIG does not verify with replay.test.'s key: %v", err)
		}
	})
	t.Run("WrongNSEC3Owner", func(t *testing.T) {
		resp := ask(t, "misplaced.test.", "nope.misplaced.test.", dns.TypeA)
		nsec3s := records[*dns.NSEC3](resp.Ns)
		if len(nsec3s) == 0 {
			t.Fatal("no NSEC3 records")
		}
		for _, n := range nsec3s {
			if !strings.HasSuffix(n.Hdr.Name, ".misplaced.misplaced.test.") {
				t.Errorf("NSEC3 owner %s, want <hash>.misplaced.misplaced.test.", n.Hdr.Name)
			}
		}
		if _, failed := signatureResults(l, resp.Ns); failed != 0 {
			t.Errorf("%d signatures fail, want the misplaced records validly signed", failed)
		}
	})
}

// checkKeyTrap checks the KeyTrap fault of zone: many keys share one tag,
// and only one of the many signatures over an RRset verifies.
func checkKeyTrap(t *testing.T, l *Lab, zone string) {
	t.Helper()
	want := 40
	for _, fz := range faultZones {
		if fz.origin == zone && fz.opts.Faults[0].Count > 0 {
			want = fz.opts.Faults[0].Count
		}
	}
	keys := records[*dns.DNSKEY](query(t, l.Authoritative(zone), zone, dns.TypeDNSKEY, true).Answer)
	z := l.ZoneAt(zone)
	tag := z.keys.zsk.tag()
	sharing := 0
	for _, k := range keys {
		if k.KeyTag() == tag {
			sharing++
		}
	}
	if sharing != want+1 {
		t.Errorf("%s: %d DNSKEYs with tag %d, want %d", zone, sharing, tag, want+1)
	}

	resp := query(t, l.Authoritative(zone), "www."+zone, dns.TypeA, true)
	sigs := records[*dns.RRSIG](resp.Answer)
	if len(sigs) != want+1 {
		t.Errorf("%s: www A has %d RRSIGs, want %d", zone, len(sigs), want+1)
	}
	verified := 0
	rrset := []dns.RR{records[*dns.A](resp.Answer)[0]}
	for _, sig := range sigs {
		if sig.KeyTag != tag {
			t.Errorf("%s: RRSIG with tag %d, want all %d", zone, sig.KeyTag, tag)
		}
		for _, k := range keys {
			if k.KeyTag() == tag && dnscrypto.Verify(sig, k, rrset) == nil {
				verified++
			}
		}
	}
	if verified != 1 {
		t.Errorf("%s: %d key and signature pairs verify, want 1", zone, verified)
	}
}

func TestFaultsThroughResolver(t *testing.T) {
	l := newFaultLab(t)
	resp := query(t, l.Resolver(Normal), "www.expired.test.", dns.TypeA, true)
	sigs := records[*dns.RRSIG](resp.Answer)
	if len(sigs) != 1 || sigs[0].ValidityPeriod(l.Now()) {
		t.Errorf("answer via the resolver = %v, want the expired RRSIG", resp.Answer)
	}
}
