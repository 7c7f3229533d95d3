package dnssec_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mxclient/mxclient/dnssec"
	"github.com/mxclient/mxclient/dnssec/dnssectest"
)

// hostileTimeout is the Iterator's QueryTimeout in these tests: long
// enough for a loopback answer, short enough that silent servers cost
// little.
const hostileTimeout = 200 * time.Millisecond

var (
	hostileOnce sync.Once
	hostileLab  *dnssectest.Lab
	hostileErr  error
)

// hostileZones are the zones below test. of hostileLab with their options.
// Every zone holds www A 192.0.2.1.
var hostileZones = []struct {
	origin string
	opts   dnssectest.ZoneOptions
}{
	{"dead.test.", dnssectest.ZoneOptions{ExtraServers: []dnssectest.ExtraServer{
		{Kind: dnssectest.DeadServer}, {Kind: dnssectest.DeadServer}}}},
	{"silent.test.", dnssectest.ZoneOptions{ExtraServers: []dnssectest.ExtraServer{{Kind: dnssectest.SilentServer}}}},
	{"refused.test.", dnssectest.ZoneOptions{ExtraServers: []dnssectest.ExtraServer{
		{Kind: dnssectest.LameServer, Lame: dnssectest.LameRefused}}}},
	{"notauth.test.", dnssectest.ZoneOptions{ExtraServers: []dnssectest.ExtraServer{
		{Kind: dnssectest.LameServer, Lame: dnssectest.LameNotAuthoritative}}}},
	{"upward.test.", dnssectest.ZoneOptions{ExtraServers: []dnssectest.ExtraServer{
		{Kind: dnssectest.LameServer, Lame: dnssectest.LameUpwardReferral}}}},
	{"poison.test.", dnssectest.ZoneOptions{ExtraServers: []dnssectest.ExtraServer{
		{Kind: dnssectest.OutOfBailiwickGlue, Name: "ns.poison.host.example."}}}},
	{"poisononly.test.", dnssectest.ZoneOptions{NoDefaultServer: true, ExtraServers: []dnssectest.ExtraServer{
		{Kind: dnssectest.OutOfBailiwickGlue, Name: "ns.poisononly.host.example."}}}},
	{"mixed.test.", dnssectest.ZoneOptions{ExtraServers: []dnssectest.ExtraServer{
		{Kind: dnssectest.DeadServer},
		{Kind: dnssectest.LameServer, Lame: dnssectest.LameRefused},
		{Kind: dnssectest.OutOfBailiwickGlue, Name: "ns.mixed.host.example."}}}},
	{"noglue.test.", dnssectest.ZoneOptions{ExtraServers: []dnssectest.ExtraServer{{Kind: dnssectest.NoGlueInZone}}}},
	{"onlynoglue.test.", dnssectest.ZoneOptions{NoDefaultServer: true, ExtraServers: []dnssectest.ExtraServer{
		{Kind: dnssectest.NoGlueInZone}}}},
	{"glueless.test.", dnssectest.ZoneOptions{NoDefaultServer: true, ExtraServers: []dnssectest.ExtraServer{
		{Kind: dnssectest.GluelessServer, Name: "ns.glueless.host.example."}}}},
	{"sibling.test.", dnssectest.ZoneOptions{NoDefaultServer: true, ExtraServers: []dnssectest.ExtraServer{
		{Kind: dnssectest.GluelessServer, Name: "ns.sibling-host.test."}}}},
	{"deadglued.test.", dnssectest.ZoneOptions{NoDefaultServer: true, ExtraServers: []dnssectest.ExtraServer{
		{Kind: dnssectest.DeadServer},
		{Kind: dnssectest.GluelessServer, Name: "ns.deadglued.host.example."}}}},
	// a.test. and b.test. are each served only by a server named in the
	// other, so neither server's address can be found.
	{"a.test.", dnssectest.ZoneOptions{NoDefaultServer: true, ExtraServers: []dnssectest.ExtraServer{
		{Kind: dnssectest.GluelessServer, Name: "ns.b.test."}}}},
	{"b.test.", dnssectest.ZoneOptions{NoDefaultServer: true, ExtraServers: []dnssectest.ExtraServer{
		{Kind: dnssectest.GluelessServer, Name: "ns.a.test."}}}},
	{"insecure.test.", dnssectest.ZoneOptions{Unsigned: true, ExtraServers: []dnssectest.ExtraServer{
		{Kind: dnssectest.DeadServer}}}},
	{"l1.test.", dnssectest.ZoneOptions{}},
	{"l2.l1.test.", dnssectest.ZoneOptions{}},
	{"l3.l2.l1.test.", dnssectest.ZoneOptions{}},
}

