package smtp

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mxclient/mxclient/dane"
	"github.com/mxclient/mxclient/dane/danetest"
	"github.com/mxclient/mxclient/dnssec"
	"github.com/mxclient/mxclient/smtp/smtptest"
)

// probeHost returns a host named mxName with policy and TLSA records of
// the given kinds. "ee" is a 3 1 1 of testCert, "wrong" a 3 1 1 of
// otherCert, and "pkix" an unusable 1 1 1 of testCert.
func probeHost(t *testing.T, policy Policy, kinds ...string) *Host {
	t.Helper()
	cert, other := testCerts()
	h := &Host{Name: mxName + ".", Policy: policy}
	var records []*dns.TLSA
	for _, kind := range kinds {
		c := cert
		if kind == "wrong" {
			c = other
		}
		rr, err := dane.NewTLSA(dane.OwnerName(mxName, 25), dane.DANEEE, dane.SelectorSPKI, dane.MatchingSHA256, c.Cert)
		if err != nil {
			t.Fatal(err)
		}
		if kind == "pkix" {
			// NewTLSA makes only records usable for SMTP.
			rr.Usage = dane.PKIXEE
		}
		records = append(records, rr)
	}
	if len(records) > 0 {
		h.TLSA = &TLSA{BaseDomain: mxName + ".", Security: dnssec.Secure, Set: dane.Classify(records)}
	}
	return h
}

// probe runs ProbeAddress against srv for h.
func probe(t *testing.T, srv *smtptest.Server, h *Host) *Probe {
	t.Helper()
	h.Addrs = append(h.Addrs, srv.Addr().Addr())
	route := &Route{Domain: "example.net.", Hosts: []*Host{h}}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return ProbeAddress(ctx, route, h, srv.Addr().Addr(), ProbeConfig{
		Helo: testHelo, Port: srv.Addr().Port(), Now: func() time.Time { return danetest.Now },
		Timeouts: Timeouts{Connect: 2 * time.Second, Greeting: 5 * time.Second, EHLO: 5 * time.Second,
			STARTTLS: 5 * time.Second, QUIT: 5 * time.Second},
	})
}

// checkCommands fails unless the client sent only EHLO, HELO, STARTTLS
// and QUIT to srv: a probe must never start a mail transaction.
func checkCommands(t *testing.T, srv *smtptest.Server) {
	t.Helper()
	for _, line := range strings.Split(string(srv.Received()), "\r\n") {
		verb, _, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "", "EHLO", "HELO", "STARTTLS", "QUIT":
		default:
			t.Errorf("the probe sent %q; it may send only EHLO, HELO, STARTTLS and QUIT", line)
		}
	}
}

