package dnssectest

import (
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func TestResolverNormal(t *testing.T) {
	l := newHierarchy(t)
	addr := l.Resolver(Normal)
	tests := []struct {
		name   string
		qname  string
		qtype  uint16
		rcode  int
		answer []uint16 // types expected in the answer section, in order of first appearance
		// signers are the zones whose RRSIGs must appear.
		signers []string
	}{
		{"positive", "www.example.net.", dns.TypeA, dns.RcodeSuccess,
			[]uint16{dns.TypeA, dns.TypeRRSIG}, []string{"example.net."}},
		{"DS from the parent", "example.net.", dns.TypeDS, dns.RcodeSuccess,
			[]uint16{dns.TypeDS, dns.TypeRRSIG}, []string{"net."}},
		{"DNSKEY", "nsec3.example.", dns.TypeDNSKEY, dns.RcodeSuccess,
			[]uint16{dns.TypeDNSKEY, dns.TypeRRSIG}, []string{"nsec3.example."}},
		{"CNAME across zones", "away.example.net.", dns.TypeA, dns.RcodeSuccess,
			[]uint16{dns.TypeCNAME, dns.TypeRRSIG, dns.TypeA}, []string{"example.net.", "nsec3.example."}},
		{"DNAME across zones", "www.dn.example.net.", dns.TypeA, dns.RcodeSuccess,
			[]uint16{dns.TypeDNAME, dns.TypeRRSIG, dns.TypeCNAME, dns.TypeA},
			[]string{"example.net.", "nsec3.example."}},
		{"NXDOMAIN", "nope.nsec3.example.", dns.TypeA, dns.RcodeNameError, nil, []string{"nsec3.example."}},
		{"NODATA after CNAME", "alias.example.net.", dns.TypeTXT, dns.RcodeSuccess,
			[]uint16{dns.TypeCNAME, dns.TypeRRSIG}, []string{"example.net."}},
		{"insecure zone", "www.insecure.example.net.", dns.TypeA, dns.RcodeSuccess, []uint16{dns.TypeA}, nil},
		{"wildcard", "x.wild.nsec3.example.", dns.TypeA, dns.RcodeSuccess,
			[]uint16{dns.TypeA, dns.TypeRRSIG}, []string{"nsec3.example."}},
		{"below opt-out", "www.unsigned.optout.", dns.TypeA, dns.RcodeSuccess, []uint16{dns.TypeA}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := query(t, addr, tt.qname, tt.qtype, true)
			if resp.Rcode != tt.rcode {
				t.Errorf("rcode = %s, want %s", dns.RcodeToString[resp.Rcode], dns.RcodeToString[tt.rcode])
			}
			if !resp.RecursionAvailable || resp.AuthenticatedData || resp.Authoritative {
				t.Errorf("flags RA %v AD %v AA %v, want RA only",
					resp.RecursionAvailable, resp.AuthenticatedData, resp.Authoritative)
			}
			if got := typeOrder(resp.Answer); !equalTypes(got, tt.answer) {
				t.Errorf("answer types = %v, want %v", typeNames(got), typeNames(tt.answer))
			}
			signers := make(map[string]bool)
			for _, sig := range records[*dns.RRSIG](append(resp.Answer, resp.Ns...)) {
				signers[sig.SignerName] = true
			}
			for _, s := range tt.signers {
				if !signers[s] {
					t.Errorf("no RRSIG by %s", s)
				}
			}
			verifySignatures(t, l, resp)
		})
	}
}

// typeOrder returns the types of rrs in order of first appearance.
func typeOrder(rrs []dns.RR) []uint16 {
	var types []uint16
	seen := make(map[uint16]bool)
	for _, rr := range rrs {
		if t := rr.Header().Rrtype; !seen[t] {
			seen[t] = true
			types = append(types, t)
		}
	}
	return types
}

func equalTypes(a, b []uint16) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func typeNames(types []uint16) string {
	var names []string
	for _, t := range types {
		names = append(names, dns.TypeToString[t])
	}
	return strings.Join(names, " ")
}

func TestResolverNegativeProofs(t *testing.T) {
	l := newHierarchy(t)
	resp := query(t, l.Resolver(Normal), "nope.nsec3.example.", dns.TypeA, true)
	if countType(resp.Ns, dns.TypeSOA) != 1 {
		t.Errorf("no SOA in %v", resp.Ns)
	}
	nsec3s := records[*dns.NSEC3](resp.Ns)
	if !anyNSEC3(nsec3s, func(n *dns.NSEC3) bool { return n.Match("nsec3.example.") }) {
		t.Error("no NSEC3 matches the closest encloser")
	}
	if !anyNSEC3(nsec3s, func(n *dns.NSEC3) bool { return nsec3Covers(n, "nope.nsec3.example.") }) {
		t.Error("no NSEC3 covers the query name")
	}
	if got, want := countType(resp.Ns, dns.TypeRRSIG), 1+len(nsec3s); got != want {
		t.Errorf("authority has %d RRSIGs, want %d", got, want)
	}
}

func TestResolverCNAMELoopIsBounded(t *testing.T) {
	l := newHierarchy(t)
	start := time.Now()
	resp := query(t, l.Resolver(Normal), "loop1.example.net.", dns.TypeA, true)
	if elapsed := time.Since(start); elapsed > time.Second {
		t.Errorf("loop took %v", elapsed)
	}
	if resp.Rcode != dns.RcodeSuccess {
		t.Errorf("rcode = %s, want NOERROR", dns.RcodeToString[resp.Rcode])
	}
	if got := len(records[*dns.CNAME](resp.Answer)); got != 2 {
		t.Errorf("answer has %d CNAMEs, want the 2 of the loop: %v", got, resp.Answer)
	}
}

