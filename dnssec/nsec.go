package dnssec

import (
	"github.com/miekg/dns"
)

// nsecMatch returns the NSEC record owned by name, or nil.
func (d *denialSet) nsecMatch(name string) *dns.NSEC {
	for _, n := range d.nsec {
		if equalNames(n.Hdr.Name, name) {
			return n
		}
	}
	return nil
}

// nsecCover returns an NSEC record whose span covers name and may deny it,
// or nil. The next name must lie in the zone: a span that leaves the zone
// proves nothing. An NSEC at a delegation point or at a DNAME owns no names
// below itself, so it cannot deny them (RFC 6840 §4.1, RFC 6672 §5.3.2).
func (d *denialSet) nsecCover(name string) *dns.NSEC {
	for _, n := range d.nsec {
		if !isSubdomain(d.zone, n.NextDomain) || !isSubdomain(d.zone, name) {
			continue
		}
		if !coversName(n.Hdr.Name, n.NextDomain, name) {
			continue
		}
		if isStrictSubdomain(n.Hdr.Name, name) &&
			(isDelegation(n.TypeBitMap) || hasType(n.TypeBitMap, dns.TypeDNAME)) {
			continue
		}
		return n
	}
	return nil
}

// nsecDenies returns an NSEC record that proves name does not exist: a
// span that covers it and whose next name is not below it. A next name
// below it shows that name is an empty non-terminal, which exists (RFC 4035
// §5.4, RFC 4592 §3.3.1).
func (d *denialSet) nsecDenies(name string) *dns.NSEC {
	n := d.nsecCover(name)
	if n == nil || isStrictSubdomain(name, n.NextDomain) {
		return nil
	}
	return n
}

// showsEmptyNonTerminal reports whether an NSEC record proves that name
// exists without records of its own: a span that covers it ends below it.
func (d *denialSet) showsEmptyNonTerminal(name string) bool {
	n := d.nsecCover(name)
	return n != nil && isStrictSubdomain(name, n.NextDomain)
}

// nsecClosestEncloser returns the closest encloser of name that a covering
// NSEC implies: the deeper of the common ancestors of name with the NSEC's
// owner and with its next name, both of which exist.
func nsecClosestEncloser(name string, cover *dns.NSEC) string {
	a := commonAncestor(name, cover.Hdr.Name)
	b := commonAncestor(name, cover.NextDomain)
	if countLabels(b) > countLabels(a) {
		return b
	}
	return a
}

func commonAncestor(a, b string) string {
	return ancestorWithLabels(a, dns.CompareDomainName(a, b))
}

// proveNSEC checks an NSEC denial (RFC 4035 §5.4).
func (l *lookup) proveNSEC(d *denialSet, qname string, qtype uint16, nxdomain bool) (Security, error) {
	fail := func(format string, args ...any) (Security, error) {
		return Bogus, bogus(ReasonDenialInvalid, d.zone, qname, qtype, format, args...)
	}
	if nxdomain {
		cover := d.nsecDenies(qname)
		if cover == nil {
			return fail("no NSEC proves that %s does not exist", qname)
		}
		wildcard := wildcardAt(nsecClosestEncloser(qname, cover))
		if d.nsecDenies(wildcard) == nil {
			return fail("no NSEC proves that the wildcard %s does not exist", wildcard)
		}
		l.step(Step{Zone: d.zone, Check: "NSEC", Name: qname, Security: Secure,
			Detail: "name does not exist; " + nsecSpan(cover)})
		return Secure, nil
	}

	if m := d.nsecMatch(qname); m != nil {
		if err := nodataBitmap(d.zone, qname, qtype, m.TypeBitMap, "NSEC"); err != nil {
			return Bogus, err
		}
		l.step(Step{Zone: d.zone, Check: "NSEC", Name: qname, Type: dns.TypeToString[qtype], Security: Secure,
			Detail: "type absent at " + m.Hdr.Name})
		return Secure, nil
	}
	cover := d.nsecCover(qname)
	if cover == nil {
		return fail("no NSEC matches or covers %s", qname)
	}
	if isStrictSubdomain(qname, cover.NextDomain) {
		// qname is an empty non-terminal: names exist below it.
		l.step(Step{Zone: d.zone, Check: "NSEC", Name: qname, Security: Secure,
			Detail: "empty non-terminal; " + nsecSpan(cover)})
		return Secure, nil
	}
	wildcard := wildcardAt(nsecClosestEncloser(qname, cover))
	wm := d.nsecMatch(wildcard)
	if wm == nil {
		return fail("no NSEC matches %s or the wildcard %s", qname, wildcard)
	}
	if err := nodataBitmap(d.zone, wildcard, qtype, wm.TypeBitMap, "NSEC"); err != nil {
		return Bogus, err
	}
	l.step(Step{Zone: d.zone, Check: "NSEC", Name: qname, Type: dns.TypeToString[qtype], Security: Secure,
		Detail: "wildcard " + wildcard + " has no such type"})
	return Secure, nil
}

// nodataBitmap checks that a matching NSEC or NSEC3 bitmap proves NODATA
// for qtype: the type and CNAME are absent, and for any type but DS the
// record is not the parent side of a delegation (RFC 6840 §4.1).
func nodataBitmap(zone, name string, qtype uint16, bitmap []uint16, kind string) error {
	fail := func(format string, args ...any) error {
		return bogus(ReasonDenialInvalid, zone, name, qtype, format, args...)
	}
	if hasType(bitmap, qtype) {
		return fail("the %s record lists type %s as present", kind, dns.TypeToString[qtype])
	}
	if hasType(bitmap, dns.TypeCNAME) {
		return fail("the %s record lists a CNAME at the name", kind)
	}
	if qtype == dns.TypeDS && hasType(bitmap, dns.TypeSOA) && name != "." {
		return fail("the %s record is from the child apex and cannot deny a DS, which lives in the parent", kind)
	}
	if qtype != dns.TypeDS && isDelegation(bitmap) {
		return fail("the %s record is from the parent side of a delegation and cannot deny data of the child", kind)
	}
	return nil
}

func nsecSpan(n *dns.NSEC) string {
	return "NSEC " + n.Hdr.Name + " -> " + n.NextDomain
}
