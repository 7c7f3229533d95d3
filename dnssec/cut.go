package dnssec

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/miekg/dns"
)

// cutKind classifies a name on the walk from a trust anchor: whether it is a
// zone cut, and what the parent proved about it.
type cutKind int

const (
	// cutFailed: the DS answer could not be obtained or proven.
	cutFailed cutKind = iota
	// cutNone: the name exists in the parent zone but is no zone cut.
	cutNone
	// cutDelegation: a signed delegation with proven DS records.
	cutDelegation
	// cutInsecure: a delegation proven to have no usable DS.
	cutInsecure
	// cutNXDomain: the name does not exist, so neither does anything below.
	cutNXDomain
)

// maxWalkIterations is the most NSEC3 iterations the zone-cut walk
// hashes: 2,500, the limit RFC 5155 §10.3 sets for 4096-bit keys.
const maxWalkIterations = 2500

type cutResult struct {
	kind cutKind
	ds   []*dns.DS
	// err is the *InsecureReason of cutInsecure or the failure of cutFailed.
	err   error
	steps []Step
}

// cutAt asks for the DS RRset of child and decides, with the keys of the
// parent zone, whether child is a secure delegation, an insecure one, or no
// zone cut at all (RFC 4035 §5.2, RFC 5155 §8.6, RFC 6840 §5.2).
func (l *lookup) cutAt(child string, parent *zoneState) *cutResult {
	value, shared := l.v.cache.get(l.ctx, "cut:"+child, l.now, func() (any, time.Time, bool) {
		before := len(l.steps)
		cut := l.fetchCut(child, parent)
		cut.steps = slices.Clone(l.steps[before:])
		keep := cut.kind != cutFailed || securityOf(cut.err) == Bogus && !isLimit(cut.err)
		ttl := negativeCacheTime
		if cut.kind == cutDelegation {
			ttl = time.Duration(cut.ds[0].Hdr.Ttl) * time.Second
		}
		return cut, l.now.Add(ttl), keep
	})
	cut, ok := value.(*cutResult)
	if !ok {
		return &cutResult{kind: cutFailed, err: &IndeterminateError{Name: child, Type: dns.TypeDS, Err: l.ctx.Err()}}
	}
	if shared {
		l.replay(cut.steps)
	}
	return cut
}

func (l *lookup) fetchCut(child string, parent *zoneState) *cutResult {
	zone := parent.zone
	failed := func(err error) *cutResult {
		l.step(Step{Zone: zone, Check: "DS", Name: child, Type: "DS", Security: securityOf(err), Detail: Explain(err)})
		return &cutResult{kind: cutFailed, err: err}
	}
	resp, err := l.query(child, dns.TypeDS)
	if err != nil {
		return failed(err)
	}
	answer := groupRRsets(resp.Answer)
	if ds := find(answer, child, dns.TypeDS); ds != nil && resp.Rcode == dns.RcodeSuccess {
		return l.provenDS(child, ds, parent)
	}
	if cname := find(answer, child, dns.TypeCNAME); cname != nil {
		// A CNAME owner cannot be a zone cut (RFC 1034 §3.6.2).
		if _, err := l.verifyRRset(cname, zone, parent.keys); err != nil {
			return failed(err)
		}
		return &cutResult{kind: cutNone}
	}
	d, err := l.verifiedDenial(resp, zone, parent.keys)
	if err != nil {
		return failed(err)
	}
	// The NSEC3 iteration ceiling makes a denial insecure, but it must not
	// turn a name inside the zone into an unsigned delegation: an attacker
	// who strips an answer's RRSIGs would get it accepted as insecure. The
	// walk therefore hashes this one name up to RFC 5155's own maximum.
	if d.highIterations > maxWalkIterations {
		return failed(bogus(ReasonDenialInvalid, zone, child, dns.TypeDS,
			"NSEC3 records use %d iterations, more than the %d RFC 5155 §10.3 allows",
			d.highIterations, maxWalkIterations))
	}
	if d.unknownHash && d.empty() {
		return failed(bogus(ReasonDenialInvalid, zone, child, dns.TypeDS,
			"the NSEC3 records use only unknown hash algorithms, so nothing proves the delegation unsigned"))
	}
	if d.empty() {
		return failed(bogus(ReasonDenialMissing, zone, child, dns.TypeDS,
			"the %s answer carries no DS and no signed NSEC or NSEC3 records", dns.RcodeToString[resp.Rcode]))
	}
	var cut *cutResult
	if len(d.nsec) > 0 {
		cut, err = l.classifyNSEC(d, child)
	} else {
		for _, c := range d.nsec3Chains() {
			if cut, err = l.classifyNSEC3(c, child); err == nil {
				break
			}
		}
	}
	if err != nil {
		return failed(err)
	}
	return cut
}

