package dnssec

import (
	"fmt"

	"github.com/miekg/dns"
)

// resolve follows qname through CNAME and DNAME links to the answer and
// proves every link and the final answer or denial on its own. The result
// is only as strong as its weakest link.
func (l *lookup) resolve(qname string, qtype uint16) *Result {
	res := &Result{Name: qname, Type: qtype, Security: Secure}
	seen := map[string]bool{}
	sname := qname
	links := 0
	for {
		resp, err := l.query(sname, qtype)
		if err != nil {
			l.step(Step{Check: "query", Name: sname, Type: dns.TypeToString[qtype], Security: securityOf(err), Detail: Explain(err)})
			return l.finish(res, securityOf(err), err, dns.RcodeServerFailure)
		}
		next, done := l.readResponse(res, resp, sname, qtype, seen, &links)
		if done {
			return res
		}
		sname = next
	}
}

// finish sets the final state of res, keeping the weakest state seen and
// the first reason that explains it.
func (l *lookup) finish(res *Result, sec Security, reason error, rcode int) *Result {
	l.merge(res, sec, reason)
	res.Rcode = rcode
	return res
}

func (l *lookup) merge(res *Result, sec Security, reason error) {
	w := weakest(res.Security, sec)
	if w != res.Security || res.Reason == nil && reason != nil && sec == w {
		res.Reason = reason
	}
	res.Security = w
}

// readResponse takes what one response says about sname: the answer, a
// CNAME or DNAME link to follow, or a denial. It returns the next name to
// query when the response ends in a link whose target it neither answers
// nor denies.
func (l *lookup) readResponse(res *Result, resp *dns.Msg, sname string, qtype uint16, seen map[string]bool, links *int) (string, bool) {
	if qtype == dns.TypeRRSIG {
		return "", l.readRRSIGs(res, resp, sname)
	}
	answer := groupRRsets(answerWithSigs(resp))
	cur := sname
	for {
		if seen[cur] {
			err := bogus(ReasonCNAMELoop, "", cur, qtype, "the chain from %s returns to %s", res.Name, cur)
			return "", l.stop(res, err)
		}
		seen[cur] = true

		// A DNAME above cur redirects it before anything at cur counts:
		// a CNAME there is synthesized and unsigned (RFC 6672 §2.3). A
		// CNAME at cur wins over other data there, which cannot coexist
		// with it (RFC 1034 §3.6.2).
		dname := findDNAME(answer, cur)
		cname := find(answer, cur, dns.TypeCNAME)
		if dname == nil || qtype == dns.TypeDNAME {
			sets := answerSets(answer, cur, qtype)
			if len(sets) > 0 && (cname == nil || qtype == dns.TypeCNAME || qtype == dns.TypeANY) {
				for _, set := range sets {
					sec, err := l.proveAnswer(set, resp, set.rtype)
					l.merge(res, sec, err)
					res.addLink(set, sec)
				}
				res.Rcode = resp.Rcode
				return "", true
			}
		}

		var next string
		var followed bool
		switch {
		case dname != nil:
			next, followed = l.followDNAME(res, resp, answer, dname, cur, qtype)
			if followed && qtype == dns.TypeCNAME {
				// The synthesized CNAME is the answer.
				res.Rcode = resp.Rcode
				return "", true
			}
		case cname != nil && qtype != dns.TypeCNAME:
			next, followed = l.followCNAME(res, resp, cname)
		case cur != sname:
			// The response does not go on past the last link. Its NXDOMAIN
			// proof for the target is used when it holds (RFC 6604 §2.1);
			// otherwise the target is asked for again, and that
			// response's reading marks it as seen.
			if resp.Rcode == dns.RcodeNameError && l.tryDenial(res, resp, cur, qtype) {
				return "", true
			}
			delete(seen, cur)
			return cur, false
		default:
			l.proveDenialFor(res, resp, cur, qtype)
			return "", true
		}
		if !followed || res.Security == Bogus || res.Rcode == dns.RcodeYXDomain {
			return "", true
		}
		*links++
		if *links > l.limits.MaxChainLength {
			err := &BogusError{Reason: ReasonLimit, Name: res.Name, Type: qtype,
				Err: &LimitError{Limit: "MaxChainLength", Value: l.limits.MaxChainLength}}
			return "", l.stop(res, err)
		}
		cur = next
	}
}

// answerSets returns the RRsets at name that answer qtype: the one of that
// type, or every one for ANY.
func answerSets(answer []*rrset, name string, qtype uint16) []*rrset {
	if qtype != dns.TypeANY {
		if set := find(answer, name, qtype); set != nil {
			return []*rrset{set}
		}
		return nil
	}
	var out []*rrset
	for _, s := range answer {
		if equalNames(s.name, name) {
			out = append(out, s)
		}
	}
	return out
}

