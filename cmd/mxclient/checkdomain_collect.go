package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/miekg/dns"

	"github.com/mxclient/mxclient/dane"
	"github.com/mxclient/mxclient/dnssec"
	"github.com/mxclient/mxclient/smtp"
)

// checker runs one `mxclient check-domain`: the route, the DNS evidence
// per host, the probes and the verdicts.
type checker struct {
	v *dnssec.Validator
	o *checkDomainOptions
	// now is the validation time that certificate and signature expiry
	// warnings count from; clock feeds the DANE-TA date checks.
	now    time.Time
	clock  func() time.Time
	dialer smtp.Dialer
	// logf, when not nil, receives progress lines.
	logf func(format string, args ...any)
}

// hostCheck is the work on one mail exchanger.
type hostCheck struct {
	h *smtp.Host
	// addrs are the host's addresses in report order.
	addrs  []netip.Addr
	ev     *smtp.Evidence
	report *hostReport
	// probes has one entry per address, nil for an address not probed.
	probes []*smtp.Probe
}

func (c *checker) check(ctx context.Context) *checkReport {
	rep := &checkReport{
		Schema:      checkSchema,
		Domain:      c.o.domain,
		ValidatedAt: c.now.UTC(),
		Options: checkSettings{FirstAddress: c.o.firstAddress, Connect: !c.o.noConnect,
			CertDays: c.o.certDays, SigHours: c.o.sigHours},
		Hosts: []*hostReport{},
	}
	route, err := smtp.FindRoute(ctx, c.v, c.o.domain, smtp.RouteOptions{})
	if err != nil {
		c.routeFailed(ctx, rep, err)
		c.finish(ctx, rep, nil)
		return rep
	}

	status := mxFound
	if route.Implicit {
		status = mxImplicit
	}
	rep.MX = c.newMXReport(status, route.MX)
	hosts := c.describeHosts(ctx, route, rep.MX.ExpiringSignatures)
	for _, hc := range hosts {
		rep.Hosts = append(rep.Hosts, hc.report)
		// The host's flags include a CNAME, which only its address
		// lookup shows.
		for i := range rep.MX.Records {
			if rep.MX.Records[i].Exchange == hc.h.Name {
				rep.MX.Records[i].Flags = hc.report.Flags
			}
		}
	}
	c.probeAll(ctx, route, hosts)
	for _, hc := range hosts {
		c.judgeHost(hc)
	}
	c.finish(ctx, rep, hosts)
	return rep
}

// routeFailed fills in the MX part of a domain that FindRoute found no
// route for. The MX lookup is repeated for the report, because a
// RouteError carries only the conclusion.
func (c *checker) routeFailed(ctx context.Context, rep *checkReport, err error) {
	status := mxIndeterminate
	var re *smtp.RouteError
	if errors.As(err, &re) {
		switch {
		case re.Kind == smtp.NoSuchDomain:
			status = mxNXDomain
		case re.Kind == smtp.NullMX:
			status = mxNull
		case errors.Is(re.Err, dnssec.ErrBogus):
			status = mxBogus
		}
	}
	mx, lookupErr := c.v.Lookup(ctx, c.o.domain, dns.TypeMX)
	if mx == nil {
		rep.MX = mxReport{Status: status, Records: []mxRecordReport{}, ExpiringSignatures: []signatureReport{},
			Lookup: lookupReport{Name: c.o.domain, Type: "MX", Security: dnssec.Indeterminate, Rcode: "SERVFAIL",
				Reason: fmt.Sprint(lookupErr), Records: []string{}}}
		rep.Incomplete = fmt.Sprintf("the MX lookup of %s failed: %v", c.o.domain, lookupErr)
		return
	}
	rep.MX = c.newMXReport(status, mx)
	if status == mxIndeterminate {
		cause := err
		if re != nil && re.Err != nil {
			cause = re.Err
		}
		rep.Incomplete = fmt.Sprintf("the MX lookup of %s could not be completed: %s",
			c.o.domain, dnssec.Explain(cause))
	}
}

func (c *checker) newMXReport(status string, mx *dnssec.Result) mxReport {
	r := mxReport{Status: status, Lookup: newLookupReport(mx), Records: []mxRecordReport{},
		ExpiringSignatures: expiringSignatures(c.sigDeadline(), nil, mx)}
	if !usable(mx) {
		return r
	}
	for _, rr := range mx.Answer {
		if m, ok := rr.(*dns.MX); ok {
			r.Records = append(r.Records, mxRecordReport{Preference: m.Preference,
				Exchange: dns.CanonicalName(m.Mx), Flags: exchangeFlags(m.Mx, nil)})
		}
	}
	slices.SortStableFunc(r.Records, func(a, b mxRecordReport) int {
		if a.Preference != b.Preference {
			return int(a.Preference) - int(b.Preference)
		}
		return strings.Compare(a.Exchange, b.Exchange)
	})
	return r
}

