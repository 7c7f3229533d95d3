package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"

	"github.com/mxclient/mxclient/dane"
	"github.com/mxclient/mxclient/dane/danetest"
	"github.com/mxclient/mxclient/dnssec/dnssectest"
	"github.com/mxclient/mxclient/smtp/smtptest"
)

// checkWorld is a lab with a domain for every verdict of check-domain.
// Its receivers listen on one shared high port of their own loopback
// addresses; the tests reach them through checkDomainOptions.port.
type checkWorld struct {
	lab  *dnssectest.Lab
	port uint16
	// receivers by role: good presents a leaf of root, other a leaf with
	// another key, plain offers no STARTTLS, old presents an expired
	// leaf, quiet serves only the --no-connect test.
	receivers map[string]*smtptest.Server
	// closed is an address where nothing listens.
	closed string
}

var (
	checkWorldOnce sync.Once
	sharedCheck    *checkWorld
	checkWorldErr  error
)

func newCheckWorld(t *testing.T) *checkWorld {
	t.Helper()
	checkWorldOnce.Do(func() { sharedCheck, checkWorldErr = startCheckWorld() })
	if checkWorldErr != nil {
		t.Fatalf("starting the check-domain lab: %v", checkWorldErr)
	}
	return sharedCheck
}

func startCheckWorld() (*checkWorld, error) {
	root := danetest.NewRoot(danetest.Options{CommonName: "Check Test Root"})
	good := root.Leaf(danetest.Options{CommonName: "mx.good.test", DNSNames: []string{"mx.good.test"}})
	other := root.Leaf(danetest.Options{CommonName: "mx.good.test", DNSNames: []string{"mx.good.test"}})
	old := root.Leaf(danetest.Options{CommonName: "mx.oldcert.test", DNSNames: []string{"mx.oldcert.test"},
		NotBefore: labNow.Add(-400 * 24 * time.Hour), NotAfter: labNow.Add(-24 * time.Hour)})
	tlsWith := func(leaf *danetest.Cert) *tls.Config {
		return &tls.Config{Certificates: []tls.Certificate{danetest.TLSCertificate(leaf, root)}}
	}
	w := &checkWorld{receivers: map[string]*smtptest.Server{}}
	configs := []struct {
		role string
		cfg  smtptest.Config
	}{
		{"good", smtptest.Config{Domain: "mx.good.test", TLS: tlsWith(good)}},
		{"other", smtptest.Config{Domain: "mx.other.test", TLS: tlsWith(other)}},
		{"plain", smtptest.Config{Domain: "mx.plain.test"}},
		{"old", smtptest.Config{Domain: "mx.oldcert.test", TLS: tlsWith(old)}},
		{"quiet", smtptest.Config{Domain: "mx.quiet.test", TLS: tlsWith(good)}},
		{"closed", smtptest.Config{Domain: "mx.closed.test"}},
	}
	for _, c := range configs {
		c.cfg.Port = w.port
		srv, err := smtptest.Start(c.cfg)
		if err != nil {
			w.close()
			return nil, err
		}
		w.port = srv.Addr().Port()
		w.receivers[c.role] = srv
	}
	w.closed = w.receivers["closed"].Addr().Addr().String()
	w.receivers["closed"].Close()
	delete(w.receivers, "closed")

	tlsa := func(usage, selector, mtype uint8, cert *danetest.Cert) string {
		data, err := dane.AssociationData(cert.Cert, selector, mtype)
		if err != nil {
			panic(err)
		}
		return fmt.Sprintf("%d %d %d %x", usage, selector, mtype, data)
	}
	ee, wrong, ta := tlsa(3, 1, 1, good), tlsa(3, 1, 1, other), tlsa(2, 0, 1, root)
	pkix := tlsa(1, 1, 1, good)
	addr := func(role string) string { return w.receivers[role].Addr().Addr().String() }

	l := dnssectest.New(dnssectest.Config{Now: labNow})
	l.Zone(".", dnssectest.ZoneOptions{})
	l.Zone("test.", dnssectest.ZoneOptions{})
	zone := func(name string, opts dnssectest.ZoneOptions, format string, args ...any) {
		l.Zone(name, opts).Add(fmt.Sprintf(format, args...))
	}
	signed := dnssectest.ZoneOptions{}
	zone("verified.test.", signed, "@ MX 10 mx\nmx A %s\n_25._tcp.mx TLSA %s\n", addr("good"), ee)
	zone("twohosts.test.", signed, "@ MX 10 mx1\n@ MX 20 mx2\nmx1 A %s\nmx2 A %s\n"+
		"_25._tcp.mx1 TLSA %s\n_25._tcp.mx2 TLSA %s\n", addr("good"), addr("good"), ee, wrong)
	zone("mismatch.test.", signed, "@ MX 10 mx\nmx A %s\n_25._tcp.mx TLSA %s\n", addr("good"), wrong)
	zone("nostarttls.test.", signed, "@ MX 10 mx\nmx A %s\n_25._tcp.mx TLSA %s\n", addr("plain"), ee)
	zone("tanames.test.", signed, "@ MX 10 mx\nmx A %s\n_25._tcp.mx TLSA %s\n", addr("good"), ta)
	zone("oldcert.test.", signed, "@ MX 10 mx\nmx A %s\n_25._tcp.mx TLSA %s\n", addr("old"), ta)
	zone("pkix.test.", signed, "@ MX 10 mx\nmx A %s\n_25._tcp.mx TLSA %s\n", addr("good"), pkix)
	zone("opportunistic.test.", signed, "@ MX 10 mx\nmx A %s\n", addr("good"))
	zone("plain.test.", signed, "@ MX 10 mx\nmx A %s\n", addr("plain"))
	zone("unreachable.test.", signed, "@ MX 10 mx\nmx A %s\n", w.closed)
	zone("hosting.test.", signed, "mx A %s\n_25._tcp.mx TLSA %s\n", addr("good"), ee)
	zone("trusted.test.", dnssectest.ZoneOptions{Unsigned: true}, "@ MX 10 mx.hosting.test.\n")
	zone("cname.test.", signed, "@ MX 10 mail\nmail CNAME mx.verified.test.\n")
	zone("split.test.", signed, "@ MX 10 mx\nmx A %s\nmx A %s\n_25._tcp.mx TLSA %s\n",
		addr("good"), addr("other"), ee)
	zone("bogustlsa.test.", dnssectest.ZoneOptions{Faults: []dnssectest.Fault{
		{Kind: dnssectest.CorruptSignature, Name: "_25._tcp.mx", Type: dns.TypeTLSA}}},
		"@ MX 10 mx\nmx A %s\n_25._tcp.mx TLSA %s\n", addr("good"), ee)
	zone("bogusmx.test.", dnssectest.ZoneOptions{Faults: []dnssectest.Fault{
		{Kind: dnssectest.CorruptSignature, Name: "@", Type: dns.TypeMX}}},
		"@ MX 10 mx\nmx A %s\n", addr("good"))
	// Neither target exists, so no connection is attempted.
	zone("oddmx.test.", signed, "@ MX 10 192.0.2.1.\n@ MX 20 test.\n")
	zone("nullmx.test.", signed, "@ MX 0 .\n")
	zone("implicit.test.", signed, "@ A %s\n", addr("good"))
	zone("quiet.test.", signed, "@ MX 10 mx\nmx A %s\n_25._tcp.mx TLSA %s\n", addr("quiet"), ee)
	if err := l.Start(); err != nil {
		w.close()
		return nil, err
	}
	w.lab = l
	return w, nil
}

