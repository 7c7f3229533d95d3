package dnssectest

import (
	"strings"
	"testing"

	"github.com/miekg/dns"
)

func TestNSECNegativeAnswers(t *testing.T) {
	l := newHierarchy(t)
	addr := l.Authoritative("example.net.")
	tests := []struct {
		name  string
		qname string
		qtype uint16
		rcode int
		// covered are names that some NSEC must cover; matched are owners
		// whose NSEC must be present.
		covered, matched []string
		// absentType must be missing from the matching NSEC's bitmap.
		absentType uint16
	}{
		{
			name: "NXDOMAIN", qname: "nope.example.net.", qtype: dns.TypeA, rcode: dns.RcodeNameError,
			covered: []string{"nope.example.net.", "*.example.net."},
		},
		{
			name: "NXDOMAIN below existing name", qname: "x.www.example.net.", qtype: dns.TypeA,
			rcode: dns.RcodeNameError, covered: []string{"x.www.example.net.", "*.www.example.net."},
		},
		{
			name: "NODATA", qname: "www.example.net.", qtype: dns.TypeTXT, rcode: dns.RcodeSuccess,
			matched: []string{"www.example.net."}, absentType: dns.TypeTXT,
		},
		{
			name: "NODATA at empty non-terminal", qname: "b.c.example.net.", qtype: dns.TypeA,
			rcode: dns.RcodeSuccess, covered: []string{"b.c.example.net."},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := query(t, addr, tt.qname, tt.qtype, true)
			if resp.Rcode != tt.rcode {
				t.Errorf("rcode = %s, want %s", dns.RcodeToString[resp.Rcode], dns.RcodeToString[tt.rcode])
			}
			if !resp.Authoritative {
				t.Error("AA clear in a negative answer")
			}
			if len(resp.Answer) != 0 {
				t.Errorf("answer section = %v, want empty", resp.Answer)
			}
			if countType(resp.Ns, dns.TypeSOA) != 1 {
				t.Errorf("authority has no SOA: %v", resp.Ns)
			}
			nsecs := records[*dns.NSEC](resp.Ns)
			for _, name := range tt.covered {
				if !anyNSEC(nsecs, func(n *dns.NSEC) bool { return nsecCovers(n, name) }) {
					t.Errorf("no NSEC covers %s in %v", name, nsecs)
				}
			}
			for _, name := range tt.matched {
				match := anyNSEC(nsecs, func(n *dns.NSEC) bool {
					return strings.EqualFold(n.Hdr.Name, name) && !hasType(n.TypeBitMap, tt.absentType)
				})
				if !match {
					t.Errorf("no NSEC at %s without %s in %v", name, dns.TypeToString[tt.absentType], nsecs)
				}
			}
			if tt.name == "NODATA at empty non-terminal" && !dns.IsSubDomain(tt.qname, nsecs[0].NextDomain) {
				t.Errorf("NSEC next name %s is not below the empty non-terminal %s", nsecs[0].NextDomain, tt.qname)
			}
			if n := verifySignatures(t, l, resp); n != 1+len(nsecs) {
				t.Errorf("%d RRSIGs verified, want one for the SOA and one per NSEC (%d)", n, 1+len(nsecs))
			}
		})
	}
}

func anyNSEC(nsecs []*dns.NSEC, pred func(*dns.NSEC) bool) bool {
	for _, n := range nsecs {
		if pred(n) {
			return true
		}
	}
	return false
}

func anyNSEC3(nsec3s []*dns.NSEC3, pred func(*dns.NSEC3) bool) bool {
	for _, n := range nsec3s {
		if pred(n) {
			return true
		}
	}
	return false
}

