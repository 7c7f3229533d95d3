//go:debug rsa1024min=0

package dnssec_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mxclient/mxclient/dnssec"
	"github.com/mxclient/mxclient/dnssec/dnssectest"
	"github.com/mxclient/mxclient/trustanchor"
)

// labNow is the pinned time at which labs sign and validators validate.
var labNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

var (
	sharedOnce sync.Once
	sharedLab  *dnssectest.Lab
	sharedErr  error
)

// standardLab returns one lab shared by the tests of this package: a root,
// TLDs and zones covering every algorithm, NSEC, NSEC3, opt-out, unsigned
// delegations and the fault catalogue. Tests only read from it.
func standardLab(t *testing.T) *dnssectest.Lab {
	t.Helper()
	sharedOnce.Do(func() {
		sharedLab = buildStandardLab()
		sharedErr = sharedLab.Start()
	})
	if sharedErr != nil {
		t.Fatalf("starting the lab: %v", sharedErr)
	}
	return sharedLab
}

func buildStandardLab() *dnssectest.Lab {
	l := dnssectest.New(dnssectest.Config{Now: labNow})
	l.Zone(".", dnssectest.ZoneOptions{})
	l.Zone("test.", dnssectest.ZoneOptions{SplitKeys: true})
	l.Zone("example.test.", dnssectest.ZoneOptions{}).Add(`
@        MX    10 mail
www      A     192.0.2.1
mail     A     192.0.2.25
*.wild   A     192.0.2.99
alias    CNAME www
away     CNAME www.nsec3.test.
toinsecure CNAME www.unsigned.example.test.
tobogus  CNAME www.altered.test.
tonx     CNAME nope.nsec3.test.
loop1    CNAME loop2
loop2    CNAME loop1
dn       DNAME nsec3.test.
a.b.c    TXT   "below empty non-terminals"
c1 CNAME c2
c2 CNAME c3
c3 CNAME c4
c4 CNAME c5
c5 CNAME c6
c6 CNAME c7
c7 CNAME c8
c8 CNAME c9
c9 CNAME c10
c10 CNAME www
`)
	l.Zone("unsigned.example.test.", dnssectest.ZoneOptions{Unsigned: true}).Add("www A 192.0.2.7")

	l.Zone("nsec3.test.", dnssectest.ZoneOptions{Denial: dnssectest.NSEC3, NSEC3Salt: "aabbccdd", NSEC3Iterations: 5}).Add(`
www         A    192.0.2.3
*.wild      TXT  "wildcard"
deep.a.b    TXT  "two empty non-terminals up"
`)
	l.Zone("child.nsec3.test.", dnssectest.ZoneOptions{}).Add("www A 192.0.2.4")
	l.Zone("unsigned.nsec3.test.", dnssectest.ZoneOptions{Unsigned: true}).Add("www A 192.0.2.5")

	l.Zone("optout.test.", dnssectest.ZoneOptions{Denial: dnssectest.NSEC3OptOut})
	l.Zone("signed.optout.test.", dnssectest.ZoneOptions{}).Add("www A 192.0.2.6")
	l.Zone("unsigned.optout.test.", dnssectest.ZoneOptions{Unsigned: true}).Add("www A 192.0.2.8")

	for _, alg := range []struct {
		zone string
		opts dnssectest.ZoneOptions
	}{
		{"alg5.test.", dnssectest.ZoneOptions{Algorithm: dns.RSASHA1, RSABits: 1024}},
		{"alg7.test.", dnssectest.ZoneOptions{Algorithm: dns.RSASHA1NSEC3SHA1, RSABits: 1024, Denial: dnssectest.NSEC3}},
		{"alg8.test.", dnssectest.ZoneOptions{Algorithm: dns.RSASHA256, RSABits: 2048, SplitKeys: true}},
		{"alg8-512.test.", dnssectest.ZoneOptions{Algorithm: dns.RSASHA256, RSABits: 512}},
		{"alg8-4096.test.", dnssectest.ZoneOptions{Algorithm: dns.RSASHA256, RSABits: 4096}},
		{"alg10.test.", dnssectest.ZoneOptions{Algorithm: dns.RSASHA512, RSABits: 1024}},
		{"alg13.test.", dnssectest.ZoneOptions{Algorithm: dns.ECDSAP256SHA256}},
		{"alg14.test.", dnssectest.ZoneOptions{Algorithm: dns.ECDSAP384SHA384}},
		{"alg15.test.", dnssectest.ZoneOptions{Algorithm: dns.ED25519}},
		{"alg16.test.", dnssectest.ZoneOptions{Algorithm: dns.ED448}},
	} {
		l.Zone(alg.zone, alg.opts).Add("www A 192.0.2.10")
	}

	faulty := func(zone string, opts dnssectest.ZoneOptions, faults ...dnssectest.Fault) {
		opts.Faults = faults
		l.Zone(zone, opts).Add("www A 192.0.2.66\n*.wild A 192.0.2.67")
	}
	www := func(k dnssectest.FaultKind) dnssectest.Fault {
		return dnssectest.Fault{Kind: k, Name: "www", Type: dns.TypeA}
	}
	faulty("expired.test.", dnssectest.ZoneOptions{}, dnssectest.Fault{Kind: dnssectest.ExpiredSignatures})
	faulty("expiredrr.test.", dnssectest.ZoneOptions{}, www(dnssectest.ExpiredSignatures))
	faulty("notyet.test.", dnssectest.ZoneOptions{}, www(dnssectest.NotYetValidSignatures))
	faulty("wrongds.test.", dnssectest.ZoneOptions{}, dnssectest.Fault{Kind: dnssectest.WrongDS})
	faulty("unsupalg.test.", dnssectest.ZoneOptions{}, dnssectest.Fault{Kind: dnssectest.UnsupportedDSAlgorithm})
	faulty("unsupdigest.test.", dnssectest.ZoneOptions{}, dnssectest.Fault{Kind: dnssectest.UnsupportedDSDigest})
	faulty("wrongsha256.test.", dnssectest.ZoneOptions{}, dnssectest.Fault{Kind: dnssectest.WrongSHA256DS})
	faulty("missingsig.test.", dnssectest.ZoneOptions{}, www(dnssectest.MissingRRSIG))
	faulty("unsigneddnskey.test.", dnssectest.ZoneOptions{}, dnssectest.Fault{Kind: dnssectest.UnsignedDNSKEY})
	faulty("altered.test.", dnssectest.ZoneOptions{}, www(dnssectest.AlteredData))
	faulty("corrupt.test.", dnssectest.ZoneOptions{}, www(dnssectest.CorruptSignature))
	faulty("irrelevant.test.", dnssectest.ZoneOptions{}, dnssectest.Fault{Kind: dnssectest.IrrelevantDenial})
	faulty("irrelevant3.test.", dnssectest.ZoneOptions{Denial: dnssectest.NSEC3}, dnssectest.Fault{Kind: dnssectest.IrrelevantDenial})
	faulty("wildnoproof.test.", dnssectest.ZoneOptions{}, dnssectest.Fault{Kind: dnssectest.WildcardWithoutProof})
	faulty("wildnoproof3.test.", dnssectest.ZoneOptions{Denial: dnssectest.NSEC3}, dnssectest.Fault{Kind: dnssectest.WildcardWithoutProof})
	faulty("keytrap.test.", dnssectest.ZoneOptions{}, dnssectest.Fault{Kind: dnssectest.KeyTrap})
	faulty("keytrapsplit.test.", dnssectest.ZoneOptions{SplitKeys: true}, dnssectest.Fault{Kind: dnssectest.KeyTrap})
	faulty("keytraprsa.test.", dnssectest.ZoneOptions{Algorithm: dns.RSASHA256, RSABits: 1024, SplitKeys: true},
		dnssectest.Fault{Kind: dnssectest.KeyTrap})
	faulty("iter500.test.", dnssectest.ZoneOptions{Denial: dnssectest.NSEC3, NSEC3Iterations: 500})
	faulty("iter500bad.test.", dnssectest.ZoneOptions{Denial: dnssectest.NSEC3, NSEC3Iterations: 500},
		dnssectest.Fault{Kind: dnssectest.CorruptSignature, Type: dns.TypeNSEC3})
	faulty("revoked.test.", dnssectest.ZoneOptions{}, www(dnssectest.RevokedKey))
	faulty("revokedksk.test.", dnssectest.ZoneOptions{SplitKeys: true}, dnssectest.Fault{Kind: dnssectest.RevokedKSK})
	faulty("wrongowner.test.", dnssectest.ZoneOptions{Denial: dnssectest.NSEC3}, dnssectest.Fault{Kind: dnssectest.WrongNSEC3Owner})
	l.Zone("replay.test.", dnssectest.ZoneOptions{}).Add("*.sub A 192.0.2.68")
	l.Zone("sub.replay.test.", dnssectest.ZoneOptions{Faults: []dnssectest.Fault{
		{Kind: dnssectest.ReplayedWildcardSignature, Name: "www", Type: dns.TypeA},
	}}).Add("www A 192.0.2.69")
	return l
}

