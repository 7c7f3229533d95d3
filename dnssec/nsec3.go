package dnssec

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// nsec3HashKey identifies one hash computation within a lookup.
type nsec3HashKey struct {
	name       string
	salt       string
	iterations uint16
}

// nsec3Hash returns the base32hex hash of name with the parameters of rec,
// counting each new computation against MaxNSEC3Hashes.
func (l *lookup) nsec3Hash(name string, rec *dns.NSEC3) (string, error) {
	key := nsec3HashKey{dns.CanonicalName(name), strings.ToLower(rec.Salt), rec.Iterations}
	if h, ok := l.hashes[key]; ok {
		return h, nil
	}
	if l.nsec3Hashes >= l.limits.MaxNSEC3Hashes {
		return "", &BogusError{Reason: ReasonLimit, Name: name, Type: dns.TypeNSEC3,
			Err: &LimitError{Limit: "MaxNSEC3Hashes", Value: l.limits.MaxNSEC3Hashes}}
	}
	l.nsec3Hashes++
	h := strings.ToLower(dns.HashName(key.name, dns.SHA1, rec.Iterations, rec.Salt))
	if h == "" {
		return "", bogus(ReasonMalformed, "", name, dns.TypeNSEC3, "cannot hash %s with salt %q", name, rec.Salt)
	}
	l.hashes[key] = h
	return h, nil
}

func ownerHash(rec *dns.NSEC3) string {
	return strings.ToLower(strings.SplitN(rec.Hdr.Name, ".", 2)[0])
}

// nsec3Match returns the NSEC3 record whose owner hash equals the hash of
// name, or nil.
func (l *lookup) nsec3Match(d *denialSet, name string) (*dns.NSEC3, error) {
	for _, rec := range d.nsec3 {
		h, err := l.nsec3Hash(name, rec)
		if err != nil {
			return nil, err
		}
		if h == ownerHash(rec) {
			return rec, nil
		}
	}
	return nil, nil
}

// nsec3Cover returns an NSEC3 record whose hash span covers the hash of
// name, or nil (RFC 5155 §8.3: owner hash < hash < next hash, with the last
// record of the chain wrapping around).
func (l *lookup) nsec3Cover(d *denialSet, name string) (*dns.NSEC3, error) {
	for _, rec := range d.nsec3 {
		h, err := l.nsec3Hash(name, rec)
		if err != nil {
			return nil, err
		}
		owner, next := ownerHash(rec), strings.ToLower(rec.NextDomain)
		if owner < next {
			if owner < h && h < next {
				return rec, nil
			}
		} else if h > owner || h < next {
			return rec, nil
		}
	}
	return nil, nil
}

// closestEncloserProof finds the closest encloser of qname and the NSEC3
// covering the next closer name (RFC 5155 §8.3). It returns ce == qname and
// a nil cover when qname itself has a matching NSEC3.
func (l *lookup) closestEncloserProof(d *denialSet, qname string, qtype uint16) (ce, nextCloser string, cover *dns.NSEC3, err error) {
	fail := func(format string, args ...any) error {
		return bogus(ReasonDenialInvalid, d.zone, qname, qtype, format, args...)
	}
	if !isSubdomain(d.zone, qname) {
		return "", "", nil, fail("%s is not in zone %s", qname, d.zone)
	}
	for n := countLabels(qname); n >= countLabels(d.zone); n-- {
		candidate := ancestorWithLabels(qname, n)
		m, err := l.nsec3Match(d, candidate)
		if err != nil {
			return "", "", nil, err
		}
		if m == nil {
			continue
		}
		if candidate != qname && (isDelegation(m.TypeBitMap) || hasType(m.TypeBitMap, dns.TypeDNAME)) {
			// RFC 5155 §8.3: a delegation or DNAME owner cannot be the
			// closest encloser of names below it.
			return "", "", nil, fail("the NSEC3 for %s marks a delegation or DNAME and cannot deny names below it", candidate)
		}
		if candidate == qname {
			return qname, "", nil, nil
		}
		nextCloser = ancestorWithLabels(qname, n+1)
		cover, err := l.nsec3Cover(d, nextCloser)
		if err != nil {
			return "", "", nil, err
		}
		if cover == nil {
			return "", "", nil, fail("closest encloser %s found, but no NSEC3 covers the next closer name %s", candidate, nextCloser)
		}
		return candidate, nextCloser, cover, nil
	}
	return "", "", nil, fail("no NSEC3 matches any ancestor of %s in %s", qname, d.zone)
}

