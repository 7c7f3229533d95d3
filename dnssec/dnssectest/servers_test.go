package dnssectest

import (
	"errors"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// newServersLab starts a lab whose zones below test. have extra name
// servers of every kind:
//
//	.                  ns1. and a DeadServer ns2.
//	test.              plain
//	dead.test.         ns1, DeadServer ns2
//	silent.test.       ns1, SilentServer ns2
//	lame.test.         ns1, LameServer ns2 (REFUSED), ns3 (no AA), ns4 (upward)
//	noglue.test.       ns1, NoGlueInZone ns2
//	onlynoglue.test.   NoGlueInZone ns2 only
//	poison.test.       ns1, OutOfBailiwickGlue ns.poison.host.example.
//	glueless.test.     GluelessServer ns.glueless.host.example. only
//	sibling.test.      GluelessServer ns.sibling-host.test. only (test. holds its address)
//	loop.test.         ReferralLoop
//	example.           plain
//	host.example.      publishes the addresses of the out-of-zone names
func newServersLab(t *testing.T) *Lab {
	t.Helper()
	l := New(Config{Now: testNow})
	t.Cleanup(l.Close)
	l.Zone(".", ZoneOptions{ExtraServers: []ExtraServer{{Kind: DeadServer}}})
	l.Zone("test.", ZoneOptions{})
	zones := []struct {
		origin string
		opts   ZoneOptions
	}{
		{"dead.test.", ZoneOptions{ExtraServers: []ExtraServer{{Kind: DeadServer}}}},
		{"silent.test.", ZoneOptions{ExtraServers: []ExtraServer{{Kind: SilentServer}}}},
		{"lame.test.", ZoneOptions{ExtraServers: []ExtraServer{
			{Kind: LameServer, Lame: LameRefused},
			{Kind: LameServer, Lame: LameNotAuthoritative},
			{Kind: LameServer, Lame: LameUpwardReferral},
		}}},
		{"noglue.test.", ZoneOptions{ExtraServers: []ExtraServer{{Kind: NoGlueInZone}}}},
		{"onlynoglue.test.", ZoneOptions{NoDefaultServer: true, ExtraServers: []ExtraServer{{Kind: NoGlueInZone}}}},
		{"poison.test.", ZoneOptions{ExtraServers: []ExtraServer{
			{Kind: OutOfBailiwickGlue, Name: "ns.poison.host.example."},
		}}},
		{"glueless.test.", ZoneOptions{NoDefaultServer: true, ExtraServers: []ExtraServer{
			{Kind: GluelessServer, Name: "ns.glueless.host.example."},
		}}},
		{"sibling.test.", ZoneOptions{NoDefaultServer: true, ExtraServers: []ExtraServer{
			{Kind: GluelessServer, Name: "ns.sibling-host.test."},
		}}},
	}
	for _, z := range zones {
		l.Zone(z.origin, z.opts).Add("www A 192.0.2.1")
	}
	l.ReferralLoop("loop.test.", ZoneOptions{}).Add("www A 192.0.2.1")
	l.Zone("example.", ZoneOptions{})
	l.Zone("host.example.", ZoneOptions{})
	if err := l.Start(); err != nil {
		t.Fatalf("Start() = %v", err)
	}
	return l
}

func TestExtraServerReferrals(t *testing.T) {
	l := newServersLab(t)
	for _, origin := range []string{"dead.test.", "silent.test.", "lame.test.", "noglue.test.",
		"onlynoglue.test.", "poison.test.", "glueless.test.", "sibling.test."} {
		t.Run(origin, func(t *testing.T) {
			z := l.ZoneAt(origin)
			resp := query(t, l.Authoritative("test."), "www."+origin, dns.TypeA, true)
			if resp.Authoritative || len(resp.Answer) != 0 {
				t.Fatalf("AA %v, answer %v; want a referral", resp.Authoritative, resp.Answer)
			}
			var names []string
			for _, ns := range records[*dns.NS](resp.Ns) {
				if ns.Hdr.Name != origin {
					t.Errorf("referral NS owner = %s, want %s", ns.Hdr.Name, origin)
				}
				names = append(names, ns.Ns)
			}
			if !slices.Equal(names, z.ServerNames()) {
				t.Errorf("referral NS names = %v, want ServerNames() = %v", names, z.ServerNames())
			}

			glue := make(map[string][]string)
			for _, a := range records[*dns.A](resp.Extra) {
				glue[a.Hdr.Name] = append(glue[a.Hdr.Name], net.JoinHostPort(a.A.String(), "53"))
			}
			for _, s := range z.Servers() {
				want := []string{s.Addr}
				switch s.Kind {
				case NoGlueInZone, GluelessServer:
					want = nil
				case OutOfBailiwickGlue:
					want = []string{s.Glue}
					if s.Glue == s.Addr || s.Glue == "" {
						t.Errorf("%s: Glue = %q, want a decoy address other than Addr %s", s.Name, s.Glue, s.Addr)
					}
				}
				if !slices.Equal(glue[s.Name], want) {
					t.Errorf("glue for %s (%s) = %v, want %v", s.Name, s.Kind, glue[s.Name], want)
				}
				delete(glue, s.Name)
			}
			if len(glue) != 0 {
				t.Errorf("referral carries glue for names it does not list: %v", glue)
			}
		})
	}
}

func TestExtraServerAddresses(t *testing.T) {
	l := newServersLab(t)
	block := hostOf(l.Authoritative("."))
	block = block[:strings.LastIndex(block, ".")+1]
	seen := make(map[string]string)
	for _, z := range l.Zones() {
		for _, s := range z.Servers() {
			for _, addr := range []string{s.Addr, s.Glue} {
				if addr == "" {
					continue
				}
				if !strings.HasPrefix(addr, block) || !strings.HasSuffix(addr, ":53") {
					t.Errorf("%s of %s: address %s is outside the lab's block %s0/24", s.Name, z.Origin(), addr, block)
				}
			}
			if other, dup := seen[s.Addr]; dup && s.Kind != DefaultServer {
				t.Errorf("%s and %s share address %s", s.Name, other, s.Addr)
			}
			seen[s.Addr] = s.Name
			if s.Kind == DefaultServer && s.Addr != z.Addr() {
				t.Errorf("default server of %s at %s, want Zone.Addr() %s", z.Origin(), s.Addr, z.Addr())
			}
		}
	}
	for _, r := range resolverModes {
		if name, dup := seen[l.Resolver(r)]; dup {
			t.Errorf("name server %s shares the address of resolver %s", name, r)
		}
	}
}

// serverOf returns the name server of kind k of the zone at origin.
func serverOf(t *testing.T, l *Lab, origin string, k ServerKind, lame Lameness) NameServer {
	t.Helper()
	for _, s := range l.ZoneAt(origin).Servers() {
		if s.Kind == k && s.Lame == lame {
			return s
		}
	}
	t.Fatalf("zone %s has no %s server with %s", origin, k, lame)
	return NameServer{}
}

// tryExchange sends one query without failing the test on an error.
func tryExchange(addr, network, name string, qtype uint16, timeout time.Duration) (*dns.Msg, error) {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.SetEdns0(1232, true)
	c := &dns.Client{Net: network, Timeout: timeout}
	resp, _, err := c.Exchange(m, addr)
	return resp, err
}

func TestDeadServerRejectsQueries(t *testing.T) {
	l := newServersLab(t)
	for _, origin := range []string{".", "dead.test."} {
		dead := serverOf(t, l, origin, DeadServer, LameRefused)
		for _, network := range []string{"udp", "tcp"} {
			start := time.Now()
			_, err := tryExchange(dead.Addr, network, "www."+origin, dns.TypeA, 2*time.Second)
			if err == nil {
				t.Errorf("query to dead server %s over %s succeeded, want an error", dead.Addr, network)
			}
			if took := time.Since(start); took > time.Second {
				t.Errorf("query to dead server %s over %s failed after %v, want a prompt error",
					dead.Addr, network, took)
			}
		}
		if n := l.QueriesTo(dead.Addr); n != 0 {
			t.Errorf("QueriesTo(dead server) = %d, want 0", n)
		}
	}
}

func TestSilentServerTimesOut(t *testing.T) {
	l := newServersLab(t)
	silent := serverOf(t, l, "silent.test.", SilentServer, LameRefused)
	_, err := tryExchange(silent.Addr, "udp", "www.silent.test.", dns.TypeA, 200*time.Millisecond)
	var netErr net.Error
	if !errors.As(err, &netErr) || !netErr.Timeout() {
		t.Errorf("query to the silent server: error %v, want a timeout", err)
	}
	if n := l.QueriesTo(silent.Addr); n != 1 {
		t.Errorf("QueriesTo(silent server) = %d, want 1", n)
	}
}

func TestLameServers(t *testing.T) {
	l := newServersLab(t)
	t.Run("refused", func(t *testing.T) {
		s := serverOf(t, l, "lame.test.", LameServer, LameRefused)
		resp := query(t, s.Addr, "www.lame.test.", dns.TypeA, true)
		if resp.Rcode != dns.RcodeRefused {
			t.Errorf("rcode = %s, want REFUSED", dns.RcodeToString[resp.Rcode])
		}
	})
	t.Run("not authoritative", func(t *testing.T) {
		s := serverOf(t, l, "lame.test.", LameServer, LameNotAuthoritative)
		resp := query(t, s.Addr, "www.lame.test.", dns.TypeA, true)
		if resp.Authoritative || resp.Rcode != dns.RcodeSuccess || len(records[*dns.A](resp.Answer)) != 1 {
			t.Errorf("AA %v, rcode %s, answer %v; want the A record with AA clear",
				resp.Authoritative, dns.RcodeToString[resp.Rcode], resp.Answer)
		}
		if ns := records[*dns.NS](resp.Ns); len(ns) != 0 {
			t.Errorf("authority NS = %v, want none", ns)
		}
	})
	t.Run("upward referral", func(t *testing.T) {
		s := serverOf(t, l, "lame.test.", LameServer, LameUpwardReferral)
		resp := query(t, s.Addr, "www.lame.test.", dns.TypeA, true)
		if resp.Authoritative || resp.Rcode != dns.RcodeSuccess || len(resp.Answer) != 0 {
			t.Fatalf("AA %v, rcode %s, answer %v; want a referral",
				resp.Authoritative, dns.RcodeToString[resp.Rcode], resp.Answer)
		}
		ns := records[*dns.NS](resp.Ns)
		if len(ns) != 2 || ns[0].Hdr.Name != "." {
			t.Errorf("authority NS = %v, want the root's two NS records", ns)
		}
		if glue := records[*dns.A](resp.Extra); len(glue) != 2 {
			t.Errorf("glue = %v, want the root servers' two A records", glue)
		}
	})
}

func TestGluelessNamesAreServed(t *testing.T) {
	l := newServersLab(t)
	tests := []struct {
		zone      string
		kind      ServerKind
		publisher string
	}{
		{"noglue.test.", NoGlueInZone, "noglue.test."},
		{"onlynoglue.test.", NoGlueInZone, "onlynoglue.test."},
		{"poison.test.", OutOfBailiwickGlue, "host.example."},
		{"glueless.test.", GluelessServer, "host.example."},
		{"sibling.test.", GluelessServer, "test."},
	}
	for _, tt := range tests {
		t.Run(tt.zone, func(t *testing.T) {
			s := serverOf(t, l, tt.zone, tt.kind, LameRefused)
			resp := query(t, l.Authoritative(tt.publisher), s.Name, dns.TypeA, true)
			a := records[*dns.A](resp.Answer)
			if !resp.Authoritative || len(a) != 1 || net.JoinHostPort(a[0].A.String(), "53") != s.Addr {
				t.Errorf("%s A from %s: AA %v, answer %v; want %s", s.Name, tt.publisher,
					resp.Authoritative, resp.Answer, s.Addr)
			}
			if n := verifySignatures(t, l, resp); n == 0 {
				t.Errorf("%s A from %s has no RRSIG", s.Name, tt.publisher)
			}
			answer := query(t, s.Addr, "www."+tt.zone, dns.TypeA, true)
			if !answer.Authoritative || len(records[*dns.A](answer.Answer)) != 1 {
				t.Errorf("www.%s A from %s at %s: AA %v, answer %v; want an authoritative answer",
					tt.zone, s.Name, s.Addr, answer.Authoritative, answer.Answer)
			}
		})
	}
}

func TestOutOfBailiwickDecoy(t *testing.T) {
	l := newServersLab(t)
	s := serverOf(t, l, "poison.test.", OutOfBailiwickGlue, LameRefused)
	if s.Glue == s.Addr {
		t.Fatalf("glue %s is the working address, want the decoy's", s.Glue)
	}
	l.ResetQueryLog()
	resp := query(t, s.Glue, "www.poison.test.", dns.TypeA, true)
	if resp.Rcode != dns.RcodeRefused {
		t.Errorf("decoy rcode = %s, want REFUSED", dns.RcodeToString[resp.Rcode])
	}
	if n := l.QueriesTo(s.Glue); n != 1 {
		t.Errorf("QueriesTo(decoy) = %d, want 1", n)
	}
}

func TestNoDefaultServer(t *testing.T) {
	l := newServersLab(t)
	z := l.ZoneAt("glueless.test.")
	if names := z.ServerNames(); !slices.Equal(names, []string{"ns.glueless.host.example."}) {
		t.Errorf("ServerNames() = %v, want only the glueless server", names)
	}
	resp := query(t, z.Addr(), "glueless.test.", dns.TypeNS, true)
	ns := records[*dns.NS](resp.Answer)
	if len(ns) != 1 || ns[0].Ns != "ns.glueless.host.example." {
		t.Errorf("apex NS = %v, want ns.glueless.host.example. only", ns)
	}
	soa := query(t, z.Addr(), "glueless.test.", dns.TypeSOA, true)
	if s := records[*dns.SOA](soa.Answer); len(s) != 1 || s[0].Ns != "ns.glueless.host.example." {
		t.Errorf("SOA = %v, want MNAME ns.glueless.host.example.", s)
	}
}

func TestRootHintsListExtraServers(t *testing.T) {
	l := newServersLab(t)
	zp := dns.NewZoneParser(strings.NewReader(l.RootHints()), ".", "")
	got := make(map[string]string)
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		if a, isA := rr.(*dns.A); isA {
			got[a.Hdr.Name] = net.JoinHostPort(a.A.String(), "53")
		}
	}
	if err := zp.Err(); err != nil {
		t.Fatalf("parsing RootHints(): %v", err)
	}
	for _, s := range l.ZoneAt(".").Servers() {
		if got[s.Name] != s.Addr {
			t.Errorf("root hint for %s = %q, want %s", s.Name, got[s.Name], s.Addr)
		}
	}
	if len(got) != 2 {
		t.Errorf("RootHints() lists %d addresses, want 2", len(got))
	}
}