func TestProbeAddressVerdicts(t *testing.T) {
	t.Parallel()
	testCert, _ := testCerts()
	tests := []struct {
		name        string
		policy      Policy
		tlsa        []string
		script      smtptest.Script
		noTLS       bool
		serverTLS   *tls.Config
		want        Verdict
		deliverable bool
		// reason must be part of the verdict's reason.
		reason string
	}{
		{name: "DANE-EE match", policy: PolicyDANEVerified, tlsa: []string{"ee"},
			want: VerdictDANEVerified, deliverable: true},
		{name: "DANE trusted", policy: PolicyDANETrusted, tlsa: []string{"ee"},
			want: VerdictDANETrusted, deliverable: true},
		{name: "no matching record", policy: PolicyDANEVerified, tlsa: []string{"wrong"},
			want: VerdictDANEFailed, reason: "no usable TLSA record matches: TLSA record 1 (3 1 1 "},
		{name: "no STARTTLS under DANE", policy: PolicyDANEVerified, tlsa: []string{"ee"}, noTLS: true,
			want: VerdictDANEFailed, reason: "the server does not offer STARTTLS"},
		{name: "STARTTLS rejected under DANE", policy: PolicyDANEVerified, tlsa: []string{"ee"},
			script: smtptest.Script{STARTTLS: &smtptest.Reply{Code: 454, Text: "4.7.0 TLS not available"}},
			want:   VerdictDANEFailed, reason: "the server rejected STARTTLS: 454 4.7.0 TLS not available"},
		{name: "response injection", policy: PolicyDANEVerified, tlsa: []string{"ee"},
			script: smtptest.Script{Inject: "250 OK\r\n"}, want: VerdictDANEFailed, reason: "response injection"},
		{name: "handshake failed under DANE", policy: PolicyDANEVerified, tlsa: []string{"ee"},
			serverTLS: &tls.Config{Certificates: []tls.Certificate{danetest.TLSCertificate(testCert)},
				MaxVersion: tls.VersionTLS11},
			want: VerdictDANEFailed, reason: "TLS handshake failed: "},
		{name: "unusable records", policy: PolicyTLSUnauthenticated, tlsa: []string{"pkix"},
			want: VerdictTLSUnauthenticated, deliverable: true},
		{name: "unusable records without TLS", policy: PolicyTLSUnauthenticated, tlsa: []string{"pkix"},
			noTLS: true, want: VerdictNoTLS, reason: "make TLS mandatory"},
		{name: "opportunistic", policy: PolicyOpportunistic, want: VerdictTLSOpportunistic, deliverable: true},
		{name: "plaintext", policy: PolicyOpportunistic, noTLS: true, want: VerdictNoTLS, deliverable: true,
			reason: "the server does not offer STARTTLS"},
		{name: "greeting rejected", policy: PolicyOpportunistic,
			script: smtptest.Script{Greeting: &smtptest.Reply{Code: 554, Text: "no service"}},
			want:   VerdictUnreachable, reason: "greeting: 554 no service"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := smtptest.Config{Script: tt.script, TLS: tt.serverTLS}
			if tt.noTLS {
				cfg.Script.NoSTARTTLS = true
			}
			srv := startReceiver(t, cfg)
			p := probe(t, srv, probeHost(t, tt.policy, tt.tlsa...))
			if p.Verdict != tt.want || p.Deliverable != tt.deliverable {
				t.Errorf("ProbeAddress verdict = %s, deliverable %t (%s), want %s, deliverable %t\n%s",
					p.Verdict, p.Deliverable, p.Reason, tt.want, tt.deliverable, strings.Join(p.Dialogue, "\n"))
			}
			if !strings.Contains(p.Reason, tt.reason) {
				t.Errorf("ProbeAddress reason = %q, want it to contain %q", p.Reason, tt.reason)
			}
			checkCommands(t, srv)
		})
	}
}

func TestProbeAddressRecordsSession(t *testing.T) {
	t.Parallel()
	srv := startReceiver(t, smtptest.Config{})
	p := probe(t, srv, probeHost(t, PolicyDANEVerified, "wrong", "ee"))
	if p.Verdict != VerdictDANEVerified {
		t.Fatalf("ProbeAddress = %s (%s), want %s", p.Verdict, p.Reason, VerdictDANEVerified)
	}

	if len(p.Greeting) != 1 || !strings.HasPrefix(p.Greeting[0], "220 "+mxName) {
		t.Errorf("Greeting = %q, want one 220 line with %s", p.Greeting, mxName)
	}
	if len(p.EHLO) < 2 || !strings.HasPrefix(p.EHLO[0], "250-") {
		t.Errorf("EHLO = %q, want a multi-line 250 reply", p.EHLO)
	}
	if !p.STARTTLSOffered {
		t.Errorf("STARTTLSOffered = false, want true for EHLO %q", p.EHLO)
	}
	if len(p.STARTTLSReply) != 1 || !strings.HasPrefix(p.STARTTLSReply[0], "220") {
		t.Errorf("STARTTLSReply = %q, want a 220 reply", p.STARTTLSReply)
	}

	if p.TLS == nil || p.TLS.Version < tls.VersionTLS12 {
		t.Errorf("TLS = %v, want a TLS 1.2 or later connection", p.TLS)
	}
	cert, _ := testCerts()
	if len(p.Chain) != 1 || !p.Chain[0].Equal(cert.Cert) {
		t.Errorf("Chain has %d certificates, want the test certificate alone", len(p.Chain))
	}
	if p.Match == nil || p.Match.Record.Index != 1 || p.Match.Depth != 0 {
		t.Errorf("Match = %+v, want record index 1 at depth 0", p.Match)
	}
	if p.Err != nil {
		t.Errorf("Err = %v, want nil", p.Err)
	}
	if !bytes.Contains(srv.Received(), []byte("QUIT")) {
		t.Errorf("the probe did not end with QUIT:\n%s", srv.Received())
	}
	checkCommands(t, srv)
}