func (w *checkWorld) close() {
	for _, srv := range w.receivers {
		srv.Close()
	}
}

// checkRun is the outcome of one check-domain run.
type checkRun struct {
	code           int
	stdout, stderr string
}

func (r checkRun) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// check runs check-domain on domain against the lab, at labNow, with the
// receivers' port; tweak may change the options first.
func (w *checkWorld) check(t *testing.T, domain string, tweak func(*globalOptions, *checkDomainOptions)) checkRun {
	t.Helper()
	g := &globalOptions{timeout: 20 * time.Second, dns: dnsOptions{mode: modeUpstream,
		resolvers: []string{w.lab.Resolver(dnssectest.Normal)}, trustAnchor: writeTrustAnchor(t, w.lab)}}
	o := &checkDomainOptions{json: true, certDays: 30, sigHours: 48, helo: "client.test",
		parallel: checkParallel, stageTimeout: 5 * time.Second, port: w.port}
	if err := o.parseArgs([]string{domain}, labNow.Format(time.RFC3339)); err != nil {
		t.Fatal(err)
	}
	if tweak != nil {
		tweak(g, o)
	}
	ctx, cancel := g.context(context.Background())
	defer cancel()
	var stdout, stderr bytes.Buffer
	err := runCheckDomain(ctx, g, o, &streams{in: strings.NewReader(""), out: &stdout, errOut: &stderr})
	code := exitOK
	if err != nil {
		code = exitCode(err)
	}
	return checkRun{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// The want types decode the stable parts of the JSON report, as a program
// that reads it would: no addresses, digests or reasons.
type wantReport struct {
	Schema     int        `json:"schema"`
	Domain     string     `json:"domain"`
	MX         wantMX     `json:"mx"`
	Hosts      []wantHost `json:"hosts"`
	Verdict    string     `json:"verdict"`
	ExitStatus int        `json:"exit_status"`
}

type wantMX struct {
	Status  string       `json:"status"`
	Lookup  wantLookup   `json:"lookup"`
	Records []wantRecord `json:"records"`
}

type wantLookup struct {
	Security string `json:"security"`
	Rcode    string `json:"rcode"`
}

type wantRecord struct {
	Preference int        `json:"preference"`
	Exchange   string     `json:"exchange"`
	Flags      []wantFlag `json:"flags"`
}

type wantFlag struct {
	Kind string `json:"kind"`
}

type wantHost struct {
	Name        string        `json:"name"`
	Flags       []wantFlag    `json:"flags"`
	TLSA        wantTLSA      `json:"tlsa"`
	Policy      string        `json:"policy"`
	Addresses   []wantAddress `json:"addresses"`
	Verdict     string        `json:"verdict"`
	Deliverable bool          `json:"deliverable"`
	AcceptsMail bool          `json:"accepts_mail"`
}

type wantTLSA struct {
	Status     string `json:"status"`
	BaseDomain string `json:"base_domain"`
}

type wantAddress struct {
	Probed          bool       `json:"probed"`
	STARTTLSOffered bool       `json:"starttls_offered"`
	TLSAMatch       *wantMatch `json:"tlsa_match"`
	Verdict         string     `json:"verdict"`
	Deliverable     bool       `json:"deliverable"`
}

type wantMatch struct {
	Number int `json:"number"`
	Depth  int `json:"depth"`
}

// Shorthands for the expected values.
var (
	noFlags   = []wantFlag{}
	secureMX  = wantLookup{Security: "secure", Rcode: "NOERROR"}
	matchedEE = &wantMatch{Number: 1, Depth: 0}
)

func oneMX(exchange string) []wantRecord {
	return []wantRecord{{Preference: 10, Exchange: exchange, Flags: noFlags}}
}

// oneHost is a host with one probed address.
func oneHost(name, policy string, tlsa wantTLSA, addr wantAddress, verdict string) []wantHost {
	return []wantHost{{Name: name, Flags: noFlags, TLSA: tlsa, Policy: policy, Addresses: []wantAddress{addr},
		Verdict: verdict, Deliverable: addr.Deliverable, AcceptsMail: addr.Deliverable}}
}

func base(name string) wantTLSA { return wantTLSA{Status: "usable", BaseDomain: name} }

func TestCheckDomainVerdicts(t *testing.T) {
	w := newCheckWorld(t)
	// Cleanup runs after the parallel subtests have finished.
	t.Cleanup(func() {
		for role, srv := range w.receivers {
			checkProbeCommands(t, role, srv)
		}
	})
	verified := wantAddress{Probed: true, STARTTLSOffered: true, TLSAMatch: matchedEE,
		Verdict: "dane-verified", Deliverable: true}
	daneFailed := wantAddress{Probed: true, STARTTLSOffered: true, Verdict: "dane-failed"}
	tests := []struct {
		domain string
		want   wantReport
		// reason must be part of the domain's reason.
		reason string
	}{
		{domain: "verified.test", want: wantReport{MX: wantMX{Status: "found", Lookup: secureMX,
			Records: oneMX("mx.verified.test.")},
			Hosts:   oneHost("mx.verified.test.", "dane-verified", base("mx.verified.test."), verified, "dane-verified"),
			Verdict: "dane-verified", ExitStatus: exitOK}},
		{domain: "twohosts.test", want: wantReport{MX: wantMX{Status: "found", Lookup: secureMX,
			Records: []wantRecord{{10, "mx1.twohosts.test.", noFlags}, {20, "mx2.twohosts.test.", noFlags}}},
			Hosts: []wantHost{
				oneHost("mx1.twohosts.test.", "dane-verified", base("mx1.twohosts.test."), verified, "dane-verified")[0],
				{Name: "mx2.twohosts.test.", Flags: noFlags, TLSA: base("mx2.twohosts.test."), Policy: "dane-verified",
					Addresses: []wantAddress{daneFailed}, Verdict: "dane-failed"},
			},
			Verdict: "dane-failed", ExitStatus: exitCheckFailed},
			reason: "mx2.twohosts.test.: no usable TLSA record matches: TLSA record 1 (3 1 1 "},
		{domain: "mismatch.test", want: wantReport{MX: wantMX{Status: "found", Lookup: secureMX,
			Records: oneMX("mx.mismatch.test.")},
			Hosts:   oneHost("mx.mismatch.test.", "dane-verified", base("mx.mismatch.test."), daneFailed, "dane-failed"),
			Verdict: "dane-failed", ExitStatus: exitNoReceiver},
			reason: "SubjectPublicKeyInfo does not match"},
		{domain: "nostarttls.test", want: wantReport{MX: wantMX{Status: "found", Lookup: secureMX,
			Records: oneMX("mx.nostarttls.test.")},
			Hosts: oneHost("mx.nostarttls.test.", "dane-verified", base("mx.nostarttls.test."),
				wantAddress{Probed: true, Verdict: "dane-failed"}, "dane-failed"),
			Verdict: "dane-failed", ExitStatus: exitNoReceiver},
			reason: "the server does not offer STARTTLS"},
		{domain: "tanames.test", want: wantReport{MX: wantMX{Status: "found", Lookup: secureMX,
			Records: oneMX("mx.tanames.test.")},
			Hosts:   oneHost("mx.tanames.test.", "dane-verified", base("mx.tanames.test."), daneFailed, "dane-failed"),
			Verdict: "dane-failed", ExitStatus: exitNoReceiver},
			reason: "name mismatch: TLSA record 1 (2 0 1 "},
		{domain: "oldcert.test", want: wantReport{MX: wantMX{Status: "found", Lookup: secureMX,
			Records: oneMX("mx.oldcert.test.")},
			Hosts:   oneHost("mx.oldcert.test.", "dane-verified", base("mx.oldcert.test."), daneFailed, "dane-failed"),
			Verdict: "dane-failed", ExitStatus: exitNoReceiver},
			reason: "expired certificate in the DANE-TA chain"},
		{domain: "pkix.test", want: wantReport{MX: wantMX{Status: "found", Lookup: secureMX,
			Records: oneMX("mx.pkix.test.")},
			Hosts: oneHost("mx.pkix.test.", "tls-unauthenticated",
				wantTLSA{Status: "unusable-only", BaseDomain: "mx.pkix.test."},
				wantAddress{Probed: true, STARTTLSOffered: true, Verdict: "tls-unauthenticated", Deliverable: true},
				"tls-unauthenticated"),
			Verdict: "tls-unauthenticated", ExitStatus: exitOK}},
		{domain: "opportunistic.test", want: wantReport{MX: wantMX{Status: "found", Lookup: secureMX,
			Records: oneMX("mx.opportunistic.test.")},
			Hosts: oneHost("mx.opportunistic.test.", "opportunistic", wantTLSA{Status: "none"},
				wantAddress{Probed: true, STARTTLSOffered: true, Verdict: "tls-opportunistic", Deliverable: true},
				"tls-opportunistic"),
			Verdict: "tls-opportunistic", ExitStatus: exitOK}},
		{domain: "plain.test", want: wantReport{MX: wantMX{Status: "found", Lookup: secureMX,
			Records: oneMX("mx.plain.test.")},
			Hosts: oneHost("mx.plain.test.", "opportunistic", wantTLSA{Status: "none"},
				wantAddress{Probed: true, Verdict: "no-tls", Deliverable: true}, "no-tls"),
			Verdict: "no-tls", ExitStatus: exitOK},
			reason: "the server does not offer STARTTLS"},
		{domain: "unreachable.test", want: wantReport{MX: wantMX{Status: "found", Lookup: secureMX,
			Records: oneMX("mx.unreachable.test.")},
			Hosts: oneHost("mx.unreachable.test.", "opportunistic", wantTLSA{Status: "none"},
				wantAddress{Probed: true, Verdict: "unreachable"}, "unreachable"),
			Verdict: "unreachable", ExitStatus: exitNoReceiver},
			reason: "connection refused"},
		{domain: "trusted.test", want: wantReport{MX: wantMX{Status: "found",
			Lookup: wantLookup{Security: "insecure", Rcode: "NOERROR"}, Records: oneMX("mx.hosting.test.")},
			Hosts: oneHost("mx.hosting.test.", "dane-trusted", base("mx.hosting.test."),
				wantAddress{Probed: true, STARTTLSOffered: true, TLSAMatch: matchedEE, Verdict: "dane-trusted",
					Deliverable: true}, "dane-trusted"),
			Verdict: "dane-trusted", ExitStatus: exitOK}},
		{domain: "cname.test", want: wantReport{MX: wantMX{Status: "found", Lookup: secureMX,
			Records: []wantRecord{{10, "mail.cname.test.", []wantFlag{{Kind: "cname"}}}}},
			Hosts: []wantHost{{Name: "mail.cname.test.", Flags: []wantFlag{{Kind: "cname"}},
				TLSA: base("mx.verified.test."), Policy: "dane-verified", Addresses: []wantAddress{verified},
				Verdict: "dane-verified", Deliverable: true, AcceptsMail: true}},
			Verdict: "dane-verified", ExitStatus: exitOK}},
		{domain: "split.test", want: wantReport{MX: wantMX{Status: "found", Lookup: secureMX,
			Records: oneMX("mx.split.test.")},
			Hosts: []wantHost{{Name: "mx.split.test.", Flags: noFlags, TLSA: base("mx.split.test."),
				Policy: "dane-verified", Addresses: splitAddresses(w, verified, daneFailed),
				Verdict: "dane-failed", AcceptsMail: true}},
			Verdict: "dane-failed", ExitStatus: exitCheckFailed}},
		{domain: "bogustlsa.test", want: wantReport{MX: wantMX{Status: "found", Lookup: secureMX,
			Records: oneMX("mx.bogustlsa.test.")},
			Hosts: []wantHost{{Name: "mx.bogustlsa.test.", Flags: noFlags, TLSA: wantTLSA{Status: "failed"},
				Policy: "unusable", Addresses: []wantAddress{{Verdict: "not-probed"}}, Verdict: "dane-failed"}},
			Verdict: "dane-failed", ExitStatus: exitNoReceiver},
			reason: "TLSA lookup _25._tcp.mx.bogustlsa.test. is bogus"},
		{domain: "bogusmx.test", want: wantReport{MX: wantMX{Status: "bogus",
			Lookup: wantLookup{Security: "bogus", Rcode: "SERVFAIL"}, Records: []wantRecord{}},
			Hosts: []wantHost{}, Verdict: "unreachable", ExitStatus: exitNoReceiver},
			reason: "the MX lookup is bogus: signature invalid"},
		{domain: "oddmx.test", want: wantReport{MX: wantMX{Status: "found", Lookup: secureMX,
			Records: []wantRecord{{10, "192.0.2.1.", []wantFlag{{Kind: "ip-literal"}}},
				{20, "test.", []wantFlag{{Kind: "tld"}}}}},
			Hosts: []wantHost{
				{Name: "192.0.2.1.", Flags: []wantFlag{{Kind: "ip-literal"}}, TLSA: wantTLSA{Status: "not-applicable"},
					Policy: "unusable", Addresses: []wantAddress{}, Verdict: "unreachable"},
				{Name: "test.", Flags: []wantFlag{{Kind: "tld"}}, TLSA: wantTLSA{Status: "not-applicable"},
					Policy: "unusable", Addresses: []wantAddress{}, Verdict: "unreachable"},
			},
			Verdict: "unreachable", ExitStatus: exitNoReceiver},
			reason: "192.0.2.1.: 192.0.2.1. has no A or AAAA records"},
		{domain: "nullmx.test", want: wantReport{MX: wantMX{Status: "null-mx", Lookup: secureMX,
			Records: []wantRecord{{0, ".", noFlags}}},
			Hosts: []wantHost{}, Verdict: "unreachable", ExitStatus: exitNoReceiver},
			reason: "null MX"},
		{domain: "nope.test", want: wantReport{MX: wantMX{Status: "nxdomain",
			Lookup: wantLookup{Security: "secure", Rcode: "NXDOMAIN"}, Records: []wantRecord{}},
			Hosts: []wantHost{}, Verdict: "unreachable", ExitStatus: exitNoReceiver},
			reason: "NXDOMAIN"},
		{domain: "implicit.test", want: wantReport{MX: wantMX{Status: "implicit",
			Lookup: secureMX, Records: []wantRecord{}},
			Hosts: []wantHost{{Name: "implicit.test.", Flags: noFlags, TLSA: wantTLSA{Status: "none"},
				Policy: "opportunistic", Addresses: []wantAddress{{Probed: true, STARTTLSOffered: true,
					Verdict: "tls-opportunistic", Deliverable: true}}, Verdict: "tls-opportunistic",
				Deliverable: true, AcceptsMail: true}},
			Verdict: "tls-opportunistic", ExitStatus: exitOK}},
	}
	for _, tt := range tests {
		t.Run(tt.domain, func(t *testing.T) {
			t.Parallel()
			run := w.check(t, tt.domain, nil)
			var got wantReport
			if err := json.Unmarshal([]byte(run.stdout), &got); err != nil {
				t.Fatalf("the output is not one JSON document: %v\n%s", err, run)
			}
			want := tt.want
			want.Schema, want.Domain = checkSchema, dns.CanonicalName(tt.domain)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("check-domain %s report mismatch (-want +got):\n%s\n%s", tt.domain, diff, run)
			}
			if run.code != tt.want.ExitStatus {
				t.Errorf("check-domain %s = exit %d, want %d", tt.domain, run.code, tt.want.ExitStatus)
			}
			if reason := reasonOf(t, run.stdout); !strings.Contains(reason, tt.reason) {
				t.Errorf("check-domain %s reason = %q, want it to contain %q", tt.domain, reason, tt.reason)
			}
		})
	}
}

// splitAddresses returns the expected addresses of split.test in report
// order, which depends on the random loopback addresses of the receivers.
func splitAddresses(w *checkWorld, good, other wantAddress) []wantAddress {
	if w.receivers["good"].Addr().Addr().Less(w.receivers["other"].Addr().Addr()) {
		return []wantAddress{good, other}
	}
	return []wantAddress{other, good}
}

func reasonOf(t *testing.T, doc string) string {
	t.Helper()
	var r struct {
		Reason string `json:"reason"`
	}
	if err := json.Unmarshal([]byte(doc), &r); err != nil {
		t.Fatal(err)
	}
	return r.Reason
}

// checkProbeCommands fails unless every command srv received was EHLO,
// HELO, STARTTLS or QUIT.
func checkProbeCommands(t *testing.T, role string, srv *smtptest.Server) {
	t.Helper()
	for _, line := range strings.Split(string(srv.Received()), "\r\n") {
		verb, _, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "", "EHLO", "HELO", "STARTTLS", "QUIT":
		default:
			t.Errorf("receiver %s got %q from check-domain, which may send only EHLO, HELO, STARTTLS and QUIT",
				role, line)
		}
	}
}

