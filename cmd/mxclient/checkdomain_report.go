package main

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/mxclient/mxclient/dane"
	"github.com/mxclient/mxclient/dnssec"
	"github.com/mxclient/mxclient/smtp"
)

// checkSchema is the version of the check-domain JSON document. Fields
// are only ever added, so it changes only if one must be removed.
const checkSchema = 1

// checkReport is the result of `mxclient check-domain`, printed as text
// or as the --json document that docs/json.md describes. Only ever add
// fields; never rename or remove one.
type checkReport struct {
	Schema int    `json:"schema"`
	Domain string `json:"domain"`
	// ValidatedAt is the time DNSSEC signatures and certificate dates were
	// checked at: --at, or the time the check started.
	ValidatedAt time.Time     `json:"validated_at"`
	Options     checkSettings `json:"options"`
	MX          mxReport      `json:"mx"`
	Hosts       []*hostReport `json:"hosts"`
	// Incomplete is the reason the check could not be completed, "" when
	// it was completed.
	Incomplete string       `json:"incomplete,omitempty"`
	Verdict    smtp.Verdict `json:"verdict"`
	Reason     string       `json:"reason,omitempty"`
	ExitStatus int          `json:"exit_status"`
}

// checkSettings are the options that shape the report.
type checkSettings struct {
	FirstAddress bool `json:"first_address"`
	Connect      bool `json:"connect"`
	CertDays     int  `json:"cert_days"`
	SigHours     int  `json:"sig_hours"`
}

// MX states of a domain, for mxReport.Status.
const (
	mxFound         = "found"
	mxImplicit      = "implicit"
	mxNull          = "null-mx"
	mxNXDomain      = "nxdomain"
	mxBogus         = "bogus"
	mxIndeterminate = "indeterminate"
)

type mxReport struct {
	Status             string            `json:"status"`
	Lookup             lookupReport      `json:"lookup"`
	Records            []mxRecordReport  `json:"records"`
	ExpiringSignatures []signatureReport `json:"expiring_signatures"`
}

type mxRecordReport struct {
	Preference uint16       `json:"preference"`
	Exchange   string       `json:"exchange"`
	Flags      []flagReport `json:"flags"`
}

// flagReport marks something wrong with a name that does not stop mail by
// itself, such as an MX target that is a CNAME.
type flagReport struct {
	Kind   string `json:"kind"`
	Detail string `json:"detail"`
}

// lookupReport is one validated DNS lookup.
type lookupReport struct {
	Name     string          `json:"name"`
	Type     string          `json:"type"`
	Security dnssec.Security `json:"security"`
	Rcode    string          `json:"rcode"`
	Reason   string          `json:"reason,omitempty"`
	// Records are the data of the RRset of the requested type, without
	// owner, TTL and type; empty for bogus and indeterminate answers.
	Records []string `json:"records"`
}

type hostReport struct {
	Name       string       `json:"name"`
	Preference uint16       `json:"preference"`
	Flags      []flagReport `json:"flags"`
	// CNAMEChain lists the CNAME and DNAME links from Name to the name
	// the address records are at.
	CNAMEChain []cnameReport `json:"cname_chain"`
	A          *lookupReport `json:"a"`
	AAAA       *lookupReport `json:"aaaa"`
	TLSA       tlsaReport    `json:"tlsa"`
	// Policy is the TLS requirement of a delivery to the host:
	// dane-verified, dane-trusted, tls-unauthenticated, opportunistic or
	// unusable.
	Policy       string `json:"policy"`
	PolicyReason string `json:"policy_reason,omitempty"`
	// DANETANames are the reference identifiers a DANE-TA leaf certificate
	// is checked against; set only when usable DANE-TA records exist.
	DANETANames        []string          `json:"dane_ta_names,omitempty"`
	Addresses          []*addressReport  `json:"addresses"`
	ExpiringSignatures []signatureReport `json:"expiring_signatures"`
	Disagreements      []string          `json:"disagreements"`
	Verdict            smtp.Verdict      `json:"verdict"`
	Reason             string            `json:"reason,omitempty"`
	// Deliverable is false when any probed address, or the DNS, would
	// make a delivery fail or be deferred.
	Deliverable bool `json:"deliverable"`
	// AcceptsMail is true when a delivery would succeed through at least
	// one address, since a delivery tries the next address after a
	// failure.
	AcceptsMail bool `json:"accepts_mail"`
}

type cnameReport struct {
	Name     string          `json:"name"`
	Type     string          `json:"type"`
	Target   string          `json:"target"`
	Security dnssec.Security `json:"security"`
}

