package smtp

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mxclient/mxclient/dane"
	"github.com/mxclient/mxclient/dane/danetest"
	"github.com/mxclient/mxclient/dnssec"
	"github.com/mxclient/mxclient/dnssec/dnssectest"
	"github.com/mxclient/mxclient/smtp/smtptest"
	"github.com/mxclient/mxclient/trustanchor"
)

const deliverMessage = "From: a@sender.test\r\nTo: b@example.test\r\nSubject: hello\r\n\r\nBody line\r\n.dot line\r\n"

// mailWorld is a signed DNS lab whose MX hosts point at smtptest servers.
type mailWorld struct {
	lab     *dnssectest.Lab
	port    uint16
	servers map[string]*smtptest.Server
	root    *danetest.Cert
	leaves  map[string]*danetest.Cert
}

// receiver describes one smtptest server and its DNS names.
type receiver struct {
	// host is the MX host name the server's A record has, relative to the
	// domain's zone.
	host string
	// tlsa lists the TLSA records to publish at _25._tcp.host: "ee" for a
	// 3 1 1 of the server's leaf, "ta" for a 2 0 1 of the root, "wrong"
	// for a 3 1 1 that matches nothing, "pkix" for an unusable 1 1 1.
	tlsa   []string
	script smtptest.Script
	noTLS  bool
}

// newMailWorld starts the receivers, then a lab in which zone (below
// test.) has MX records for them in order, preferences 10, 20, ...
func newMailWorld(t *testing.T, zone string, zoneOpts dnssectest.ZoneOptions, extra string, receivers ...receiver) *mailWorld {
	t.Helper()
	w := &mailWorld{servers: map[string]*smtptest.Server{}, leaves: map[string]*danetest.Cert{},
		root: danetest.NewRoot(danetest.Options{CommonName: "Test Root"})}
	records := extra
	for i, r := range receivers {
		name := r.host + "." + zone
		leaf := w.root.Leaf(danetest.Options{DNSNames: []string{strings.TrimSuffix(name, "."), strings.TrimSuffix(zone, ".")}})
		w.leaves[r.host] = leaf
		cfg := smtptest.Config{Port: w.port, Script: r.script, Domain: strings.TrimSuffix(name, ".")}
		if !r.noTLS {
			cfg.TLS = &tls.Config{Certificates: []tls.Certificate{danetest.TLSCertificate(leaf, w.root)}}
		}
		srv, err := smtptest.Start(cfg)
		if err != nil {
			t.Fatalf("starting receiver %s: %v", name, err)
		}
		t.Cleanup(func() { srv.Close() })
		w.port = srv.Addr().Port()
		w.servers[r.host] = srv
		records += fmt.Sprintf("@ MX %d %s\n%s A %s\n", 10*(i+1), r.host, r.host, srv.Addr().Addr())
		for _, kind := range r.tlsa {
			records += fmt.Sprintf("_25._tcp.%s TLSA %s\n", r.host, tlsaFor(t, kind, leaf, w.root))
		}
	}
	l := dnssectest.New(dnssectest.Config{Now: routeNow})
	t.Cleanup(l.Close)
	l.Zone(".", dnssectest.ZoneOptions{})
	l.Zone("test.", dnssectest.ZoneOptions{})
	l.Zone(zone, zoneOpts).Add(records)
	if err := l.Start(); err != nil {
		t.Fatalf("starting the lab: %v", err)
	}
	w.lab = l
	return w
}

func tlsaFor(t *testing.T, kind string, leaf, root *danetest.Cert) string {
	t.Helper()
	var usage, selector, mtype uint8 = 3, 1, 1
	cert := leaf.Cert
	switch kind {
	case "ta":
		usage, selector, mtype, cert = 2, 0, 1, root.Cert
	case "wrong":
		cert = danetest.NewSelfSigned(danetest.Options{CommonName: "other"}).Cert
	case "pkix":
		usage = 1
	}
	data, err := dane.AssociationData(cert, selector, mtype)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%d %d %d %x", usage, selector, mtype, data)
}