func TestCheckDomainSplitHost(t *testing.T) {
	t.Parallel()
	w := newCheckWorld(t)
	run := w.check(t, "split.test", nil)
	var rep struct {
		Hosts []struct {
			Disagreements []string `json:"disagreements"`
		} `json:"hosts"`
	}
	if err := json.Unmarshal([]byte(run.stdout), &rep); err != nil || len(rep.Hosts) != 1 {
		t.Fatalf("decoding the report: %v\n%s", err, run)
	}
	got := strings.Join(rep.Hosts[0].Disagreements, "\n")
	for _, want := range []string{"the addresses disagree: ", "dane-verified", "dane-failed",
		"the addresses present different leaf certificates: "} {
		if !strings.Contains(got, want) {
			t.Errorf("disagreements = %q, want them to contain %q", got, want)
		}
	}
}

func TestCheckDomainFirstAddress(t *testing.T) {
	t.Parallel()
	w := newCheckWorld(t)
	run := w.check(t, "split.test", func(_ *globalOptions, o *checkDomainOptions) { o.firstAddress = true })
	var rep wantReport
	if err := json.Unmarshal([]byte(run.stdout), &rep); err != nil || len(rep.Hosts) != 1 {
		t.Fatalf("decoding the report: %v\n%s", err, run)
	}
	addrs := rep.Hosts[0].Addresses
	if len(addrs) != 2 || !addrs[0].Probed || addrs[1].Probed || addrs[1].Verdict != "not-probed" {
		t.Errorf("--first-address probed %+v, want the first of two addresses only", addrs)
	}
}

