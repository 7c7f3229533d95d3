package dnssec

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/mxclient/mxclient/trustanchor"
)

// Config configures a Validator.
type Config struct {
	// Source supplies unvalidated DNS data.
	Source Source
	// Anchors are the trust anchors; anchors not valid at the validation
	// time are ignored. The deepest anchor above a name is used.
	Anchors []trustanchor.Anchor
	// Now returns the validation time for signature windows and cache
	// expiry; nil means time.Now.
	Now func() time.Time
	// Limits bounds each lookup; zero fields take their defaults.
	Limits Limits
}

// Validator proves DNS answers from trust anchors. It caches proven DS and
// DNSKEY sets, and concurrent lookups that need the same set share one
// fetch. A Validator is safe for concurrent use.
type Validator struct {
	source  Source
	anchors []trustanchor.Anchor
	now     func() time.Time
	limits  Limits
	cache   *cache
	flight  inflight
}

// New returns a Validator for cfg.
func New(cfg Config) (*Validator, error) {
	if cfg.Source == nil {
		return nil, errors.New("dnssec: no Source configured")
	}
	if len(cfg.Anchors) == 0 {
		return nil, errors.New("dnssec: no trust anchor configured")
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	return &Validator{
		source:  cfg.Source,
		anchors: cfg.Anchors,
		now:     now,
		limits:  cfg.Limits.withDefaults(),
		cache:   newCache(),
	}, nil
}

// Result is the outcome of one lookup.
type Result struct {
	// Name is the absolute, lowercase query name.
	Name string
	Type uint16
	// Rcode is the response code of the final answer: NOERROR, NXDOMAIN,
	// or SERVFAIL when no answer could be obtained.
	Rcode int
	// Security is the state of the whole answer, CNAME links included.
	Security Security
	// Answer holds the records of the answer in order: each CNAME or
	// DNAME link, then the RRset of the requested type. RRSIGs are left
	// out. TTLs of signed records are capped by their RRSIG's original
	// TTL and expiration.
	Answer []dns.RR
	// Links gives the state of each RRset of Answer on its own, in order:
	// a CNAME chain may start in a signed zone and end in an unsigned one.
	Links []Link
	// Reason explains a state other than Secure: a *BogusError, an
	// *IndeterminateError or an *InsecureReason.
	Reason error
	// Chain lists the checks made, from the trust anchor to the answer.
	Chain []Step
}

// Link is one RRset of an answer: a CNAME or DNAME link, or the records
// of the requested type.
type Link struct {
	Name     string
	Type     uint16
	Security Security
}

// Step is one check on the chain of trust, for traces.
type Step struct {
	// Zone is the zone whose keys or proofs the step uses.
	Zone string `json:"zone"`
	// Check names what was checked: "trust anchor", "DS", "DNSKEY",
	// "RRSIG", "NSEC", "NSEC3", "CNAME", "DNAME", "query".
	Check string `json:"check"`
	Name  string `json:"name,omitempty"`
	Type  string `json:"type,omitempty"`
	// Security is the step's outcome: secure when the check passed.
	Security Security `json:"security"`
	Detail   string   `json:"detail,omitempty"`
	// Cached is set when the step's result came from the cache.
	Cached bool `json:"cached,omitempty"`
	// Expires is the expiration of the signature that a secure RRSIG step
	// verified, and zero for every other step. encoding/json leaves a zero
	// time out only with omitzero; omitempty keeps it.
	Expires time.Time `json:"expires,omitzero"`
}

// String formats the step for traces, such as
// "DS example.net. in zone net.: secure (31589/8/SHA-256)".
func (s Step) String() string {
	var b strings.Builder
	b.WriteString(s.Check)
	if s.Name != "" {
		b.WriteString(" " + s.Name)
	}
	if s.Type != "" && s.Type != s.Check {
		b.WriteString(" " + s.Type)
	}
	if s.Zone != "" && !equalNames(s.Zone, s.Name) {
		fmt.Fprintf(&b, " in zone %s", s.Zone)
	}
	fmt.Fprintf(&b, ": %s", s.Security)
	if s.Detail != "" {
		fmt.Fprintf(&b, " (%s)", s.Detail)
	}
	if s.Cached {
		b.WriteString(" [cached]")
	}
	return b.String()
}

// Lookup fetches (name, qtype) and proves it. Names are always absolute: a
// missing final dot is added and no search list is applied. The error is
// non-nil only for an invalid name or an ended context; every other failure
// is a Result with Security Bogus or Indeterminate.
func (v *Validator) Lookup(ctx context.Context, name string, qtype uint16) (*Result, error) {
	qname, err := CanonicalQueryName(name)
	if err != nil {
		return nil, err
	}
	res := v.lookupOnce(ctx, qname, qtype)
	if auto, ok := v.source.(*Auto); ok && res.Security == Bogus && ctx.Err() == nil && auto.tryIterating() {
		// The upstream's data came out bogus: see whether iterating proves
		// the answer, with a cache that holds nothing the upstream gave.
		v.cache.clear()
		v.flight.clear()
		retry := v.lookupOnce(ctx, qname, qtype)
		proven := retry.Security == Secure || retry.Security == Insecure
		auto.keepIterating(proven, fmt.Sprintf("the resolver's answer for %s %s was bogus (%s) where iterating proves it %s",
			qname, dns.TypeToString[qtype], Explain(res.Reason), retry.Security))
		if proven {
			res = retry
		}
	}
	if err := ctx.Err(); err != nil && res.Security == Indeterminate {
		return res, err
	}
	return res, nil
}

func (v *Validator) lookupOnce(ctx context.Context, qname string, qtype uint16) *Result {
	ctx = withBudget(ctx, &budget{limit: v.limits.MaxQueries})
	l := &lookup{v: v, ctx: ctx, now: v.now(), limits: v.limits, hashes: map[nsec3HashKey]string{}}
	res := l.resolve(qname, qtype)
	res.Chain = l.steps
	if res.Security == Bogus {
		// A validating resolver answers SERVFAIL for bogus data.
		res.Rcode = dns.RcodeServerFailure
	}
	return res
}

// CanonicalQueryName returns name as an absolute, lowercase domain name, or
// an error naming what is wrong with it.
func CanonicalQueryName(name string) (string, error) {
	if name == "" {
		return "", errors.New("dnssec: empty domain name")
	}
	fqdn := dns.CanonicalName(name)
	if _, ok := dns.IsDomainName(fqdn); !ok {
		return "", fmt.Errorf("dnssec: %q is not a valid domain name", name)
	}
	// Packing checks the 255-octet limit of RFC 1035 §2.3.4, and unpacking
	// gives the one presentation form of the name, so that "\097" and "a"
	// compare equal.
	wire := make([]byte, 256)
	n, err := dns.PackDomainName(fqdn, wire, 0, nil, false)
	if err != nil {
		return "", fmt.Errorf("dnssec: %q is not a valid domain name: %v", name, err)
	}
	canonical, _, err := dns.UnpackDomainName(wire[:n], 0)
	if err != nil {
		return "", fmt.Errorf("dnssec: %q is not a valid domain name: %v", name, err)
	}
	return dns.CanonicalName(canonical), nil
}

// lookup holds the state and budgets of one Lookup call.
type lookup struct {
	v      *Validator
	ctx    context.Context
	now    time.Time
	limits Limits

	sigChecks   int
	nsec3Hashes int
	hashes      map[nsec3HashKey]string
	ahead       prefetched

	steps []Step
}

func (l *lookup) step(s Step) {
	l.steps = append(l.steps, s)
}

// query asks the Source. Every query sent counts against MaxQueries: the
// Sources of this package charge each one to the budget in the context,
// and a call to any other Source counts as one query.
func (l *lookup) query(name string, qtype uint16) (*dns.Msg, error) {
	limited := func() error {
		return &BogusError{Reason: ReasonLimit, Name: name, Type: qtype,
			Err: &LimitError{Limit: "MaxQueries", Value: l.limits.MaxQueries}}
	}
	resp, err, ok := l.takePrefetched(name, qtype)
	if !ok {
		if _, charges := l.v.source.(queryCharger); !charges && chargeQuery(l.ctx) != nil {
			return nil, limited()
		}
		resp, err = l.v.shared(l.ctx, name, qtype)
	}
	var le *LimitError
	if errors.As(err, &le) {
		return nil, &BogusError{Reason: ReasonLimit, Name: name, Type: qtype, Err: le}
	}
	if err == nil && resp == nil {
		err = errors.New("the source returned no response")
	}
	if err != nil {
		return nil, &IndeterminateError{Name: name, Type: qtype, Err: err}
	}
	switch resp.Rcode {
	case dns.RcodeSuccess, dns.RcodeNameError, dns.RcodeYXDomain:
		return resp, nil
	}
	return nil, &IndeterminateError{Name: name, Type: qtype,
		Err: fmt.Errorf("upstream answered %s", dns.RcodeToString[resp.Rcode])}
}

// securityOf maps a failure to its state: bogus for a *BogusError,
// insecure for an *InsecureReason, indeterminate otherwise.
func securityOf(err error) Security {
	var b *BogusError
	var ins *InsecureReason
	switch {
	case err == nil:
		return Secure
	case errors.As(err, &b):
		return Bogus
	case errors.As(err, &ins):
		return Insecure
	}
	return Indeterminate
}