// hostileLabFor returns the lab shared by the Iterator tests against
// broken and hostile name servers. The root has a dead second server,
// loop.test. refers back to test., and host.example. publishes the
// addresses of the out-of-zone server names. Tests only read from it.
func hostileLabFor(t *testing.T) *dnssectest.Lab {
	t.Helper()
	hostileOnce.Do(func() {
		l := dnssectest.New(dnssectest.Config{Now: labNow})
		l.Zone(".", dnssectest.ZoneOptions{ExtraServers: []dnssectest.ExtraServer{{Kind: dnssectest.DeadServer}}})
		l.Zone("test.", dnssectest.ZoneOptions{})
		for _, z := range hostileZones {
			l.Zone(z.origin, z.opts).Add("www A 192.0.2.1")
		}
		l.ReferralLoop("loop.test.", dnssectest.ZoneOptions{}).Add("www A 192.0.2.1")
		l.Zone("example.", dnssectest.ZoneOptions{})
		l.Zone("host.example.", dnssectest.ZoneOptions{})
		hostileLab, hostileErr = l, l.Start()
	})
	if hostileErr != nil {
		t.Fatalf("starting the lab: %v", hostileErr)
	}
	return hostileLab
}

// labExchanger sends queries with NetExchanger and counts them by server.
// It rejects any server outside the lab's 127.X.Y.0/24 block, so that no
// query can leave the lab, and the test fails at its end if there was one.
type labExchanger struct {
	block string

	mu      sync.Mutex
	sent    map[string]int
	outside []string
}

func newLabExchanger(t *testing.T, lab *dnssectest.Lab) *labExchanger {
	t.Helper()
	root, _, err := net.SplitHostPort(lab.Authoritative("."))
	if err != nil {
		t.Fatalf("lab root server address: %v", err)
	}
	e := &labExchanger{block: root[:strings.LastIndex(root, ".")+1], sent: map[string]int{}}
	t.Cleanup(func() {
		e.mu.Lock()
		defer e.mu.Unlock()
		if len(e.outside) > 0 {
			t.Errorf("Iterator tried to query servers outside the lab's block %s0/24: %v", e.block, e.outside)
		}
	})
	return e
}

func (e *labExchanger) Exchange(ctx context.Context, q *dns.Msg, server, network string) (*dns.Msg, error) {
	if !e.record(server) {
		return nil, fmt.Errorf("test exchanger: %s is outside the lab", server)
	}
	return dnssec.NetExchanger{}.Exchange(ctx, q, server, network)
}

// record counts a query to server and reports whether server is in the
// lab's block.
func (e *labExchanger) record(server string) bool {
	host, port, err := net.SplitHostPort(server)
	e.mu.Lock()
	defer e.mu.Unlock()
	if err != nil || port != "53" || !strings.HasPrefix(host, e.block) {
		e.outside = append(e.outside, server)
		return false
	}
	e.sent[server]++
	return true
}

// count returns the number of queries sent to server.
func (e *labExchanger) count(server string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.sent[server]
}

// total returns the number of queries sent.
func (e *labExchanger) total() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, c := range e.sent {
		n += c
	}
	return n
}

// newLabIterator returns an Iterator that starts at the lab's root hints
// and sends its queries through a new labExchanger.
func newLabIterator(t *testing.T, lab *dnssectest.Lab, minimise bool) (*dnssec.Iterator, *labExchanger) {
	t.Helper()
	roots, err := dnssec.ParseRootHints(strings.NewReader(lab.RootHints()), "lab root hints")
	if err != nil {
		t.Fatalf("ParseRootHints = %v", err)
	}
	ex := newLabExchanger(t, lab)
	it := &dnssec.Iterator{Roots: roots, Exchanger: ex, QueryTimeout: hostileTimeout,
		NoQNAMEMinimisation: !minimise}
	return it, ex
}

