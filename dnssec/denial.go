package dnssec

import (
	"fmt"
	"strings"

	"github.com/miekg/dns"
)

// denialSet holds the NSEC or NSEC3 records of a negative response whose
// signatures verified with the zone's keys.
type denialSet struct {
	zone  string
	nsec  []*dns.NSEC
	nsec3 []*dns.NSEC3
	// highIterations is the largest NSEC3 iteration count above
	// Limits.NSEC3MaxIterations, or 0.
	highIterations int
	// unknownHash is set when NSEC3 records were dropped for an unknown
	// hash algorithm (RFC 5155 §8.1).
	unknownHash bool
}

// verifiedDenial verifies the SOA, NSEC and NSEC3 RRsets of the authority
// section with the keys of zone and returns the denial records. An NSEC3
// record signed by zone must be named <hash>.<zone> (RFC 5155 §3); one
// named otherwise makes the response bogus. Records of other zones are
// ignored.
func (l *lookup) verifiedDenial(resp *dns.Msg, zone string, keys []*dns.DNSKEY) (*denialSet, error) {
	d := &denialSet{zone: zone}
	for _, s := range groupRRsets(resp.Ns) {
		switch s.rtype {
		case dns.TypeSOA:
			if !equalNames(s.name, zone) {
				continue
			}
		case dns.TypeNSEC, dns.TypeNSEC3:
			// Records signed by another zone, such as a child zone's
			// proof after a CNAME, belong to that zone's proof.
			if len(s.sigs) > 0 && !signedBy(s, zone) {
				continue
			}
			if s.rtype == dns.TypeNSEC && !isSubdomain(zone, s.name) {
				continue
			}
			if s.rtype == dns.TypeNSEC3 && !isNSEC3Owner(s.name, zone) {
				return nil, bogus(ReasonMalformed, zone, s.name, dns.TypeNSEC3,
					"NSEC3 owner is not <hash>.%s", zone)
			}
		default:
			continue
		}
		sig, err := l.verifyRRset(s, zone, keys)
		if err != nil {
			return nil, err
		}
		if s.rtype != dns.TypeSOA && expandedFromWildcard(s.name, sig) {
			// The RRSIG's labels field rebuilds the owner as a wildcard:
			// the record was signed at *.something and moved. Its span and
			// type bitmap belong to the wildcard, not to this name.
			return nil, bogus(ReasonMalformed, zone, s.name, s.rtype,
				"%s record signed as a wildcard expansion (RRSIG labels %d, owner has %d)",
				dns.TypeToString[s.rtype], sig.Labels, countLabels(s.name))
		}
		d.add(s, l.limits.NSEC3MaxIterations)
	}
	return d, nil
}

func (d *denialSet) add(s *rrset, maxIterations int) {
	for _, rr := range s.rrs {
		switch r := rr.(type) {
		case *dns.NSEC:
			d.nsec = append(d.nsec, r)
		case *dns.NSEC3:
			if r.Hash != dns.SHA1 {
				d.unknownHash = true
				continue
			}
			if r.Flags&^1 != 0 {
				// RFC 5155 §8.2: flags other than opt-out are unknown,
				// so the record is ignored.
				continue
			}
			if int(r.Iterations) > maxIterations && int(r.Iterations) > d.highIterations {
				d.highIterations = int(r.Iterations)
			}
			d.nsec3 = append(d.nsec3, r)
		}
	}
}

func signedBy(s *rrset, zone string) bool {
	for _, sig := range s.sigs {
		if equalNames(sig.SignerName, zone) {
			return true
		}
	}
	return false
}

// isNSEC3Owner reports whether name is one base32hex SHA-1 hash label
// (32 characters) directly below zone.
func isNSEC3Owner(name, zone string) bool {
	if !equalNames(parentName(name), zone) {
		return false
	}
	label := strings.SplitN(name, ".", 2)[0]
	if len(label) != 32 {
		return false
	}
	for _, c := range strings.ToLower(label) {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'v') {
			return false
		}
	}
	return true
}