// TLSA states of a host, for tlsaReport.Status.
const (
	tlsaUsable        = "usable"
	tlsaUnusableOnly  = "unusable-only"
	tlsaNone          = "none"
	tlsaNotApplicable = "not-applicable"
	tlsaFailed        = "failed"
)

type tlsaReport struct {
	Status string `json:"status"`
	// BaseDomain is the TLSA base domain whose records apply, "" when none.
	BaseDomain string             `json:"base_domain,omitempty"`
	Lookups    []lookupReport     `json:"lookups"`
	Records    []tlsaRecordReport `json:"records"`
}

type tlsaRecordReport struct {
	Number       int    `json:"number"`
	Usage        uint8  `json:"usage"`
	Selector     uint8  `json:"selector"`
	MatchingType uint8  `json:"matching_type"`
	Data         string `json:"data"`
	Description  string `json:"description"`
	Usable       bool   `json:"usable"`
	// Unusable is the reason an unusable record is ignored, with Detail
	// giving its specifics.
	Unusable string `json:"unusable,omitempty"`
	Detail   string `json:"detail,omitempty"`
}

type addressReport struct {
	Address string `json:"address"`
	// Reserved names the special-purpose range the address is in.
	Reserved        string   `json:"reserved,omitempty"`
	Probed          bool     `json:"probed"`
	Connected       bool     `json:"connected"`
	Greeting        []string `json:"greeting"`
	EHLO            []string `json:"ehlo"`
	STARTTLSOffered bool     `json:"starttls_offered"`
	STARTTLSReply   []string `json:"starttls_reply"`
	TLS             *tlsInfo `json:"tls"`
	// Certificates is the chain the server presented, leaf first, also
	// when the DANE check rejected it.
	Certificates []certReport        `json:"certificates"`
	TLSAMatch    *tlsaMatchReport    `json:"tlsa_match"`
	TLSAAttempts []tlsaAttemptReport `json:"tlsa_attempts"`
	Warnings     []string            `json:"warnings"`
	Error        string              `json:"error,omitempty"`
	Verdict      smtp.Verdict        `json:"verdict"`
	Reason       string              `json:"reason,omitempty"`
	Deliverable  bool                `json:"deliverable"`
}

type tlsInfo struct {
	Version     string `json:"version"`
	CipherSuite string `json:"cipher_suite"`
}

type certReport struct {
	Depth       int       `json:"depth"`
	Subject     string    `json:"subject"`
	Issuer      string    `json:"issuer"`
	DNSNames    []string  `json:"dns_names"`
	IPAddresses []string  `json:"ip_addresses"`
	NotBefore   time.Time `json:"not_before"`
	NotAfter    time.Time `json:"not_after"`
	SPKISHA256  string    `json:"spki_sha256"`
	SHA256      string    `json:"sha256"`
	Expired     bool      `json:"expired"`
	ExpiresSoon bool      `json:"expires_soon"`
}

type tlsaMatchReport struct {
	Number int    `json:"number"`
	Record string `json:"record"`
	Depth  int    `json:"depth"`
}

type tlsaAttemptReport struct {
	Number  int          `json:"number"`
	Outcome dane.Outcome `json:"outcome"`
	Depth   *int         `json:"depth,omitempty"`
	Error   string       `json:"error,omitempty"`
}

type signatureReport struct {
	Zone    string    `json:"zone"`
	Name    string    `json:"name"`
	Type    string    `json:"type"`
	Expires time.Time `json:"expires"`
}

// newLookupReport describes a validated lookup.
func newLookupReport(res *dnssec.Result) lookupReport {
	r := lookupReport{Name: res.Name, Type: dns.TypeToString[res.Type], Security: res.Security,
		Rcode: dns.RcodeToString[res.Rcode], Records: []string{}}
	if res.Reason != nil {
		r.Reason = dnssec.Explain(res.Reason)
	}
	if !usable(res) {
		return r
	}
	for _, rr := range res.Answer {
		if rr.Header().Rrtype == res.Type {
			r.Records = append(r.Records, rdata(rr))
		}
	}
	return r
}

// rdata returns the data fields of rr in presentation form.
func rdata(rr dns.RR) string {
	return strings.TrimSpace(strings.TrimPrefix(rr.String(), rr.Header().String()))
}