// newHostileValidator returns a validator over a new Iterator of the lab,
// with the Iterator's exchanger.
func newHostileValidator(t *testing.T, lab *dnssectest.Lab, minimise bool) (*dnssec.Validator, *labExchanger) {
	t.Helper()
	it, ex := newLabIterator(t, lab, minimise)
	return newSourceValidator(t, lab, it), ex
}

// newSourceValidator returns a validator over src with the lab's trust
// anchor, at the pinned time.
func newSourceValidator(t *testing.T, lab *dnssectest.Lab, src dnssec.Source) *dnssec.Validator {
	t.Helper()
	v, err := dnssec.New(dnssec.Config{Source: src, Anchors: labAnchors(t, lab), Now: func() time.Time { return labNow }})
	if err != nil {
		t.Fatalf("dnssec.New = %v", err)
	}
	return v
}

// labServer returns the name server of kind k of the zone at origin.
func labServer(t *testing.T, lab *dnssectest.Lab, origin string, k dnssectest.ServerKind) dnssectest.NameServer {
	t.Helper()
	for _, s := range lab.ZoneAt(origin).Servers() {
		if s.Kind == k {
			return s
		}
	}
	t.Fatalf("zone %s has no %s server", origin, k)
	return dnssectest.NameServer{}
}

// forMinimisation runs f as parallel subtests with QNAME minimisation on
// and off.
func forMinimisation(t *testing.T, f func(t *testing.T, minimise bool)) {
	for _, minimise := range []bool{true, false} {
		name := "minimised"
		if !minimise {
			name = "full-qname"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f(t, minimise)
		})
	}
}

// checkWWW checks that res is a secure answer of www.<zone> A 192.0.2.1.
func checkWWW(t *testing.T, res *dnssec.Result) {
	t.Helper()
	if res.Security != dnssec.Secure {
		t.Fatalf("Lookup(%s A) = %s, want secure%s", res.Name, describe(res), chainText(res))
	}
	if len(res.Answer) != 1 {
		t.Fatalf("Lookup(%s A) answer = %v, want one A record", res.Name, res.Answer)
	}
	if a, ok := res.Answer[0].(*dns.A); !ok || a.A.String() != "192.0.2.1" {
		t.Errorf("Lookup(%s A) answer = %v, want 192.0.2.1", res.Name, res.Answer[0])
	}
}

func TestIteratorPassesBrokenServers(t *testing.T) {
	lab := hostileLabFor(t)
	tests := []struct {
		name string
		// zone and kind pick the broken server that the lookup of name
		// must pass over.
		zone string
		kind dnssectest.ServerKind
	}{
		{"www.dead.test.", ".", dnssectest.DeadServer},
		{"www.dead.test.", "dead.test.", dnssectest.DeadServer},
		{"www.silent.test.", "silent.test.", dnssectest.SilentServer},
		{"www.refused.test.", "refused.test.", dnssectest.LameServer},
		{"www.notauth.test.", "notauth.test.", dnssectest.LameServer},
		{"www.upward.test.", "upward.test.", dnssectest.LameServer},
		{"www.mixed.test.", "mixed.test.", dnssectest.DeadServer},
		{"www.mixed.test.", "mixed.test.", dnssectest.LameServer},
	}
	for _, tt := range tests {
		t.Run(tt.zone+tt.kind.String(), func(t *testing.T) {
			t.Parallel()
			broken := labServer(t, lab, tt.zone, tt.kind)
			forMinimisation(t, func(t *testing.T, minimise bool) {
				// The Iterator picks servers in random order, so look up
				// with new Iterators until one has tried the broken server.
				tried := false
				for attempt := 0; attempt < 20 && !tried; attempt++ {
					v, ex := newHostileValidator(t, lab, minimise)
					checkWWW(t, lookup(t, v, tt.name, dns.TypeA))
					tried = ex.count(broken.Addr) > 0
				}
				if !tried {
					t.Errorf("no Iterator of 20 sent a query to %s %s at %s", tt.kind, broken.Name, broken.Addr)
				}
			})
		})
	}
}

