package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/mxclient/mxclient/dnssec"
	"github.com/mxclient/mxclient/smtp"
)

// Marks of the text report. They carry the meaning on their own, so the
// report reads the same without colour.
const (
	markOK   = "[ OK ]"
	markWarn = "[WARN]"
	markFail = "[FAIL]"
	markNone = "[ -- ]"
)

// markColors are the ANSI SGR colours of the marks on a terminal.
var markColors = map[string]string{markOK: "32", markWarn: "33", markFail: "31"}

// policyDescriptions describe the TLS requirement of each policy.
var policyDescriptions = map[string]string{
	"dane-verified":       "TLS is mandatory and the certificate must match a usable TLSA record",
	"dane-trusted":        "TLS is mandatory and the certificate must match a usable TLSA record, which holds even under the insecure MX RRset (RFC 7672 §2.2.1)",
	"tls-unauthenticated": "TLS is mandatory, but every TLSA record is unusable, so any certificate is accepted",
	"opportunistic":       "STARTTLS when offered, with any certificate, and plaintext otherwise",
	"unusable":            "a delivery skips this host",
}

// textReport writes the text form of a report.
type textReport struct {
	w     io.Writer
	color bool
	now   time.Time
}

func writeCheckText(w io.Writer, rep *checkReport, color bool) {
	t := &textReport{w: w, color: color, now: rep.ValidatedAt}
	t.printf(0, "check-domain %s, validated at %s", rep.Domain, rep.ValidatedAt.Format(time.RFC3339))
	t.blank()
	t.mx(rep)
	for _, h := range rep.Hosts {
		t.blank()
		t.host(h)
	}
	t.blank()
	if rep.Incomplete != "" {
		t.marked(0, markFail, "check incomplete: %s", rep.Incomplete)
	}
	line := fmt.Sprintf("%s: %s", rep.Domain, rep.Verdict)
	if rep.Reason != "" {
		line += ": " + rep.Reason
	}
	t.marked(0, verdictMark(rep.Verdict, rep.ExitStatus == exitOK), "verdict %s", line)
}

func (t *textReport) printf(indent int, format string, args ...any) {
	fmt.Fprintf(t.w, "%s%s\n", strings.Repeat("  ", indent), fmt.Sprintf(format, args...))
}

func (t *textReport) blank() { fmt.Fprintln(t.w) }

// marked writes a line that starts with a mark, coloured on a terminal.
func (t *textReport) marked(indent int, mark, format string, args ...any) {
	m := mark
	if code, ok := markColors[mark]; ok && t.color {
		m = "\x1b[" + code + "m" + mark + "\x1b[0m"
	}
	t.printf(indent, "%s %s", m, fmt.Sprintf(format, args...))
}

// verdictMark returns the mark of a verdict: a failure when a delivery
// would not go ahead, success for DANE, a warning for anything weaker.
func verdictMark(v smtp.Verdict, deliverable bool) string {
	switch {
	case !deliverable:
		return markFail
	case v == smtp.VerdictDANEVerified || v == smtp.VerdictDANETrusted:
		return markOK
	case v == smtp.VerdictNotProbed:
		return markNone
	}
	return markWarn
}

func (t *textReport) mx(rep *checkReport) {
	mx := rep.MX
	l := mx.Lookup
	state := l.Security.String()
	if l.Rcode != "" {
		state += ", " + l.Rcode
	}
	t.printf(0, "MX %s: %s", rep.Domain, state)
	if l.Reason != "" {
		t.printf(1, "reason: %s", l.Reason)
	}
	switch mx.Status {
	case mxImplicit:
		t.printf(1, "no MX records: the domain is its own mail exchanger (implicit MX, RFC 5321 §5.1)")
	case mxNull:
		t.marked(1, markFail, "null MX: the domain accepts no mail (RFC 7505)")
	case mxNXDomain:
		t.marked(1, markFail, "the domain does not exist (NXDOMAIN)")
	case mxBogus:
		t.marked(1, markFail, "the MX lookup is bogus, so a delivery is deferred")
	case mxIndeterminate:
		t.marked(1, markFail, "the MX lookup could not be completed")
	}
	for _, r := range mx.Records {
		t.printf(1, "%d %s", r.Preference, r.Exchange)
		// Each host's section repeats its flags.
		if len(rep.Hosts) == 0 {
			for _, f := range r.Flags {
				t.marked(2, markWarn, "%s", f.Detail)
			}
		}
	}
	t.signatures(1, mx.ExpiringSignatures)
}

func (t *textReport) signatures(indent int, sigs []signatureReport) {
	for _, s := range sigs {
		left := s.Expires.Sub(t.now).Round(time.Hour)
		t.marked(indent, markWarn, "the RRSIG of %s %s in zone %s expires at %s, in %s",
			s.Name, s.Type, s.Zone, s.Expires.Format(time.RFC3339), left)
	}
}

func (t *textReport) host(h *hostReport) {
	t.printf(0, "%s (preference %d)", h.Name, h.Preference)
	for _, f := range h.Flags {
		t.marked(1, markWarn, "%s", f.Detail)
	}
	for _, c := range h.CNAMEChain {
		t.printf(1, "%-5s %s -> %s (%s)", c.Type, c.Name, c.Target, c.Security)
	}
	for _, l := range []*lookupReport{h.A, h.AAAA} {
		if l != nil {
			t.lookup(l)
		}
	}
	t.tlsa(h)

	policy := policyDescriptions[h.Policy]
	if h.PolicyReason != "" {
		policy += "; " + h.PolicyReason
	}
	t.printf(1, "policy %s: %s", h.Policy, policy)
	if len(h.DANETANames) > 0 {
		t.printf(1, "names checked for DANE-TA: %s", strings.Join(h.DANETANames, ", "))
	}
	t.signatures(1, h.ExpiringSignatures)

	for _, a := range h.Addresses {
		t.address(a)
	}
	for _, d := range h.Disagreements {
		t.marked(1, markWarn, "%s", d)
	}

	line := fmt.Sprintf("%s: %s", h.Name, h.Verdict)
	if h.Reason != "" {
		line += ": " + h.Reason
	}
	t.marked(1, verdictMark(h.Verdict, h.Deliverable), "host %s", line)
}

