package smtp

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"sync"

	"github.com/miekg/dns"
	"golang.org/x/net/idna"

	"github.com/mxclient/mxclient/dane"
	"github.com/mxclient/mxclient/dnssec"
)

// Route is the set of mail exchangers for one recipient domain, with what
// DNSSEC proved about each step of finding them.
type Route struct {
	// Domain is the recipient domain in ASCII (A-label) form, absolute.
	Domain string
	// Literal is set for an address literal such as [192.0.2.1], which
	// names the host directly: no DNS, no DANE.
	Literal netip.Addr
	// MX is the validated MX lookup; nil for an address literal.
	MX *dnssec.Result
	// Implicit is set when the domain has no MX records and is its own
	// mail exchanger (RFC 5321 §5.1).
	Implicit bool
	// Hosts are the mail exchangers in the order to try them: by
	// preference, equal preferences shuffled.
	Hosts []*Host
}

// Host is one mail exchanger and the TLS policy that applies to it.
type Host struct {
	// Name is the exchange as the MX record gives it.
	Name       string
	Preference uint16
	// Expanded is the name the address records were found at, after any
	// CNAMEs; it is Name when there are none.
	Expanded string
	// Addrs are the addresses in the order to try them.
	Addrs []netip.Addr
	// AddrSecurity is the state of the A and AAAA lookups together.
	AddrSecurity dnssec.Security
	// TLSA is the TLSA RRset DANE found for the host, nil when none.
	TLSA   *TLSA
	Policy Policy
	// Err says why the host cannot be used when Policy is PolicyUnusable.
	Err error
}

// TLSA is a host's TLSA RRset and where it was found.
type TLSA struct {
	// BaseDomain is the TLSA base domain: the host name the records were
	// published for, without the _25._tcp prefix (RFC 7672 §2.2.3).
	BaseDomain string
	Security   dnssec.Security
	Set        *dane.Set
}

// Policy is what a delivery to one host requires of TLS.
type Policy int

const (
	// PolicyOpportunistic: no DANE applies. STARTTLS when offered, with
	// any certificate, and plaintext when it fails.
	PolicyOpportunistic Policy = iota
	// PolicyDANEVerified: a secure MX RRset and a secure TLSA RRset with
	// usable records. TLS is mandatory and must authenticate.
	PolicyDANEVerified
	// PolicyDANETrusted: secure usable TLSA records below an insecure MX
	// RRset, enforced all the same (RFC 7672 §2.2.1).
	PolicyDANETrusted
	// PolicyTLSUnauthenticated: TLSA records exist but none is usable.
	// TLS is mandatory without authentication (RFC 7672 §2.2).
	PolicyTLSUnauthenticated
	// PolicyUnusable: a lookup for the host was bogus or could not be
	// completed, so the host is skipped rather than downgraded.
	PolicyUnusable
)

var policyNames = [...]string{
	PolicyOpportunistic:      "opportunistic TLS",
	PolicyDANEVerified:       "DANE verified",
	PolicyDANETrusted:        "DANE trusted",
	PolicyTLSUnauthenticated: "TLS unauthenticated",
	PolicyUnusable:           "unusable",
}

func (p Policy) String() string {
	if p < 0 || int(p) >= len(policyNames) {
		return fmt.Sprintf("Policy(%d)", int(p))
	}
	return policyNames[p]
}

// RequiresTLS reports whether a session under p must use TLS.
func (p Policy) RequiresTLS() bool {
	return p == PolicyDANEVerified || p == PolicyDANETrusted || p == PolicyTLSUnauthenticated
}

