package dnssectest

import (
	"strings"

	"github.com/miekg/dns"
)

// maxInZoneLinks bounds the CNAME and DNAME links that one authoritative
// answer follows inside its own zone.
const maxInZoneLinks = 8

// response is a zone's answer to one question before it becomes a message.
type response struct {
	rcode                         int
	answer, authority, additional []dns.RR
	// referral is the delegation point when the response is a referral.
	referral string
	// next is the name where a CNAME or DNAME chain leaves the zone's
	// authoritative data, for the resolver stand-in to continue with.
	next string
}

// chase is the state of one lookup across CNAME and DNAME links.
type chase struct {
	seen  map[string]bool
	links int
}

// respond answers req as the zone's authoritative server.
func (z *Zone) respond(req *dns.Msg, _ string) *dns.Msg {
	q := req.Question[0]
	do := requestDO(req)
	resp := new(dns.Msg)
	resp.SetReply(req)
	if !dns.IsSubDomain(z.origin, dns.CanonicalName(q.Name)) {
		resp.Rcode = dns.RcodeRefused
		echoEDNS(resp, req, do)
		return resp
	}
	r := z.lookup(q.Name, q.Qtype, do)
	resp.Authoritative = r.referral == ""
	resp.Rcode = r.rcode
	resp.Answer, resp.Ns, resp.Extra = r.answer, r.authority, r.additional
	echoEDNS(resp, req, do)
	return resp
}

// lookup answers qname and qtype from the zone's data, with DNSSEC records
// when do is set, following the RFC 1034 §4.3.2 algorithm. A ReferralLoop
// zone refers every name to its parent instead.
func (z *Zone) lookup(qname string, qtype uint16, do bool) *response {
	r := &response{}
	if z.referBack {
		r.referral = z.parent.origin
		r.authority, r.additional = z.parent.referralToApex()
		return r
	}
	c := &chase{seen: make(map[string]bool)}
	z.find(r, dns.CanonicalName(qname), qtype, do && z.signed(), c)
	r.answer = dedupe(r.answer)
	r.authority = dedupe(r.authority)
	return r
}

// find descends from the apex towards name, stopping at a zone cut or a
// DNAME above it, or at the first name that does not exist.
func (z *Zone) find(r *response, name string, qtype uint16, do bool, c *chase) {
	c.seen[name] = true
	d := z.data
	for _, n := range pathFrom(z.origin, name) {
		if n != z.origin && d.cuts[n] && !(n == name && qtype == dns.TypeDS) {
			if c.links > 0 {
				// A chain that leads into a child zone continues there.
				r.next = name
				return
			}
			z.refer(r, name, n, do)
			return
		}
		if n != name {
			if set := d.get(n, dns.TypeDNAME); set != nil {
				z.substituteDNAME(r, name, set, qtype, do, c)
				return
			}
		}
		if !d.exists[n] {
			z.nonexistent(r, name, parentName(n), qtype, do, c)
			return
		}
	}
	z.existing(r, name, qtype, do, c)
}

// existing answers for a name that exists: its RRset, its CNAME, or NODATA.
// A DS query at a delegation point gets here and is answered from the
// parent side (RFC 4035 §3.1.4.1). A DS query for the zone's own apex gets
// NODATA from this zone, because the DS lives only in the parent.
func (z *Zone) existing(r *response, name string, qtype uint16, do bool, c *chase) {
	n := z.data.nodes[name]
	if set := n[qtype]; set != nil {
		r.answer = append(r.answer, set.records(do)...)
		return
	}
	if set := n[dns.TypeCNAME]; set != nil {
		r.answer = append(r.answer, set.records(do)...)
		z.follow(r, set.rrs[0].(*dns.CNAME).Target, qtype, do, c)
		return
	}
	r.authority = append(r.authority, z.soaRecords(do)...)
	if do {
		r.authority = append(r.authority, z.noDataProof(name, name)...)
	}
}

// nonexistent answers for a name that does not exist below closest
// encloser ce: a wildcard expansion (RFC 4592) or NXDOMAIN.
func (z *Zone) nonexistent(r *response, name, ce string, qtype uint16, do bool, c *chase) {
	wild := wildcardOf(ce)
	if z.data.exists[wild] {
		z.expandWildcard(r, name, ce, wild, qtype, do, c)
		return
	}
	r.rcode = dns.RcodeNameError
	r.authority = append(r.authority, z.soaRecords(do)...)
	if do {
		r.authority = append(r.authority, z.nameErrorProof(name, ce)...)
	}
}

