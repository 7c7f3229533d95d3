package dnssec

import (
	"testing"

	"github.com/miekg/dns"
)

// nsecWorld adds an NSEC-signed example.test. to a scriptedWorld. Its names,
// in canonical order, with y.example.test. an empty non-terminal:
//
//	example.test.               SOA NS MX DNSKEY
//	*.example.test.             A
//	mail.example.test.          A
//	_25._tcp.mail.example.test. TLSA
//	www.example.test.           A
//	z.y.example.test.           TXT
type nsecWorld struct {
	*scriptedWorld
	// nsec maps each owner to its NSEC record, signed.
	nsec map[string][]dns.RR
	// wildcardA and wildcardNSEC are the RRSIGs over the wildcard's A and
	// NSEC RRsets, the signatures a hostile upstream can replay.
	wildcardA, wildcardNSEC *dns.RRSIG
}

func newNSECWorld(t *testing.T) *nsecWorld {
	t.Helper()
	w := &nsecWorld{scriptedWorld: newScriptedWorld(t), nsec: map[string][]dns.RR{}}
	chain := []struct {
		owner string
		types []uint16
	}{
		{"example.test.", []uint16{dns.TypeNS, dns.TypeSOA, dns.TypeMX, dns.TypeRRSIG, dns.TypeNSEC, dns.TypeDNSKEY}},
		{"*.example.test.", []uint16{dns.TypeA, dns.TypeRRSIG, dns.TypeNSEC}},
		{"mail.example.test.", []uint16{dns.TypeA, dns.TypeRRSIG, dns.TypeNSEC}},
		{"_25._tcp.mail.example.test.", []uint16{dns.TypeRRSIG, dns.TypeNSEC, dns.TypeTLSA}},
		{"www.example.test.", []uint16{dns.TypeA, dns.TypeRRSIG, dns.TypeNSEC}},
		{"z.y.example.test.", []uint16{dns.TypeTXT, dns.TypeRRSIG, dns.TypeNSEC}},
	}
	for i, c := range chain {
		next := chain[(i+1)%len(chain)].owner
		w.nsec[c.owner] = w.zone.signed(t, scriptedNSEC(c.owner, next, c.types...))
	}
	w.wildcardNSEC = w.nsec["*.example.test."][1].(*dns.RRSIG)
	w.wildcardA = w.zone.sign(t, scriptedRR(t, "*.example.test. 300 IN A 192.0.2.99"))
	return w
}

// TestNSECWorldHonest checks the scripted zone itself: honest answers
// and denials validate, so the failures below come from the forgeries.
func TestNSECWorldHonest(t *testing.T) {
	w := newNSECWorld(t)
	w.src.set("www.example.test.", dns.TypeA, scriptedMsg(dns.RcodeSuccess,
		w.zone.signed(t, scriptedRR(t, "www.example.test. 300 IN A 192.0.2.1")), nil))
	w.src.set("www.example.test.", dns.TypeTXT, scriptedMsg(dns.RcodeSuccess, nil, w.nsec["www.example.test."]))
	w.src.set("b.example.test.", dns.TypeA, scriptedMsg(dns.RcodeSuccess,
		[]dns.RR{scriptedRR(t, "b.example.test. 300 IN A 192.0.2.99"), expandedSig(w.wildcardA, "b.example.test.")},
		w.nsec["*.example.test."]))
	v := w.validator(t, Limits{})
	for _, q := range []struct {
		name  string
		qtype uint16
	}{
		{"www.example.test.", dns.TypeA},
		{"www.example.test.", dns.TypeTXT},
		{"b.example.test.", dns.TypeA},
	} {
		res := scriptedLookup(t, v, q.name, q.qtype)
		if res.Security != Secure {
			t.Errorf("Lookup(%s %s) = %s, want secure", q.name, dns.TypeToString[q.qtype], scriptedDescribe(res))
		}
	}
}

// TestExpandedNSECForgesNODATA replays the wildcard's NSEC record at
// the name of an existing TLSA RRset. The RRSIG verifies because its labels
// field rebuilds the owner *.example.test., and the validator then reads
// the wildcard's type bitmap as the bitmap of the TLSA owner.
func TestExpandedNSECForgesNODATA(t *testing.T) {
	w := newNSECWorld(t)
	const tlsa = "_25._tcp.mail.example.test."
	forged := scriptedNSEC(tlsa, "mail.example.test.", dns.TypeA, dns.TypeRRSIG, dns.TypeNSEC)
	w.src.set(tlsa, dns.TypeTLSA, scriptedMsg(dns.RcodeSuccess, nil,
		[]dns.RR{forged, expandedSig(w.wildcardNSEC, tlsa)}))

	res := scriptedLookup(t, w.validator(t, Limits{}), tlsa, dns.TypeTLSA)
	if res.Security != Bogus {
		t.Errorf("Lookup(%s TLSA) with the wildcard NSEC moved to the owner = %s, want bogus",
			tlsa, scriptedDescribe(res))
	}
}

