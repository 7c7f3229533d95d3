package dnssectest

import (
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"
)

func TestLabAddresses(t *testing.T) {
	l := newHierarchy(t)
	seen := make(map[string]string)
	var block string
	check := func(what, addr string) {
		t.Helper()
		host, port, err := net.SplitHostPort(addr)
		if err != nil || port != "53" {
			t.Fatalf("%s address = %q, want host:53", what, addr)
		}
		ip := net.ParseIP(host).To4()
		if ip == nil || ip[0] != 127 || ip[1] == 0 {
			t.Errorf("%s address %s is not in 127.X.Y.0/24 with X ≠ 0", what, host)
		}
		prefix := host[:strings.LastIndex(host, ".")]
		if block == "" {
			block = prefix
		} else if prefix != block {
			t.Errorf("%s address %s is outside the lab's block %s.0/24", what, host, block)
		}
		if other, dup := seen[addr]; dup {
			t.Errorf("%s and %s share address %s", what, other, addr)
		}
		seen[addr] = what
	}
	for _, z := range l.Zones() {
		check("zone "+z.Origin(), l.Authoritative(z.Origin()))
	}
	for _, mode := range resolverModes {
		check("resolver "+mode.String(), l.Resolver(mode))
	}

	root := l.Authoritative(".")
	if hints := l.RootHints(); !strings.Contains(hints, hostOf(root)) {
		t.Errorf("RootHints() = %q, want the root server address %s", hints, hostOf(root))
	}
	if got := l.Authoritative("nonexistent."); got != "" {
		t.Errorf(`Authoritative("nonexistent.") = %q, want ""`, got)
	}
}

func TestRootHintsParse(t *testing.T) {
	l := newHierarchy(t)
	zp := dns.NewZoneParser(strings.NewReader(l.RootHints()), ".", "")
	var ns, a int
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		switch x := rr.(type) {
		case *dns.NS:
			ns++
		case *dns.A:
			a++
			if got, want := x.A.String()+":53", l.Authoritative("."); got != want {
				t.Errorf("root hint address = %s, want %s", got, want)
			}
		}
	}
	if err := zp.Err(); err != nil {
		t.Fatalf("parsing RootHints(): %v", err)
	}
	if ns != 1 || a != 1 {
		t.Errorf("RootHints() has %d NS and %d A records, want 1 and 1", ns, a)
	}
}

func TestTrustAnchorMatchesRootKSK(t *testing.T) {
	l := newHierarchy(t)
	anchors := l.TrustAnchor()
	if len(anchors) != 1 {
		t.Fatalf("TrustAnchor() has %d records, want 1", len(anchors))
	}
	ds := anchors[0].(*dns.DS)
	if ds.DigestType != dns.SHA256 {
		t.Errorf("trust anchor digest type = %d, want SHA-256 (2)", ds.DigestType)
	}
	resp := query(t, l.Authoritative("."), ".", dns.TypeDNSKEY, true)
	matched := false
	for _, k := range records[*dns.DNSKEY](resp.Answer) {
		if k.KeyTag() == ds.KeyTag && strings.EqualFold(k.ToDS(dns.SHA256).Digest, ds.Digest) {
			matched = true
			if k.Flags != dns.ZONE|dns.SEP {
				t.Errorf("root key %d has flags %d, want 257", k.KeyTag(), k.Flags)
			}
		}
	}
	if !matched {
		t.Errorf("no served root DNSKEY matches the trust anchor %v", ds)
	}
	keys := l.RootKeys()
	if len(keys) != 1 || keys[0].KeyTag() != ds.KeyTag {
		t.Errorf("RootKeys() = %v, want the key with tag %d", keys, ds.KeyTag)
	}
	if n := verifySignatures(t, l, resp); n == 0 {
		t.Error("root DNSKEY RRset has no RRSIG")
	}
}

