package dnssectest

import "github.com/miekg/dns"

// The functions below pick the NSEC or NSEC3 RRsets that prove a negative
// or wildcard answer. Each takes the query name, so that the
// IrrelevantDenial fault can target it.

// noDataProof proves that name exists without the queried type. With NSEC
// that is the NSEC of name, or the NSEC covering it when name is an empty
// non-terminal (RFC 4035 §3.1.3). With NSEC3 it is the NSEC3 of name (RFC
// 5155 §7.2.3). Opt-out delegations and the empty non-terminals above them
// have no NSEC3, so they get the closest provable encloser proof instead
// (RFC 5155 §7.2.4, §7.2.7).
func (z *Zone) noDataProof(qname, name string) []dns.RR {
	d := z.data
	if d.nsec3Param == nil {
		return z.denial(qname, d.nsecFor(name))
	}
	if e := d.nsec3Matching(name); e != nil {
		return z.denial(qname, e.set)
	}
	ce, nextCloser := d.closestProvableEncloser(name)
	return z.denial(qname, entrySet(d.nsec3Matching(ce)), entrySet(d.nsec3Covering(nextCloser)))
}

// nameErrorProof proves that name does not exist and that no wildcard at
// its closest encloser ce could have produced it. With NSEC these are the
// NSECs covering name and the wildcard (RFC 4035 §3.1.3). With NSEC3 they
// are the NSEC3s that match the closest provable encloser and cover the
// next closer name and the wildcard (RFC 5155 §7.2.2).
func (z *Zone) nameErrorProof(name, ce string) []dns.RR {
	d := z.data
	if d.nsec3Param == nil {
		return z.denial(name, d.nsecCovering(name), d.nsecFor(wildcardOf(ce)))
	}
	encloser, nextCloser := d.closestProvableEncloser(name)
	return z.denial(name,
		entrySet(d.nsec3Matching(encloser)),
		entrySet(d.nsec3Covering(nextCloser)),
		entrySet(d.nsec3Covering(wildcardOf(encloser))))
}

// wildcardProof proves that name, expanded from the wildcard below ce, does
// not exist itself. That is the NSEC covering name, or the NSEC3 covering
// the next closer name (RFC 5155 §7.2.6).
func (z *Zone) wildcardProof(name, ce string) []dns.RR {
	d := z.data
	if d.nsec3Param == nil {
		return z.denial(name, d.nsecCovering(name))
	}
	return z.denial(name, entrySet(d.nsec3Covering(childOf(ce, name))))
}

// wildcardNoDataProof proves that name does not exist and that the
// wildcard wild that matches it lacks the queried type (RFC 4035 §3.1.3,
// RFC 5155 §7.2.5).
func (z *Zone) wildcardNoDataProof(name, ce, wild string) []dns.RR {
	d := z.data
	if d.nsec3Param == nil {
		return z.denial(name, d.nsecCovering(name), d.nsecFor(wild))
	}
	return z.denial(name,
		entrySet(d.nsec3Matching(ce)),
		entrySet(d.nsec3Covering(childOf(ce, name))),
		entrySet(d.nsec3Matching(wild)))
}

// denial returns the given NSEC or NSEC3 RRsets with their RRSIGs. Under
// the IrrelevantDenial fault it returns instead one record of the chain
// that proves nothing about qname.
func (z *Zone) denial(qname string, sets ...*rrset) []dns.RR {
	if z.queryFault(IrrelevantDenial, qname) {
		sets = []*rrset{z.irrelevantDenial(qname)}
	}
	var out []dns.RR
	for _, s := range sets {
		if s != nil {
			out = append(out, s.records(true)...)
		}
	}
	return out
}

func entrySet(e *nsec3Entry) *rrset {
	if e == nil {
		return nil
	}
	return e.set
}

// irrelevantDenial returns an NSEC or NSEC3 RRset of the zone that neither
// matches nor covers qname, any of its ancestors in the zone, or the
// wildcards below them. It returns nil if the chain is too short to have
// one.
func (z *Zone) irrelevantDenial(qname string) *rrset {
	d := z.data
	var relevant []string
	for _, n := range pathFrom(z.origin, qname) {
		relevant = append(relevant, n, wildcardOf(n))
	}

	if d.nsec3Param == nil {
		for i, owner := range d.nsecOwners {
			next := d.nsecOwners[(i+1)%len(d.nsecOwners)]
			if !touchesAny(relevant, func(n string) bool { return n == owner || covers(owner, next, n) }) {
				return d.nsecAt(owner)
			}
		}
		return nil
	}

	var hashes []string
	for _, n := range relevant {
		hashes = append(hashes, d.hash(n))
	}
	for i, e := range d.nsec3 {
		next := d.nsec3[(i+1)%len(d.nsec3)].hash
		if !touchesAny(hashes, func(h string) bool { return h == e.hash || hashCovers(e.hash, next, h) }) {
			return e.set
		}
	}
	return nil
}

func touchesAny(names []string, touches func(string) bool) bool {
	for _, n := range names {
		if touches(n) {
			return true
		}
	}
	return false
}