// answerWithSigs returns the answer section with the RRSIGs that some
// servers misplace into the other sections, when they cover an answer
// RRset. The signatures are still checked; their section proves nothing.
func answerWithSigs(resp *dns.Msg) []dns.RR {
	out := resp.Answer
	for _, section := range [][]dns.RR{resp.Ns, resp.Extra} {
		for _, rr := range section {
			sig, ok := rr.(*dns.RRSIG)
			if ok && inAnswer(resp.Answer, sig.Hdr.Name, sig.TypeCovered) {
				out = append(out[:len(out):len(out)], sig)
			}
		}
	}
	return out
}

func inAnswer(answer []dns.RR, name string, rtype uint16) bool {
	for _, rr := range answer {
		if rr.Header().Rrtype == rtype && equalNames(rr.Header().Name, name) {
			return true
		}
	}
	return false
}

// tryDenial proves the denial for name from resp into res when the proof
// holds, and reports whether it did. A failed attempt leaves res and the
// trace as they were.
func (l *lookup) tryDenial(res *Result, resp *dns.Msg, name string, qtype uint16) bool {
	trial := *res
	steps := len(l.steps)
	l.proveDenialFor(&trial, resp, name, qtype)
	if trial.Security != Secure && trial.Security != Insecure {
		l.steps = l.steps[:steps]
		return false
	}
	*res = trial
	return true
}

// readRRSIGs answers a query for the RRSIG type itself. RRSIGs carry no
// signature of their own, so the answer is never secure.
func (l *lookup) readRRSIGs(res *Result, resp *dns.Msg, name string) bool {
	for _, rr := range resp.Answer {
		if rr.Header().Rrtype == dns.TypeRRSIG && equalNames(rr.Header().Name, name) {
			res.Answer = append(res.Answer, rr)
		}
	}
	if len(res.Answer) == 0 {
		l.proveDenialFor(res, resp, name, dns.TypeRRSIG)
		return true
	}
	reason := &InsecureReason{Detail: "RRSIG records are not signed themselves, so they cannot be proven"}
	l.finish(res, Insecure, reason, resp.Rcode)
	return true
}

func (l *lookup) stop(res *Result, err error) bool {
	l.step(Step{Check: "CNAME", Name: res.Name, Security: securityOf(err), Detail: Explain(err)})
	l.finish(res, securityOf(err), err, dns.RcodeServerFailure)
	return true
}

// followCNAME proves a CNAME link and returns its target. It returns false
// after ending the lookup bogus.
func (l *lookup) followCNAME(res *Result, resp *dns.Msg, set *rrset) (string, bool) {
	if len(set.rrs) != 1 {
		err := bogus(ReasonMalformed, "", set.name, dns.TypeCNAME, "%d CNAME records at one name", len(set.rrs))
		l.stop(res, err)
		return "", false
	}
	cname, ok := set.rrs[0].(*dns.CNAME)
	if !ok {
		l.stop(res, bogus(ReasonMalformed, "", set.name, dns.TypeCNAME, "CNAME record of type %T", set.rrs[0]))
		return "", false
	}
	sec, err := l.proveAnswer(set, resp, dns.TypeCNAME)
	l.merge(res, sec, err)
	res.addLink(set, sec)
	return dns.CanonicalName(cname.Target), true
}

// findDNAME returns a DNAME RRset owned by a strict ancestor of name.
func findDNAME(answer []*rrset, name string) *rrset {
	for _, s := range ofType(answer, dns.TypeDNAME) {
		if isStrictSubdomain(s.name, name) {
			return s
		}
	}
	return nil
}