func TestDSMatchesChildKSK(t *testing.T) {
	l := newHierarchy(t)
	for _, z := range l.Zones() {
		if z.Origin() == "." || !z.signed() {
			continue
		}
		t.Run(z.Origin(), func(t *testing.T) {
			parent := l.Authoritative(z.parent.Origin())
			dsResp := query(t, parent, z.Origin(), dns.TypeDS, true)
			if !dsResp.Authoritative {
				t.Errorf("DS answer from the parent has AA clear")
			}
			dss := records[*dns.DS](dsResp.Answer)
			if len(dss) != 1 {
				t.Fatalf("parent serves %d DS records for %s, want 1", len(dss), z.Origin())
			}
			verifySignatures(t, l, dsResp)
			if countType(dsResp.Answer, dns.TypeRRSIG) == 0 {
				t.Error("DS RRset has no RRSIG")
			}

			keyResp := query(t, l.Authoritative(z.Origin()), z.Origin(), dns.TypeDNSKEY, true)
			verifySignatures(t, l, keyResp)
			matched := false
			for _, k := range records[*dns.DNSKEY](keyResp.Answer) {
				if k.Flags&dns.SEP != 0 && strings.EqualFold(k.ToDS(dns.SHA256).Digest, dss[0].Digest) {
					matched = true
				}
			}
			if !matched {
				t.Errorf("no KSK of %s matches the parent's DS", z.Origin())
			}
		})
	}
}

func TestEveryAnswerVerifies(t *testing.T) {
	l := newHierarchy(t)
	for _, z := range l.Zones() {
		if !z.signed() {
			continue
		}
		for owner, n := range z.data.nodes {
			if z.data.belowCut(owner) {
				continue
			}
			for qtype := range n {
				if z.data.cuts[owner] && qtype != dns.TypeDS {
					continue
				}
				name := owner + " " + dns.TypeToString[qtype]
				t.Run(name, func(t *testing.T) {
					resp := query(t, l.Authoritative(z.Origin()), owner, qtype, true)
					if resp.Rcode != dns.RcodeSuccess || len(resp.Answer) == 0 {
						t.Fatalf("%s: rcode %s with %d answers, want an answer",
							name, dns.RcodeToString[resp.Rcode], len(resp.Answer))
					}
					if n := verifySignatures(t, l, resp); n == 0 {
						t.Errorf("%s: answer carries no RRSIG", name)
					}
				})
			}
		}
	}
}

func TestUnsignedZoneServesNoDNSSEC(t *testing.T) {
	l := newHierarchy(t)
	resp := query(t, l.Authoritative("insecure.example.net."), "www.insecure.example.net.", dns.TypeA, true)
	if len(resp.Answer) != 1 {
		t.Fatalf("answer has %d records, want 1 A", len(resp.Answer))
	}
	for _, t2 := range []uint16{dns.TypeRRSIG, dns.TypeNSEC, dns.TypeNSEC3} {
		if n := countType(append(resp.Answer, resp.Ns...), t2); n != 0 {
			t.Errorf("unsigned zone answer has %d %s records", n, dns.TypeToString[t2])
		}
	}
	if z := l.ZoneAt("insecure.example.net."); len(z.DS()) != 0 || len(z.DNSKEYs()) != 0 {
		t.Errorf("unsigned zone has %d DS and %d DNSKEYs, want none", len(z.DS()), len(z.DNSKEYs()))
	}
}

func TestQueryLog(t *testing.T) {
	l := newHierarchy(t)
	l.ResetQueryLog()
	addr := l.Authoritative("example.net.")
	query(t, addr, "www.example.net.", dns.TypeA, true)
	exchange(t, addr, "udp", "mail.example.net.", dns.TypeA, false)

	if got := l.Queries(); got != 2 {
		t.Errorf("Queries() = %d, want 2", got)
	}
	if got := l.QueriesTo(addr); got != 2 {
		t.Errorf("QueriesTo(example.net. server) = %d, want 2", got)
	}
	if got := l.QueriesTo(l.Resolver(Normal)); got != 0 {
		t.Errorf("QueriesTo(resolver) = %d, want 0", got)
	}
	log := l.QueryLog()
	want := []Query{
		{Server: addr, Transport: "tcp", Name: "www.example.net.", Type: dns.TypeA, DO: true},
		{Server: addr, Transport: "udp", Name: "mail.example.net.", Type: dns.TypeA},
	}
	if len(log) != len(want) {
		t.Fatalf("QueryLog() = %v, want %v", log, want)
	}
	for i := range want {
		if log[i] != want[i] {
			t.Errorf("QueryLog()[%d] = %+v, want %+v", i, log[i], want[i])
		}
	}
	l.ResetQueryLog()
	if got := l.Queries(); got != 0 {
		t.Errorf("Queries() after ResetQueryLog = %d, want 0", got)
	}
}