func TestReferralLoopRefersBack(t *testing.T) {
	l := newServersLab(t)
	resp := query(t, l.Authoritative("loop.test."), "www.loop.test.", dns.TypeA, true)
	if resp.Authoritative || resp.Rcode != dns.RcodeSuccess || len(resp.Answer) != 0 {
		t.Fatalf("AA %v, rcode %s, answer %v; want a referral",
			resp.Authoritative, dns.RcodeToString[resp.Rcode], resp.Answer)
	}
	ns := records[*dns.NS](resp.Ns)
	if len(ns) != 1 || ns[0].Hdr.Name != "test." || ns[0].Ns != "ns1.test." {
		t.Errorf("authority NS = %v, want test. NS ns1.test.", ns)
	}
	glue := records[*dns.A](resp.Extra)
	if len(glue) != 1 || net.JoinHostPort(glue[0].A.String(), "53") != l.Authoritative("test.") {
		t.Errorf("glue = %v, want the address of test.'s server", glue)
	}

	down := query(t, l.Authoritative("test."), "www.loop.test.", dns.TypeA, true)
	if ns := records[*dns.NS](down.Ns); len(ns) != 1 || ns[0].Hdr.Name != "loop.test." {
		t.Errorf("test. refers www.loop.test. with NS %v, want loop.test.", ns)
	}

	stub := query(t, l.Resolver(Normal), "www.loop.test.", dns.TypeA, true)
	if stub.Rcode != dns.RcodeServerFailure {
		t.Errorf("resolver stand-in rcode = %s, want SERVFAIL", dns.RcodeToString[stub.Rcode])
	}
}