// lookup writes one lookup on a line, such as
// "A     mx.example.net. secure: 192.0.2.1"; TLSA records are left out,
// because tlsa lists them with their classification.
func (t *textReport) lookup(l *lookupReport) {
	line := fmt.Sprintf("%-5s %s %s", l.Type, l.Name, l.Security)
	switch {
	case len(l.Records) > 0 && l.Type != "TLSA":
		line += ": " + strings.Join(l.Records, " ")
	case len(l.Records) == 1:
		line += ", 1 record"
	case len(l.Records) > 0:
		line += fmt.Sprintf(", %d records", len(l.Records))
	case l.Rcode != "NOERROR":
		line += ", " + l.Rcode
	default:
		line += ", no records"
	}
	if l.Reason != "" && l.Security != dnssec.Secure {
		line += " (" + l.Reason + ")"
	}
	t.printf(1, "%s", line)
}

func (t *textReport) tlsa(h *hostReport) {
	r := h.TLSA
	for i := range r.Lookups {
		t.lookup(&r.Lookups[i])
	}
	switch r.Status {
	case tlsaNotApplicable:
		t.printf(1, "TLSA  not looked up")
	case tlsaNone:
		t.printf(1, "TLSA  none, so DANE does not apply")
	}
	if r.BaseDomain != "" {
		t.printf(1, "TLSA base domain %s", r.BaseDomain)
	}
	for _, rec := range r.Records {
		data := rec.Data
		if len(data) > 128 {
			data = data[:24] + "…" + data[len(data)-8:]
		}
		line := fmt.Sprintf("record %d: %d %d %d %s, %s", rec.Number, rec.Usage, rec.Selector,
			rec.MatchingType, data, rec.Description)
		if rec.Usable {
			t.printf(2, "%s, usable", line)
		} else {
			t.printf(2, "%s, unusable: %s", line, rec.Detail)
		}
	}
}

func (t *textReport) address(a *addressReport) {
	t.printf(1, "address %s", a.Address)
	if a.Reserved != "" {
		t.marked(2, markWarn, "reserved address: %s", a.Reserved)
	}
	if !a.Probed {
		t.marked(2, markNone, "not probed")
		return
	}

	if len(a.Greeting) > 0 {
		t.printf(2, "greeting  %s", strings.Join(a.Greeting, " / "))
	}
	if len(a.EHLO) > 0 {
		offered := "STARTTLS not offered"
		if a.STARTTLSOffered {
			offered = "STARTTLS offered"
		}
		t.printf(2, "EHLO      %s, %s", replyCode(a.EHLO), offered)
	}
	if len(a.STARTTLSReply) > 0 && a.TLS == nil {
		t.printf(2, "STARTTLS  %s", strings.Join(a.STARTTLSReply, " / "))
	}
	if a.TLS != nil {
		t.printf(2, "TLS       %s, %s", a.TLS.Version, a.TLS.CipherSuite)
	}
	t.chain(a.Certificates)

	if a.TLSAMatch != nil {
		t.printf(2, "TLSA record %d (%s) matched at depth %d", a.TLSAMatch.Number,
			shortData(a.TLSAMatch.Record), a.TLSAMatch.Depth)
	}
	for _, w := range a.Warnings {
		t.marked(2, markWarn, "%s", w)
	}

	line := a.Verdict.String()
	if a.Reason != "" {
		line += ": " + a.Reason
	}
	t.marked(2, verdictMark(a.Verdict, a.Deliverable), "%s", line)
}

func (t *textReport) chain(certs []certReport) {
	for _, c := range certs {
		t.printf(2, "certificate %d: %s, issued by %s", c.Depth, orEmptyName(c.Subject), orEmptyName(c.Issuer))
		if len(c.DNSNames)+len(c.IPAddresses) > 0 {
			names := append(append([]string{}, c.DNSNames...), c.IPAddresses...)
			t.printf(3, "names %s", strings.Join(names, ", "))
		}
		t.printf(3, "valid %s to %s", c.NotBefore.Format(time.RFC3339), c.NotAfter.Format(time.RFC3339))
		t.printf(3, "SPKI SHA-256 %s", c.SPKISHA256)
	}
}

func orEmptyName(s string) string {
	if s == "" {
		return "an empty name"
	}
	return s
}

// replyCode returns the reply code of a reply's lines.
func replyCode(lines []string) string {
	if len(lines) == 0 || len(lines[0]) < 3 {
		return "no reply"
	}
	return lines[0][:3]
}

// shortData shortens the association data of a TLSA record in
// presentation form, "3 1 1 0c72…", to its first 8 and last 4 digits.
func shortData(record string) string {
	fields := strings.Fields(record)
	if len(fields) != 4 || len(fields[3]) <= 16 {
		return record
	}
	d := fields[3]
	return fmt.Sprintf("%s %s %s %s…%s", fields[0], fields[1], fields[2], d[:8], d[len(d)-4:])
}