// followDNAME proves a DNAME, substitutes it into name (RFC 6672 §2.2) and
// checks that a CNAME in the response, which is unsigned because it is
// synthesized, says the same.
func (l *lookup) followDNAME(res *Result, resp *dns.Msg, answer []*rrset, set *rrset, name string, qtype uint16) (string, bool) {
	dname, ok := set.rrs[0].(*dns.DNAME)
	if !ok || len(set.rrs) != 1 {
		err := bogus(ReasonMalformed, "", set.name, dns.TypeDNAME, "%d DNAME records at one name", len(set.rrs))
		l.stop(res, err)
		return "", false
	}
	sec, err := l.proveAnswer(set, resp, dns.TypeDNAME)
	l.merge(res, sec, err)
	res.addLink(set, sec)

	prefix := name[:len(name)-len(set.name)]
	target := dns.CanonicalName(prefix + dname.Target)
	if dname.Target == "." {
		target = dns.CanonicalName(prefix)
	}
	if _, ok := dns.IsDomainName(target); !ok || len(target) > 254 {
		// RFC 6672 §2.2: a substitution longer than a name may be is
		// YXDOMAIN, which the server should have answered.
		if resp.Rcode == dns.RcodeYXDomain {
			l.finish(res, Insecure, &InsecureReason{Detail: fmt.Sprintf(
				"substituting the DNAME %s into %s overflows a name, so no answer can be proven", set.name, name)},
				dns.RcodeYXDomain)
			return "", true
		}
		err := bogus(ReasonDNAMEMismatch, "", name, qtype, "substituting %s into %s gives an over-long name", dname.Target, name)
		l.stop(res, err)
		return "", false
	}
	synth := &dns.CNAME{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeCNAME, Class: dns.ClassINET, Ttl: dname.Hdr.Ttl},
		Target: target}
	if set := find(answer, name, dns.TypeCNAME); set != nil {
		cname, ok := set.rrs[0].(*dns.CNAME)
		got := ""
		if ok {
			got = dns.CanonicalName(cname.Target)
		}
		if got != target {
			err := bogus(ReasonDNAMEMismatch, "", name, dns.TypeCNAME,
				"the CNAME points to %s, the DNAME %s gives %s", got, set.name, target)
			l.stop(res, err)
			return "", false
		}
	}
	res.Answer = append(res.Answer, synth)
	// The synthesized CNAME is as strong as the DNAME it comes from.
	res.Links = append(res.Links, Link{Name: name, Type: dns.TypeCNAME, Security: sec})
	l.step(Step{Check: "DNAME", Name: name, Security: sec, Detail: fmt.Sprintf("%s -> %s via DNAME at %s", name, target, set.name)})
	return target, true
}

// proveAnswer proves one RRset of an answer: with its signer's keys when it
// is signed, or by proving its zone unsigned when it is not. A wildcard
// expansion also needs the proof that the name itself does not exist.
func (l *lookup) proveAnswer(set *rrset, resp *dns.Msg, qtype uint16) (Security, error) {
	signer := signerFor(set)
	if signer == "" {
		return l.proveUnsigned(set.name, set.rtype, set)
	}
	l.prefetchChain(signer)
	// NOTE: the walk stops at the signer, so data that a parent signed
	// below one of its own zone cuts passes as the parent's. Only the
	// parent's keys can make such data, and the parent controls the
	// child's DS anyway. Walking to every owner would cost a DS query per
	// answer.
	zs := l.zoneFor(signer)
	if zs.security != Secure {
		return zs.security, zs.reason
	}
	if !equalNames(zs.zone, signer) {
		err := bogus(ReasonBadSigner, zs.zone, set.name, set.rtype,
			"signed by %s, which is no zone; the closest zone is %s", signer, zs.zone)
		l.step(Step{Zone: zs.zone, Check: "RRSIG", Name: set.name, Type: dns.TypeToString[set.rtype], Security: Bogus, Detail: err.Detail})
		return Bogus, err
	}
	sig, err := l.verifyRRset(set, zs.zone, zs.keys)
	if err != nil {
		return Bogus, err
	}
	for _, rr := range set.rrs {
		rr.Header().Ttl = capTTL(rr.Header().Ttl, sig, l.now)
	}
	if set.rtype == dns.TypeDNAME && expandedFromWildcard(set.name, sig) {
		// RFC 4592 §4.4: a DNAME at a wildcard name is not expanded.
		err := bogus(ReasonBadLabels, zs.zone, set.name, set.rtype, "DNAME synthesized from a wildcard")
		l.step(Step{Zone: zs.zone, Check: "RRSIG", Name: set.name, Type: "DNAME", Security: Bogus, Detail: err.Detail})
		return Bogus, err
	}
	if expandedFromWildcard(set.name, sig) {
		d, err := l.verifiedDenial(resp, zs.zone, zs.keys)
		if err != nil {
			return Bogus, err
		}
		if err := l.proveWildcard(d, set.name, set.rtype, int(sig.Labels)); err != nil {
			return securityOf(err), err
		}
	}
	return Secure, nil
}

// signerFor returns the signer of the RRSIGs over set that could sign it:
// a zone at or above the owner, or strictly above it for DS. The deepest
// such signer wins.
func signerFor(set *rrset) string {
	best := ""
	for _, sig := range set.sigs {
		signer := dns.CanonicalName(sig.SignerName)
		if !mayHoldRRset(signer, set.name, set.rtype) {
			continue
		}
		if best == "" || countLabels(signer) > countLabels(best) {
			best = signer
		}
	}
	return best
}