// deliver runs a Delivery of deliverMessage to recipients at domain.
func (w *mailWorld) deliver(t *testing.T, domain string, rcpts []string, tweak func(*Delivery)) ([]Outcome, string) {
	t.Helper()
	var anchors []trustanchor.Anchor
	for _, rr := range w.lab.TrustAnchor() {
		anchors = append(anchors, trustanchor.Anchor{DS: rr.(*dns.DS)})
	}
	v, err := dnssec.New(dnssec.Config{
		Source:  &dnssec.Upstream{Servers: []string{w.lab.Resolver(dnssectest.Normal)}},
		Anchors: anchors,
		Now:     func() time.Time { return routeNow },
	})
	if err != nil {
		t.Fatal(err)
	}
	msg, err := ReadMessage(strings.NewReader(deliverMessage), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { msg.Close() })
	var progress bytes.Buffer
	var mu sync.Mutex
	d := &Delivery{
		Validator: v, Helo: "client.test", From: "a@sender.test", Message: msg, Port: w.port,
		Now:      func() time.Time { return danetest.Now },
		Progress: &progress,
		Warnf: func(format string, args ...any) {
			mu.Lock()
			fmt.Fprintf(&progress, "warning: "+format+"\n", args...)
			mu.Unlock()
		},
		Rand:     rand.New(rand.NewPCG(3, 4)),
		Timeouts: Timeouts{Connect: 2 * time.Second, Greeting: 5 * time.Second},
	}
	if tweak != nil {
		tweak(d)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return d.Deliver(ctx, domain, rcpts), progress.String()
}

// gotMail reports whether the server saw a MAIL command.
func gotMail(s *smtptest.Server) bool {
	return bytes.Contains(bytes.ToUpper(s.Received()), []byte("MAIL FROM"))
}

func checkOutcome(t *testing.T, out []Outcome, progress string, status Status, kind FailureKind) {
	t.Helper()
	if len(out) == 0 {
		t.Fatalf("Deliver returned no outcome\n%s", progress)
	}
	for _, o := range out {
		if o.Status != status || o.Kind != kind {
			t.Errorf("outcome for %s = %s kind %d (%v), want %s kind %d\nprogress:\n%s",
				o.Recipient, o.Status, o.Kind, o.Err, status, kind, progress)
		}
	}
}

// checkDelivered asserts that s accepted exactly the test message.
func checkDelivered(t *testing.T, s *smtptest.Server) {
	t.Helper()
	msgs := s.Messages()
	if len(msgs) != 1 {
		t.Fatalf("receiver got %d messages, want 1", len(msgs))
	}
	want := strings.ReplaceAll(deliverMessage, "\r\n.dot", "\r\n..dot")
	if got := string(msgs[0].Data); !strings.Contains(string(s.Received()), want) {
		t.Errorf("the raw bytes do not contain the dot-stuffed message; got message %q", got)
	}
}

func TestDeliverDANE(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		receivers []receiver
		// deliveredBy is the host that must get the message, "" for none.
		deliveredBy string
		status      Status
		noMailAt    []string
		progress    string
	}{
		{"DANE-EE", []receiver{{host: "mx1", tlsa: []string{"ee"}}}, "mx1", Delivered, nil, "DANE verified"},
		{"DANE-TA", []receiver{{host: "mx1", tlsa: []string{"ta"}}}, "mx1", Delivered, nil, "matched at depth"},
		{"mismatch then success", []receiver{{host: "mx1", tlsa: []string{"wrong"}}, {host: "mx2", tlsa: []string{"ee"}}},
			"mx2", Delivered, []string{"mx1"}, ""},
		{"mismatch only", []receiver{{host: "mx1", tlsa: []string{"wrong"}}}, "", Deferred, []string{"mx1"}, ""},
		{"STARTTLS missing under DANE", []receiver{{host: "mx1", tlsa: []string{"ee"}, noTLS: true}},
			"", Deferred, []string{"mx1"}, ""},
		{"STARTTLS injection", []receiver{{host: "mx1", tlsa: []string{"ee"},
			script: smtptest.Script{Inject: "250 OK\r\n"}}}, "", Deferred, []string{"mx1"}, "injection"},
		{"unusable TLSA needs TLS", []receiver{{host: "mx1", tlsa: []string{"pkix"}}}, "mx1", Delivered, nil, "TLS unauthenticated"},
		{"no TLSA, opportunistic", []receiver{{host: "mx1"}}, "mx1", Delivered, nil, "opportunistic TLS"},
		{"no TLSA, no TLS", []receiver{{host: "mx1", noTLS: true}}, "mx1", Delivered, nil, "no TLS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newMailWorld(t, "example.test.", dnssectest.ZoneOptions{}, "", tt.receivers...)
			out, progress := w.deliver(t, "example.test", []string{"b@example.test"}, nil)
			kind := NoFailure
			checkOutcome(t, out, progress, tt.status, kind)
			if tt.deliveredBy != "" {
				checkDelivered(t, w.servers[tt.deliveredBy])
			}
			for _, h := range tt.noMailAt {
				if gotMail(w.servers[h]) {
					t.Errorf("%s received MAIL after a DANE failure:\n%s", h, w.servers[h].Received())
				}
			}
			if tt.progress != "" && !strings.Contains(progress, tt.progress) {
				t.Errorf("progress does not mention %q:\n%s", tt.progress, progress)
			}
		})
	}
}

