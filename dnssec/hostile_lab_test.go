package dnssec_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mxclient/mxclient/dnssec"
	"github.com/mxclient/mxclient/dnssec/dnssectest"
)

// tamperSource asks the lab's Normal resolver and lets a test rewrite the
// response to one query, the way a hostile upstream resolver would.
type tamperSource struct {
	inner  dnssec.Source
	name   string
	qtype  uint16
	armed  atomic.Bool
	tamper func(m *dns.Msg)
}

func (s *tamperSource) Query(ctx context.Context, name string, qtype uint16) (*dns.Msg, error) {
	m, err := s.inner.Query(ctx, name, qtype)
	if err != nil || !s.armed.Load() || qtype != s.qtype || !strings.EqualFold(name, s.name) {
		return m, err
	}
	s.tamper(m)
	return m, nil
}

func newTamperValidator(t *testing.T, lab *dnssectest.Lab, src *tamperSource) *dnssec.Validator {
	t.Helper()
	src.inner = &dnssec.Upstream{Servers: []string{lab.Resolver(dnssectest.Normal)}, QueryTimeout: 300 * time.Millisecond, Attempts: 2}
	v, err := dnssec.New(dnssec.Config{Source: src, Anchors: labAnchors(t, lab), Now: func() time.Time { return labNow }})
	if err != nil {
		t.Fatalf("dnssec.New = %v", err)
	}
	return v
}

func stripAnswerRRSIGs(m *dns.Msg) {
	var unsigned []dns.RR
	for _, rr := range m.Answer {
		if rr.Header().Rrtype != dns.TypeRRSIG {
			unsigned = append(unsigned, rr)
		}
	}
	m.Answer = unsigned
}

// TestStrippedAnswerInHighIterationZone strips the RRSIG from a
// signed answer. In nsec3.test. that is bogus. In iter500.test., whose NSEC3
// records use 500 iterations, the walk towards the owner asks for the DS
// RRset of www.iter500.test., gets a NODATA proof it may not hash (RFC 9276
// §3.2), reads that as an unsigned delegation, and calls the forged answer
// insecure although the zone is signed and the name is no zone cut.
func TestStrippedAnswerInHighIterationZone(t *testing.T) {
	lab := standardLab(t)
	for _, name := range []string{"www.nsec3.test.", "www.iter500.test."} {
		t.Run(name, func(t *testing.T) {
			src := &tamperSource{name: name, qtype: dns.TypeA, tamper: stripAnswerRRSIGs}
			src.armed.Store(true)
			v := newTamperValidator(t, lab, src)
			res := lookup(t, v, name, dns.TypeA)
			if res.Security != dnssec.Bogus {
				t.Errorf("Lookup(%s A) without its RRSIG = %s, want bogus%s", name, describe(res), chainText(res))
			}
		})
	}
}

// TestLiteralWildcardOwner asks for the wildcard's own name. Its
// RRSIG labels field is one less than the owner's label count because the
// "*" label is not counted (RFC 4034 §3.1.3), which is no expansion, so no
// proof of non-existence is needed (RFC 4035 §5.3.4).
func TestLiteralWildcardOwner(t *testing.T) {
	lab := standardLab(t)
	v := newValidator(t, lab, dnssectest.Normal, dnssec.Limits{})
	res := lookup(t, v, "*.wild.example.test.", dns.TypeA)
	if res.Security != dnssec.Secure {
		t.Errorf("Lookup(*.wild.example.test. A) = %s, want secure%s", describe(res), chainText(res))
	}
}

// TestForgedDSAtInsecureDelegation answers a DS query for the unsigned
// delegation unsigned.example.test. with a DS record that carries no RRSIG.
// DS records live in the parent, example.test., which is signed, so an
// unsigned DS RRset is bogus, even though the child zone is unsigned.
func TestForgedDSAtInsecureDelegation(t *testing.T) {
	lab := standardLab(t)
	const child = "unsigned.example.test."
	forged, err := dns.NewRR(child + " 300 IN DS 12345 13 2 " + strings.Repeat("ab", 32))
	if err != nil {
		t.Fatal(err)
	}
	src := &tamperSource{name: child, qtype: dns.TypeDS, tamper: func(m *dns.Msg) {
		m.Rcode = dns.RcodeSuccess
		m.Answer = []dns.RR{forged}
		m.Ns = nil
	}}
	v := newTamperValidator(t, lab, src)
	src.armed.Store(true)
	res := lookup(t, v, child, dns.TypeDS)
	if res.Security != dnssec.Bogus {
		t.Errorf("Lookup(%s DS) with an unsigned forged DS = %s, want bogus%s", child, describe(res), chainText(res))
	}
}

// TestQueryTypesBelowDNAME asks for the CNAME and the DNAME type at
// www.dn.example.test., below the DNAME dn.example.test. -> nsec3.test. A
// server synthesizes the unsigned CNAME for every query type there (RFC
// 6672 §3.2). readResponse takes that CNAME as the answer to a CNAME query,
// and skips the DNAME for a DNAME query, so both end up proving an
// unsigned CNAME in a signed zone.
func TestQueryTypesBelowDNAME(t *testing.T) {
	lab := standardLab(t)
	v := newValidator(t, lab, dnssectest.Normal, dnssec.Limits{})
	for _, qtype := range []uint16{dns.TypeCNAME, dns.TypeDNAME} {
		res := lookup(t, v, "www.dn.example.test.", qtype)
		if res.Security != dnssec.Secure {
			t.Errorf("Lookup(www.dn.example.test. %s) = %s, want secure%s",
				dns.TypeToString[qtype], describe(res), chainText(res))
		}
	}
}