// sigDeadline is the time before which a signature's expiration draws a
// warning.
func (c *checker) sigDeadline() time.Time {
	return c.now.Add(time.Duration(c.o.sigHours) * time.Hour)
}

// describeHosts looks up the evidence of every host at once and returns
// the hosts in report order: by preference, then by name.
func (c *checker) describeHosts(ctx context.Context, route *smtp.Route, mxSigs []signatureReport) []*hostCheck {
	hosts := slices.Clone(route.Hosts)
	slices.SortStableFunc(hosts, func(a, b *smtp.Host) int {
		if a.Preference != b.Preference {
			return int(a.Preference) - int(b.Preference)
		}
		return strings.Compare(a.Name, b.Name)
	})
	checks := make([]*hostCheck, len(hosts))
	var wg sync.WaitGroup
	for i, h := range hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			checks[i] = c.describeHost(ctx, route, h, mxSigs)
		}()
	}
	wg.Wait()
	return checks
}

func (c *checker) describeHost(ctx context.Context, route *smtp.Route, h *smtp.Host, mxSigs []signatureReport) *hostCheck {
	hc := &hostCheck{h: h, addrs: slices.Clone(h.Addrs)}
	slices.SortFunc(hc.addrs, netip.Addr.Compare)
	r := &hostReport{Name: h.Name, Preference: h.Preference, Flags: []flagReport{},
		CNAMEChain: []cnameReport{}, Policy: policyName(h.Policy), Addresses: []*addressReport{},
		ExpiringSignatures: []signatureReport{}, Disagreements: []string{}}
	hc.report = r
	for _, a := range hc.addrs {
		r.Addresses = append(r.Addresses, newAddressReport(a))
	}
	hc.probes = make([]*smtp.Probe, len(hc.addrs))
	if h.Err != nil {
		r.PolicyReason = h.Err.Error()
	}
	if h.TLSA != nil && hasDANETA(h.TLSA.Set) {
		r.DANETANames = h.ReferenceIDs(route.Domain)
	}

	ev, err := smtp.LookupEvidence(ctx, c.v, h)
	if err != nil {
		r.Flags = exchangeFlags(h.Name, nil)
		r.TLSA = tlsaReport{Status: tlsaFailed, Lookups: []lookupReport{}, Records: []tlsaRecordReport{}}
		return hc
	}
	hc.ev = ev
	addrLookup := ev.A
	if len(cnameChain(ev.A)) == 0 && len(cnameChain(ev.AAAA)) > 0 {
		addrLookup = ev.AAAA
	}
	r.Flags = exchangeFlags(h.Name, addrLookup)
	r.CNAMEChain = cnameChain(addrLookup)
	a, aaaa := newLookupReport(ev.A), newLookupReport(ev.AAAA)
	r.A, r.AAAA = &a, &aaaa
	r.TLSA = newTLSAReport(h, ev)
	if r.TLSA.Status == tlsaNotApplicable && h.Policy != smtp.PolicyUnusable {
		r.PolicyReason = "the address records are not secure, so DANE does not apply (RFC 7672 §2.2)"
	}
	results := append([]*dnssec.Result{ev.A, ev.AAAA}, ev.TLSA...)
	r.ExpiringSignatures = expiringSignatures(c.sigDeadline(), mxSigs, results...)
	return hc
}

func newAddressReport(a netip.Addr) *addressReport {
	return &addressReport{Address: a.String(), Reserved: reservedRange(a), Greeting: []string{},
		EHLO: []string{}, STARTTLSReply: []string{}, Certificates: []certReport{},
		TLSAAttempts: []tlsaAttemptReport{}, Warnings: []string{}, Verdict: smtp.VerdictNotProbed}
}

// newTLSAReport describes the TLSA lookups of a host and the records its
// policy rests on.
func newTLSAReport(h *smtp.Host, ev *smtp.Evidence) tlsaReport {
	r := tlsaReport{Lookups: []lookupReport{}, Records: []tlsaRecordReport{}}
	for _, res := range ev.TLSA {
		r.Lookups = append(r.Lookups, newLookupReport(res))
	}
	switch {
	case h.TLSA != nil:
		r.BaseDomain = h.TLSA.BaseDomain
		r.Records = newTLSARecords(h.TLSA.Set)
		r.Status = tlsaUnusableOnly
		if h.TLSA.Set.Status() == dane.UsableRecords {
			r.Status = tlsaUsable
		}
	case h.Policy == smtp.PolicyUnusable && len(h.Addrs) > 0:
		r.Status = tlsaFailed
	case len(ev.TLSA) == 0:
		r.Status = tlsaNotApplicable
	default:
		r.Status = tlsaNone
	}
	return r
}