func TestIteratorInsecureZoneWithDeadServer(t *testing.T) {
	lab := hostileLabFor(t)
	forMinimisation(t, func(t *testing.T, minimise bool) {
		v, _ := newHostileValidator(t, lab, minimise)
		res := lookup(t, v, "www.insecure.test.", dns.TypeA)
		if res.Security != dnssec.Insecure || len(res.Answer) != 1 {
			t.Errorf("Lookup(www.insecure.test. A) = %s with %d records, want insecure with one A%s",
				describe(res), len(res.Answer), chainText(res))
		}
	})
}

func TestIteratorIgnoresOutOfBailiwickGlue(t *testing.T) {
	lab := hostileLabFor(t)
	for _, zone := range []string{"poison.test.", "poisononly.test.", "mixed.test."} {
		t.Run(zone, func(t *testing.T) {
			t.Parallel()
			s := labServer(t, lab, zone, dnssectest.OutOfBailiwickGlue)
			forMinimisation(t, func(t *testing.T, minimise bool) {
				v, ex := newHostileValidator(t, lab, minimise)
				checkWWW(t, lookup(t, v, "www."+zone, dns.TypeA))
				if n := ex.count(s.Glue); n != 0 {
					t.Errorf("Iterator sent %d queries to the out-of-bailiwick glue %s of %s", n, s.Glue, s.Name)
				}
				if n := lab.QueriesTo(s.Glue); n != 0 {
					t.Errorf("decoy %s received %d queries, want 0", s.Glue, n)
				}
				if zone == "poisononly.test." && ex.count(s.Addr) == 0 {
					t.Errorf("Iterator sent no query to %s at its real address %s", s.Name, s.Addr)
				}
			})
		})
	}
}

func TestIteratorSkipsInZoneNameWithoutGlue(t *testing.T) {
	lab := hostileLabFor(t)
	noGlue := labServer(t, lab, "noglue.test.", dnssectest.NoGlueInZone)
	forMinimisation(t, func(t *testing.T, minimise bool) {
		v, ex := newHostileValidator(t, lab, minimise)
		checkWWW(t, lookup(t, v, "www.noglue.test.", dns.TypeA))
		if n := ex.count(noGlue.Addr); n != 0 {
			t.Errorf("Iterator sent %d queries to %s, which has no glue", n, noGlue.Name)
		}
	})
}

func TestIteratorOnlyServerLacksGlue(t *testing.T) {
	lab := hostileLabFor(t)
	forMinimisation(t, func(t *testing.T, minimise bool) {
		v, _ := newHostileValidator(t, lab, minimise)
		res := lookup(t, v, "www.onlynoglue.test.", dns.TypeA)
		if res.Security != dnssec.Indeterminate {
			t.Fatalf("Lookup(www.onlynoglue.test. A) = %s, want indeterminate%s", describe(res), chainText(res))
		}
		if !errors.Is(res.Reason, dnssec.ErrIndeterminate) {
			t.Errorf("reason = %v, want an error matching ErrIndeterminate", res.Reason)
		}
		if res.Rcode != dns.RcodeServerFailure {
			t.Errorf("rcode = %s, want SERVFAIL", dns.RcodeToString[res.Rcode])
		}
		for _, want := range []string{"onlynoglue.test.", "ns2.onlynoglue.test.", "no address"} {
			if res.Reason == nil || !strings.Contains(res.Reason.Error(), want) {
				t.Errorf("reason = %v, want it to name %q", res.Reason, want)
			}
		}
	})
}

func TestIteratorResolvesNameWithoutGlue(t *testing.T) {
	lab := hostileLabFor(t)
	for _, zone := range []string{"glueless.test.", "sibling.test."} {
		t.Run(zone, func(t *testing.T) {
			t.Parallel()
			s := labServer(t, lab, zone, dnssectest.GluelessServer)
			forMinimisation(t, func(t *testing.T, minimise bool) {
				v, ex := newHostileValidator(t, lab, minimise)
				checkWWW(t, lookup(t, v, "www."+zone, dns.TypeA))
				if ex.count(s.Addr) == 0 {
					t.Errorf("Iterator sent no query to %s at %s", s.Name, s.Addr)
				}
			})
		})
	}
}