// TestProbeAddressKeepsRejectedChain checks that the chain a DANE check
// rejects is still recorded, with the records tried.
func TestProbeAddressKeepsRejectedChain(t *testing.T) {
	t.Parallel()
	srv := startReceiver(t, smtptest.Config{})
	p := probe(t, srv, probeHost(t, PolicyDANEVerified, "wrong"))
	if p.Verdict != VerdictDANEFailed {
		t.Fatalf("ProbeAddress = %s, want %s", p.Verdict, VerdictDANEFailed)
	}
	if len(p.Chain) != 1 {
		t.Errorf("Chain has %d certificates after a rejected handshake, want 1", len(p.Chain))
	}
	if p.Mismatch == nil || len(p.Mismatch.Attempts) != 1 || p.Mismatch.Attempts[0].Outcome != dane.NoMatch {
		t.Errorf("Mismatch = %+v, want one attempt with outcome no match", p.Mismatch)
	}
	if p.TLS != nil || p.Match != nil {
		t.Errorf("TLS = %v, Match = %v after a rejected handshake, want nil", p.TLS, p.Match)
	}
	if !errors.Is(p.Err, ErrTLSRequired) {
		t.Errorf("Err = %v, want ErrTLSRequired", p.Err)
	}
}

func TestProbeAddressUnreachable(t *testing.T) {
	t.Parallel()
	srv := startReceiver(t, smtptest.Config{})
	srv.Close()
	p := probe(t, srv, probeHost(t, PolicyOpportunistic))
	if p.Connected || p.Verdict != VerdictUnreachable || p.Deliverable {
		t.Errorf("ProbeAddress to a closed port = connected %t, %s, deliverable %t; want not connected, %s",
			p.Connected, p.Verdict, p.Deliverable, VerdictUnreachable)
	}
	if !strings.Contains(p.Reason, "connecting to") {
		t.Errorf("reason = %q, want the connection error", p.Reason)
	}
}

func TestDialogueRecorderHELOFallback(t *testing.T) {
	r := &dialogueRecorder{}
	for _, chunk := range []string{"<<< 220 mx ready\n", ">>> EHLO client\n<<< 502 5.5.1 no EHLO\n",
		">>> HELO client\n<<< 250 mx", "\n>>> QUIT\n<<< 221 bye\n"} {
		r.Write([]byte(chunk))
	}
	p := &Probe{}
	r.fill(p)
	if got := strings.Join(p.Greeting, "|"); got != "220 mx ready" {
		t.Errorf("Greeting = %q, want %q", got, "220 mx ready")
	}
	if got := strings.Join(p.EHLO, "|"); got != "250 mx" {
		t.Errorf("EHLO = %q, want the HELO reply %q", got, "250 mx")
	}
	if p.STARTTLSOffered || p.STARTTLSReply != nil {
		t.Errorf("STARTTLSOffered = %t, STARTTLSReply = %q, want false and nil", p.STARTTLSOffered, p.STARTTLSReply)
	}
	if len(p.Dialogue) != 7 {
		t.Errorf("Dialogue has %d lines, want 7: %q", len(p.Dialogue), p.Dialogue)
	}
}