// labAnchors converts the lab's root DS records into trust anchors.
func labAnchors(t *testing.T, lab *dnssectest.Lab) []trustanchor.Anchor {
	t.Helper()
	var anchors []trustanchor.Anchor
	for _, rr := range lab.TrustAnchor() {
		ds, ok := rr.(*dns.DS)
		if !ok {
			t.Fatalf("lab trust anchor %v is not a DS record", rr)
		}
		anchors = append(anchors, trustanchor.Anchor{DS: ds, Source: "lab"})
	}
	return anchors
}

// newValidator returns a validator that asks the lab's resolver stand-in
// in the given mode, at the pinned time.
func newValidator(t *testing.T, lab *dnssectest.Lab, mode dnssectest.ResolverMode, limits dnssec.Limits) *dnssec.Validator {
	t.Helper()
	up := &dnssec.Upstream{Servers: []string{lab.Resolver(mode)}, QueryTimeout: 300 * time.Millisecond, Attempts: 2}
	v, err := dnssec.New(dnssec.Config{
		Source:  up,
		Anchors: labAnchors(t, lab),
		Now:     func() time.Time { return labNow },
		Limits:  limits,
	})
	if err != nil {
		t.Fatalf("dnssec.New = %v", err)
	}
	return v
}

// newIterValidator returns a validator that iterates from the lab's root
// hints, at the pinned time.
func newIterValidator(t *testing.T, lab *dnssectest.Lab, minimise bool, limits dnssec.Limits) *dnssec.Validator {
	t.Helper()
	roots, err := dnssec.ParseRootHints(strings.NewReader(lab.RootHints()), "lab root hints")
	if err != nil {
		t.Fatalf("ParseRootHints = %v", err)
	}
	it := &dnssec.Iterator{Roots: roots, QueryTimeout: 300 * time.Millisecond, NoQNAMEMinimisation: !minimise}
	v, err := dnssec.New(dnssec.Config{
		Source:  it,
		Anchors: labAnchors(t, lab),
		Now:     func() time.Time { return labNow },
		Limits:  limits,
	})
	if err != nil {
		t.Fatalf("dnssec.New = %v", err)
	}
	return v
}

func lookup(t *testing.T, v *dnssec.Validator, name string, qtype uint16) *dnssec.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := v.Lookup(ctx, name, qtype)
	if err != nil {
		t.Fatalf("Lookup(%s %s) error = %v", name, dns.TypeToString[qtype], err)
	}
	return res
}

// describe formats a result for failure messages.
func describe(res *dnssec.Result) string {
	s := res.Security.String() + " " + dns.RcodeToString[res.Rcode]
	if res.Reason != nil {
		s += " (" + res.Reason.Error() + ")"
	}
	return s
}

func chainText(res *dnssec.Result) string {
	var out string
	for _, st := range res.Chain {
		out += "\n\t" + st.String()
	}
	return out
}
