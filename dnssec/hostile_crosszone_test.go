package dnssec_test

import (
	"testing"

	"github.com/miekg/dns"

	"github.com/mxclient/mxclient/dnssec"
	"github.com/mxclient/mxclient/dnssec/dnssectest"
)

// TestWildcardCNAMEIntoChildZone follows a wildcard CNAME in
// example.test. to a name in its signed child zone that has no A record.
// The resolver returns the child's NSEC records next to the parent's
// wildcard proof. verifiedDenial checks every NSEC RRset owned below
// example.test. with the keys of example.test., so the child's NSEC,
// signed by child.example.test., fails and the honest answer is bogus.
func TestWildcardCNAMEIntoChildZone(t *testing.T) {
	lab := dnssectest.New(dnssectest.Config{Now: labNow})
	lab.Zone(".", dnssectest.ZoneOptions{})
	lab.Zone("test.", dnssectest.ZoneOptions{})
	lab.Zone("example.test.", dnssectest.ZoneOptions{}).Add("*.w CNAME www.child.example.test.")
	lab.Zone("child.example.test.", dnssectest.ZoneOptions{}).Add(`www TXT "no address"`)
	if err := lab.Start(); err != nil {
		t.Fatalf("starting the lab: %v", err)
	}
	defer lab.Close()
	v := newValidator(t, lab, dnssectest.Normal, dnssec.Limits{})

	direct := lookup(t, v, "www.child.example.test.", dns.TypeA)
	if direct.Security != dnssec.Secure {
		t.Fatalf("Lookup(www.child.example.test. A) = %s, want secure (the premise of this test)%s",
			describe(direct), chainText(direct))
	}
	res := lookup(t, v, "a.w.example.test.", dns.TypeA)
	if res.Security != dnssec.Secure {
		t.Errorf("Lookup(a.w.example.test. A) = %s, want secure NODATA after the CNAME%s", describe(res), chainText(res))
	}
}