func TestNSEC3NegativeAnswers(t *testing.T) {
	l := newHierarchy(t)
	addr := l.Authoritative("nsec3.example.")
	tests := []struct {
		name  string
		qname string
		qtype uint16
		rcode int
		// encloser is the closest encloser whose NSEC3 must match; covered
		// are names whose hashes must be covered.
		encloser string
		covered  []string
		// matched is a name whose NSEC3 must match and lack absentType.
		matched    string
		absentType uint16
	}{
		{
			name: "NXDOMAIN below apex", qname: "x.y.nsec3.example.", qtype: dns.TypeA,
			rcode: dns.RcodeNameError, encloser: "nsec3.example.",
			covered: []string{"y.nsec3.example.", "*.nsec3.example."},
		},
		{
			name: "NXDOMAIN below empty non-terminal", qname: "x.b.nsec3.example.", qtype: dns.TypeA,
			rcode: dns.RcodeNameError, encloser: "b.nsec3.example.",
			covered: []string{"x.b.nsec3.example.", "*.b.nsec3.example."},
		},
		{
			name: "NODATA", qname: "www.nsec3.example.", qtype: dns.TypeTXT, rcode: dns.RcodeSuccess,
			matched: "www.nsec3.example.", absentType: dns.TypeTXT,
		},
		{
			name: "NODATA at empty non-terminal", qname: "a.b.nsec3.example.", qtype: dns.TypeTXT,
			rcode: dns.RcodeSuccess, matched: "a.b.nsec3.example.", absentType: dns.TypeTXT,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := query(t, addr, tt.qname, tt.qtype, true)
			if resp.Rcode != tt.rcode {
				t.Errorf("rcode = %s, want %s", dns.RcodeToString[resp.Rcode], dns.RcodeToString[tt.rcode])
			}
			nsec3s := records[*dns.NSEC3](resp.Ns)
			for _, n := range nsec3s {
				if n.Iterations != 5 || !strings.EqualFold(n.Salt, "AABBCCDD") || n.Flags != 0 {
					t.Errorf("NSEC3 %s has iterations %d, salt %s, flags %d; want 5, AABBCCDD, 0",
						n.Hdr.Name, n.Iterations, n.Salt, n.Flags)
				}
				hash := dns.HashName(tt.qname, dns.SHA1, n.Iterations, n.Salt)
				if strings.EqualFold(n.Hdr.Name, hash+".nsec3.example.") && tt.rcode == dns.RcodeNameError {
					t.Errorf("NSEC3 %s matches the nonexistent %s", n.Hdr.Name, tt.qname)
				}
			}
			if tt.encloser != "" {
				if !anyNSEC3(nsec3s, func(n *dns.NSEC3) bool { return n.Match(tt.encloser) }) {
					t.Errorf("no NSEC3 matches the closest encloser %s", tt.encloser)
				}
				// The closest encloser is the longest existing ancestor:
				// the next closer name must be covered, not matched.
				next := childOf(tt.encloser, tt.qname)
				if anyNSEC3(nsec3s, func(n *dns.NSEC3) bool { return n.Match(next) }) {
					t.Errorf("an NSEC3 matches the next closer name %s", next)
				}
			}
			for _, name := range tt.covered {
				if !anyNSEC3(nsec3s, func(n *dns.NSEC3) bool { return nsec3Covers(n, name) }) {
					t.Errorf("no NSEC3 covers %s", name)
				}
			}
			if tt.matched != "" {
				ok := anyNSEC3(nsec3s, func(n *dns.NSEC3) bool {
					return n.Match(tt.matched) && !hasType(n.TypeBitMap, tt.absentType)
				})
				if !ok {
					t.Errorf("no NSEC3 matches %s without %s", tt.matched, dns.TypeToString[tt.absentType])
				}
			}
			verifySignatures(t, l, resp)
			if got, want := countType(resp.Ns, dns.TypeRRSIG), 1+len(nsec3s); got != want {
				t.Errorf("authority has %d RRSIGs, want %d", got, want)
			}
		})
	}
}