// probeAll probes the addresses of every usable host, at most
// --parallel at once, and stores each probe at its address's position.
func (c *checker) probeAll(ctx context.Context, route *smtp.Route, hosts []*hostCheck) {
	if c.o.noConnect {
		return
	}
	t := c.o.stageTimeout
	cfg := smtp.ProbeConfig{Helo: c.o.helo, Dialer: c.dialer, Port: c.o.port, Now: c.clock,
		Timeouts: smtp.Timeouts{Connect: t, Greeting: t, EHLO: t, STARTTLS: t, QUIT: t}}
	slots := make(chan struct{}, c.o.parallel)
	var wg sync.WaitGroup
	for _, hc := range hosts {
		// A delivery skips an unusable host, so there is nothing to probe.
		if hc.h.Policy == smtp.PolicyUnusable {
			continue
		}
		for i, addr := range hc.addrs {
			if c.o.firstAddress && i > 0 {
				break
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				select {
				case slots <- struct{}{}:
				case <-ctx.Done():
					return
				}
				defer func() { <-slots }()
				c.progress("connecting to %s (%s)", addr, hc.h.Name)
				p := smtp.ProbeAddress(ctx, route, hc.h, addr, cfg)
				c.progress("%s (%s): %s %s", addr, hc.h.Name, p.Verdict, p.Reason)
				hc.probes[i] = p
			}()
		}
	}
	wg.Wait()
	for _, hc := range hosts {
		for i, p := range hc.probes {
			if p != nil {
				c.fillAddress(hc.report.Addresses[i], p)
			}
		}
	}
}

func (c *checker) progress(format string, args ...any) {
	if c.logf != nil {
		c.logf(format, args...)
	}
}