// mayHoldRRset reports whether zone may hold the RRset (name, rtype): name
// is in the zone, and a DS RRset sits on the parent side of its zone cut
// (RFC 4035 §2.4), so never in the zone of its own name.
func mayHoldRRset(zone, name string, rtype uint16) bool {
	if rtype == dns.TypeDS && name != "." {
		return isStrictSubdomain(zone, name)
	}
	return isSubdomain(zone, name)
}

// walkTarget returns the name to walk to when deciding unsigned data of
// type rtype at name: the parent for DS, whose zone holds it.
func walkTarget(name string, rtype uint16) string {
	if rtype == dns.TypeDS && name != "." {
		return parentName(name)
	}
	return name
}

// proveUnsigned decides an unsigned RRset or denial: insecure when the walk
// towards name proves an unsigned delegation, bogus when name lies in a
// signed zone.
func (l *lookup) proveUnsigned(name string, qtype uint16, set *rrset) (Security, error) {
	zs := l.zoneFor(walkTarget(name, qtype))
	if zs.security != Secure {
		return zs.security, zs.reason
	}
	reason := ReasonSignatureMissing
	detail := "no RRSIG"
	if set != nil && len(set.sigs) > 0 {
		reason = ReasonBadSigner
		detail = fmt.Sprintf("RRSIG signer %s is not at or above the owner", set.sigs[0].SignerName)
	}
	if set == nil {
		reason, detail = ReasonDenialMissing, "the negative answer carries no signed SOA, NSEC or NSEC3 records"
	}
	err := bogus(reason, zs.zone, name, qtype, "%s; %s is signed", detail, zs.zone)
	l.step(Step{Zone: zs.zone, Check: "RRSIG", Name: name, Type: dns.TypeToString[qtype], Security: Bogus, Detail: err.Detail})
	return Bogus, err
}

// proveDenialFor proves a negative response for (name, qtype): NXDOMAIN
// or NODATA.
func (l *lookup) proveDenialFor(res *Result, resp *dns.Msg, name string, qtype uint16) {
	nxdomain := resp.Rcode == dns.RcodeNameError
	rcode := resp.Rcode
	signer := denialSigner(resp, name, qtype)
	if signer == "" {
		sec, err := l.proveUnsigned(name, qtype, nil)
		l.finish(res, sec, err, rcode)
		return
	}
	l.prefetchChain(signer)
	zs := l.zoneFor(signer)
	if zs.security != Secure {
		l.finish(res, zs.security, zs.reason, rcode)
		return
	}
	if !equalNames(zs.zone, signer) {
		err := bogus(ReasonBadSigner, zs.zone, name, qtype, "denial signed by %s, which is no zone; the closest zone is %s", signer, zs.zone)
		l.finish(res, Bogus, err, rcode)
		return
	}
	d, err := l.verifiedDenial(resp, zs.zone, zs.keys)
	if err != nil {
		l.finish(res, Bogus, err, rcode)
		return
	}
	if nxdomain && d.showsEmptyNonTerminal(name) {
		// The NSEC record shows that the name exists without records of
		// its own, so the server's NXDOMAIN is wrong: prove NODATA.
		l.step(Step{Zone: zs.zone, Check: denialKind(d), Name: name, Security: Secure,
			Detail: "NXDOMAIN corrected to NOERROR: the name is an empty non-terminal"})
		nxdomain, rcode = false, dns.RcodeSuccess
	}
	sec, err := l.proveNegative(d, name, qtype, nxdomain)
	if err != nil {
		l.step(Step{Zone: zs.zone, Check: denialKind(d), Name: name, Type: dns.TypeToString[qtype], Security: sec, Detail: Explain(err)})
	}
	l.finish(res, sec, err, rcode)
}

func denialKind(d *denialSet) string {
	if len(d.nsec) > 0 {
		return "NSEC"
	}
	return "NSEC3"
}

// denialSigner returns the zone that signed the SOA, NSEC or NSEC3 records
// of a negative response, if that zone may hold (name, qtype).
func denialSigner(resp *dns.Msg, name string, qtype uint16) string {
	best := ""
	for _, rr := range resp.Ns {
		sig, ok := rr.(*dns.RRSIG)
		if !ok {
			continue
		}
		switch sig.TypeCovered {
		case dns.TypeSOA, dns.TypeNSEC, dns.TypeNSEC3:
		default:
			continue
		}
		signer := dns.CanonicalName(sig.SignerName)
		if !mayHoldRRset(signer, name, qtype) {
			continue
		}
		if best == "" || countLabels(signer) > countLabels(best) {
			best = signer
		}
	}
	return best
}

// addLink appends an RRset of the answer and its own security state.
func (r *Result) addLink(set *rrset, sec Security) {
	r.Answer = append(r.Answer, set.rrs...)
	r.Links = append(r.Links, Link{Name: set.name, Type: set.rtype, Security: sec})
}