func TestCheckDomainNoConnect(t *testing.T) {
	t.Parallel()
	w := newCheckWorld(t)
	quiet := w.receivers["quiet"]
	before := len(quiet.Connections())
	run := w.check(t, "quiet.test", func(_ *globalOptions, o *checkDomainOptions) { o.noConnect = true })
	if run.code != exitOK {
		t.Errorf("check-domain --no-connect = exit %d, want %d\n%s", run.code, exitOK, run)
	}
	var rep wantReport
	if err := json.Unmarshal([]byte(run.stdout), &rep); err != nil || len(rep.Hosts) != 1 {
		t.Fatalf("decoding the report: %v\n%s", err, run)
	}
	h := rep.Hosts[0]
	if h.Verdict != "not-probed" || h.Policy != "dane-verified" || h.Addresses[0].Probed {
		t.Errorf("host = %+v, want policy dane-verified, verdict not-probed and no address probed", h)
	}
	if n := len(quiet.Connections()) - before; n != 0 {
		t.Errorf("check-domain --no-connect opened %d connections, want none", n)
	}
}

func TestCheckDomainExpiryWarnings(t *testing.T) {
	t.Parallel()
	w := newCheckWorld(t)
	// The lab's signatures expire 30 days after labNow, the certificates
	// 335 days after it.
	run := w.check(t, "verified.test", func(_ *globalOptions, o *checkDomainOptions) {
		o.certDays, o.sigHours = 400, 31*24
	})
	if run.code != exitOK {
		t.Errorf("check-domain = exit %d, want %d: warnings do not change it\n%s", run.code, exitOK, run)
	}

	var rep struct {
		MX struct {
			Signatures []signatureReport `json:"expiring_signatures"`
		} `json:"mx"`
		Hosts []struct {
			Signatures []signatureReport `json:"expiring_signatures"`
			Addresses  []struct {
				Warnings []string `json:"warnings"`
			} `json:"addresses"`
		} `json:"hosts"`
	}
	if err := json.Unmarshal([]byte(run.stdout), &rep); err != nil || len(rep.Hosts) != 1 {
		t.Fatalf("decoding the report: %v\n%s", err, run)
	}

	wantExpiry := labNow.Add(30 * 24 * time.Hour)
	mxSigs := map[string]bool{}
	for _, s := range rep.MX.Signatures {
		mxSigs[s.Name+" "+s.Type] = true
		if !s.Expires.Equal(wantExpiry) {
			t.Errorf("signature %s %s expires %v, want %v", s.Name, s.Type, s.Expires, wantExpiry)
		}
	}
	for _, want := range []string{"verified.test. MX", ". DNSKEY", "test. DS"} {
		if !mxSigs[want] {
			t.Errorf("the MX path's expiring signatures lack %s: %v", want, rep.MX.Signatures)
		}
	}

	hostSigs := map[string]bool{}
	for _, s := range rep.Hosts[0].Signatures {
		hostSigs[s.Name+" "+s.Type] = true
	}
	if !hostSigs["_25._tcp.mx.verified.test. TLSA"] || hostSigs[". DNSKEY"] {
		t.Errorf("the host's expiring signatures = %v, want the TLSA RRset's and none listed for the MX", hostSigs)
	}

	warnings := strings.Join(rep.Hosts[0].Addresses[0].Warnings, "\n")
	if !strings.Contains(warnings, "the certificate at depth 0 (CN=mx.good.test) expires on 2027-05-02, in 335 days") {
		t.Errorf("address warnings = %q, want the leaf's expiry", warnings)
	}
}