func TestJudgeHost(t *testing.T) {
	verified := &Probe{Judgement: Judgement{Verdict: VerdictDANEVerified, Deliverable: true}}
	failed := &Probe{Judgement: Judgement{Verdict: VerdictDANEFailed, Reason: "no match"}}
	plaintext := &Probe{Judgement: Judgement{Verdict: VerdictNoTLS, Deliverable: true}}
	unreachable := &Probe{Judgement: Judgement{Verdict: VerdictUnreachable, Reason: "refused"}}
	usable := &Host{Name: "mx.", Policy: PolicyDANEVerified}
	tests := []struct {
		name   string
		host   *Host
		probes []*Probe
		want   Judgement
	}{
		{"all verified", usable, []*Probe{verified, verified}, verified.Judgement},
		{"one node fails", usable, []*Probe{verified, failed}, failed.Judgement},
		{"failure beats plaintext", usable, []*Probe{plaintext, unreachable}, unreachable.Judgement},
		{"DANE failure beats unreachable", usable, []*Probe{unreachable, failed}, failed.Judgement},
		{"nothing probed", usable, nil, Judgement{Verdict: VerdictNotProbed, Deliverable: true}},
		{"bogus TLSA", &Host{Name: "mx.", Policy: PolicyUnusable, Addrs: []netip.Addr{netip.MustParseAddr("192.0.2.1")},
			Err: errors.New("TLSA lookup is bogus")}, nil,
			Judgement{Verdict: VerdictDANEFailed, Reason: "TLSA lookup is bogus"}},
		{"no addresses", &Host{Name: "mx.", Policy: PolicyUnusable, Err: errors.New("no A or AAAA records")},
			nil, Judgement{Verdict: VerdictUnreachable, Reason: "no A or AAAA records"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := JudgeHost(tt.host, tt.probes); got != tt.want {
				t.Errorf("JudgeHost = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestMismatchReason(t *testing.T) {
	cert, _ := testCerts()
	rr, err := dane.NewTLSA(dane.OwnerName(mxName, 25), dane.DANETA, dane.SelectorCert, dane.MatchingSHA256, cert.Cert)
	if err != nil {
		t.Fatal(err)
	}
	set := dane.Classify([]*dns.TLSA{rr, rr})
	expiredErr := fmt.Errorf("to the trust anchor certificate at depth 1: %w",
		x509.CertificateInvalidError{Reason: x509.Expired, Detail: "current time is after the validity"})
	e := &dane.MismatchError{Attempts: []dane.Attempt{
		{Record: set.Records[0], Outcome: dane.NoMatch, Err: errors.New("no certificate has this digest")},
		{Record: set.Records[1], Outcome: dane.ChainInvalid, Err: expiredErr},
	}}
	got := mismatchReason(e)
	if !strings.HasPrefix(got, "expired certificate in the DANE-TA chain: TLSA record 2 (2 0 1 ") {
		t.Errorf("mismatchReason = %q, want the expired chain of record 2 named", got)
	}
}

func TestLookupEvidenceCNAME(t *testing.T) {
	t.Parallel()
	route, err := findRoute(t, "cname.test")
	if err != nil {
		t.Fatal(err)
	}
	var h *Host
	for _, x := range route.Hosts {
		if x.Name == "mx.cname.test." {
			h = x
		}
	}
	if h == nil {
		t.Fatalf("FindRoute(cname.test) has no host mx.cname.test.")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ev, err := LookupEvidence(ctx, routeValidator(t, routeTestLab(t)), h)
	if err != nil {
		t.Fatal(err)
	}

	if len(ev.A.Links) != 2 || ev.A.Links[0].Type != dns.TypeCNAME {
		t.Errorf("A lookup links = %+v, want a CNAME and the A RRset", ev.A.Links)
	}
	var owners []string
	for _, res := range ev.TLSA {
		owners = append(owners, res.Name)
	}
	if got := strings.Join(owners, " "); got != "_25._tcp.host.hosting.test." {
		t.Errorf("TLSA lookups = %s, want the CNAME target's, which has records", got)
	}

	sigs := 0
	for _, st := range ev.TLSA[0].Chain {
		if st.Check == "RRSIG" && st.Security == dnssec.Secure {
			sigs++
			if want := routeNow.Add(30 * 24 * time.Hour); !st.Expires.Equal(want) {
				t.Errorf("RRSIG step %s %s expires %v, want %v", st.Name, st.Type, st.Expires, want)
			}
		}
	}
	if sigs == 0 {
		t.Errorf("the TLSA lookup's chain has no secure RRSIG step")
	}
}
