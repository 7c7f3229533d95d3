package dnssec

import (
	"errors"
	"testing"

	"github.com/miekg/dns"
)

// TestLimitFailureNotCached runs one lookup out of its query budget
// exactly at the DNSKEY fetch of example.test. That lookup is bogus, as it
// should be. The next lookup needs only two queries: its answer and the
// DNSKEY RRset. But cachedZone keeps the first lookup's limit failure for
// the keys of example.test., and the cache promises that results cut short
// by a limit do not outlive the fetch that made them.
func TestLimitFailureNotCached(t *testing.T) {
	w := newScriptedWorld(t)
	for _, a := range []string{"www.example.test. 300 IN A 192.0.2.1", "mail.example.test. 300 IN A 192.0.2.25"} {
		rr := scriptedRR(t, a)
		w.src.set(rr.Header().Name, dns.TypeA, scriptedMsg(dns.RcodeSuccess, w.zone.signed(t, rr), nil))
	}
	// www.example.test. A needs six queries: the answer, the root DNSKEY,
	// the DS and DNSKEY of test. and the DS and DNSKEY of example.test.
	v := w.validator(t, Limits{MaxQueries: 5})

	first := scriptedLookup(t, v, "www.example.test.", dns.TypeA)
	var le *LimitError
	if first.Security != Bogus || !errors.As(first.Reason, &le) {
		t.Fatalf("first Lookup = %s, want bogus with a LimitError (the premise of this test)", scriptedDescribe(first))
	}

	second := scriptedLookup(t, v, "mail.example.test.", dns.TypeA)
	if second.Security != Secure {
		t.Errorf("second Lookup(mail.example.test. A) = %s, want secure: it needs two queries, "+
			"and the first lookup's limit failure must not be cached", scriptedDescribe(second))
	}
}