func TestWildcardAnswers(t *testing.T) {
	l := newHierarchy(t)
	tests := []struct {
		name, zone, qname, wildcardParent string
	}{
		{"NSEC", "example.net.", "host.wild.example.net.", "wild.example.net."},
		{"NSEC deeper", "example.net.", "a.b.wild.example.net.", "wild.example.net."},
		{"NSEC3", "nsec3.example.", "host.wild.nsec3.example.", "wild.nsec3.example."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := query(t, l.Authoritative(tt.zone), tt.qname, dns.TypeA, true)
			if resp.Rcode != dns.RcodeSuccess {
				t.Fatalf("rcode = %s, want NOERROR", dns.RcodeToString[resp.Rcode])
			}
			as := records[*dns.A](resp.Answer)
			if len(as) != 1 || !strings.EqualFold(as[0].Hdr.Name, tt.qname) {
				t.Fatalf("answer = %v, want one A owned by %s", resp.Answer, tt.qname)
			}
			sigs := records[*dns.RRSIG](resp.Answer)
			if len(sigs) != 1 {
				t.Fatalf("answer has %d RRSIGs, want 1", len(sigs))
			}
			if want := dns.CountLabel(tt.wildcardParent); int(sigs[0].Labels) != want {
				t.Errorf("RRSIG labels = %d, want %d (the wildcard's, without *)", sigs[0].Labels, want)
			}
			if int(sigs[0].Labels) >= dns.CountLabel(tt.qname) {
				t.Errorf("RRSIG labels %d not below the owner's %d", sigs[0].Labels, dns.CountLabel(tt.qname))
			}
			next := childOf(tt.wildcardParent, tt.qname)
			if strings.HasPrefix(tt.name, "NSEC3") {
				nsec3s := records[*dns.NSEC3](resp.Ns)
				if !anyNSEC3(nsec3s, func(n *dns.NSEC3) bool { return nsec3Covers(n, next) }) {
					t.Errorf("no NSEC3 covers the next closer name %s", next)
				}
			} else {
				nsecs := records[*dns.NSEC](resp.Ns)
				if !anyNSEC(nsecs, func(n *dns.NSEC) bool { return nsecCovers(n, tt.qname) }) {
					t.Errorf("no NSEC covers %s", tt.qname)
				}
			}
			if n := verifySignatures(t, l, resp); n != 2 {
				t.Errorf("%d RRSIGs verified, want 2 (answer and proof)", n)
			}
		})
	}
}

func TestWildcardNoData(t *testing.T) {
	l := newHierarchy(t)
	t.Run("NSEC", func(t *testing.T) {
		resp := query(t, l.Authoritative("example.net."), "host.wild.example.net.", dns.TypeMX, true)
		if resp.Rcode != dns.RcodeSuccess || len(resp.Answer) != 0 {
			t.Fatalf("rcode %s, answer %v; want NOERROR and no answer", dns.RcodeToString[resp.Rcode], resp.Answer)
		}
		nsecs := records[*dns.NSEC](resp.Ns)
		if !anyNSEC(nsecs, func(n *dns.NSEC) bool { return nsecCovers(n, "host.wild.example.net.") }) {
			t.Error("no NSEC covers the query name")
		}
		if !anyNSEC(nsecs, func(n *dns.NSEC) bool {
			return n.Hdr.Name == "*.wild.example.net." && !hasType(n.TypeBitMap, dns.TypeMX)
		}) {
			t.Error("no NSEC at the wildcard without MX")
		}
		verifySignatures(t, l, resp)
	})
	t.Run("NSEC3", func(t *testing.T) {
		resp := query(t, l.Authoritative("nsec3.example."), "host.wild.nsec3.example.", dns.TypeMX, true)
		nsec3s := records[*dns.NSEC3](resp.Ns)
		checks := []struct {
			property string
			ok       func(*dns.NSEC3) bool
		}{
			{"matches the closest encloser", func(n *dns.NSEC3) bool { return n.Match("wild.nsec3.example.") }},
			{"covers the next closer name", func(n *dns.NSEC3) bool {
				return nsec3Covers(n, "host.wild.nsec3.example.")
			}},
			{"matches the wildcard", func(n *dns.NSEC3) bool { return n.Match("*.wild.nsec3.example.") }},
		}
		for _, c := range checks {
			if !anyNSEC3(nsec3s, c.ok) {
				t.Errorf("no NSEC3 %s", c.property)
			}
		}
		verifySignatures(t, l, resp)
	})
}