// ReferenceIDs returns the names a DANE-TA certificate of the host may
// carry (RFC 7672 §3.2.2): the TLSA base domain, the MX host name as
// published when the base domain is its CNAME expansion, and the next-hop
// domain.
func (h *Host) ReferenceIDs(nextHop string) []string {
	var names []string
	add := func(n string) {
		n = strings.TrimSuffix(strings.ToLower(n), ".")
		if n != "" && !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	if h.TLSA != nil {
		add(h.TLSA.BaseDomain)
	}
	add(h.Name)
	add(nextHop)
	return names
}

// RouteErrorKind classifies a domain that cannot be routed.
type RouteErrorKind int

const (
	// NoSuchDomain: the domain provably does not exist (NXDOMAIN).
	NoSuchDomain RouteErrorKind = iota + 1
	// NullMX: the domain accepts no mail (RFC 7505).
	NullMX
	// DNSFailure: the MX lookup was bogus or could not be completed; a
	// later attempt may succeed.
	DNSFailure
	// BadDomain: the domain is not a valid domain name.
	BadDomain
)

// RouteError explains why a domain has no usable route.
type RouteError struct {
	Domain string
	Kind   RouteErrorKind
	Err    error
}

func (e *RouteError) Error() string {
	switch e.Kind {
	case NoSuchDomain:
		return fmt.Sprintf("smtp: domain %s does not exist (NXDOMAIN)", e.Domain)
	case NullMX:
		return fmt.Sprintf("smtp: domain %s accepts no mail (null MX, RFC 7505)", e.Domain)
	case BadDomain:
		return fmt.Sprintf("smtp: invalid recipient domain %q: %v", e.Domain, e.Err)
	}
	return fmt.Sprintf("smtp: looking up the MX of %s: %v", e.Domain, e.Err)
}

func (e *RouteError) Unwrap() error { return e.Err }

// Temporary reports whether a later attempt may succeed.
func (e *RouteError) Temporary() bool { return e.Kind == DNSFailure }

// RouteOptions tune FindRoute.
type RouteOptions struct {
	// Rand shuffles equal MX preferences and address families; nil means
	// a random source.
	Rand *rand.Rand
}

// ASCIIDomain converts a recipient domain to its absolute A-label form
// (IDNA U-labels become A-labels) and checks its length.
func ASCIIDomain(domain string) (string, error) {
	ascii, err := idna.Lookup.ToASCII(strings.TrimSuffix(domain, "."))
	if err != nil {
		return "", err
	}
	if ascii == "" {
		return "", errors.New("empty domain")
	}
	// RFC 5321 §4.5.3.1.2: a domain name is at most 255 octets on the wire,
	// which is 253 characters in text.
	if len(ascii) > 253 {
		return "", fmt.Errorf("%d characters, more than 253", len(ascii))
	}
	return dnssec.CanonicalQueryName(ascii)
}

// FindRoute looks up and proves the mail exchangers of domain and the TLS
// policy of each: MX (RFC 5321 §5.1, RFC 7505), addresses, and TLSA
// records where DANE applies (RFC 7672 §2.2). An error is a *RouteError.
func FindRoute(ctx context.Context, v *dnssec.Validator, domain string, opts RouteOptions) (*Route, error) {
	if addr, ok := parseLiteral(domain); ok {
		return &Route{Domain: domain, Literal: addr}, nil
	}
	ascii, err := ASCIIDomain(domain)
	if err != nil {
		return nil, &RouteError{Domain: domain, Kind: BadDomain, Err: err}
	}
	rng := opts.Rand
	if rng == nil {
		rng = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}

	mx, err := v.Lookup(ctx, ascii, dns.TypeMX)
	if err != nil {
		return nil, &RouteError{Domain: ascii, Kind: DNSFailure, Err: err}
	}
	route := &Route{Domain: ascii, MX: mx}
	hosts, err := mxHosts(route, mx)
	if err != nil {
		return nil, err
	}
	sortByPreference(hosts, rng)

	var wg sync.WaitGroup
	for _, h := range hosts {
		// Each host shuffles its addresses with a source of its own: a
		// rand.Rand is not safe for concurrent use.
		hostRand := rand.New(rand.NewPCG(rng.Uint64(), rng.Uint64()))
		wg.Add(1)
		go func() {
			defer wg.Done()
			resolveHost(ctx, v, h, mx.Security, hostRand)
		}()
	}
	wg.Wait()
	route.Hosts = hosts
	return route, nil
}

// parseLiteral recognises an address literal: [192.0.2.1] or
// [IPv6:2001:db8::1] (RFC 5321 §4.1.3).
func parseLiteral(domain string) (netip.Addr, bool) {
	inner, ok := strings.CutPrefix(domain, "[")
	if !ok {
		return netip.Addr{}, false
	}
	inner, ok = strings.CutSuffix(inner, "]")
	if !ok {
		return netip.Addr{}, false
	}
	if v6, ok := strings.CutPrefix(inner, "IPv6:"); ok {
		addr, err := netip.ParseAddr(v6)
		return addr, err == nil && addr.Is6() && addr.Zone() == ""
	}
	addr, err := netip.ParseAddr(inner)
	return addr, err == nil && addr.Is4()
}

// mxHosts turns the MX lookup into hosts, or the error that ends routing.
func mxHosts(route *Route, mx *dnssec.Result) ([]*Host, error) {
	switch mx.Security {
	case dnssec.Bogus, dnssec.Indeterminate:
		return nil, &RouteError{Domain: route.Domain, Kind: DNSFailure, Err: mx.Reason}
	}
	if mx.Rcode == dns.RcodeNameError {
		return nil, &RouteError{Domain: route.Domain, Kind: NoSuchDomain}
	}
	var hosts []*Host
	for _, rr := range mx.Answer {
		m, ok := rr.(*dns.MX)
		if !ok {
			continue
		}
		// RFC 7505 §3: a null MX means no mail, whatever else is there.
		if m.Mx == "." {
			return nil, &RouteError{Domain: route.Domain, Kind: NullMX}
		}
		hosts = append(hosts, &Host{Name: dns.CanonicalName(m.Mx), Preference: m.Preference})
	}
	if len(hosts) == 0 {
		// RFC 5321 §5.1: no MX records, so the domain is its own exchanger.
		route.Implicit = true
		hosts = []*Host{{Name: route.Domain}}
	}
	return hosts, nil
}

// sortByPreference orders hosts by preference and shuffles equal ones
// (RFC 5321 §5.1).
func sortByPreference(hosts []*Host, rng *rand.Rand) {
	rng.Shuffle(len(hosts), func(i, j int) { hosts[i], hosts[j] = hosts[j], hosts[i] })
	slices.SortStableFunc(hosts, func(a, b *Host) int { return int(a.Preference) - int(b.Preference) })
}
