//go:debug rsa1024min=0

package dnssectest

import (
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mxclient/mxclient/internal/dnscrypto"
)

// testNow pins the signing time of the test labs.
var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// newHierarchy starts a lab with the hierarchy most tests query:
//
//	.                      NSEC, ECDSA P-256
//	net.                   NSEC3, KSK+ZSK
//	example.net.           NSEC, Ed25519: wildcard, CNAMEs, DNAME, loop
//	insecure.example.net.  unsigned
//	example.               NSEC
//	nsec3.example.         NSEC3 with salt and 5 iterations
//	child.nsec3.example.   NSEC
//	unsigned.nsec3.example. unsigned
//	optout.                NSEC3 opt-out
//	signed.optout.         NSEC
//	unsigned.optout.       unsigned
func newHierarchy(t *testing.T) *Lab {
	t.Helper()
	l := New(Config{Now: testNow})
	t.Cleanup(l.Close)

	l.Zone(".", ZoneOptions{})
	l.Zone("net.", ZoneOptions{Denial: NSEC3, SplitKeys: true})
	example := l.Zone("example.net.", ZoneOptions{Algorithm: dns.ED25519})
	example.Add(`
@        MX    10 mail
www      A     192.0.2.1
www      AAAA  2001:db8::1
mail     A     192.0.2.25
*.wild   A     192.0.2.99
alias    CNAME www
away     CNAME www.nsec3.example.
loop1    CNAME loop2
loop2    CNAME loop1
dn       DNAME nsec3.example.
a.b.c    TXT   "below an empty non-terminal"
`)
	l.Zone("insecure.example.net.", ZoneOptions{Unsigned: true}).Add("www A 192.0.2.7")

	l.Zone("example.", ZoneOptions{})
	nsec3 := l.Zone("nsec3.example.", ZoneOptions{Denial: NSEC3, NSEC3Salt: "aabbccdd", NSEC3Iterations: 5})
	nsec3.Add(`
www         A    192.0.2.3
*.wild      A    192.0.2.98
deep.a.b    TXT  "two empty non-terminals up"
`)
	l.Zone("child.nsec3.example.", ZoneOptions{}).Add("www A 192.0.2.4")
	l.Zone("unsigned.nsec3.example.", ZoneOptions{Unsigned: true}).Add("www A 192.0.2.5")

	l.Zone("optout.", ZoneOptions{Denial: NSEC3OptOut})
	l.Zone("signed.optout.", ZoneOptions{}).Add("www A 192.0.2.6")
	l.Zone("unsigned.optout.", ZoneOptions{Unsigned: true}).Add("www A 192.0.2.8")

	if err := l.Start(); err != nil {
		t.Fatalf("Start() = %v", err)
	}
	return l
}

// query sends one query over TCP with RD and, if do, the DO bit.
func query(t *testing.T, addr, name string, qtype uint16, do bool) *dns.Msg {
	t.Helper()
	return exchange(t, addr, "tcp", name, qtype, do)
}

func exchange(t *testing.T, addr, network, name string, qtype uint16, do bool) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	m.SetEdns0(4096, do)
	c := &dns.Client{Net: network, Timeout: 2 * time.Second}
	resp, _, err := c.Exchange(m, addr)
	if err != nil {
		t.Fatalf("querying %s %s at %s over %s: %v", name, dns.TypeToString[qtype], addr, network, err)
	}
	return resp
}

// rrsetKey identifies an RRset within one section.
type rrsetKey struct {
	owner string
	t     uint16
}