func TestReferrals(t *testing.T) {
	l := newHierarchy(t)
	tests := []struct {
		name, parent, qname, cut string
		secure                   bool
		// optOut: the proof is the closest provable encloser and an opt-out
		// span covering the delegation.
		optOut bool
	}{
		{name: "secure NSEC", parent: ".", qname: "www.example.net.", cut: "net.", secure: true},
		{name: "secure NSEC3", parent: "net.", qname: "www.example.net.", cut: "example.net.", secure: true},
		{name: "insecure NSEC", parent: "example.net.",
			qname: "www.insecure.example.net.", cut: "insecure.example.net."},
		{name: "insecure NSEC3", parent: "nsec3.example.",
			qname: "www.unsigned.nsec3.example.", cut: "unsigned.nsec3.example."},
		{name: "insecure opt-out", parent: "optout.",
			qname: "www.unsigned.optout.", cut: "unsigned.optout.", optOut: true},
		{name: "secure under opt-out", parent: "optout.",
			qname: "www.signed.optout.", cut: "signed.optout.", secure: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := query(t, l.Authoritative(tt.parent), tt.qname, dns.TypeA, true)
			if resp.Authoritative || resp.Rcode != dns.RcodeSuccess || len(resp.Answer) != 0 {
				t.Fatalf("AA %v, rcode %s, answer %v; want a referral",
					resp.Authoritative, dns.RcodeToString[resp.Rcode], resp.Answer)
			}
			ns := records[*dns.NS](resp.Ns)
			if len(ns) != 1 || ns[0].Hdr.Name != tt.cut {
				t.Fatalf("authority NS = %v, want the NS of %s", ns, tt.cut)
			}
			glue := records[*dns.A](resp.Extra)
			if len(glue) != 1 || glue[0].A.String()+":53" != l.Authoritative(tt.cut) {
				t.Errorf("glue = %v, want the address of %s", glue, l.Authoritative(tt.cut))
			}
			ds := records[*dns.DS](resp.Ns)
			if tt.secure != (len(ds) > 0) {
				t.Errorf("referral has %d DS records, want secure=%v", len(ds), tt.secure)
			}
			if !tt.secure {
				checkNoDSProof(t, resp, tt.cut, tt.optOut)
			}
			if countType(resp.Ns, dns.TypeRRSIG) == 0 {
				t.Error("referral authority has no RRSIG")
			}
			verifySignatures(t, l, resp)
		})
	}
}

// checkNoDSProof checks that a referral or DS answer proves the absence of
// a DS at cut.
func checkNoDSProof(t *testing.T, resp *dns.Msg, cut string, optOut bool) {
	t.Helper()
	if nsecs := records[*dns.NSEC](resp.Ns); len(nsecs) > 0 {
		ok := anyNSEC(nsecs, func(n *dns.NSEC) bool {
			return n.Hdr.Name == cut && hasType(n.TypeBitMap, dns.TypeNS) && !hasType(n.TypeBitMap, dns.TypeDS)
		})
		if !ok {
			t.Errorf("no NSEC at %s with NS and without DS: %v", cut, nsecs)
		}
		return
	}
	nsec3s := records[*dns.NSEC3](resp.Ns)
	if !optOut {
		ok := anyNSEC3(nsec3s, func(n *dns.NSEC3) bool {
			return n.Match(cut) && hasType(n.TypeBitMap, dns.TypeNS) &&
				!hasType(n.TypeBitMap, dns.TypeDS) && !hasType(n.TypeBitMap, dns.TypeRRSIG)
		})
		if !ok {
			t.Errorf("no NSEC3 matches %s with NS and without DS and RRSIG: %v", cut, nsec3s)
		}
		return
	}
	if anyNSEC3(nsec3s, func(n *dns.NSEC3) bool { return n.Match(cut) }) {
		t.Errorf("an NSEC3 matches the opt-out delegation %s", cut)
	}
	if !anyNSEC3(nsec3s, func(n *dns.NSEC3) bool { return n.Match(parentName(cut)) }) {
		t.Errorf("no NSEC3 matches the closest provable encloser %s", parentName(cut))
	}
	if !anyNSEC3(nsec3s, func(n *dns.NSEC3) bool { return nsec3Covers(n, cut) && n.Flags&1 == 1 }) {
		t.Errorf("no opt-out NSEC3 covers %s", cut)
	}
}

func TestDSQueryAnsweredByParent(t *testing.T) {
	l := newHierarchy(t)
	tests := []struct {
		name, parent, child string
		optOut              bool
	}{
		{"NSEC parent", "example.net.", "insecure.example.net.", false},
		{"NSEC3 parent", "nsec3.example.", "unsigned.nsec3.example.", false},
		{"opt-out parent", "optout.", "unsigned.optout.", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := query(t, l.Authoritative(tt.parent), tt.child, dns.TypeDS, true)
			if !resp.Authoritative || resp.Rcode != dns.RcodeSuccess || len(resp.Answer) != 0 {
				t.Fatalf("AA %v, rcode %s, answer %v; want authoritative NODATA",
					resp.Authoritative, dns.RcodeToString[resp.Rcode], resp.Answer)
			}
			if countType(resp.Ns, dns.TypeSOA) != 1 {
				t.Errorf("no SOA in %v", resp.Ns)
			}
			checkNoDSProof(t, resp, tt.child, tt.optOut)
			verifySignatures(t, l, resp)
		})
	}
}

