package dnssec_test

import (
	"errors"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mxclient/mxclient/dnssec"
	"github.com/mxclient/mxclient/dnssec/dnssectest"
)

// TestLimits runs lookups that hit each resource limit and checks that
// they end bogus with a LimitError naming the limit, in bounded time.
func TestLimits(t *testing.T) {
	lab := standardLab(t)
	tests := []struct {
		name   string
		qname  string
		qtype  uint16
		limits dnssec.Limits
		limit  string
	}{
		{"KeyTrap DS digests", "www.keytrap.test.", dns.TypeA, dnssec.Limits{}, "MaxDSMismatches"},
		{"KeyTrap one key", "www.keytrap.test.", dns.TypeA, dnssec.Limits{MaxDSMismatches: 100}, "MaxSignatureChecksPerRRset"},
		{"KeyTrap colliding tags", "www.keytrapsplit.test.", dns.TypeA, dnssec.Limits{}, "MaxKeysPerTag"},
		{"KeyTrap RSA", "www.keytraprsa.test.", dns.TypeA, dnssec.Limits{}, "MaxKeysPerTag"},
		{"KeyTrap signatures", "www.keytrapsplit.test.", dns.TypeA, dnssec.Limits{MaxKeysPerTag: 100}, "MaxSignatureChecksPerRRset"},
		{"queries", "www.example.test.", dns.TypeA, dnssec.Limits{MaxQueries: 3}, "MaxQueries"},
		{"signature checks", "www.example.test.", dns.TypeA, dnssec.Limits{MaxSignatureChecks: 3}, "MaxSignatureChecks"},
		{"CNAME chain", "c1.example.test.", dns.TypeA, dnssec.Limits{}, "MaxChainLength"},
		{"zone depth", "www.example.test.", dns.TypeA, dnssec.Limits{MaxZoneDepth: 1}, "MaxZoneDepth"},
		{"NSEC3 hashes", "a.b.c.d.e.f.nope.nsec3.test.", dns.TypeA, dnssec.Limits{MaxNSEC3Hashes: 4}, "MaxNSEC3Hashes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := newValidator(t, lab, dnssectest.Normal, tt.limits)
			start := time.Now()
			res := lookup(t, v, tt.qname, tt.qtype)
			if took := time.Since(start); took > 5*time.Second {
				t.Errorf("Lookup(%s) took %s, want it bounded", tt.qname, took)
			}
			if res.Security != dnssec.Bogus {
				t.Fatalf("Lookup(%s) = %s, want bogus by %s%s", tt.qname, describe(res), tt.limit, chainText(res))
			}
			var le *dnssec.LimitError
			if !errors.As(res.Reason, &le) {
				t.Fatalf("Lookup(%s) reason = %v, want a *LimitError", tt.qname, res.Reason)
			}
			if le.Limit != tt.limit {
				t.Errorf("Lookup(%s) hit limit %s, want %s", tt.qname, le.Limit, tt.limit)
			}
		})
	}
}

// TestLimitsDefaultsPass checks that the default limits leave room for the
// ordinary cases the limits tests push past.
func TestLimitsDefaultsPass(t *testing.T) {
	lab := standardLab(t)
	v := newValidator(t, lab, dnssectest.Normal, dnssec.Limits{})
	for _, name := range []string{"c3.example.test.", "a.b.c.d.e.example.test.", "a.b.c.d.e.f.nope.nsec3.test."} {
		res := lookup(t, v, name, dns.TypeA)
		if res.Security != dnssec.Secure {
			t.Errorf("Lookup(%s) = %s, want secure with default limits%s", name, describe(res), chainText(res))
		}
	}
}
