package smtp

import (
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mxclient/mxclient/dnssec/dnssectest"
	"github.com/mxclient/mxclient/smtp/smtptest"
)

func TestDeliverCNAMEdHost(t *testing.T) {
	t.Parallel()
	// mx1 gets its A record at host.example.test. through a CNAME; the
	// TLSA records sit at the expanded name, so they authenticate it.
	w := newMailWorld(t, "example.test.", dnssectest.ZoneOptions{}, "", receiver{host: "host", tlsa: []string{"ee"}})
	w.lab.Close()
	addr := w.servers["host"].Addr().Addr()
	l := dnssectest.New(dnssectest.Config{Now: routeNow})
	t.Cleanup(l.Close)
	l.Zone(".", dnssectest.ZoneOptions{})
	l.Zone("test.", dnssectest.ZoneOptions{})
	l.Zone("example.test.", dnssectest.ZoneOptions{}).Add(fmt.Sprintf(
		"@ MX 10 mx1\nmx1 CNAME host\nhost A %s\n_25._tcp.host TLSA %s\n",
		addr, tlsaFor(t, "ee", w.leaves["host"], w.root)))
	if err := l.Start(); err != nil {
		t.Fatal(err)
	}
	w.lab = l
	out, progress := w.deliver(t, "example.test", []string{"b@example.test"}, nil)
	checkOutcome(t, out, progress, Delivered, NoFailure)
	checkDelivered(t, w.servers["host"])
	if !strings.Contains(progress, "CNAME to host.example.test.") || !strings.Contains(progress, "DANE verified") {
		t.Errorf("progress does not show the CNAME'd host under DANE:\n%s", progress)
	}
}

func TestDeliverInsecureHostIgnoresTLSA(t *testing.T) {
	t.Parallel()
	// An unsigned zone publishes a TLSA record that matches nothing: it is
	// not proven, so the delivery is opportunistic and succeeds.
	w := newMailWorld(t, "example.test.", dnssectest.ZoneOptions{Unsigned: true}, "",
		receiver{host: "mx1", tlsa: []string{"wrong"}})
	out, progress := w.deliver(t, "example.test", []string{"b@example.test"}, nil)
	checkOutcome(t, out, progress, Delivered, NoFailure)
	checkDelivered(t, w.servers["mx1"])
	if !strings.Contains(progress, "opportunistic TLS") {
		t.Errorf("progress does not show opportunistic TLS:\n%s", progress)
	}
}

func TestDeliverDeadAddressMovesOn(t *testing.T) {
	t.Parallel()
	// The first MX host's address has nothing listening on the port.
	w := newMailWorld(t, "example.test.", dnssectest.ZoneOptions{}, "", receiver{host: "mx2"})
	dead := w.servers["mx2"].Addr().Addr().Next()
	w.lab.Close()
	l := dnssectest.New(dnssectest.Config{Now: routeNow})
	t.Cleanup(l.Close)
	l.Zone(".", dnssectest.ZoneOptions{})
	l.Zone("test.", dnssectest.ZoneOptions{})
	l.Zone("example.test.", dnssectest.ZoneOptions{}).Add(fmt.Sprintf("@ MX 10 mx1\nmx1 A %s\n@ MX 20 mx2\nmx2 A %s\n",
		dead, w.servers["mx2"].Addr().Addr()))
	if err := l.Start(); err != nil {
		t.Fatal(err)
	}
	w.lab = l
	out, progress := w.deliver(t, "example.test", []string{"b@example.test"}, nil)
	checkOutcome(t, out, progress, Delivered, NoFailure)
	checkDelivered(t, w.servers["mx2"])
}

func TestDeliverTLSFailureFallsBackToPlaintext(t *testing.T) {
	t.Parallel()
	// Without TLSA records a failed handshake is retried in plaintext on
	// the same host, unless TLS is required.
	w := newMailWorld(t, "example.test.", dnssectest.ZoneOptions{}, "",
		receiver{host: "mx1", script: smtptest.Script{Hangup: smtptest.Handshake}})
	out, progress := w.deliver(t, "example.test", []string{"b@example.test"}, nil)
	checkOutcome(t, out, progress, Delivered, NoFailure)
	if !strings.Contains(progress, "trying again without TLS") {
		t.Errorf("progress does not mention the plaintext retry:\n%s", progress)
	}

	w2 := newMailWorld(t, "example.test.", dnssectest.ZoneOptions{}, "",
		receiver{host: "mx1", script: smtptest.Script{Hangup: smtptest.Handshake}})
	out, progress = w2.deliver(t, "example.test", []string{"b@example.test"}, func(d *Delivery) { d.RequireTLS = true })
	checkOutcome(t, out, progress, Deferred, NoFailure)
	if gotMail(w2.servers["mx1"]) {
		t.Error("--require-tls sent MAIL in plaintext")
	}
}