// TestIteratorGluelessAfterDeadGlue covers a zone whose only server with
// glue is dead while a server named in another zone works, a common shape
// when a provider hosts a secondary server.
func TestIteratorGluelessAfterDeadGlue(t *testing.T) {
	lab := hostileLabFor(t)
	s := labServer(t, lab, "deadglued.test.", dnssectest.GluelessServer)
	forMinimisation(t, func(t *testing.T, minimise bool) {
		v, ex := newHostileValidator(t, lab, minimise)
		res := lookup(t, v, "www.deadglued.test.", dns.TypeA)
		checkWWW(t, res)
		if ex.count(s.Addr) == 0 {
			t.Errorf("Iterator sent no query to %s at %s", s.Name, s.Addr)
		}
	})
}

func TestIteratorReferralLoops(t *testing.T) {
	lab := hostileLabFor(t)
	tests := []struct {
		name string
		// explained reports whether the reason explains the failure.
		explained func(reason error) bool
		want      string
	}{
		{"www.loop.test.", func(reason error) bool {
			return strings.Contains(fmt.Sprint(reason), "lame")
		}, "an error naming the lame answer of loop.test."},
		{"www.a.test.", func(reason error) bool {
			var le *dnssec.LimitError
			return errors.As(reason, &le) || strings.Contains(fmt.Sprint(reason), "a loop of servers without glue")
		}, "a LimitError or an error naming the loop of servers without glue"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			forMinimisation(t, func(t *testing.T, minimise bool) {
				v, ex := newHostileValidator(t, lab, minimise)
				start := time.Now()
				res := lookup(t, v, tt.name, dns.TypeA)
				took := time.Since(start)
				if res.Security != dnssec.Indeterminate && res.Security != dnssec.Bogus {
					t.Fatalf("Lookup(%s A) = %s, want indeterminate or bogus%s", tt.name, describe(res), chainText(res))
				}
				if !tt.explained(res.Reason) {
					t.Errorf("Lookup(%s A) reason = %v, want %s", tt.name, res.Reason, tt.want)
				}
				if took > 3*time.Second {
					t.Errorf("Lookup(%s A) took %v, want a prompt failure", tt.name, took)
				}
				if limit := dnssec.DefaultLimits().MaxQueries; ex.total() > limit {
					t.Errorf("Lookup(%s A) sent %d queries, more than MaxQueries (%d)", tt.name, ex.total(), limit)
				}
			})
		})
	}
}

// TestIteratorGluelessLoopWithoutBudget queries the Iterator directly,
// without the Validator's MaxQueries budget, so that only the Iterator's
// own bounds stop the loop between a.test. and b.test.
func TestIteratorGluelessLoopWithoutBudget(t *testing.T) {
	lab := hostileLabFor(t)
	forMinimisation(t, func(t *testing.T, minimise bool) {
		it, ex := newLabIterator(t, lab, minimise)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		resp, err := it.Query(ctx, "www.a.test.", dns.TypeA)
		if err == nil {
			t.Fatalf("Query(www.a.test. A) = %v, want an error", resp)
		}
		if ctx.Err() != nil {
			t.Fatalf("Query(www.a.test. A) ran into the test's deadline: %v", err)
		}
		// Each nested lookup of a server name needs one query to test.'s
		// server, so a bound on the nesting should keep the total near
		// that depth.
		if n := ex.total(); n > 40 {
			t.Errorf("Query(www.a.test. A) sent %d queries before failing (%v), want at most 40", n, err)
		}
	})
}