func TestCheckDomainIndeterminate(t *testing.T) {
	t.Parallel()
	w := newCheckWorld(t)
	run := w.check(t, "verified.test", func(g *globalOptions, _ *checkDomainOptions) {
		g.dns.resolvers = []string{w.lab.Resolver(dnssectest.Silent)}
		g.timeout = 3 * time.Second
	})
	if run.code != exitIncomplete {
		t.Errorf("check-domain with a silent resolver = exit %d, want %d\n%s", run.code, exitIncomplete, run)
	}
	if !strings.Contains(run.stderr, "warning: ") {
		t.Errorf("stderr does not say why the check is incomplete:\n%s", run.stderr)
	}
}

func TestCheckDomainCommandLine(t *testing.T) {
	w := newCheckWorld(t)
	anchor := writeTrustAnchor(t, w.lab)
	lab := []string{"--dns-mode", "upstream", "--resolver", w.lab.Resolver(dnssectest.Normal),
		"--trust-anchor", anchor, "--at", labNow.Format(time.RFC3339), "--helo", "client.test"}
	args := func(extra ...string) []string { return append(append([]string{"check-domain"}, lab...), extra...) }
	tests := []struct {
		name       string
		args       []string
		want       int
		wantStdout string
		wantStderr string
	}{
		// nullmx.test has no host, so nothing connects to port 25.
		{name: "null MX", args: args("nullmx.test"), want: exitNoReceiver, wantStdout: "null MX"},
		{name: "JSON", args: args("--json", "nullmx.test"), want: exitNoReceiver, wantStdout: `"schema": 1`},
		{name: "no domain", args: args(), want: exitUsage, wantStderr: "takes one DOMAIN"},
		{name: "two domains", args: args("a.test", "b.test"), want: exitUsage, wantStderr: "takes one DOMAIN"},
		{name: "address literal", args: args("[192.0.2.1]"), want: exitUsage, wantStderr: "address literal"},
		{name: "invalid domain", args: args("a..test"), want: exitUsage, wantStderr: "invalid DOMAIN"},
		{name: "invalid --at", args: args("--at", "yesterday", "nullmx.test"), want: exitUsage,
			wantStderr: "RFC 3339"},
		{name: "no parallel connections", args: args("--parallel", "0", "nullmx.test"), want: exitUsage,
			wantStderr: "--parallel"},
		{name: "unreadable trust anchor", args: append(args("nullmx.test"), "--trust-anchor", "/nonexistent/anchor"),
			want: exitConfig, wantStderr: "trust anchor"},
		{name: "help lists exit codes", args: []string{"check-domain", "--help"}, want: exitOK,
			wantStdout: "  3   the check could not be completed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := invoke(t, tt.args...)
			if inv.code != tt.want {
				t.Fatalf("run(%q) = %d, want %d\n%s", tt.args, inv.code, tt.want, inv)
			}
			if !strings.Contains(inv.stdout, tt.wantStdout) {
				t.Errorf("stdout does not contain %q:\n%s", tt.wantStdout, inv.stdout)
			}
			if !strings.Contains(inv.stderr, tt.wantStderr) {
				t.Errorf("stderr does not contain %q:\n%s", tt.wantStderr, inv.stderr)
			}
		})
	}
}