// TestExpandedNSECForgesNXDOMAIN moves the wildcard's NSEC record to
// two owners of the attacker's choice. At "!.mail.example.test." the span
// to mail.example.test. runs backwards, so it reads as the zone's last
// NSEC and covers every later name, www.example.test. among them. At
// "!.example.test." it covers the wildcard *.example.test. itself.
func TestExpandedNSECForgesNXDOMAIN(t *testing.T) {
	w := newNSECWorld(t)
	var authority []dns.RR
	for _, owner := range []string{"!.mail.example.test.", "!.example.test."} {
		authority = append(authority,
			scriptedNSEC(owner, "mail.example.test.", dns.TypeA, dns.TypeRRSIG, dns.TypeNSEC),
			expandedSig(w.wildcardNSEC, owner))
	}
	w.src.set("www.example.test.", dns.TypeA, scriptedMsg(dns.RcodeNameError, nil, authority))

	res := scriptedLookup(t, w.validator(t, Limits{}), "www.example.test.", dns.TypeA)
	if res.Security != Bogus {
		t.Errorf("Lookup(www.example.test. A) with relocated wildcard NSECs = %s, want bogus", scriptedDescribe(res))
	}
}

// TestNXDOMAINForEmptyNonTerminal answers NXDOMAIN for
// _tcp.mail.example.test., an empty non-terminal, with the zone's own NSEC
// mail.example.test. -> _25._tcp.mail.example.test. That NSEC covers the
// name, but its next name lies below the name, which proves the name exists
// (RFC 4035 §3.1.3.2 and §5.4): the response is NODATA, not NXDOMAIN.
func TestNXDOMAINForEmptyNonTerminal(t *testing.T) {
	w := newNSECWorld(t)
	const ent = "_tcp.mail.example.test."
	w.src.set(ent, dns.TypeA, scriptedMsg(dns.RcodeNameError, nil, w.nsec["mail.example.test."]))

	res := scriptedLookup(t, w.validator(t, Limits{}), ent, dns.TypeA)
	if res.Security == Secure && res.Rcode == dns.RcodeNameError {
		t.Errorf("Lookup(%s A) = %s, want bogus: the NSEC proves that the name exists", ent, scriptedDescribe(res))
	}
}

// TestWildcardOverEmptyNonTerminal answers x.y.example.test. with the
// expansion of *.example.test. The next closer name y.example.test. is an
// empty non-terminal (z.y.example.test. exists), so the wildcard does not
// apply there (RFC 4592 §3.3.1) and the right answer is NXDOMAIN. The NSEC
// www.example.test. -> z.y.example.test. covers y.example.test. only in the
// sense that no record is owned by it.
func TestWildcardOverEmptyNonTerminal(t *testing.T) {
	w := newNSECWorld(t)
	const name = "x.y.example.test."
	w.src.set(name, dns.TypeA, scriptedMsg(dns.RcodeSuccess,
		[]dns.RR{scriptedRR(t, name+" 300 IN A 192.0.2.99"), expandedSig(w.wildcardA, name)},
		w.nsec["www.example.test."]))

	res := scriptedLookup(t, w.validator(t, Limits{}), name, dns.TypeA)
	if res.Security == Secure {
		t.Errorf("Lookup(%s A) from *.example.test. across the empty non-terminal y.example.test. = %s, want bogus",
			name, scriptedDescribe(res))
	}
}

// TestExpandedNSECForgesWildcardAnswer answers the existing name
// www.example.test. with the expansion of *.example.test. and proves that
// www.example.test. does not exist with the wildcard's NSEC moved to
// "!.mail.example.test.", whose backwards span covers www.example.test.
func TestExpandedNSECForgesWildcardAnswer(t *testing.T) {
	w := newNSECWorld(t)
	const name = "www.example.test."
	const owner = "!.mail.example.test."
	w.src.set(name, dns.TypeA, scriptedMsg(dns.RcodeSuccess,
		[]dns.RR{scriptedRR(t, name+" 300 IN A 192.0.2.99"), expandedSig(w.wildcardA, name)},
		[]dns.RR{scriptedNSEC(owner, "mail.example.test.", dns.TypeA, dns.TypeRRSIG, dns.TypeNSEC),
			expandedSig(w.wildcardNSEC, owner)}))

	res := scriptedLookup(t, w.validator(t, Limits{}), name, dns.TypeA)
	if res.Security == Secure {
		t.Errorf("Lookup(%s A) answered from *.example.test. = %s, want bogus: the name exists", name, scriptedDescribe(res))
	}
}