// verifySignatures checks every RRSIG in every section of m: it must cover
// an RRset of the same section, be valid at the lab's time and verify with
// a published key of its signer. It returns the number of RRSIGs checked.
func verifySignatures(t *testing.T, l *Lab, m *dns.Msg) int {
	t.Helper()
	checked := 0
	for _, section := range [][]dns.RR{m.Answer, m.Ns, m.Extra} {
		sets := make(map[rrsetKey][]dns.RR)
		for _, rr := range section {
			if rr.Header().Rrtype != dns.TypeRRSIG {
				k := rrsetKey{strings.ToLower(rr.Header().Name), rr.Header().Rrtype}
				sets[k] = append(sets[k], rr)
			}
		}
		for _, rr := range section {
			sig, ok := rr.(*dns.RRSIG)
			if !ok {
				continue
			}
			checked++
			rrset := sets[rrsetKey{strings.ToLower(sig.Hdr.Name), sig.TypeCovered}]
			if len(rrset) == 0 {
				t.Errorf("RRSIG %s %s covers no RRset in its section", sig.Hdr.Name, dns.TypeToString[sig.TypeCovered])
				continue
			}
			if !sig.ValidityPeriod(l.Now()) {
				t.Errorf("RRSIG over %s %s is not valid at %v",
					sig.Hdr.Name, dns.TypeToString[sig.TypeCovered], l.Now())
			}
			if err := verifyWithSigner(l, sig, rrset); err != nil {
				t.Errorf("RRSIG over %s %s by %s/%d: %v", sig.Hdr.Name, dns.TypeToString[sig.TypeCovered],
					sig.SignerName, sig.KeyTag, err)
			}
		}
	}
	return checked
}

// verifyWithSigner verifies sig with the signer zone's published key of
// the same tag and algorithm.
func verifyWithSigner(l *Lab, sig *dns.RRSIG, rrset []dns.RR) error {
	z := l.ZoneAt(sig.SignerName)
	if z == nil {
		return errNoSuchZone
	}
	var last error = errNoKey
	for _, k := range z.DNSKEYs() {
		if k.KeyTag() != sig.KeyTag || k.Algorithm != sig.Algorithm {
			continue
		}
		if last = dnscrypto.Verify(sig, k, rrset); last == nil {
			return nil
		}
	}
	return last
}

type testError string

func (e testError) Error() string { return string(e) }

const (
	errNoSuchZone = testError("signer is not a zone of the lab")
	errNoKey      = testError("no published key with the RRSIG's tag and algorithm")
)

// records returns the records of type t in rrs.
func records[T dns.RR](rrs []dns.RR) []T {
	var out []T
	for _, rr := range rrs {
		if x, ok := rr.(T); ok {
			out = append(out, x)
		}
	}
	return out
}

// countType returns the number of records of type t in rrs.
func countType(rrs []dns.RR, t uint16) int {
	n := 0
	for _, rr := range rrs {
		if rr.Header().Rrtype == t {
			n++
		}
	}
	return n
}

// nsec3Covers reports whether r covers name strictly, without matching it.
func nsec3Covers(r *dns.NSEC3, name string) bool {
	return r.Cover(name) && !r.Match(name)
}

// canonicalLess orders names by their reversed, lowercased labels, which
// is RFC 4034 §6.1 order for the plain ASCII names of these tests.
func canonicalLess(a, b string) bool {
	la := dns.SplitDomainName(strings.ToLower(a))
	lb := dns.SplitDomainName(strings.ToLower(b))
	for i := 1; i <= len(la) && i <= len(lb); i++ {
		x, y := la[len(la)-i], lb[len(lb)-i]
		if x != y {
			return x < y
		}
	}
	return len(la) < len(lb)
}

// nsecCovers reports whether n covers name strictly, counting the last NSEC
// of the chain, whose next name is the apex.
func nsecCovers(n *dns.NSEC, name string) bool {
	owner, next := n.Hdr.Name, n.NextDomain
	if canonicalLess(owner, next) {
		return canonicalLess(owner, name) && canonicalLess(name, next)
	}
	return canonicalLess(owner, name)
}

func hasType(bitmap []uint16, t uint16) bool {
	for _, x := range bitmap {
		if x == t {
			return true
		}
	}
	return false
}
