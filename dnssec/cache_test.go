package dnssec_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mxclient/mxclient/dnssec"
	"github.com/mxclient/mxclient/dnssec/dnssectest"
	"github.com/mxclient/mxclient/trustanchor"
)

// smallLab starts a lab of its own (root, test., example.test.) so that a
// test can count the queries its validator sends.
func smallLab(t *testing.T, ttl uint32) *dnssectest.Lab {
	t.Helper()
	l := dnssectest.New(dnssectest.Config{Now: labNow})
	t.Cleanup(l.Close)
	l.Zone(".", dnssectest.ZoneOptions{TTL: ttl})
	l.Zone("test.", dnssectest.ZoneOptions{TTL: ttl})
	z := l.Zone("example.test.", dnssectest.ZoneOptions{TTL: ttl})
	for i := 0; i < 20; i++ {
		z.Add(fmt.Sprintf("host%d A 192.0.2.%d", i, i+1))
	}
	if err := l.Start(); err != nil {
		t.Fatalf("Start() = %v", err)
	}
	return l
}

// countingSource counts the queries per (name, type) passed to Source.
type countingSource struct {
	inner dnssec.Source
	mu    sync.Mutex
	seen  map[string]int
}

func (c *countingSource) Query(ctx context.Context, name string, qtype uint16) (*dns.Msg, error) {
	c.mu.Lock()
	c.seen[dns.CanonicalName(name)+" "+dns.TypeToString[qtype]]++
	c.mu.Unlock()
	return c.inner.Query(ctx, name, qtype)
}

func (c *countingSource) count(key string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.seen[key]
}

// clock is a validation time that a test moves.
type clock struct{ now atomic.Int64 }

func (c *clock) Now() time.Time      { return time.Unix(c.now.Load(), 0) }
func (c *clock) Set(t time.Time)     { c.now.Store(t.Unix()) }
func (c *clock) Add(d time.Duration) { c.now.Add(int64(d / time.Second)) }