func TestIteratorMaxReferrals(t *testing.T) {
	lab := hostileLabFor(t)
	// www.l3.l2.l1.test. lies four zone cuts below the root.
	const name = "www.l3.l2.l1.test."
	forMinimisation(t, func(t *testing.T, minimise bool) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()

		it, ex := newLabIterator(t, lab, minimise)
		it.MaxReferrals = 3
		_, err := it.Query(ctx, name, dns.TypeA)
		var le *dnssec.LimitError
		if !errors.As(err, &le) || le.Limit != "MaxReferrals" || le.Value != 3 {
			t.Fatalf("Query(%s A) with MaxReferrals 3 = %v, want a LimitError for MaxReferrals (3)", name, err)
		}
		// A referral past the limit is not followed: the fourth zone's
		// server, which would answer, hears nothing, not even the DNSKEY
		// query that a followed referral starts in the background.
		time.Sleep(2 * hostileTimeout)
		if n := ex.count(lab.Authoritative("l3.l2.l1.test.")); n != 0 {
			t.Errorf("Iterator with MaxReferrals 3 sent %d queries to the server of l3.l2.l1.test.", n)
		}

		it, _ = newLabIterator(t, lab, minimise)
		it.MaxReferrals = 4
		resp, err := it.Query(ctx, name, dns.TypeA)
		if err != nil || len(resp.Answer) == 0 {
			t.Errorf("Query(%s A) with MaxReferrals 4 = %v, %v; want the answer", name, resp, err)
		}
	})
}

func TestIteratorMaxReferralsThroughValidator(t *testing.T) {
	lab := hostileLabFor(t)
	it, _ := newLabIterator(t, lab, true)
	it.MaxReferrals = 2
	res := lookup(t, newSourceValidator(t, lab, it), "www.l3.l2.l1.test.", dns.TypeA)
	if res.Security != dnssec.Bogus && res.Security != dnssec.Indeterminate {
		t.Fatalf("Lookup(www.l3.l2.l1.test. A) = %s, want bogus or indeterminate%s", describe(res), chainText(res))
	}
	var le *dnssec.LimitError
	if !errors.As(res.Reason, &le) || le.Limit != "MaxReferrals" {
		t.Errorf("reason = %v, want a LimitError for MaxReferrals", res.Reason)
	}
}

func TestAutoIteratesPastHostileServers(t *testing.T) {
	lab := hostileLabFor(t)
	roots, err := dnssec.ParseRootHints(strings.NewReader(lab.RootHints()), "lab root hints")
	if err != nil {
		t.Fatalf("ParseRootHints = %v", err)
	}
	tests := []struct {
		name string
		// secure is whether the lookup must be secure; otherwise it must
		// be indeterminate or bogus.
		secure bool
	}{
		{"www.dead.test.", true},
		{"www.refused.test.", true},
		{"www.poison.test.", true},
		{"www.glueless.test.", true},
		{"www.loop.test.", false},
		{"www.a.test.", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			var notes []string
			ex := newLabExchanger(t, lab)
			auto := &dnssec.Auto{
				Upstream: &dnssec.Upstream{Servers: []string{lab.Resolver(dnssectest.StripRRSIG)},
					QueryTimeout: hostileTimeout},
				Iterator: &dnssec.Iterator{Roots: roots, Exchanger: ex, QueryTimeout: hostileTimeout},
				Notify: func(reason string) {
					mu.Lock()
					notes = append(notes, reason)
					mu.Unlock()
				},
			}
			res := lookup(t, newSourceValidator(t, lab, auto), tt.name, dns.TypeA)
			switch {
			case tt.secure:
				checkWWW(t, res)
			case res.Security != dnssec.Indeterminate && res.Security != dnssec.Bogus:
				t.Errorf("Lookup(%s A) via auto = %s, want indeterminate or bogus%s",
					tt.name, describe(res), chainText(res))
			}
			if !auto.Iterating() {
				t.Error("Iterating() = false, want true after the resolver stripped RRSIGs")
			}
			if ex.total() == 0 {
				t.Error("the Iterator sent no query")
			}
			poison := labServer(t, lab, "poison.test.", dnssectest.OutOfBailiwickGlue)
			if n := ex.count(poison.Glue); n != 0 {
				t.Errorf("Iterator sent %d queries to the out-of-bailiwick glue %s", n, poison.Glue)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(notes) != 1 || !strings.Contains(notes[0], "strips RRSIG") {
				t.Errorf("Notify calls = %q, want one about stripped RRSIGs", notes)
			}
		})
	}
}