func TestCheckDomainColor(t *testing.T) {
	w := newCheckWorld(t)
	on, off := true, false
	for _, tt := range []struct {
		color *bool
		want  bool
	}{{&on, true}, {&off, false}} {
		run := w.check(t, "twohosts.test", func(_ *globalOptions, o *checkDomainOptions) {
			o.json, o.color = false, tt.color
		})
		if got := strings.Contains(run.stdout, "\x1b[31m[FAIL]\x1b[0m"); got != tt.want {
			t.Errorf("colour %t: the report has a red [FAIL] mark = %t, want %t", *tt.color, got, tt.want)
		}
		if !strings.Contains(run.stdout, "[FAIL]") || !strings.Contains(run.stdout, "[ OK ]") {
			t.Errorf("colour %t: the report lacks the [FAIL] and [ OK ] marks:\n%s", *tt.color, run.stdout)
		}
	}

	// /dev/null is a character device, like a terminal.
	devNull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer devNull.Close()
	o := &checkDomainOptions{}
	s := &streams{out: devNull}
	t.Setenv("TERM", "xterm")
	t.Setenv("NO_COLOR", "")
	if !o.useColor(s) {
		t.Errorf("useColor on a character device = false, want true")
	}
	t.Setenv("NO_COLOR", "1")
	if o.useColor(s) {
		t.Errorf("useColor with NO_COLOR=1 = true, want false")
	}
	if o.useColor(&streams{out: &bytes.Buffer{}}) {
		t.Errorf("useColor on a buffer = true, want false")
	}
}