func TestParallelLabs(t *testing.T) {
	var mu sync.Mutex
	blocks := make(map[string]bool)
	for i := range 6 {
		t.Run("lab"+string(rune('A'+i)), func(t *testing.T) {
			t.Parallel()
			l := New(Config{Now: testNow})
			t.Cleanup(l.Close)
			l.Zone(".", ZoneOptions{})
			l.Zone("test.", ZoneOptions{}).Add("www A 192.0.2.1")
			if err := l.Start(); err != nil {
				t.Fatalf("Start() = %v", err)
			}
			addr := l.Authoritative(".")
			mu.Lock()
			block := addr[:strings.LastIndex(addr, ".")]
			if blocks[block] {
				t.Errorf("block %s used by two labs", block)
			}
			blocks[block] = true
			mu.Unlock()

			resp := query(t, l.Resolver(Normal), "www.test.", dns.TypeA, true)
			verifySignatures(t, l, resp)
			if len(records[*dns.A](resp.Answer)) != 1 {
				t.Errorf("www.test. A via the lab's resolver: %v", resp.Answer)
			}
		})
	}
}

func TestStartTwiceAndClose(t *testing.T) {
	l := New(Config{Now: testNow})
	l.Zone(".", ZoneOptions{})
	if err := l.Start(); err != nil {
		t.Fatalf("Start() = %v", err)
	}
	if err := l.Start(); err != nil {
		t.Errorf("second Start() = %v, want the first result (nil)", err)
	}
	l.Close()
	l.Close()
}

func TestInvalidConfigurations(t *testing.T) {
	tests := []struct {
		name  string
		build func(*Lab)
	}{
		{"no zones", func(*Lab) {}},
		{"fault on zone-wide kind with target", func(l *Lab) {
			l.Zone(".", ZoneOptions{Faults: []Fault{{Kind: WrongDS, Name: "www"}}})
		}},
		{"NSEC3 fault on NSEC zone", func(l *Lab) {
			l.Zone(".", ZoneOptions{Faults: []Fault{{Kind: WrongNSEC3Owner}}})
		}},
		{"replay without target", func(l *Lab) {
			l.Zone(".", ZoneOptions{})
			l.Zone("test.", ZoneOptions{Faults: []Fault{{Kind: ReplayedWildcardSignature}}})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := New(Config{Now: testNow})
			t.Cleanup(l.Close)
			tt.build(l)
			if err := l.Start(); err == nil {
				t.Error("Start() = nil, want an error")
			}
		})
	}
}

func TestAddRejects(t *testing.T) {
	l := New(Config{Now: testNow})
	t.Cleanup(l.Close)
	z := l.Zone(".", ZoneOptions{})
	for _, text := range []string{
		"www.example. IN A",                // malformed
		"@ DNSKEY 257 3 13 AAAA",           // generated by the lab
		"x RRSIG A 13 1 300 0 0 1 . AAAA=", // generated by the lab
		"www CH A 192.0.2.1",               // wrong class
	} {
		if err := z.AddErr(text); err == nil {
			t.Errorf("AddErr(%q) = nil, want an error", text)
		}
	}
	sub := l.Zone("test.", ZoneOptions{})
	if err := sub.AddErr("www.other. A 192.0.2.1"); err == nil {
		t.Error("AddErr(out-of-zone record) = nil, want an error")
	}
}

func TestZonePanics(t *testing.T) {
	tests := []struct {
		name  string
		build func(*Lab)
	}{
		{"root not first", func(l *Lab) { l.Zone("example.", ZoneOptions{}) }},
		{"twice", func(l *Lab) { l.Zone(".", ZoneOptions{}); l.Zone(".", ZoneOptions{}) }},
		{"parent after child", func(l *Lab) {
			l.Zone(".", ZoneOptions{})
			l.Zone("a.example.", ZoneOptions{})
			l.Zone("example.", ZoneOptions{})
		}},
		{"bad algorithm", func(l *Lab) { l.Zone(".", ZoneOptions{Algorithm: 3}) }},
		{"bad salt", func(l *Lab) { l.Zone(".", ZoneOptions{Denial: NSEC3, NSEC3Salt: "xyz"}) }},
		{"RSA too large", func(l *Lab) { l.Zone(".", ZoneOptions{Algorithm: dns.RSASHA256, RSABits: 8192}) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			tt.build(New(Config{}))
		})
	}
}

func TestReplayTargetMustExist(t *testing.T) {
	l := New(Config{Now: testNow})
	t.Cleanup(l.Close)
	l.Zone(".", ZoneOptions{})
	l.Zone("test.", ZoneOptions{Faults: []Fault{{Kind: ReplayedWildcardSignature, Name: "www", Type: dns.TypeA}}})
	if err := l.Start(); err == nil {
		t.Error("Start() = nil, want an error for the missing www.test. A")
	}
}