// empty reports whether the set holds no usable denial records.
func (d *denialSet) empty() bool {
	return len(d.nsec) == 0 && len(d.nsec3) == 0
}

// insecureDenial returns the reason a verified denial is only insecure:
// NSEC3 iterations over the limit (RFC 9276 §3.2) or an unknown NSEC3 hash
// algorithm with nothing else to prove the denial. It returns nil when the
// records can be checked.
func (d *denialSet) insecureDenial(maxIterations int) *InsecureReason {
	if d.highIterations > 0 {
		return &InsecureReason{Zone: d.zone, Detail: fmt.Sprintf(
			"NSEC3 records of %s use %d iterations, above the limit of %d (RFC 9276 §3.2)",
			d.zone, d.highIterations, maxIterations)}
	}
	if d.unknownHash && d.empty() {
		return &InsecureReason{Zone: d.zone, Detail: fmt.Sprintf(
			"NSEC3 records of %s use only unknown hash algorithms", d.zone)}
	}
	return nil
}

// proveNegative checks that the verified denial records prove that qname
// has no qtype records (nxdomain false) or does not exist (nxdomain true).
// It returns Secure, Insecure with an *InsecureReason when the proof rests
// on an NSEC3 opt-out span or on NSEC3 beyond the iteration limit, or Bogus
// with a *BogusError.
func (l *lookup) proveNegative(d *denialSet, qname string, qtype uint16, nxdomain bool) (Security, error) {
	if r := d.insecureDenial(l.limits.NSEC3MaxIterations); r != nil {
		return Insecure, r
	}
	if d.empty() {
		return Bogus, bogus(ReasonDenialMissing, d.zone, qname, qtype, "no NSEC or NSEC3 records")
	}
	if len(d.nsec) > 0 {
		return l.proveNSEC(d, qname, qtype, nxdomain)
	}
	return l.proveNSEC3(d, qname, qtype, nxdomain)
}

// proveWildcard checks that the wildcard expansion of qname from a wildcard
// with the given label count was legitimate: the next closer name does not
// exist (RFC 4035 §5.3.4, RFC 5155 §8.8).
func (l *lookup) proveWildcard(d *denialSet, qname string, qtype uint16, wildcardLabels int) error {
	if r := d.insecureDenial(l.limits.NSEC3MaxIterations); r != nil {
		return r
	}
	nextCloser := ancestorWithLabels(qname, wildcardLabels+1)
	fail := func(format string, args ...any) error {
		return bogus(ReasonWildcardUnproven, d.zone, qname, qtype, format, args...)
	}
	if d.empty() {
		return fail("no NSEC or NSEC3 proves that %s does not exist", nextCloser)
	}
	if len(d.nsec) > 0 {
		if d.nsecDenies(nextCloser) == nil {
			return fail("no NSEC proves that the next closer name %s does not exist", nextCloser)
		}
		return nil
	}
	var cover *dns.NSEC3
	for _, c := range d.nsec3Chains() {
		found, err := l.nsec3Cover(c, nextCloser)
		if err != nil {
			return err
		}
		if found != nil && (cover == nil || cover.Flags&1 == 1) {
			cover = found
		}
	}
	if cover == nil {
		return fail("no NSEC3 covers the next closer name %s", nextCloser)
	}
	if cover.Flags&1 == 1 {
		// RFC 5155 §9.2: an unsigned delegation may hide in an opt-out
		// span, so the expansion is not proven.
		return &InsecureReason{Zone: d.zone, Detail: fmt.Sprintf(
			"the wildcard expansion for %s rests on an NSEC3 opt-out span of %s (RFC 5155 §9.2)", qname, d.zone)}
	}
	return nil
}

func hasType(bitmap []uint16, t uint16) bool {
	for _, b := range bitmap {
		if b == t {
			return true
		}
	}
	return false
}

// isDelegation reports whether a type bitmap marks a zone cut seen from the
// parent: NS without SOA.
func isDelegation(bitmap []uint16) bool {
	return hasType(bitmap, dns.TypeNS) && !hasType(bitmap, dns.TypeSOA)
}
