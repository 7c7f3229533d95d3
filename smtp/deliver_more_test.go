package smtp

import (
	"fmt"
	"net"
	"os/exec"
	"strings"
	"testing"

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
