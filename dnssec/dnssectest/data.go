package dnssectest

import (
	"bytes"
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// rrset is the records of one owner name and type, as served, with the
// RRSIGs that cover them.
type rrset struct {
	rrs  []dns.RR
	sigs []dns.RR
}

// node is the data at one owner name, by type.
type node map[uint16]*rrset

// nsec3Entry is one NSEC3 record with its signatures, under its hash.
type nsec3Entry struct {
	// hash is the lowercase base32hex hash of the name the record stands for.
	hash string
	set  *rrset
}

// zoneData is a zone's content once the lab has started: the records by
// owner name with their signatures, and the denial-of-existence chain. It
// is read-only after Lab.Start, so servers share it without locking.
type zoneData struct {
	origin string
	nodes  map[string]node
	// exists holds every name that exists in the zone: the owners of records
	// and the empty non-terminals between them and the apex.
	exists map[string]bool
	// cuts holds the delegation points: names below the apex that own NS.
	cuts map[string]bool
	// nsecOwners lists the owners of NSEC records in canonical order.
	nsecOwners []string
	// nsec3 lists the NSEC3 records in hash order.
	nsec3 []*nsec3Entry
	// nsec3Param holds the hash parameters for NSEC3 zones, nil otherwise.
	nsec3Param *dns.NSEC3PARAM
	// extraGlue holds, by host name, address records for names outside
	// the zone that its referrals carry as glue (OutOfBailiwickGlue).
	extraGlue map[string][]dns.RR
	// withheldGlue holds the host names whose address records the zone
	// serves as data but leaves out of its referrals (GluelessServer).
	withheldGlue map[string]bool
}

func newZoneData(origin string) *zoneData {
	return &zoneData{
		origin:       origin,
		nodes:        make(map[string]node),
		exists:       make(map[string]bool),
		cuts:         make(map[string]bool),
		extraGlue:    make(map[string][]dns.RR),
		withheldGlue: make(map[string]bool),
	}
}

// add stores rr under its owner name and type, dropping exact duplicates.
func (d *zoneData) add(rr dns.RR) {
	h := rr.Header()
	name := dns.CanonicalName(h.Name)
	n := d.nodes[name]
	if n == nil {
		n = make(node)
		d.nodes[name] = n
	}
	set := n[h.Rrtype]
	if set == nil {
		set = &rrset{}
		n[h.Rrtype] = set
	}
	for _, old := range set.rrs {
		if dns.IsDuplicate(old, rr) {
			return
		}
	}
	set.rrs = append(set.rrs, rr)
}

// index fills exists and cuts, and gives every RRset the lowest TTL of its
// records, since RFC 2181 §5.2 forbids differing TTLs within an RRset.
func (d *zoneData) index() {
	for owner, n := range d.nodes {
		for name := owner; ; name = parentName(name) {
			d.exists[name] = true
			if name == d.origin {
				break
			}
		}
		if owner != d.origin && n[dns.TypeNS] != nil {
			d.cuts[owner] = true
		}
		for _, set := range n {
			ttl := set.rrs[0].Header().Ttl
			for _, rr := range set.rrs {
				ttl = min(ttl, rr.Header().Ttl)
			}
			for _, rr := range set.rrs {
				rr.Header().Ttl = ttl
			}
		}
	}
}

// get returns the RRset at name of type t, or nil.
func (d *zoneData) get(name string, t uint16) *rrset {
	return d.nodes[name][t]
}

// belowCut reports whether name lies strictly below a delegation point, so
// that the zone holds only glue or occluded data for it.
func (d *zoneData) belowCut(name string) bool {
	for n := name; n != d.origin; {
		n = parentName(n)
		if n == d.origin || n == "." {
			return false
		}
		if d.cuts[n] {
			return true
		}
	}
	return false
}

// authoritativeTypes returns the types at name that the zone is
// authoritative for, sorted: all of them, except at a delegation point,
// where only NS and DS belong to the parent side (RFC 4035 §2.3).
func (d *zoneData) authoritativeTypes(name string) []uint16 {
	var types []uint16
	for t := range d.nodes[name] {
		if d.cuts[name] && t != dns.TypeNS && t != dns.TypeDS {
			continue
		}
		types = append(types, t)
	}
	slices.Sort(types)
	return types
}

// hasSignedTypes reports whether any RRset at name is signed: a delegation
// point has only its DS signed, every other authoritative name has all.
func (d *zoneData) hasSignedTypes(name string) bool {
	if d.cuts[name] {
		return d.get(name, dns.TypeDS) != nil
	}
	return len(d.nodes[name]) > 0
}

// parentName returns name with its first label removed; the parent of the
// root is the root.
func parentName(name string) string {
	if name == "." {
		return "."
	}
	off, end := dns.NextLabel(name, 0)
	if end {
		return "."
	}
	return name[off:]
}

// pathFrom returns the names from origin down to name, both included; name
// must be at or below origin.
func pathFrom(origin, name string) []string {
	var path []string
	for n := name; ; n = parentName(n) {
		path = append(path, n)
		if n == origin || n == "." {
			break
		}
	}
	slices.Reverse(path)
	return path
}

// childOf returns the name one label below ancestor on the way to name,
// which RFC 5155 §7.2.1 calls the next closer name when ancestor is the
// closest encloser.
func childOf(ancestor, name string) string {
	path := pathFrom(ancestor, name)
	if len(path) < 2 {
		return name
	}
	return path[1]
}

// wildcardOf returns the wildcard name directly below name.
func wildcardOf(name string) string {
	if name == "." {
		return "*."
	}
	return "*." + name
}

// compareNames orders two names canonically (RFC 4034 §6.1): label by label
// from the right, each label compared as lowercase octets.
func compareNames(a, b string) int {
	la, lb := wireLabels(a), wireLabels(b)
	for i := 0; i < len(la) && i < len(lb); i++ {
		if c := bytes.Compare(la[len(la)-1-i], lb[len(lb)-1-i]); c != 0 {
			return c
		}
	}
	return len(la) - len(lb)
}

// wireLabels returns the labels of name as lowercase octets, escapes such
// as \046 resolved, leftmost first.
func wireLabels(name string) [][]byte {
	buf := make([]byte, 256)
	n, err := dns.PackDomainName(dns.Fqdn(name), buf, 0, nil, false)
	if err != nil {
		// Names here come from parsed zone text and are valid; an invalid
		// one sorts as its presentation form.
		return [][]byte{bytes.ToLower([]byte(name))}
	}
	var labels [][]byte
	for off := 0; off < n && buf[off] != 0; off += int(buf[off]) + 1 {
		labels = append(labels, bytes.ToLower(buf[off+1:off+1+int(buf[off])]))
	}
	return labels
}

// covers reports whether name falls strictly between owner and next in
// canonical order, counting the last record of a chain, whose next name is
// the apex, as covering everything after its owner.
func covers(owner, next, name string) bool {
	if compareNames(owner, next) < 0 {
		return compareNames(owner, name) < 0 && compareNames(name, next) < 0
	}
	return compareNames(owner, name) < 0 || compareNames(name, next) < 0
}

// hashCovers is covers for NSEC3 hashes, which compare as strings because
// base32hex keeps the order of the binary hash.
func hashCovers(owner, next, hash string) bool {
	owner, next, hash = strings.ToLower(owner), strings.ToLower(next), strings.ToLower(hash)
	if owner < next {
		return owner < hash && hash < next
	}
	return owner < hash || hash < next
}