// provenDS verifies a DS RRset with the parent's keys and keeps the usable
// records. With none usable the delegation is insecure (RFC 6840 §5.2).
func (l *lookup) provenDS(child string, set *rrset, parent *zoneState) *cutResult {
	sig, err := l.verifyRRset(set, parent.zone, parent.keys)
	if err != nil {
		return &cutResult{kind: cutFailed, err: err}
	}
	var all []*dns.DS
	for _, rr := range set.rrs {
		if ds, ok := rr.(*dns.DS); ok {
			ds.Hdr.Ttl = capTTL(ds.Hdr.Ttl, sig, l.now)
			all = append(all, ds)
		}
	}
	usable := usableDigests(all)
	if len(usable) == 0 {
		r := &InsecureReason{Zone: child, Detail: fmt.Sprintf(
			"the DS records of %s (%s) use only unsupported algorithms or digest types (RFC 6840 §5.2)",
			child, dsList(all))}
		l.step(Step{Zone: parent.zone, Check: "DS", Name: child, Type: "DS", Security: Insecure, Detail: r.Detail})
		return &cutResult{kind: cutInsecure, err: r}
	}
	l.step(Step{Zone: parent.zone, Check: "DS", Name: child, Type: "DS", Security: Secure, Detail: dsList(usable)})
	return &cutResult{kind: cutDelegation, ds: usable}
}

// classifyNSEC reads an NSEC proof for a DS query at child.
func (l *lookup) classifyNSEC(d *denialSet, child string) (*cutResult, error) {
	fail := func(format string, args ...any) (*cutResult, error) {
		return nil, bogus(ReasonDenialInvalid, d.zone, child, dns.TypeDS, format, args...)
	}
	if m := d.nsecMatch(child); m != nil {
		switch {
		case hasType(m.TypeBitMap, dns.TypeDS):
			return fail("the NSEC record lists a DS that the answer lacks")
		case hasType(m.TypeBitMap, dns.TypeSOA):
			return fail("the NSEC record at %s is from the child apex, not the parent", child)
		case hasType(m.TypeBitMap, dns.TypeNS):
			return l.insecureCut(d.zone, child, "NSEC "+m.Hdr.Name+" shows NS and no DS"), nil
		}
		l.step(Step{Zone: d.zone, Check: "NSEC", Name: child, Type: "DS", Security: Secure, Detail: "no zone cut"})
		return &cutResult{kind: cutNone}, nil
	}
	cover := d.nsecCover(child)
	if cover == nil {
		return fail("no NSEC matches or covers %s", child)
	}
	if isStrictSubdomain(child, cover.NextDomain) {
		l.step(Step{Zone: d.zone, Check: "NSEC", Name: child, Type: "DS", Security: Secure,
			Detail: "empty non-terminal, no zone cut"})
		return &cutResult{kind: cutNone}, nil
	}
	l.step(Step{Zone: d.zone, Check: "NSEC", Name: child, Type: "DS", Security: Secure,
		Detail: "name does not exist; " + nsecSpan(cover)})
	return &cutResult{kind: cutNXDomain}, nil
}

// classifyNSEC3 reads an NSEC3 proof for a DS query at child (RFC 5155
// §8.6): a matching record with NS and no DS is an insecure delegation, and
// a next closer name in an opt-out span may be one.
func (l *lookup) classifyNSEC3(d *denialSet, child string) (*cutResult, error) {
	fail := func(format string, args ...any) (*cutResult, error) {
		return nil, bogus(ReasonDenialInvalid, d.zone, child, dns.TypeDS, format, args...)
	}
	m, err := l.nsec3Match(d, child)
	if err != nil {
		return nil, err
	}
	if m != nil {
		switch {
		case hasType(m.TypeBitMap, dns.TypeDS):
			return fail("the NSEC3 record lists a DS that the answer lacks")
		case hasType(m.TypeBitMap, dns.TypeSOA):
			return fail("the NSEC3 record for %s is from the child apex, not the parent", child)
		case hasType(m.TypeBitMap, dns.TypeNS):
			return l.insecureCut(d.zone, child, "NSEC3 for "+child+" shows NS and no DS"), nil
		}
		l.step(Step{Zone: d.zone, Check: "NSEC3", Name: child, Type: "DS", Security: Secure, Detail: "no zone cut"})
		return &cutResult{kind: cutNone}, nil
	}
	_, nextCloser, cover, err := l.closestEncloserProof(d, child, dns.TypeDS)
	if err != nil {
		return nil, err
	}
	if cover.Flags&1 == 1 {
		return l.insecureCut(d.zone, child, "next closer name "+nextCloser+" is in an NSEC3 opt-out span"), nil
	}
	l.step(Step{Zone: d.zone, Check: "NSEC3", Name: child, Type: "DS", Security: Secure, Detail: "name does not exist"})
	return &cutResult{kind: cutNXDomain}, nil
}

func (l *lookup) insecureCut(zone, child, detail string) *cutResult {
	r := &InsecureReason{Zone: child, Detail: fmt.Sprintf("%s is an unsigned delegation from %s: %s", child, zone, detail)}
	l.step(Step{Zone: zone, Check: "DS", Name: child, Type: "DS", Security: Insecure, Detail: detail})
	return &cutResult{kind: cutInsecure, err: r}
}

func isLimit(err error) bool {
	var le *LimitError
	return errors.As(err, &le)
}