// cnameChain lists the CNAME and DNAME links of an address lookup.
func cnameChain(res *dnssec.Result) []cnameReport {
	chain := []cnameReport{}
	if res == nil || !usable(res) && res.Security != dnssec.Bogus {
		return chain
	}
	for _, rr := range res.Answer {
		link := cnameReport{Name: rr.Header().Name, Security: linkSecurity(res, rr)}
		switch x := rr.(type) {
		case *dns.CNAME:
			link.Type, link.Target = "CNAME", x.Target
		case *dns.DNAME:
			link.Type, link.Target = "DNAME", x.Target
		default:
			continue
		}
		chain = append(chain, link)
	}
	return chain
}

// linkSecurity returns the state of the link of res that rr belongs to.
func linkSecurity(res *dnssec.Result, rr dns.RR) dnssec.Security {
	h := rr.Header()
	for _, l := range res.Links {
		if l.Type == h.Rrtype && strings.EqualFold(l.Name, h.Name) {
			return l.Security
		}
	}
	return res.Security
}

// newTLSARecords describes the records of a classified TLSA RRset.
func newTLSARecords(set *dane.Set) []tlsaRecordReport {
	out := []tlsaRecordReport{}
	for _, rec := range set.Records {
		t := rec.TLSA
		r := tlsaRecordReport{Number: rec.Index + 1, Usage: t.Usage, Selector: t.Selector,
			MatchingType: t.MatchingType, Data: strings.ToLower(t.Certificate),
			Description: dane.Describe(t), Usable: rec.Usable()}
		if !rec.Usable() {
			r.Unusable, r.Detail = rec.Reason.String(), rec.Detail
		}
		out = append(out, r)
	}
	return out
}

// hasDANETA reports whether set has a usable DANE-TA(2) record.
func hasDANETA(set *dane.Set) bool {
	return slices.ContainsFunc(set.Usable(), func(r dane.Record) bool { return r.TLSA.Usage == dane.DANETA })
}

// newCertReports describes a presented chain. Certificates that expire
// before soon count as expiring soon.
func newCertReports(chain []*x509.Certificate, now, soon time.Time) []certReport {
	out := []certReport{}
	for i, c := range chain {
		spki := sha256.Sum256(c.RawSubjectPublicKeyInfo)
		whole := sha256.Sum256(c.Raw)
		r := certReport{Depth: i, Subject: c.Subject.String(), Issuer: c.Issuer.String(),
			DNSNames: c.DNSNames, IPAddresses: []string{}, NotBefore: c.NotBefore.UTC(),
			NotAfter: c.NotAfter.UTC(), SPKISHA256: hex.EncodeToString(spki[:]),
			SHA256: hex.EncodeToString(whole[:]), Expired: now.After(c.NotAfter),
			ExpiresSoon: !now.After(c.NotAfter) && soon.After(c.NotAfter)}
		if r.DNSNames == nil {
			r.DNSNames = []string{}
		}
		for _, ip := range c.IPAddresses {
			r.IPAddresses = append(r.IPAddresses, ip.String())
		}
		out = append(out, r)
	}
	return out
}

// certWarnings describes the certificates of a chain that have expired,
// expire before soon or are not yet valid, one line each.
func certWarnings(certs []certReport, now time.Time) []string {
	var out []string
	for _, c := range certs {
		name := certName(c)
		switch {
		case c.Expired:
			out = append(out, fmt.Sprintf("the certificate at depth %d (%s) expired on %s",
				c.Depth, name, c.NotAfter.Format(time.DateOnly)))
		case c.ExpiresSoon:
			days := int(math.Round(c.NotAfter.Sub(now).Hours() / 24))
			out = append(out, fmt.Sprintf("the certificate at depth %d (%s) expires on %s, in %d days",
				c.Depth, name, c.NotAfter.Format(time.DateOnly), days))
		case now.Before(c.NotBefore):
			out = append(out, fmt.Sprintf("the certificate at depth %d (%s) is not valid before %s",
				c.Depth, name, c.NotBefore.Format(time.DateOnly)))
		}
	}
	return out
}

// certName is a short name of a certificate for messages: its subject, or
// its first DNS name when the subject is empty.
func certName(c certReport) string {
	switch {
	case c.Subject != "":
		return c.Subject
	case len(c.DNSNames) > 0:
		return c.DNSNames[0]
	}
	return "no subject"
}

// expiringSignatures returns the RRSIGs verified in the chains of results
// whose expiration comes before soon, once each, in chain order, leaving
// out those in skip.
func expiringSignatures(soon time.Time, skip []signatureReport, results ...*dnssec.Result) []signatureReport {
	out := []signatureReport{}
	seen := func(s signatureReport) bool {
		same := func(t signatureReport) bool {
			return s.Zone == t.Zone && s.Name == t.Name && s.Type == t.Type && s.Expires.Equal(t.Expires)
		}
		return slices.ContainsFunc(skip, same) || slices.ContainsFunc(out, same)
	}
	for _, res := range results {
		if res == nil {
			continue
		}
		for _, st := range res.Chain {
			if st.Check != "RRSIG" || st.Expires.IsZero() || !st.Expires.Before(soon) {
				continue
			}
			s := signatureReport{Zone: st.Zone, Name: st.Name, Type: st.Type, Expires: st.Expires.UTC()}
			if !seen(s) {
				out = append(out, s)
			}
		}
	}
	return out
}

