package dnssectest_test

import (
	"fmt"
	"log"

	"github.com/miekg/dns"

	"github.com/mxclient/mxclient/dnssec/dnssectest"
)

func ExampleLab() {
	lab := dnssectest.New(dnssectest.Config{})
	defer lab.Close()
	lab.Zone(".", dnssectest.ZoneOptions{})
	lab.Zone("example.", dnssectest.ZoneOptions{Denial: dnssectest.NSEC3}).Add(`
www  A    192.0.2.1
mx   CNAME www
`)
	if err := lab.Start(); err != nil {
		log.Fatal(err)
	}

	// A validator under test would take lab.TrustAnchor() and
	// lab.Resolver(dnssectest.Normal); here a plain client asks directly.
	m := new(dns.Msg)
	m.SetQuestion("mx.example.", dns.TypeA)
	m.SetEdns0(1232, true)
	c := &dns.Client{Net: "tcp"}
	resp, _, err := c.Exchange(m, lab.Resolver(dnssectest.Normal))
	if err != nil {
		log.Fatal(err)
	}
	for _, rr := range resp.Answer {
		fmt.Println(rr.Header().Name, dns.TypeToString[rr.Header().Rrtype])
	}
	// Output:
	// mx.example. CNAME
	// mx.example. RRSIG
	// www.example. A
	// www.example. RRSIG
}