// expandWildcard synthesizes the answer for name from the wildcard wild.
// The copied RRSIGs keep the wildcard's labels field, which is how a
// validator recognizes the expansion (RFC 4035 §5.3.4).
func (z *Zone) expandWildcard(r *response, name, ce, wild string, qtype uint16, do bool, c *chase) {
	n := z.data.nodes[wild]
	set := n[qtype]
	if set == nil && qtype != dns.TypeCNAME {
		set = n[dns.TypeCNAME]
	}
	if set == nil {
		r.authority = append(r.authority, z.soaRecords(do)...)
		if do {
			r.authority = append(r.authority, z.wildcardNoDataProof(name, ce, wild)...)
		}
		return
	}

	for _, rr := range set.records(do) {
		rr = dns.Copy(rr)
		rr.Header().Name = name
		r.answer = append(r.answer, rr)
	}
	if do && !z.queryFault(WildcardWithoutProof, name) {
		r.authority = append(r.authority, z.wildcardProof(name, ce)...)
	}
	if cname, ok := set.rrs[0].(*dns.CNAME); ok && qtype != dns.TypeCNAME {
		z.follow(r, cname.Target, qtype, do, c)
	}
}

// substituteDNAME answers for name below the owner of a DNAME with the
// DNAME, the CNAME it synthesizes, and the answer for the new name
// (RFC 6672).
func (z *Zone) substituteDNAME(r *response, name string, set *rrset, qtype uint16, do bool, c *chase) {
	r.answer = append(r.answer, set.records(do)...)
	dname := set.rrs[0].(*dns.DNAME)
	target, ok := substitute(name, dname.Hdr.Name, dname.Target)
	if !ok {
		// RFC 6672: the substituted name would be too long.
		r.rcode = dns.RcodeYXDomain
		return
	}
	r.answer = append(r.answer, &dns.CNAME{
		Hdr:    header(name, dns.TypeCNAME, dname.Hdr.Ttl),
		Target: target,
	})
	z.follow(r, target, qtype, do, c)
}

// substitute replaces the suffix owner of name with target, and reports
// whether the result is a valid name.
func substitute(name, owner, target string) (string, bool) {
	labels := dns.SplitDomainName(name)
	prefix := strings.Join(labels[:len(labels)-dns.CountLabel(owner)], ".")
	result := prefix + "." + trimRoot(dns.CanonicalName(target))
	buf := make([]byte, 256)
	if _, err := dns.PackDomainName(result, buf, 0, nil, false); err != nil {
		return "", false
	}
	return result, true
}

// follow continues the lookup at the target of a CNAME or DNAME, unless the
// chain loops or grows too long. A target outside the zone is left to the
// resolver stand-in.
func (z *Zone) follow(r *response, target string, qtype uint16, do bool, c *chase) {
	target = dns.CanonicalName(target)
	if c.seen[target] {
		return
	}
	c.links++
	if c.links > maxInZoneLinks || !dns.IsSubDomain(z.origin, target) {
		r.next = target
		return
	}
	z.find(r, target, qtype, do, c)
}

// refer returns a referral to the child zone at cut: its NS RRset, then its
// DS RRset or the proof that there is none (RFC 4035 §3.1.4), and the glue,
// as the zone's extraGlue and withheldGlue change it.
func (z *Zone) refer(r *response, qname, cut string, do bool) {
	d := z.data
	r.referral = cut
	ns := d.get(cut, dns.TypeNS)
	r.authority = append(r.authority, ns.rrs...)
	if do {
		if ds := d.get(cut, dns.TypeDS); ds != nil {
			r.authority = append(r.authority, ds.records(true)...)
		} else {
			r.authority = append(r.authority, z.noDataProof(qname, cut)...)
		}
	}
	for _, rr := range ns.rrs {
		host := dns.CanonicalName(rr.(*dns.NS).Ns)
		if d.withheldGlue[host] {
			continue
		}
		for _, t := range []uint16{dns.TypeA, dns.TypeAAAA} {
			if glue := d.get(host, t); glue != nil {
				r.additional = append(r.additional, glue.rrs...)
			}
		}
		r.additional = append(r.additional, d.extraGlue[host]...)
	}
}

func (z *Zone) soaRecords(do bool) []dns.RR {
	return z.data.get(z.origin, dns.TypeSOA).records(do)
}

// records returns the RRset's records, and its RRSIGs when do is set.
func (s *rrset) records(do bool) []dns.RR {
	out := append([]dns.RR(nil), s.rrs...)
	if do {
		out = append(out, s.sigs...)
	}
	return out
}

// dedupe removes repeated records, keeping the first of each.
func dedupe(rrs []dns.RR) []dns.RR {
	var out []dns.RR
next:
	for _, rr := range rrs {
		for _, earlier := range out {
			if earlier == rr || dns.IsDuplicate(earlier, rr) {
				continue next
			}
		}
		out = append(out, rr)
	}
	return out
}