func TestExchangeFlags(t *testing.T) {
	tests := []struct {
		name string
		want []string
	}{
		{"mx.example.net.", nil},
		{"192.0.2.1.", []string{"ip-literal"}},
		{"net.", []string{"tld"}},
		{"10.", []string{"tld"}},
	}
	for _, tt := range tests {
		var got []string
		for _, f := range exchangeFlags(tt.name, nil) {
			got = append(got, f.Kind)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("exchangeFlags(%s) mismatch (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestReservedRange(t *testing.T) {
	tests := []struct {
		addr, want string
	}{
		{"192.168.1.1", "private (RFC 1918), 192.168.0.0/16"},
		{"100.64.0.1", "shared address space (RFC 6598), 100.64.0.0/10"},
		{"203.0.113.9", "documentation (RFC 5737), 203.0.113.0/24"},
		{"fd00::25", "unique local (RFC 4193), fc00::/7"},
		{"::1", "loopback (RFC 4291), ::1/128"},
		{"2001:db8::1", "documentation (RFC 3849), 2001:db8::/32"},
		{"8.8.8.8", ""},
		{"2a00:1450::1", ""},
	}
	for _, tt := range tests {
		if got := reservedRange(netip.MustParseAddr(tt.addr)); got != tt.want {
			t.Errorf("reservedRange(%s) = %q, want %q", tt.addr, got, tt.want)
		}
	}
}

func TestCheckDomainNoConnectionHint(t *testing.T) {
	t.Parallel()
	w := newCheckWorld(t)
	run := w.check(t, "unreachable.test", nil)
	if want := fmt.Sprintf("no connection to port %d succeeded", w.port); !strings.Contains(run.stderr, want) {
		t.Errorf("stderr does not contain %q:\n%s", want, run.stderr)
	}
	run = w.check(t, "verified.test", nil)
	if strings.Contains(run.stderr, "no connection") {
		t.Errorf("stderr has the hint although a connection succeeded:\n%s", run.stderr)
	}
}
