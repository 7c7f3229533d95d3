package dnssec

import (
	"github.com/miekg/dns"
)

// rrset is the records of one owner name and type in a message section,
// with the RRSIGs that cover them.
type rrset struct {
	name  string
	rtype uint16
	rrs   []dns.RR
	sigs  []*dns.RRSIG
}

type rrsetKey struct {
	name  string
	rtype uint16
}

// groupRRsets splits a message section into RRsets, keeping first-seen
// order. Records of class other than IN are dropped.
func groupRRsets(section []dns.RR) []*rrset {
	var order []*rrset
	byKey := map[rrsetKey]*rrset{}
	get := func(name string, t uint16) *rrset {
		k := rrsetKey{dns.CanonicalName(name), t}
		s, ok := byKey[k]
		if !ok {
			s = &rrset{name: k.name, rtype: t}
			byKey[k] = s
			order = append(order, s)
		}
		return s
	}
	for _, rr := range section {
		h := rr.Header()
		if h.Class != dns.ClassINET {
			continue
		}
		if sig, ok := rr.(*dns.RRSIG); ok {
			s := get(h.Name, sig.TypeCovered)
			s.sigs = append(s.sigs, sig)
			continue
		}
		if h.Rrtype == dns.TypeOPT {
			continue
		}
		s := get(h.Name, h.Rrtype)
		s.rrs = append(s.rrs, rr)
	}
	// An RRSIG without records of its type is dropped.
	kept := order[:0]
	for _, s := range order {
		if len(s.rrs) > 0 {
			kept = append(kept, s)
		}
	}
	return kept
}

// find returns the RRset of name and type among sets, or nil.
func find(sets []*rrset, name string, t uint16) *rrset {
	for _, s := range sets {
		if s.rtype == t && equalNames(s.name, name) {
			return s
		}
	}
	return nil
}

// ofType returns the RRsets of type t among sets.
func ofType(sets []*rrset, t uint16) []*rrset {
	var out []*rrset
	for _, s := range sets {
		if s.rtype == t {
			out = append(out, s)
		}
	}
	return out
}