// nsec3Chains splits the NSEC3 records by their parameters: one proof
// must come from one chain, since records hashed with another salt or
// iteration count say nothing about this chain's hashes (RFC 5155 §8.1
// ties a proof to the parameters of the records that make it).
func (d *denialSet) nsec3Chains() []*denialSet {
	var chains []*denialSet
	byParams := map[string]*denialSet{}
	for _, rec := range d.nsec3 {
		key := strings.ToLower(rec.Salt) + "/" + strconv.Itoa(int(rec.Iterations))
		c, ok := byParams[key]
		if !ok {
			c = &denialSet{zone: d.zone, highIterations: d.highIterations, unknownHash: d.unknownHash}
			byParams[key] = c
			chains = append(chains, c)
		}
		c.nsec3 = append(c.nsec3, rec)
	}
	return chains
}

// proveNSEC3 checks an NSEC3 denial with each chain of records on its own
// and keeps the strongest result.
func (l *lookup) proveNSEC3(d *denialSet, qname string, qtype uint16, nxdomain bool) (Security, error) {
	chains := d.nsec3Chains()
	if len(chains) == 1 {
		return l.proveNSEC3Chain(chains[0], qname, qtype, nxdomain)
	}
	best, bestErr := Bogus, error(nil)
	for _, c := range chains {
		steps := len(l.steps)
		sec, err := l.proveNSEC3Chain(c, qname, qtype, nxdomain)
		if bestErr == nil || weakRank(sec) > weakRank(best) {
			best, bestErr = sec, err
		} else {
			l.steps = l.steps[:steps]
		}
		if sec == Secure {
			return sec, err
		}
	}
	return best, bestErr
}

// proveNSEC3Chain checks an NSEC3 denial: NXDOMAIN (RFC 5155 §8.4), NODATA
// (§8.5), DS NODATA with opt-out (§8.6) and wildcard NODATA (§8.7). A proof
// that rests on an opt-out span is insecure (RFC 5155 §9.2).
func (l *lookup) proveNSEC3Chain(d *denialSet, qname string, qtype uint16, nxdomain bool) (Security, error) {
	fail := func(format string, args ...any) (Security, error) {
		return Bogus, bogus(ReasonDenialInvalid, d.zone, qname, qtype, format, args...)
	}
	if !nxdomain {
		m, err := l.nsec3Match(d, qname)
		if err != nil {
			return Bogus, err
		}
		if m != nil {
			if err := nodataBitmap(d.zone, qname, qtype, m.TypeBitMap, "NSEC3"); err != nil {
				return Bogus, err
			}
			l.step(Step{Zone: d.zone, Check: "NSEC3", Name: qname, Type: dns.TypeToString[qtype], Security: Secure,
				Detail: "type absent at " + qname})
			return Secure, nil
		}
	}

	ce, nextCloser, cover, err := l.closestEncloserProof(d, qname, qtype)
	if err != nil {
		return Bogus, err
	}
	if ce == qname {
		return fail("an NSEC3 matches %s, so the name exists", qname)
	}
	optOut := cover.Flags&1 == 1
	wildcard := wildcardAt(ce)

	if nxdomain {
		wc, err := l.nsec3Cover(d, wildcard)
		if err != nil {
			return Bogus, err
		}
		if wc == nil {
			return fail("no NSEC3 covers the wildcard %s", wildcard)
		}
		return l.optOutResult(d, qname, optOut, "name does not exist; closest encloser "+ce)
	}

	wm, err := l.nsec3Match(d, wildcard)
	if err != nil {
		return Bogus, err
	}
	if wm != nil && qtype != dns.TypeDS {
		if err := nodataBitmap(d.zone, wildcard, qtype, wm.TypeBitMap, "NSEC3"); err != nil {
			return Bogus, err
		}
		return l.optOutResult(d, qname, optOut, "wildcard "+wildcard+" has no such type")
	}
	if optOut {
		// A NODATA without a matching NSEC3 is acceptable only when the
		// next closer name falls in an opt-out span: an unsigned
		// delegation (or the empty non-terminal above one) may exist there.
		return l.optOutResult(d, qname, true, "next closer name "+nextCloser+" is in an opt-out span")
	}
	return fail("no NSEC3 matches %s and the span covering %s is not opt-out", qname, nextCloser)
}

func (l *lookup) optOutResult(d *denialSet, qname string, optOut bool, detail string) (Security, error) {
	if optOut {
		l.step(Step{Zone: d.zone, Check: "NSEC3", Name: qname, Security: Insecure, Detail: detail + " (opt-out)"})
		return Insecure, &InsecureReason{Zone: d.zone,
			Detail: fmt.Sprintf("the denial for %s rests on an NSEC3 opt-out span of %s (RFC 5155 §9.2)", qname, d.zone)}
	}
	l.step(Step{Zone: d.zone, Check: "NSEC3", Name: qname, Security: Secure, Detail: detail})
	return Secure, nil
}