func TestExtraServerPanics(t *testing.T) {
	tests := []struct {
		name string
		opts ZoneOptions
	}{
		{"default kind", ZoneOptions{ExtraServers: []ExtraServer{{Kind: DefaultServer}}}},
		{"unknown kind", ZoneOptions{ExtraServers: []ExtraServer{{Kind: 99}}}},
		{"unknown lameness", ZoneOptions{ExtraServers: []ExtraServer{{Kind: LameServer, Lame: 7}}}},
		{"no server", ZoneOptions{NoDefaultServer: true}},
		{"duplicate name", ZoneOptions{ExtraServers: []ExtraServer{{Kind: DeadServer, Name: "ns1"}}}},
		{"dead name outside", ZoneOptions{ExtraServers: []ExtraServer{{Kind: DeadServer, Name: "ns.other."}}}},
		{"no glue name outside", ZoneOptions{ExtraServers: []ExtraServer{{Kind: NoGlueInZone, Name: "ns.other."}}}},
		{"glueless name inside", ZoneOptions{ExtraServers: []ExtraServer{{Kind: GluelessServer, Name: "ns9"}}}},
		{"poison name inside", ZoneOptions{ExtraServers: []ExtraServer{{Kind: OutOfBailiwickGlue, Name: "ns9"}}}},
		{"invalid name", ZoneOptions{ExtraServers: []ExtraServer{{Kind: DeadServer, Name: "a..b"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := New(Config{})
			l.Zone(".", ZoneOptions{})
			defer func() {
				if recover() == nil {
					t.Error("Zone did not panic")
				}
			}()
			l.Zone("test.", tt.opts)
		})
	}
	t.Run("root without referral", func(t *testing.T) {
		defer func() {
			if recover() == nil {
				t.Error("Zone did not panic")
			}
		}()
		New(Config{}).Zone(".", ZoneOptions{ExtraServers: []ExtraServer{{Kind: NoGlueInZone}}})
	})
	t.Run("root referral loop", func(t *testing.T) {
		defer func() {
			if recover() == nil {
				t.Error("ReferralLoop did not panic")
			}
		}()
		New(Config{}).ReferralLoop(".", ZoneOptions{})
	})
}

func TestExtraServerStartErrors(t *testing.T) {
	tests := []struct {
		name  string
		build func(*Lab)
	}{
		{"name in a child zone", func(l *Lab) {
			l.Zone("test.", ZoneOptions{ExtraServers: []ExtraServer{{Kind: DeadServer, Name: "ns.child"}}})
			l.Zone("child.test.", ZoneOptions{})
		}},
		{"out-of-bailiwick name inside the parent", func(l *Lab) {
			l.Zone("test.", ZoneOptions{})
			l.Zone("a.test.", ZoneOptions{ExtraServers: []ExtraServer{{Kind: OutOfBailiwickGlue, Name: "ns.b.test."}}})
		}},
		{"out-of-bailiwick glue for a top-level domain", func(l *Lab) {
			l.Zone("test.", ZoneOptions{ExtraServers: []ExtraServer{{Kind: OutOfBailiwickGlue, Name: "ns.other."}}})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := New(Config{Now: testNow})
			t.Cleanup(l.Close)
			l.Zone(".", ZoneOptions{})
			tt.build(l)
			if err := l.Start(); err == nil {
				t.Error("Start() = nil, want an error")
			}
		})
	}
}