// fillAddress copies what a probe showed into the address's report.
func (c *checker) fillAddress(r *addressReport, p *smtp.Probe) {
	r.Probed, r.Connected = true, p.Connected
	r.Greeting = orEmpty(p.Greeting)
	r.EHLO = orEmpty(p.EHLO)
	r.STARTTLSOffered = p.STARTTLSOffered
	r.STARTTLSReply = orEmpty(p.STARTTLSReply)
	if p.TLS != nil {
		r.TLS = &tlsInfo{Version: tls.VersionName(p.TLS.Version), CipherSuite: tls.CipherSuiteName(p.TLS.CipherSuite)}
	}
	soon := c.now.Add(time.Duration(c.o.certDays) * 24 * time.Hour)
	r.Certificates = newCertReports(p.Chain, c.now, soon)
	r.Warnings = append(r.Warnings, certWarnings(r.Certificates, c.now)...)

	var attempts []dane.Attempt
	switch {
	case p.Match != nil:
		attempts = p.Match.Attempts
		r.TLSAMatch = &tlsaMatchReport{Number: p.Match.Record.Index + 1,
			Record: rdata(p.Match.Record.TLSA), Depth: p.Match.Depth}
	case p.Mismatch != nil:
		attempts = p.Mismatch.Attempts
	}
	for _, a := range attempts {
		ar := tlsaAttemptReport{Number: a.Record.Index + 1, Outcome: a.Outcome}
		if a.Outcome == dane.Matched {
			depth := a.Depth
			ar.Depth = &depth
		}
		if a.Err != nil {
			ar.Error = a.Err.Error()
		}
		if a.Outcome == dane.Unusable {
			ar.Error = a.Record.Detail
		}
		r.TLSAAttempts = append(r.TLSAAttempts, ar)
	}
	if p.Err != nil {
		r.Error = p.Err.Error()
	}
	r.Verdict, r.Reason, r.Deliverable = p.Verdict, p.Reason, p.Deliverable
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// judgeHost sets the host's verdict from its policy and probes, and calls
// out addresses that disagree.
func (c *checker) judgeHost(hc *hostCheck) {
	var probes []*smtp.Probe
	for _, p := range hc.probes {
		if p != nil {
			probes = append(probes, p)
		}
	}
	j := smtp.JudgeHost(hc.h, probes)
	r := hc.report
	r.Verdict, r.Reason, r.Deliverable = j.Verdict, j.Reason, j.Deliverable
	r.AcceptsMail = hc.h.Policy != smtp.PolicyUnusable && (len(probes) == 0 ||
		slices.ContainsFunc(probes, func(p *smtp.Probe) bool { return p.Deliverable }))
	r.Disagreements = disagreements(r.Addresses)
}

// disagreements describes how the probed addresses of one host differ:
// in their verdicts, or in the leaf certificate they present, as happens
// when one node of a cluster was not updated.
func disagreements(addrs []*addressReport) []string {
	out := []string{}
	var verdicts, leaves []string
	seenVerdict, seenLeaf := map[smtp.Verdict]bool{}, map[string]bool{}
	for _, a := range addrs {
		if !a.Probed {
			continue
		}
		seenVerdict[a.Verdict] = true
		verdicts = append(verdicts, fmt.Sprintf("%s %s", a.Address, a.Verdict))
		if len(a.Certificates) > 0 {
			leaf := a.Certificates[0]
			seenLeaf[leaf.SHA256] = true
			leaves = append(leaves, fmt.Sprintf("%s presents %s (SPKI SHA-256 %s…)", a.Address,
				certName(leaf), leaf.SPKISHA256[:16]))
		}
	}
	if len(seenVerdict) > 1 {
		out = append(out, "the addresses disagree: "+strings.Join(verdicts, ", "))
	}
	if len(seenLeaf) > 1 {
		out = append(out, "the addresses present different leaf certificates: "+strings.Join(leaves, "; "))
	}
	return out
}

// finish sets why the check is incomplete, if it is, the domain's
// verdict and the exit status.
func (c *checker) finish(ctx context.Context, rep *checkReport, hosts []*hostCheck) {
	if rep.Incomplete == "" {
		rep.Incomplete = incompleteReason(ctx, hosts)
	}
	switch rep.MX.Status {
	case mxNXDomain:
		rep.Verdict, rep.Reason = smtp.VerdictUnreachable, "the domain does not exist (NXDOMAIN)"
	case mxNull:
		rep.Verdict, rep.Reason = smtp.VerdictUnreachable, "the domain accepts no mail (null MX, RFC 7505)"
	case mxBogus, mxIndeterminate:
		rep.Verdict = smtp.VerdictUnreachable
		rep.Reason = fmt.Sprintf("the MX lookup is %s: %s", rep.MX.Status, rep.MX.Lookup.Reason)
	default:
		judgements := make([]smtp.Judgement, len(rep.Hosts))
		for i, h := range rep.Hosts {
			judgements[i] = smtp.Judgement{Verdict: h.Verdict, Reason: h.Reason, Deliverable: h.Deliverable}
		}
		worst, i := smtp.WorstOf(judgements)
		rep.Verdict = worst.Verdict
		if i >= 0 && worst.Reason != "" {
			rep.Reason = rep.Hosts[i].Name + ": " + worst.Reason
		}
	}
	rep.ExitStatus = exitStatusOf(rep)
}

// incompleteReason returns why the check could not be completed: the
// deadline passed, a lookup was indeterminate, or no connection could
// leave this machine. It returns "" for a complete check.
func incompleteReason(ctx context.Context, hosts []*hostCheck) string {
	if ctx.Err() != nil {
		return "the deadline (--timeout) passed before the check finished"
	}
	for _, hc := range hosts {
		if hc.ev == nil {
			return fmt.Sprintf("the lookups for %s could not be completed", hc.h.Name)
		}
		for _, res := range append([]*dnssec.Result{hc.ev.A, hc.ev.AAAA}, hc.ev.TLSA...) {
			if res.Security == dnssec.Indeterminate {
				return fmt.Sprintf("the %s %s lookup could not be completed: %s",
					res.Name, dns.TypeToString[res.Type], dnssec.Explain(res.Reason))
			}
		}
	}
	var probed, local int
	var localErr error
	for _, hc := range hosts {
		for _, p := range hc.probes {
			if p == nil {
				continue
			}
			probed++
			if !p.Connected && localNetworkError(p.Err) {
				local++
				localErr = p.Err
			}
		}
	}
	if probed > 0 && local == probed {
		return fmt.Sprintf("no connection could leave this machine: %v", localErr)
	}
	return ""
}

// localNetworkError reports whether a connection failed with an error
// that on Linux comes from this machine's own network setup: no route,
// no usable source address, or a local firewall rule. A router on the
// way can also report a network unreachable, so this is a strong hint,
// not a proof.
func localNetworkError(err error) bool {
	return errors.Is(err, syscall.ENETUNREACH) || errors.Is(err, syscall.EADDRNOTAVAIL) ||
		errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EPERM)
}
