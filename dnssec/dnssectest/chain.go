package dnssectest

import (
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// buildNSEC adds an NSEC record to every authoritative owner name: the apex,
// every name with data and every delegation point, but neither glue nor
// empty non-terminals (RFC 4035 §2.3). Each record's type bitmap lists the
// types at its owner plus NSEC and RRSIG.
func (d *zoneData) buildNSEC(ttl uint32) {
	var owners []string
	for owner := range d.nodes {
		if !d.belowCut(owner) {
			owners = append(owners, owner)
		}
	}
	slices.SortFunc(owners, compareNames)

	records := make([]dns.RR, len(owners))
	for i, owner := range owners {
		types := append(d.authoritativeTypes(owner), dns.TypeNSEC, dns.TypeRRSIG)
		slices.Sort(types)
		records[i] = &dns.NSEC{
			Hdr:        header(owner, dns.TypeNSEC, ttl),
			NextDomain: owners[(i+1)%len(owners)],
			TypeBitMap: types,
		}
	}
	for _, rr := range records {
		d.add(rr)
	}
	d.nsecOwners = owners
}

// buildNSEC3 builds the NSEC3 chain of RFC 5155 §7.1. Every authoritative
// name and every empty non-terminal gets a record, except that with opt-out
// insecure delegations are left out, and with them the empty non-terminals
// that exist only because of them. NSEC3 records live outside nodes, so that
// their owner names do not exist for lookups (RFC 5155 §7.2.8).
func (d *zoneData) buildNSEC3(param *dns.NSEC3PARAM, ttl uint32, optOut bool) {
	included := make(map[string]bool)
	for owner := range d.nodes {
		if d.belowCut(owner) {
			continue
		}
		if optOut && d.cuts[owner] && d.get(owner, dns.TypeDS) == nil {
			continue
		}
		for n := owner; !included[n]; n = parentName(n) {
			included[n] = true
			if n == d.origin {
				break
			}
		}
	}

	d.nsec3Param = param
	var flags uint8
	if optOut {
		flags = 1
	}
	for name := range included {
		d.nsec3 = append(d.nsec3, d.newNSEC3(name, flags, ttl))
	}
	slices.SortFunc(d.nsec3, func(a, b *nsec3Entry) int { return strings.Compare(a.hash, b.hash) })
	for i, e := range d.nsec3 {
		next := d.nsec3[(i+1)%len(d.nsec3)]
		e.set.rrs[0].(*dns.NSEC3).NextDomain = strings.ToUpper(next.hash)
	}
}

// newNSEC3 returns the NSEC3 record for name, without its next hash. An
// empty non-terminal has an empty bitmap, and RRSIG appears only where a
// signed RRset is (RFC 5155 §7.1): not at an insecure delegation.
func (d *zoneData) newNSEC3(name string, flags uint8, ttl uint32) *nsec3Entry {
	var types []uint16
	if d.nodes[name] != nil {
		types = d.authoritativeTypes(name)
		if d.hasSignedTypes(name) {
			types = append(types, dns.TypeRRSIG)
			slices.Sort(types)
		}
	}
	hash := d.hash(name)
	p := d.nsec3Param
	rr := &dns.NSEC3{
		Hdr:        header(hash+"."+trimRoot(d.origin), dns.TypeNSEC3, ttl),
		Hash:       p.Hash,
		Flags:      flags,
		Iterations: p.Iterations,
		SaltLength: p.SaltLength,
		Salt:       p.Salt,
		HashLength: 20,
		TypeBitMap: types,
	}
	return &nsec3Entry{hash: hash, set: &rrset{rrs: []dns.RR{rr}}}
}

// hash returns the lowercase NSEC3 hash of name with the zone's parameters.
func (d *zoneData) hash(name string) string {
	p := d.nsec3Param
	return strings.ToLower(dns.HashName(name, p.Hash, p.Iterations, p.Salt))
}

// trimRoot returns origin for appending after a label: "" for the root.
func trimRoot(origin string) string {
	if origin == "." {
		return ""
	}
	return origin
}

// nsecAt returns the NSEC RRset owned by name, or nil.
func (d *zoneData) nsecAt(name string) *rrset {
	return d.get(name, dns.TypeNSEC)
}

// nsecCovering returns the NSEC RRset whose owner precedes name most closely
// in canonical order, which covers name when name owns no NSEC.
func (d *zoneData) nsecCovering(name string) *rrset {
	if len(d.nsecOwners) == 0 {
		return nil
	}
	i, _ := slices.BinarySearchFunc(d.nsecOwners, name, compareNames)
	// i is the first owner not before name, so the one before it precedes
	// name. The apex is first in the chain and precedes every name.
	owner := d.nsecOwners[(i-1+len(d.nsecOwners))%len(d.nsecOwners)]
	return d.nsecAt(owner)
}

// nsecFor returns the NSEC RRset that matches name, or else the one that
// covers it.
func (d *zoneData) nsecFor(name string) *rrset {
	if set := d.nsecAt(name); set != nil {
		return set
	}
	return d.nsecCovering(name)
}

// nsec3Matching returns the NSEC3 entry whose hash is the hash of name, or
// nil.
func (d *zoneData) nsec3Matching(name string) *nsec3Entry {
	return d.nsec3ByHash(d.hash(name))
}

func (d *zoneData) nsec3ByHash(hash string) *nsec3Entry {
	i, found := slices.BinarySearchFunc(d.nsec3, hash, func(e *nsec3Entry, h string) int {
		return strings.Compare(e.hash, h)
	})
	if !found {
		return nil
	}
	return d.nsec3[i]
}

// nsec3Covering returns the NSEC3 entry whose span covers the hash of name.
func (d *zoneData) nsec3Covering(name string) *nsec3Entry {
	if len(d.nsec3) == 0 {
		return nil
	}
	h := d.hash(name)
	i, _ := slices.BinarySearchFunc(d.nsec3, h, func(e *nsec3Entry, h string) int {
		return strings.Compare(e.hash, h)
	})
	return d.nsec3[(i-1+len(d.nsec3))%len(d.nsec3)]
}

// closestProvableEncloser returns the longest ancestor of name, name
// included, that owns an NSEC3 record, and the next closer name below it
// (RFC 5155 §7.2.1). The apex always qualifies.
func (d *zoneData) closestProvableEncloser(name string) (encloser, nextCloser string) {
	path := pathFrom(d.origin, name)
	for i := len(path) - 1; i > 0; i-- {
		if d.nsec3Matching(path[i]) != nil {
			return path[i], childOf(path[i], name)
		}
	}
	return d.origin, childOf(d.origin, name)
}