func TestDeliverThroughProxies(t *testing.T) {
	t.Parallel()
	w := newMailWorld(t, "example.test.", dnssectest.ZoneOptions{}, "", receiver{host: "mx1", tlsa: []string{"ee"}})
	proxy := startSOCKS5(t)
	socks, err := NewSOCKS5Dialer("socks5://" + proxy.ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	out, progress := w.deliver(t, "example.test", []string{"b@example.test"}, func(d *Delivery) { d.Dialer = socks })
	checkOutcome(t, out, progress, Delivered, NoFailure)
	reqs := proxy.Requests()
	if len(reqs) != 1 || reqs[0].AddrType != 1 || reqs[0].Addr.Addr() != w.servers["mx1"].Addr().Addr() {
		t.Errorf("SOCKS5 CONNECT requests = %+v, want one for the MX address by IP", reqs)
	}

	if _, err := exec.LookPath("socat"); err != nil {
		skipMissingTool(t, "socat not found (Debian package socat): %v", err)
	}
	cmd, err := NewProxyCommand("socat - TCP:%h:%p")
	if err != nil {
		t.Fatal(err)
	}
	w2 := newMailWorld(t, "example.test.", dnssectest.ZoneOptions{}, "", receiver{host: "mx1", tlsa: []string{"ee"}})
	out, progress = w2.deliver(t, "example.test", []string{"b@example.test"}, func(d *Delivery) { d.Dialer = cmd })
	checkOutcome(t, out, progress, Delivered, NoFailure)
	checkDelivered(t, w2.servers["mx1"])
	_ = net.IPv4len
}

func TestDeliverTooManyRecipients(t *testing.T) {
	t.Parallel()
	w := newMailWorld(t, "example.test.", dnssectest.ZoneOptions{}, "", receiver{host: "mx1",
		script: smtptest.Script{RCPT: map[string]smtptest.Reply{"c@example.test": {Code: 452, Text: "4.5.3 too many recipients"}}}})
	out, progress := w.deliver(t, "example.test", []string{"b@example.test", "c@example.test"}, nil)
	// The server keeps answering 452 for c, so after one transaction with b,
	// c is deferred rather than lost.
	if len(out) != 2 {
		t.Fatalf("outcomes = %+v, want two\n%s", out, progress)
	}
	got := map[string]Status{}
	for _, o := range out {
		got[o.Recipient] = o.Status
	}
	if got["b@example.test"] != Delivered || got["c@example.test"] != Deferred {
		t.Errorf("outcomes = %v, want b delivered and c deferred\n%s", got, progress)
	}
}

func TestDeliverBogusTLSA(t *testing.T) {
	t.Parallel()
	// A TLSA answer that does not verify makes the host unusable: the
	// delivery defers and the host never sees MAIL, rather than falling
	// back to opportunistic TLS.
	opts := dnssectest.ZoneOptions{Faults: []dnssectest.Fault{
		{Kind: dnssectest.AlteredData, Name: "_25._tcp.mx1", Type: dns.TypeTLSA}}}
	w := newMailWorld(t, "example.test.", opts, "", receiver{host: "mx1", tlsa: []string{"ee"}})
	out, progress := w.deliver(t, "example.test", []string{"b@example.test"}, nil)
	checkOutcome(t, out, progress, Deferred, NoFailure)
	if gotMail(w.servers["mx1"]) {
		t.Error("a host with a bogus TLSA answer received MAIL")
	}
	if len(w.servers["mx1"].Connections()) != 0 {
		t.Error("a host with a bogus TLSA answer was connected to")
	}
}

func TestDeliverEqualPreferencesShuffled(t *testing.T) {
	t.Parallel()
	hosts := []*Host{{Name: "a.", Preference: 10}, {Name: "b.", Preference: 10}, {Name: "c.", Preference: 5}}
	firsts := map[string]bool{}
	for seed := uint64(0); seed < 40; seed++ {
		list := append([]*Host(nil), hosts...)
		sortByPreference(list, rand.New(rand.NewPCG(seed, seed)))
		if list[0].Name != "c." {
			t.Fatalf("sortByPreference put %s first, want the lowest preference c.", list[0].Name)
		}
		firsts[list[1].Name] = true
	}
	if !firsts["a."] || !firsts["b."] {
		t.Errorf("equal preferences came out in one order only: %v", firsts)
	}
}

func TestOrderAddressesFamilies(t *testing.T) {
	t.Parallel()
	v4 := []netip.Addr{netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")}
	v6 := []netip.Addr{netip.MustParseAddr("2001:db8::1")}
	v4First, v6First := false, false
	for seed := uint64(0); seed < 40; seed++ {
		got := orderAddresses(append([]netip.Addr(nil), v4...), append([]netip.Addr(nil), v6...), rand.New(rand.NewPCG(seed, 1)))
		if len(got) != 3 {
			t.Fatalf("orderAddresses returned %v, want all three addresses", got)
		}
		if got[0].Is4() {
			v4First = true
			if !got[2].Is6() {
				t.Errorf("orderAddresses = %v, want the families kept together", got)
			}
		} else {
			v6First = true
		}
	}
	if !v4First || !v6First {
		t.Errorf("one address family always came first (IPv4 first: %v, IPv6 first: %v)", v4First, v6First)
	}
}

func TestDeliverSessionFailuresMoveOn(t *testing.T) {
	t.Parallel()
	r5 := &smtptest.Reply{Code: 550, Text: "no"}
	tests := []struct {
		name   string
		first  receiver
		tweak  func(*Delivery)
		wantOn string
	}{
		{"EHLO and HELO rejected", receiver{host: "mx1", script: smtptest.Script{EHLO: r5, HELO: r5}}, nil, "mx2"},
		{"STARTTLS refused under DANE", receiver{host: "mx1", tlsa: []string{"ee"},
			script: smtptest.Script{STARTTLS: &smtptest.Reply{Code: 454, Text: "4.7.0 not now"}}}, nil, "mx2"},
		{"connection lost at RCPT", receiver{host: "mx1", script: smtptest.Script{Hangup: smtptest.RCPT}}, nil, "mx2"},
		{"stalled greeting", receiver{host: "mx1", script: smtptest.Script{Stall: smtptest.Greeting}},
			func(d *Delivery) { d.Timeouts.Greeting = 300 * time.Millisecond }, "mx2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newMailWorld(t, "example.test.", dnssectest.ZoneOptions{}, "", tt.first, receiver{host: "mx2"})
			out, progress := w.deliver(t, "example.test", []string{"b@example.test"}, tt.tweak)
			checkOutcome(t, out, progress, Delivered, NoFailure)
			checkDelivered(t, w.servers[tt.wantOn])
			if tt.name == "STARTTLS refused under DANE" && gotMail(w.servers["mx1"]) {
				t.Error("the DANE host got MAIL without TLS")
			}
		})
	}
}

func TestDeliverSessionLimit(t *testing.T) {
	t.Parallel()
	busy := smtptest.Script{RCPT: map[string]smtptest.Reply{"b@example.test": {Code: 450, Text: "4.2.1 busy"}}}
	w := newMailWorld(t, "example.test.", dnssectest.ZoneOptions{}, "",
		receiver{host: "mx1", script: busy}, receiver{host: "mx2", script: busy}, receiver{host: "mx3", script: busy})
	out, progress := w.deliver(t, "example.test", []string{"b@example.test"}, nil)
	checkOutcome(t, out, progress, Deferred, NoFailure)
	if n := len(w.servers["mx3"].Connections()); n != 0 {
		t.Errorf("the third host got %d connections, want none after %d sessions", n, DefaultMaxSessions)
	}
	out, progress = w.deliver(t, "example.test", []string{"b@example.test"}, func(d *Delivery) { d.MaxSessions = 3 })
	checkOutcome(t, out, progress, Deferred, NoFailure)
	if n := len(w.servers["mx3"].Connections()); n != 1 {
		t.Errorf("with MaxSessions 3 the third host got %d connections, want 1", n)
	}
}
