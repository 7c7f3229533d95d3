package dnssectest

import (
	"net"
	"testing"

	"github.com/miekg/dns"
)

func TestUnprivilegedPort(t *testing.T) {
	l := New(Config{Now: testNow, UnprivilegedPort: true})
	t.Cleanup(l.Close)
	l.Zone(".", ZoneOptions{})
	l.Zone("example.", ZoneOptions{}).Add("www A 192.0.2.1")
	if err := l.Start(); err != nil {
		t.Fatalf("Start() = %v", err)
	}
	addr := l.Resolver(Normal)
	_, port, err := net.SplitHostPort(addr)
	if err != nil || port == "53" {
		t.Fatalf("Resolver(Normal) = %q, want a port other than 53", addr)
	}
	m := new(dns.Msg)
	m.SetQuestion("www.example.", dns.TypeA)
	m.SetEdns0(1232, true)
	resp, _, err := new(dns.Client).Exchange(m, addr)
	if err != nil {
		t.Fatalf("query to %s: %v", addr, err)
	}
	if len(resp.Answer) == 0 {
		t.Errorf("query to %s answered %v, want the A record", addr, resp)
	}
}
