package dnssec

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mxclient/mxclient/dnssec/dnssectest"
	"github.com/mxclient/mxclient/internal/dnscrypto"
	"github.com/mxclient/mxclient/trustanchor"
)

var benchNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// benchLab starts a four-level hierarchy: the root and a TLD signed with
// RSASHA256 as most of them are, and a zone and its child with ECDSA P-256.
func benchLab(b *testing.B) (*dnssectest.Lab, []trustanchor.Anchor) {
	b.Helper()
	l := dnssectest.New(dnssectest.Config{Now: benchNow})
	b.Cleanup(l.Close)
	l.Zone(".", dnssectest.ZoneOptions{Algorithm: dns.RSASHA256, RSABits: 2048, SplitKeys: true})
	l.Zone("bench.", dnssectest.ZoneOptions{Algorithm: dns.RSASHA256, RSABits: 2048, SplitKeys: true,
		Denial: dnssectest.NSEC3})
	l.Zone("example.bench.", dnssectest.ZoneOptions{})
	l.Zone("child.example.bench.", dnssectest.ZoneOptions{}).Add("www A 192.0.2.1")
	if err := l.Start(); err != nil {
		b.Fatal(err)
	}
	var anchors []trustanchor.Anchor
	for _, rr := range l.TrustAnchor() {
		anchors = append(anchors, trustanchor.Anchor{DS: rr.(*dns.DS)})
	}
	return l, anchors
}

// memorySource answers from responses recorded from another Source, so
// that a benchmark measures validation without network round trips.
type memorySource struct {
	inner Source
	mu    sync.Mutex
	msgs  map[string]*dns.Msg
}

func (m *memorySource) Query(ctx context.Context, name string, qtype uint16) (*dns.Msg, error) {
	key := dns.CanonicalName(name) + "/" + dns.TypeToString[qtype]
	m.mu.Lock()
	msg, ok := m.msgs[key]
	m.mu.Unlock()
	if ok {
		return msg.Copy(), nil
	}
	msg, err := m.inner.Query(ctx, name, qtype)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	m.msgs[key] = msg.Copy()
	m.mu.Unlock()
	return msg, nil
}

func benchLookup(b *testing.B, src Source, anchors []trustanchor.Anchor) {
	v, err := New(Config{Source: src, Anchors: anchors, Now: func() time.Time { return benchNow }})
	if err != nil {
		b.Fatal(err)
	}
	res, err := v.Lookup(context.Background(), "www.child.example.bench.", dns.TypeA)
	if err != nil || res.Security != Secure {
		b.Fatalf("Lookup = %v, %v, want secure", res.Security, res.Reason)
	}
}

// BenchmarkValidateChain validates www.child.example.bench. A through four
// zones with a new Validator per iteration, so that nothing is cached and
// every signature is checked.
//
//   - cold: the data comes over loopback from the lab's resolver stand-in.
//   - warm: the data was fetched once before and comes from memory.
//   - crypto: only the RRSIG verifications and DS digests that the warm
//     run performs, replayed on their own.
//
// The warm case also reports crypto-ns/op, the part of its time spent in
// those checks, and overhead-%, the rest relative to them.
func BenchmarkValidateChain(b *testing.B) {
	lab, anchors := benchLab(b)
	upstream := &Upstream{Servers: []string{lab.Resolver(dnssectest.Normal)}}

	b.Run("cold", func(b *testing.B) {
		for b.Loop() {
			benchLookup(b, upstream, anchors)
		}
	})

	mem := &memorySource{inner: upstream, msgs: map[string]*dns.Msg{}}
	benchLookup(b, mem, anchors)

	b.Run("warm", func(b *testing.B) {
		var spent time.Duration
		restore := timeHooks(&spent)
		defer restore()
		start := time.Now()
		for b.Loop() {
			benchLookup(b, mem, anchors)
		}
		total := time.Since(start)
		b.ReportMetric(float64(spent.Nanoseconds())/float64(b.N), "crypto-ns/op")
		if spent > 0 {
			b.ReportMetric(100*float64(total-spent)/float64(spent), "overhead-%")
		}
	})

	work := recordCrypto(b, mem, anchors)
	b.Run("crypto", func(b *testing.B) {
		for b.Loop() {
			work.replay(b)
		}
	})
}

// timeHooks makes the signature and digest hooks add the time they take
// to spent, and returns a function that restores them.
func timeHooks(spent *time.Duration) func() {
	verify, digest := verifyHook, digestHook
	verifyHook = func(sig *dns.RRSIG, key *dns.DNSKEY, rrs []dns.RR) error {
		t := time.Now()
		err := verify(sig, key, rrs)
		*spent += time.Since(t)
		return err
	}
	digestHook = func(k *dns.DNSKEY, h uint8) *dns.DS {
		t := time.Now()
		ds := digest(k, h)
		*spent += time.Since(t)
		return ds
	}
	return func() { verifyHook, digestHook = verify, digest }
}

// cryptoWork is the list of signature checks and DS digests one lookup
// performs.
type cryptoWork struct {
	verifies []verifyCall
	digests  []digestCall
}

type verifyCall struct {
	sig *dns.RRSIG
	key *dns.DNSKEY
	rrs []dns.RR
}

type digestCall struct {
	key  *dns.DNSKEY
	hash uint8
}

func recordCrypto(b *testing.B, src Source, anchors []trustanchor.Anchor) *cryptoWork {
	w := &cryptoWork{}
	verify, digest := verifyHook, digestHook
	verifyHook = func(sig *dns.RRSIG, key *dns.DNSKEY, rrs []dns.RR) error {
		w.verifies = append(w.verifies, verifyCall{sig, key, rrs})
		return verify(sig, key, rrs)
	}
	digestHook = func(k *dns.DNSKEY, h uint8) *dns.DS {
		w.digests = append(w.digests, digestCall{k, h})
		return digest(k, h)
	}
	benchLookup(b, src, anchors)
	verifyHook, digestHook = verify, digest
	return w
}

func (w *cryptoWork) replay(b *testing.B) {
	for _, c := range w.verifies {
		if err := dnscrypto.Verify(c.sig, c.key, c.rrs); err != nil {
			b.Fatal(err)
		}
	}
	for _, c := range w.digests {
		if c.key.ToDS(c.hash) == nil {
			b.Fatal("ToDS failed")
		}
	}
}
