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
)

// forgingExchanger changes the address of every A record that passes
// through it, keeping the signatures: a resolver that tampers with data.
type forgingExchanger struct{}

func (forgingExchanger) Exchange(ctx context.Context, q *dns.Msg, server, network string) (*dns.Msg, error) {
	resp, err := dnssec.NetExchanger{}.Exchange(ctx, q, server, network)
	if err != nil {
		return nil, err
	}
	for _, rr := range resp.Answer {
		if a, ok := rr.(*dns.A); ok {
			a.A[3]++
		}
	}
	return resp, nil
}

func TestAutoSwitchesToIterating(t *testing.T) {
	lab := standardLab(t)
	roots, err := dnssec.ParseRootHints(strings.NewReader(lab.RootHints()), "lab root hints")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		upstream  *dnssec.Upstream
		iterating bool
		reason    string
	}{
		{"good resolver", &dnssec.Upstream{Servers: []string{lab.Resolver(dnssectest.Normal)}}, false, ""},
		{"strips RRSIGs", &dnssec.Upstream{Servers: []string{lab.Resolver(dnssectest.StripRRSIG)}}, true, "strips RRSIG"},
		{"ignores DO", &dnssec.Upstream{Servers: []string{lab.Resolver(dnssectest.IgnoreDO)}}, true, "ignores the DO bit"},
		{"SERVFAIL", &dnssec.Upstream{Servers: []string{lab.Resolver(dnssectest.ServFail)}}, true, "SERVFAIL"},
		{"silent", &dnssec.Upstream{Servers: []string{lab.Resolver(dnssectest.Silent)},
			QueryTimeout: 100 * time.Millisecond, Attempts: 1}, true, "failed"},
		{"forges data", &dnssec.Upstream{Servers: []string{lab.Resolver(dnssectest.Normal)},
			Exchanger: forgingExchanger{}}, true, "was bogus"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			var notes []string
			auto := &dnssec.Auto{
				Upstream: tt.upstream,
				Iterator: &dnssec.Iterator{Roots: roots},
				Notify: func(reason string) {
					mu.Lock()
					notes = append(notes, reason)
					mu.Unlock()
				},
			}
			v, err := dnssec.New(dnssec.Config{Source: auto, Anchors: labAnchors(t, lab), Now: func() time.Time { return labNow }})
			if err != nil {
				t.Fatal(err)
			}
			res := lookup(t, v, "www.example.test.", dns.TypeA)
			if res.Security != dnssec.Secure {
				t.Fatalf("Lookup via auto (%s) = %s, want secure%s", tt.name, describe(res), chainText(res))
			}
			if got := res.Answer[0].(*dns.A).A.String(); got != "192.0.2.1" {
				t.Errorf("Lookup via auto (%s) answer = %s, want 192.0.2.1", tt.name, got)
			}
			if auto.Iterating() != tt.iterating {
				t.Errorf("Iterating() = %v, want %v", auto.Iterating(), tt.iterating)
			}
			mu.Lock()
			defer mu.Unlock()
			if !tt.iterating {
				if len(notes) != 0 {
					t.Errorf("Notify called with %q, want no call", notes)
				}
				return
			}
			if len(notes) != 1 || !strings.Contains(notes[0], tt.reason) {
				t.Errorf("Notify calls = %q, want one containing %q", notes, tt.reason)
			}
		})
	}
}

func TestAutoKeepsUpstreamForGenuinelyBogusData(t *testing.T) {
	lab := standardLab(t)
	roots, _ := dnssec.ParseRootHints(strings.NewReader(lab.RootHints()), "lab root hints")
	auto := &dnssec.Auto{
		Upstream: &dnssec.Upstream{Servers: []string{lab.Resolver(dnssectest.Normal)}},
		Iterator: &dnssec.Iterator{Roots: roots},
		Notify:   func(reason string) { t.Errorf("Notify(%q) called, want no switch", reason) },
	}
	v, err := dnssec.New(dnssec.Config{Source: auto, Anchors: labAnchors(t, lab), Now: func() time.Time { return labNow }})
	if err != nil {
		t.Fatal(err)
	}
	res := lookup(t, v, "www.altered.test.", dns.TypeA)
	if res.Security != dnssec.Bogus {
		t.Errorf("Lookup(www.altered.test.) via auto = %s, want bogus", describe(res))
	}
	if auto.Iterating() {
		t.Error("Iterating() = true after a bogus answer that iterating confirms, want false")
	}
}