func TestCNAMEAndDNAME(t *testing.T) {
	l := newHierarchy(t)
	addr := l.Authoritative("example.net.")
	t.Run("CNAME inside zone", func(t *testing.T) {
		resp := query(t, addr, "alias.example.net.", dns.TypeA, true)
		if countType(resp.Answer, dns.TypeCNAME) != 1 || countType(resp.Answer, dns.TypeA) != 1 {
			t.Errorf("answer = %v, want the CNAME and the A of www", resp.Answer)
		}
		if n := verifySignatures(t, l, resp); n != 2 {
			t.Errorf("%d RRSIGs verified, want 2", n)
		}
	})
	t.Run("CNAME out of zone", func(t *testing.T) {
		resp := query(t, addr, "away.example.net.", dns.TypeA, true)
		if len(records[*dns.CNAME](resp.Answer)) != 1 || countType(resp.Answer, dns.TypeA) != 0 {
			t.Errorf("answer = %v, want only the CNAME", resp.Answer)
		}
	})
	t.Run("DNAME", func(t *testing.T) {
		resp := query(t, addr, "www.dn.example.net.", dns.TypeA, true)
		dnames := records[*dns.DNAME](resp.Answer)
		cnames := records[*dns.CNAME](resp.Answer)
		if len(dnames) != 1 || len(cnames) != 1 {
			t.Fatalf("answer = %v, want a DNAME and a synthesized CNAME", resp.Answer)
		}
		if cnames[0].Hdr.Name != "www.dn.example.net." || cnames[0].Target != "www.nsec3.example." {
			t.Errorf("synthesized CNAME = %v, want www.dn.example.net. -> www.nsec3.example.", cnames[0])
		}
		if cnames[0].Hdr.Ttl != dnames[0].Hdr.Ttl {
			t.Errorf("synthesized CNAME TTL = %d, want the DNAME's %d", cnames[0].Hdr.Ttl, dnames[0].Hdr.Ttl)
		}
		if n := verifySignatures(t, l, resp); n != 1 {
			t.Errorf("%d RRSIGs verified, want 1 (the DNAME's)", n)
		}
	})
	t.Run("CNAME loop", func(t *testing.T) {
		resp := query(t, addr, "loop1.example.net.", dns.TypeA, true)
		if got := len(records[*dns.CNAME](resp.Answer)); got != 2 {
			t.Errorf("answer has %d CNAMEs, want 2: %v", got, resp.Answer)
		}
	})
}

func TestRefusedOutsideZone(t *testing.T) {
	l := newHierarchy(t)
	resp := query(t, l.Authoritative("example.net."), "www.nsec3.example.", dns.TypeA, true)
	if resp.Rcode != dns.RcodeRefused {
		t.Errorf("rcode = %s, want REFUSED", dns.RcodeToString[resp.Rcode])
	}
}

func TestNoDNSSECWithoutDO(t *testing.T) {
	l := newHierarchy(t)
	resp := query(t, l.Authoritative("example.net."), "nope.example.net.", dns.TypeA, false)
	if resp.Rcode != dns.RcodeNameError {
		t.Errorf("rcode = %s, want NXDOMAIN", dns.RcodeToString[resp.Rcode])
	}
	for _, section := range [][]dns.RR{resp.Answer, resp.Ns} {
		for _, rr := range section {
			switch rr.Header().Rrtype {
			case dns.TypeRRSIG, dns.TypeNSEC, dns.TypeNSEC3:
				t.Errorf("answer without DO carries %v", rr)
			}
		}
	}
	if opt := resp.IsEdns0(); opt == nil || opt.Do() {
		t.Errorf("OPT = %v, want one without DO", opt)
	}
}

func TestUDPTruncation(t *testing.T) {
	l := newHierarchy(t)
	m := new(dns.Msg)
	m.SetQuestion("net.", dns.TypeDNSKEY)
	m.SetEdns0(512, true)
	c := &dns.Client{Net: "udp"}
	resp, _, err := c.Exchange(m, l.Authoritative("net."))
	if err != nil {
		t.Fatalf("querying net. DNSKEY over UDP: %v", err)
	}
	if resp.Len() > 512 {
		t.Errorf("UDP response of %d octets exceeds the 512 the query allowed", resp.Len())
	}
	if !resp.Truncated && countType(resp.Answer, dns.TypeRRSIG) == 0 {
		t.Errorf("response neither truncated nor signed: %v", resp)
	}
}