// exchangeFlags flags an MX target that is an IP address written as a
// name, a top-level domain, or an alias, which RFC 2181 §10.3 rules out.
// addrs is the host's address lookup, which shows a CNAME, or nil.
func exchangeFlags(name string, addrs *dnssec.Result) []flagReport {
	flags := []flagReport{}
	bare := strings.TrimSuffix(name, ".")
	if _, err := netip.ParseAddr(bare); err == nil {
		flags = append(flags, flagReport{Kind: "ip-literal", Detail: fmt.Sprintf(
			"the MX target %s is an IP address written as a name, but RFC 5321 §5.1 requires a domain name "+
				"with address records", name)})
	}
	if bare != "" && dns.CountLabel(name) == 1 {
		flags = append(flags, flagReport{Kind: "tld", Detail: fmt.Sprintf(
			"the MX target %s is a top-level domain, which is most likely a mistake in the MX record", name)})
	}
	if chain := cnameChain(addrs); len(chain) > 0 {
		flags = append(flags, flagReport{Kind: "cname", Detail: fmt.Sprintf(
			"the MX target %s is an alias (%s to %s); an MX record must name a host, not an alias (RFC 2181 §10.3)",
			name, chain[0].Type, chain[len(chain)-1].Target)})
	}
	return flags
}

// specialRange is an address block of the IANA special-purpose address
// registries (RFC 6890) that no public mail exchanger uses.
type specialRange struct {
	prefix netip.Prefix
	name   string
}

var specialRanges = func() []specialRange {
	blocks := []struct{ prefix, name string }{
		{"0.0.0.0/8", "\"this network\" (RFC 791)"},
		{"10.0.0.0/8", "private (RFC 1918)"},
		{"100.64.0.0/10", "shared address space (RFC 6598)"},
		{"127.0.0.0/8", "loopback (RFC 1122)"},
		{"169.254.0.0/16", "link-local (RFC 3927)"},
		{"172.16.0.0/12", "private (RFC 1918)"},
		{"192.0.0.0/24", "IETF protocol assignments (RFC 6890)"},
		{"192.0.2.0/24", "documentation (RFC 5737)"},
		{"192.168.0.0/16", "private (RFC 1918)"},
		{"198.18.0.0/15", "benchmarking (RFC 2544)"},
		{"198.51.100.0/24", "documentation (RFC 5737)"},
		{"203.0.113.0/24", "documentation (RFC 5737)"},
		{"224.0.0.0/4", "multicast (RFC 5771)"},
		{"240.0.0.0/4", "reserved (RFC 1112)"},
		{"::/128", "unspecified (RFC 4291)"},
		{"::1/128", "loopback (RFC 4291)"},
		{"::ffff:0:0/96", "IPv4-mapped (RFC 4291)"},
		{"100::/64", "discard-only (RFC 6666)"},
		{"2001:db8::/32", "documentation (RFC 3849)"},
		{"fc00::/7", "unique local (RFC 4193)"},
		{"fe80::/10", "link-local (RFC 4291)"},
		{"ff00::/8", "multicast (RFC 4291)"},
	}
	out := make([]specialRange, len(blocks))
	for i, b := range blocks {
		out[i] = specialRange{prefix: netip.MustParsePrefix(b.prefix), name: b.name}
	}
	return out
}()

// reservedRange returns the special-purpose range addr is in, such as
// "private (RFC 1918), 10.0.0.0/8", or "".
func reservedRange(addr netip.Addr) string {
	for _, r := range specialRanges {
		if r.prefix.Contains(addr) {
			return fmt.Sprintf("%s, %s", r.name, r.prefix)
		}
	}
	return ""
}

// policyName returns the JSON name of a host's policy.
func policyName(p smtp.Policy) string {
	switch p {
	case smtp.PolicyDANEVerified:
		return "dane-verified"
	case smtp.PolicyDANETrusted:
		return "dane-trusted"
	case smtp.PolicyTLSUnauthenticated:
		return "tls-unauthenticated"
	case smtp.PolicyUnusable:
		return "unusable"
	}
	return "opportunistic"
}