func TestDeliverReplies(t *testing.T) {
	t.Parallel()
	r4 := &smtptest.Reply{Code: 451, Text: "4.3.0 try later"}
	r5 := &smtptest.Reply{Code: 554, Text: "5.6.0 no"}
	tests := []struct {
		name        string
		receivers   []receiver
		deliveredBy string
		status      Status
		kind        FailureKind
	}{
		{"4xx to RCPT moves on", []receiver{
			{host: "mx1", script: smtptest.Script{RCPT: map[string]smtptest.Reply{"b@example.test": {Code: 450, Text: "4.2.1 busy"}}}},
			{host: "mx2"}}, "mx2", Delivered, NoFailure},
		{"5xx to RCPT", []receiver{
			{host: "mx1", script: smtptest.Script{RCPT: map[string]smtptest.Reply{"b@example.test": {Code: 550, Text: "5.1.1 unknown"}}}},
			{host: "mx2"}}, "", Failed, RecipientRejected},
		{"5xx to MAIL", []receiver{{host: "mx1", script: smtptest.Script{MAIL: r5}}}, "", Failed, MessageRefused},
		{"4xx to DATA on every host", []receiver{
			{host: "mx1", script: smtptest.Script{DATA: r4}}, {host: "mx2", script: smtptest.Script{DATA: r4}}},
			"", Deferred, NoFailure},
		{"5xx after the final dot", []receiver{{host: "mx1", script: smtptest.Script{EndOfData: r5}}}, "", Failed, MessageRefused},
		{"4xx greeting moves on", []receiver{{host: "mx1", script: smtptest.Script{Greeting: &smtptest.Reply{Code: 421, Text: "busy"}}},
			{host: "mx2"}}, "mx2", Delivered, NoFailure},
		{"hangup after the final dot", []receiver{{host: "mx1", script: smtptest.Script{Hangup: smtptest.EndOfData}},
			{host: "mx2"}}, "", Deferred, NoFailure},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newMailWorld(t, "example.test.", dnssectest.ZoneOptions{}, "", tt.receivers...)
			out, progress := w.deliver(t, "example.test", []string{"b@example.test"}, nil)
			checkOutcome(t, out, progress, tt.status, tt.kind)
			if tt.deliveredBy != "" {
				checkDelivered(t, w.servers[tt.deliveredBy])
			}
			if tt.name == "hangup after the final dot" {
				if !errors.Is(out[0].Err, ErrMaybeDelivered) {
					t.Errorf("outcome error = %v, want ErrMaybeDelivered", out[0].Err)
				}
				if gotMail(w.servers["mx2"]) {
					t.Error("the second host got MAIL after the message may have been delivered by the first")
				}
			}
		})
	}
}

func TestDeliverDNSFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		domain string
		opts   dnssectest.ZoneOptions
		extra  string
		status Status
		kind   FailureKind
	}{
		{"null MX", "example.test", dnssectest.ZoneOptions{}, "@ MX 0 .\n", Failed, DomainUnroutable},
		{"NXDOMAIN", "nope.test", dnssectest.ZoneOptions{}, "", Failed, DomainUnroutable},
		{"bogus MX", "example.test", dnssectest.ZoneOptions{Faults: []dnssectest.Fault{
			{Kind: dnssectest.AlteredData, Name: "@", Type: dns.TypeMX}}}, "", Deferred, NoFailure},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newMailWorld(t, "example.test.", tt.opts, tt.extra, receiver{host: "mx1"})
			out, progress := w.deliver(t, tt.domain, []string{"b@" + tt.domain}, nil)
			checkOutcome(t, out, progress, tt.status, tt.kind)
			if gotMail(w.servers["mx1"]) {
				t.Errorf("the receiver got MAIL for %s", tt.name)
			}
		})
	}
}

func TestDeliverImplicitMX(t *testing.T) {
	t.Parallel()
	srv, err := smtptest.Start(smtptest.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	w := &mailWorld{port: srv.Addr().Port(), servers: map[string]*smtptest.Server{"@": srv}}
	l := dnssectest.New(dnssectest.Config{Now: routeNow})
	t.Cleanup(l.Close)
	l.Zone(".", dnssectest.ZoneOptions{})
	l.Zone("test.", dnssectest.ZoneOptions{})
	l.Zone("example.test.", dnssectest.ZoneOptions{}).Add("@ A " + srv.Addr().Addr().String())
	if err := l.Start(); err != nil {
		t.Fatal(err)
	}
	w.lab = l
	out, progress := w.deliver(t, "example.test", []string{"b@example.test"}, nil)
	checkOutcome(t, out, progress, Delivered, NoFailure)
	checkDelivered(t, srv)
}

func TestDeliverRequireDANE(t *testing.T) {
	t.Parallel()
	w := newMailWorld(t, "example.test.", dnssectest.ZoneOptions{}, "", receiver{host: "mx1"})
	out, progress := w.deliver(t, "example.test", []string{"b@example.test"}, func(d *Delivery) { d.RequireDANE = true })
	checkOutcome(t, out, progress, Deferred, NoFailure)
	if gotMail(w.servers["mx1"]) {
		t.Error("--require-dane delivered to a host without TLSA records")
	}
}

func TestDeliverAddressLiteral(t *testing.T) {
	t.Parallel()
	w := newMailWorld(t, "example.test.", dnssectest.ZoneOptions{}, "", receiver{host: "mx1"})
	addr := w.servers["mx1"].Addr().Addr()
	domain := "[" + addr.String() + "]"
	out, progress := w.deliver(t, domain, []string{"b@" + domain}, nil)
	checkOutcome(t, out, progress, Delivered, NoFailure)
	checkDelivered(t, w.servers["mx1"])
	_ = netip.Addr{}
}