func countingValidator(t *testing.T, lab *dnssectest.Lab, c *clock) (*dnssec.Validator, *countingSource) {
	t.Helper()
	src := &countingSource{inner: &dnssec.Upstream{Servers: []string{lab.Resolver(dnssectest.Normal)}}, seen: map[string]int{}}
	v, err := dnssec.New(dnssec.Config{Source: src, Anchors: labAnchors(t, lab), Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	return v, src
}

func TestCacheReusesProvenKeys(t *testing.T) {
	lab := smallLab(t, 3600)
	c := &clock{}
	c.Set(labNow)
	v, src := countingValidator(t, lab, c)
	for i := 0; i < 3; i++ {
		name := fmt.Sprintf("host%d.example.test.", i)
		if res := lookup(t, v, name, dns.TypeA); res.Security != dnssec.Secure {
			t.Fatalf("Lookup(%s) = %s, want secure", name, describe(res))
		}
	}
	for _, key := range []string{". DNSKEY", "test. DS", "test. DNSKEY", "example.test. DS", "example.test. DNSKEY"} {
		if n := src.count(key); n != 1 {
			t.Errorf("queries for %s = %d, want 1 (cached after the first lookup)", key, n)
		}
	}
	res := lookup(t, v, "host0.example.test.", dns.TypeA)
	cached := 0
	for _, st := range res.Chain {
		if st.Cached {
			cached++
		}
	}
	if cached == 0 {
		t.Errorf("chain of a repeated lookup marks no step as cached:%s", chainText(res))
	}
}

func TestCacheSharesConcurrentFetches(t *testing.T) {
	lab := smallLab(t, 3600)
	c := &clock{}
	c.Set(labNow)
	v, src := countingValidator(t, lab, c)
	var wg sync.WaitGroup
	errs := make(chan string, 20)
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprintf("host%d.example.test.", i)
			res, err := v.Lookup(context.Background(), name, dns.TypeA)
			if err != nil || res.Security != dnssec.Secure {
				errs <- fmt.Sprintf("Lookup(%s) = %v, %v, want secure", name, res.Security, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	for _, key := range []string{". DNSKEY", "test. DS", "example.test. DNSKEY"} {
		if n := src.count(key); n != 1 {
			t.Errorf("queries for %s by 20 concurrent lookups = %d, want 1", key, n)
		}
	}
}

func TestCacheHonoursTTL(t *testing.T) {
	lab := smallLab(t, 300)
	c := &clock{}
	c.Set(labNow)
	v, src := countingValidator(t, lab, c)
	lookup(t, v, "host1.example.test.", dns.TypeA)

	c.Add(299 * time.Second)
	lookup(t, v, "host2.example.test.", dns.TypeA)
	if n := src.count("example.test. DNSKEY"); n != 1 {
		t.Errorf("DNSKEY queries within the TTL = %d, want 1", n)
	}

	c.Add(2 * time.Second)
	lookup(t, v, "host3.example.test.", dns.TypeA)
	if n := src.count("example.test. DNSKEY"); n != 2 {
		t.Errorf("DNSKEY queries after the 300 s TTL = %d, want 2", n)
	}
}

func TestCacheHonoursSignatureExpiry(t *testing.T) {
	// A TTL of 60 days outlives the lab's 30-day signatures: the keys must
	// leave the cache when their signatures expire.
	lab := smallLab(t, 60*86400)
	c := &clock{}
	c.Set(labNow)
	v, src := countingValidator(t, lab, c)
	lookup(t, v, "host1.example.test.", dns.TypeA)

	c.Add(29 * 24 * time.Hour)
	lookup(t, v, "host2.example.test.", dns.TypeA)
	if n := src.count(". DNSKEY"); n != 1 {
		t.Errorf("root DNSKEY queries before the signatures expire = %d, want 1", n)
	}

	c.Add(2 * 24 * time.Hour)
	res := lookup(t, v, "host3.example.test.", dns.TypeA)
	if n := src.count(". DNSKEY"); n != 2 {
		t.Errorf("root DNSKEY queries after the signatures expired = %d, want 2", n)
	}
	if res.Security != dnssec.Bogus {
		t.Errorf("Lookup after expiry = %s, want bogus", describe(res))
	}
}

func TestAnswerTTLCappedBySignature(t *testing.T) {
	lab := smallLab(t, 3600)
	c := &clock{}
	// The lab's signatures expire 30 days after labNow.
	c.Set(labNow.Add(30*24*time.Hour - 100*time.Second))
	v, _ := countingValidator(t, lab, c)
	res := lookup(t, v, "host1.example.test.", dns.TypeA)
	if res.Security != dnssec.Secure {
		t.Fatalf("Lookup = %s, want secure", describe(res))
	}
	if ttl := res.Answer[0].Header().Ttl; ttl > 100 {
		t.Errorf("answer TTL = %d, want at most the 100 s left before the RRSIG expires", ttl)
	}
}

func TestTrustAnchors(t *testing.T) {
	lab := standardLab(t)
	rootDS := labAnchors(t, lab)
	otherKey := &dns.DNSKEY{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET},
		Flags: 257, Protocol: 3, Algorithm: dns.ECDSAP256SHA256,
		PublicKey: "GojIhhXUN/u4v54ZQqGSnyhWJwaubCvTmeexv7bR6edbkrSqQpF64cYbcB7wNcP+e+MAnLr+Wi9xMWyQLc8NAA=="}
	exampleDS := lab.ZoneAt("example.test.").DS()
	tests := []struct {
		name     string
		anchors  []trustanchor.Anchor
		qname    string
		security dnssec.Security
		reason   dnssec.Reason
	}{
		{name: "root DS", anchors: rootDS, qname: "www.example.test.", security: dnssec.Secure},
		{name: "root DNSKEY", anchors: []trustanchor.Anchor{{DNSKEY: lab.RootKeys()[0]}},
			qname: "www.example.test.", security: dnssec.Secure},
		{name: "wrong key", anchors: []trustanchor.Anchor{{DS: otherKey.ToDS(dns.SHA256)}},
			qname: "www.example.test.", security: dnssec.Bogus, reason: dnssec.ReasonAnchorMismatch},
		{name: "wrong and right", anchors: append([]trustanchor.Anchor{{DS: otherKey.ToDS(dns.SHA256)}}, rootDS...),
			qname: "www.example.test.", security: dnssec.Secure},
		{name: "not yet valid", anchors: []trustanchor.Anchor{{DS: rootDS[0].DS, ValidFrom: labNow.Add(time.Hour)}},
			qname: "www.example.test.", security: dnssec.Indeterminate},
		{name: "expired", anchors: []trustanchor.Anchor{{DS: rootDS[0].DS, ValidUntil: labNow.Add(-time.Hour)}},
			qname: "www.example.test.", security: dnssec.Indeterminate},
		{name: "unsupported algorithm", anchors: []trustanchor.Anchor{{DS: &dns.DS{
			Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeDS, Class: dns.ClassINET}, KeyTag: 1, Algorithm: 253,
			DigestType: dns.SHA256, Digest: "0000000000000000000000000000000000000000000000000000000000000000"}}},
			qname: "www.example.test.", security: dnssec.Insecure},
		{name: "zone anchor inside", anchors: dsAnchors(exampleDS), qname: "www.example.test.", security: dnssec.Secure},
		{name: "zone anchor outside", anchors: dsAnchors(exampleDS), qname: "www.nsec3.test.", security: dnssec.Insecure},
		{name: "deepest anchor wins", anchors: append(dsAnchors(exampleDS), trustanchor.Anchor{DS: otherKey.ToDS(dns.SHA256)}),
			qname: "www.example.test.", security: dnssec.Secure},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := &dnssec.Upstream{Servers: []string{lab.Resolver(dnssectest.Normal)}}
			v, err := dnssec.New(dnssec.Config{Source: up, Anchors: tt.anchors, Now: func() time.Time { return labNow }})
			if err != nil {
				t.Fatal(err)
			}
			res := lookup(t, v, tt.qname, dns.TypeA)
			if res.Security != tt.security {
				t.Fatalf("Lookup(%s) with anchors %q = %s, want %s%s", tt.qname, tt.name, describe(res), tt.security, chainText(res))
			}
			if tt.security == dnssec.Bogus {
				checkBogus(t, res, tt.reason)
			}
			if tt.security == dnssec.Indeterminate && !errors.Is(res.Reason, dnssec.ErrIndeterminate) {
				t.Errorf("reason = %v, want an error matching ErrIndeterminate", res.Reason)
			}
		})
	}
}

func dsAnchors(records []*dns.DS) []trustanchor.Anchor {
	var out []trustanchor.Anchor
	for _, ds := range records {
		out = append(out, trustanchor.Anchor{DS: ds})
	}
	return out
}

func TestLookupRejectsInvalidNames(t *testing.T) {
	lab := standardLab(t)
	v := newValidator(t, lab, dnssectest.Normal, dnssec.Limits{})
	long := ""
	for i := 0; i < 130; i++ {
		long += "a."
	}
	for _, name := range []string{"", "a..b", long} {
		if _, err := v.Lookup(context.Background(), name, dns.TypeA); err == nil {
			t.Errorf("Lookup(%q) error = nil, want an invalid-name error", name)
		}
	}
}

func TestLookupNamesAreAbsolute(t *testing.T) {
	lab := standardLab(t)
	v := newValidator(t, lab, dnssectest.Normal, dnssec.Limits{})
	res := lookup(t, v, "WWW.Example.Test", dns.TypeA)
	if res.Name != "www.example.test." || res.Security != dnssec.Secure {
		t.Errorf("Lookup(WWW.Example.Test) = %s %s, want www.example.test. secure", res.Name, describe(res))
	}
}
