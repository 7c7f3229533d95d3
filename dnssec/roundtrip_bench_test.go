package dnssec

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mxclient/mxclient/dnssec/dnssectest"
	"github.com/mxclient/mxclient/trustanchor"
)

// delayExchanger adds a fixed delay to every query, like a network path
// with that round-trip time, and counts the queries.
type delayExchanger struct {
	delay   time.Duration
	queries atomic.Int64
}

func (d *delayExchanger) Exchange(ctx context.Context, q *dns.Msg, server, network string) (*dns.Msg, error) {
	d.queries.Add(1)
	select {
	case <-time.After(d.delay):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return NetExchanger{}.Exchange(ctx, q, server, network)
}

// roundTripLab starts a four-level hierarchy with a TLSA record at
// _25._tcp.mx.example.net. in the fourth zone.
func roundTripLab(b *testing.B) (*dnssectest.Lab, []trustanchor.Anchor) {
	b.Helper()
	l := dnssectest.New(dnssectest.Config{Now: benchNow})
	b.Cleanup(l.Close)
	l.Zone(".", dnssectest.ZoneOptions{})
	l.Zone("net.", dnssectest.ZoneOptions{Denial: dnssectest.NSEC3OptOut})
	l.Zone("example.net.", dnssectest.ZoneOptions{})
	l.Zone("mx.example.net.", dnssectest.ZoneOptions{}).Add(
		"_25._tcp 3600 IN TLSA 3 1 1 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
	if err := l.Start(); err != nil {
		b.Fatal(err)
	}
	var anchors []trustanchor.Anchor
	for _, rr := range l.TrustAnchor() {
		anchors = append(anchors, trustanchor.Anchor{DS: rr.(*dns.DS)})
	}
	return l, anchors
}

// BenchmarkRoundTrips looks up _25._tcp.mx.example.net. TLSA cold, with
// 20 ms added to every query, and reports the queries sent and the
// dependent round trips: the elapsed time divided by the delay. The floor
// is 2 round trips through an upstream resolver (the answer, then every DS
// and DNSKEY set at once) and, when iterating without minimisation, one per
// zone level (4 here).
func BenchmarkRoundTrips(b *testing.B) {
	const delay = 20 * time.Millisecond
	lab, anchors := roundTripLab(b)
	roots, err := ParseRootHints(strings.NewReader(lab.RootHints()), "lab")
	if err != nil {
		b.Fatal(err)
	}
	modes := []struct {
		name   string
		source func(ex Exchanger) Source
	}{
		{"upstream", func(ex Exchanger) Source {
			return &Upstream{Servers: []string{lab.Resolver(dnssectest.Normal)}, Exchanger: ex}
		}},
		{"iterate", func(ex Exchanger) Source {
			return &Iterator{Roots: roots, Exchanger: ex}
		}},
		{"iterate-no-minimisation", func(ex Exchanger) Source {
			return &Iterator{Roots: roots, Exchanger: ex, NoQNAMEMinimisation: true}
		}},
	}
	for _, m := range modes {
		b.Run(m.name, func(b *testing.B) {
			var queries int64
			var elapsed time.Duration
			for b.Loop() {
				ex := &delayExchanger{delay: delay}
				v, err := New(Config{Source: m.source(ex), Anchors: anchors, Now: func() time.Time { return benchNow }})
				if err != nil {
					b.Fatal(err)
				}
				start := time.Now()
				res, err := v.Lookup(context.Background(), "_25._tcp.mx.example.net.", dns.TypeTLSA)
				elapsed += time.Since(start)
				if err != nil || res.Security != Secure {
					b.Fatalf("Lookup = %v, %v, want secure", res.Security, res.Reason)
				}
				queries += ex.queries.Load()
			}
			n := float64(b.N)
			b.ReportMetric(float64(queries)/n, "queries/op")
			b.ReportMetric(float64(elapsed)/n/float64(delay), "round-trips/op")
		})
	}
}