func TestResolverModes(t *testing.T) {
	l := newHierarchy(t)
	const qname = "nope.example.net."
	dnssecTypes := []uint16{dns.TypeRRSIG, dns.TypeNSEC, dns.TypeNSEC3}
	countDNSSEC := func(m *dns.Msg) int {
		n := 0
		for _, t := range dnssecTypes {
			n += countType(m.Answer, t) + countType(m.Ns, t) + countType(m.Extra, t)
		}
		return n
	}

	t.Run("Normal without DO", func(t *testing.T) {
		resp := query(t, l.Resolver(Normal), qname, dns.TypeA, false)
		if n := countDNSSEC(resp); n != 0 {
			t.Errorf("%d DNSSEC records without DO", n)
		}
		if resp.Rcode != dns.RcodeNameError || countType(resp.Ns, dns.TypeSOA) != 1 {
			t.Errorf("rcode %s, authority %v; want NXDOMAIN with SOA", dns.RcodeToString[resp.Rcode], resp.Ns)
		}
	})
	t.Run("Normal with DO", func(t *testing.T) {
		resp := query(t, l.Resolver(Normal), qname, dns.TypeA, true)
		if n := countDNSSEC(resp); n == 0 {
			t.Error("no DNSSEC records with DO")
		}
		if opt := resp.IsEdns0(); opt == nil || !opt.Do() {
			t.Errorf("OPT = %v, want DO echoed", opt)
		}
	})
	t.Run("StripRRSIG", func(t *testing.T) {
		for _, name := range []string{qname, "www.example.net."} {
			resp := query(t, l.Resolver(StripRRSIG), name, dns.TypeA, true)
			if n := countDNSSEC(resp); n != 0 {
				t.Errorf("%s: %d DNSSEC records", name, n)
			}
			if opt := resp.IsEdns0(); opt == nil || !opt.Do() {
				t.Errorf("%s: OPT = %v, want DO echoed", name, opt)
			}
		}
		resp := query(t, l.Resolver(StripRRSIG), "www.example.net.", dns.TypeA, true)
		if countType(resp.Answer, dns.TypeA) != 1 {
			t.Errorf("answer = %v, want the A record", resp.Answer)
		}
	})
	t.Run("IgnoreDO", func(t *testing.T) {
		resp := query(t, l.Resolver(IgnoreDO), "www.example.net.", dns.TypeA, true)
		if n := countDNSSEC(resp); n != 0 {
			t.Errorf("%d DNSSEC records", n)
		}
		opt := resp.IsEdns0()
		if opt == nil || opt.Do() {
			t.Errorf("OPT = %v, want one without DO", opt)
		}
		if countType(resp.Answer, dns.TypeA) != 1 {
			t.Errorf("answer = %v, want the A record", resp.Answer)
		}
	})
	t.Run("TruncateUDP", func(t *testing.T) {
		udp := exchange(t, l.Resolver(TruncateUDP), "udp", "www.example.net.", dns.TypeA, true)
		if !udp.Truncated || len(udp.Answer)+len(udp.Ns) != 0 {
			t.Errorf("UDP: TC %v with %d records, want TC and none", udp.Truncated, len(udp.Answer)+len(udp.Ns))
		}
		tcp := exchange(t, l.Resolver(TruncateUDP), "tcp", "www.example.net.", dns.TypeA, true)
		if tcp.Truncated || countType(tcp.Answer, dns.TypeA) != 1 || countType(tcp.Answer, dns.TypeRRSIG) != 1 {
			t.Errorf("TCP: TC %v, answer %v; want the signed A", tcp.Truncated, tcp.Answer)
		}
	})
	t.Run("Silent", func(t *testing.T) {
		for _, network := range []string{"udp", "tcp"} {
			m := new(dns.Msg)
			m.SetQuestion("www.example.net.", dns.TypeA)
			c := &dns.Client{Net: network, Timeout: 200 * time.Millisecond}
			_, _, err := c.Exchange(m, l.Resolver(Silent))
			var netErr net.Error
			if !errors.As(err, &netErr) || !netErr.Timeout() {
				t.Errorf("%s: Exchange error = %v, want a timeout", network, err)
			}
		}
	})
	t.Run("ServFail", func(t *testing.T) {
		resp := query(t, l.Resolver(ServFail), "www.example.net.", dns.TypeA, true)
		if resp.Rcode != dns.RcodeServerFailure || len(resp.Answer) != 0 {
			t.Errorf("rcode %s, answer %v; want SERVFAIL and none", dns.RcodeToString[resp.Rcode], resp.Answer)
		}
	})
}

func TestResolverQueryCount(t *testing.T) {
	l := newHierarchy(t)
	l.ResetQueryLog()
	for range 3 {
		query(t, l.Resolver(Normal), "www.example.net.", dns.TypeA, true)
	}
	if got := l.QueriesTo(l.Resolver(Normal)); got != 3 {
		t.Errorf("QueriesTo(resolver) = %d, want 3", got)
	}
	// The stand-in resolves in memory, so the authoritative servers see
	// nothing.
	if got := l.Queries(); got != 3 {
		t.Errorf("Queries() = %d, want 3", got)
	}
}
