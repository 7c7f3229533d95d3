package dnssec

import (
	"fmt"
	"slices"

	"github.com/miekg/dns"
)

// The runner skips a file only for one of these kinds of reason, each
// about Unbound as a resolver rather than about validation:
//   - Unbound's own caching and serving policies;
//   - algorithms the product deliberately lacks;
//   - options that switch off a protection the product always applies, or
//     switch on one that RFC 6840 §5.11 advises against;
//   - the flag semantics of a resolver serving clients.
//
// The rules below name files by their config options, records and client
// queries, never by their names. A named file still runs, and it is
// skipped only when it fails.

// replaySkipRule names every file that sets option to value (any value
// when value is empty).
type replaySkipRule struct {
	option, value string
	reason        string
}

var replaySkipRules = []replaySkipRule{
	{"aggressive-nsec", "yes", "Unbound caching policy: answers synthesized from cached NSEC records (RFC 8198)"},
	{"prefetch", "yes", "Unbound caching policy: prefetch of cache entries about to expire"},
	{"prefetch-key", "yes", "Unbound caching policy: prefetch of DNSKEY sets"},
	{"serve-expired", "yes", "Unbound serving policy: expired answers served from the cache (RFC 8767)"},
	{"harden-dnssec-stripped", "no", "switches off a protection the product always applies: " +
		"a signed zone's data arriving without signatures is bogus, not insecure"},
	{"domain-insecure", "", "switches off a protection the product always applies: " +
		"validation below a name (a negative trust anchor, RFC 7646)"},
	{"harden-algo-downgrade", "yes", "switches on what RFC 6840 §5.11 advises against: " +
		"requiring a valid signature for every algorithm the DS RRset lists"},
}

// isReplaySkipOption reports whether a skip rule reads option, so that the
// config parser accepts it.
func isReplaySkipOption(option string) bool {
	return slices.ContainsFunc(replaySkipRules, func(r replaySkipRule) bool { return r.option == option })
}

// GOST R 34.10-2001 (algorithm 12, RFC 5933) and the GOST R 34.11-94 DS
// digest (type 3). RFC 8624 §3.1 and §3.3 leave them optional for
// validators (MAY), and the product omits them.
const (
	replayGOSTAlgorithm = 12
	replayGOSTDigest    = 3
)

// replaySkipReason returns why f is skipped, or "". query is the QUERY
// step whose answer failed its check: the rules about client flags apply
// only to it.
func replaySkipReason(f *replayFile, query *replayStep) string {
	for _, rule := range replaySkipRules {
		for _, v := range f.config.options[rule.option] {
			if rule.value == "" || v == rule.value {
				return fmt.Sprintf("%s: %s: %s", rule.option, v, rule.reason)
			}
		}
	}
	if replayUsesGOST(f) {
		return "algorithm the product lacks: GOST, optional for validators (RFC 8624 §3.1)"
	}
	if query == nil {
		return ""
	}
	if query.entry.msg.CheckingDisabled {
		return fmt.Sprintf("client query with CD at step %d: a resolver answers it without "+
			"validating (RFC 4035 §3.2.2), a flag semantics of serving clients", query.number)
	}
	i := slices.Index(f.steps, query)
	if !query.entry.msg.RecursionDesired && replayExpectsReferral(f.steps[i+1:]) {
		return fmt.Sprintf("client query without RD at step %d, answered with a referral from the "+
			"resolver's cache (RFC 1034 §4.3.1), a flag semantics of serving clients", query.number)
	}
	if q := query.entry.msg.Question; len(q) == 1 && q[0].Qtype == dns.TypeANY {
		if expected, served := replayANYSizes(f, f.steps[i+1:], q[0].Name); expected < served {
			return fmt.Sprintf("Unbound serving policy: it caps an ANY answer at %d of the %d RRsets "+
				"the server sent (RFC 8482 lets a resolver shorten ANY answers)", expected, served)
		}
	}
	return ""
}

// replayANYSizes counts the RRsets in the first expected answer among
// steps and in the scripted server's answer to an ANY query for name.
func replayANYSizes(f *replayFile, steps []*replayStep, name string) (expected, served int) {
	for _, st := range steps {
		if st.kind == replayCheckAnswer {
			expected = len(groupRRsets(st.entry.msg.Answer))
			break
		}
	}
	for _, r := range f.ranges {
		for _, e := range r.entries {
			q := e.msg.Question
			if len(q) == 1 && q[0].Qtype == dns.TypeANY && equalNames(q[0].Name, name) {
				served = max(served, len(groupRRsets(e.msg.Answer)))
			}
		}
	}
	return expected, served
}

// replayExpectsReferral reports whether the first CHECK_ANSWER among steps
// expects a referral: NOERROR, no answer records, and NS but no SOA records
// in the authority section.
func replayExpectsReferral(steps []*replayStep) bool {
	for _, st := range steps {
		if st.kind != replayCheckAnswer {
			continue
		}
		m := st.entry.msg
		hasNS, hasSOA := false, false
		for _, rr := range m.Ns {
			hasNS = hasNS || rr.Header().Rrtype == dns.TypeNS
			hasSOA = hasSOA || rr.Header().Rrtype == dns.TypeSOA
		}
		return m.Rcode == dns.RcodeSuccess && len(m.Answer) == 0 && hasNS && !hasSOA
	}
	return false
}

// replayUsesGOST reports whether a trust anchor or a scripted DNSKEY, DS or
// RRSIG record uses a GOST algorithm or digest.
func replayUsesGOST(f *replayFile) bool {
	for _, a := range f.config.anchors {
		if a.Algorithm() == replayGOSTAlgorithm || a.DS != nil && a.DS.DigestType == replayGOSTDigest {
			return true
		}
	}
	for _, r := range f.ranges {
		for _, e := range r.entries {
			for _, rr := range slices.Concat(e.msg.Answer, e.msg.Ns, e.msg.Extra) {
				switch x := rr.(type) {
				case *dns.DNSKEY:
					if x.Algorithm == replayGOSTAlgorithm {
						return true
					}
				case *dns.DS:
					if x.Algorithm == replayGOSTAlgorithm || x.DigestType == replayGOSTDigest {
						return true
					}
				case *dns.RRSIG:
					if x.Algorithm == replayGOSTAlgorithm {
						return true
					}
				}
			}
		}
	}
	return false
}

// replayCachedResponse returns the response Unbound's cache would give to
// q, which no scripted server answers, from the responses served before,
// or nil. Unbound's files leave out answers that Unbound never asks for
// because its cache holds them:
//   - the same question, or records of its name and type (or a CNAME at
//     its name) in an answer section, or address records of its name in
//     an additional section: the message and RRset cache;
//   - a DNAME at an ancestor of the name in an answer section, from which
//     Unbound synthesizes the CNAME (RFC 6672 §2.2);
//   - for a DS query, an NSEC or NSEC3 record that matches or covers the
//     name: the negative cache, which Unbound fills from the authority
//     section of any response.
//
// The runner uses it only to tell such a file from a failing one: a file
// that passes only with these answers filled in is skipped, for Unbound's
// caching policy.
func replayCachedResponse(q dns.Question, served []*dns.Msg) *dns.Msg {
	for i := len(served) - 1; i >= 0; i-- {
		resp := served[i]
		if len(resp.Question) == 1 && equalNames(resp.Question[0].Name, q.Name) && resp.Question[0].Qtype == q.Qtype {
			return resp.Copy()
		}
		section := resp.Answer
		if q.Qtype == dns.TypeA || q.Qtype == dns.TypeAAAA {
			section = slices.Concat(resp.Answer, resp.Extra)
		}
		if rrs := replayCachedRecords(section, q); len(rrs) > 0 {
			m := new(dns.Msg)
			m.Response, m.Authoritative = true, true
			m.Answer = rrs
			return m
		}
		if rrs := replayCachedDNAME(resp.Answer, q.Name); len(rrs) > 0 {
			m := new(dns.Msg)
			m.Response, m.Authoritative = true, true
			m.Answer = rrs
			return m
		}
		// A DS denial, or an NXDOMAIN, that an earlier response proved for
		// the name is what Unbound's negative cache would answer with.
		nxdomain := resp.Rcode == dns.RcodeNameError && !equalNames(resp.Question[0].Name, q.Name)
		if (q.Qtype == dns.TypeDS || nxdomain) && replayHoldsDenial(resp, q.Name) {
			m := new(dns.Msg)
			m.Response, m.Authoritative = true, true
			if nxdomain {
				m.Rcode = dns.RcodeNameError
			}
			for _, rr := range resp.Ns {
				switch rr.Header().Rrtype {
				case dns.TypeNSEC, dns.TypeNSEC3, dns.TypeSOA, dns.TypeRRSIG:
					m.Ns = append(m.Ns, rr)
				}
			}
			return m
		}
	}
	return nil
}

// replayCachedRecords returns the records of section, with their RRSIGs,
// owned by q's name and of q's type or CNAME.
func replayCachedRecords(section []dns.RR, q dns.Question) []dns.RR {
	var out []dns.RR
	for _, rr := range section {
		h := rr.Header()
		if !equalNames(h.Name, q.Name) {
			continue
		}
		t := h.Rrtype
		if sig, ok := rr.(*dns.RRSIG); ok {
			t = sig.TypeCovered
		}
		if t == q.Qtype || t == dns.TypeCNAME {
			out = append(out, dns.Copy(rr))
		}
	}
	return out
}

// replayCachedDNAME returns a DNAME of section owned by a strict ancestor
// of name, with its RRSIGs and the CNAME it synthesizes for name, or nil.
func replayCachedDNAME(section []dns.RR, name string) []dns.RR {
	for _, rr := range section {
		dname, ok := rr.(*dns.DNAME)
		if !ok || !isStrictSubdomain(dname.Hdr.Name, name) {
			continue
		}
		out := []dns.RR{dns.Copy(dname)}
		for _, other := range section {
			if sig, ok := other.(*dns.RRSIG); ok && sig.TypeCovered == dns.TypeDNAME && equalNames(sig.Hdr.Name, dname.Hdr.Name) {
				out = append(out, dns.Copy(sig))
			}
		}
		prefix := name[:len(name)-len(dname.Hdr.Name)]
		return append(out, &dns.CNAME{
			Hdr:    dns.RR_Header{Name: name, Rrtype: dns.TypeCNAME, Class: dns.ClassINET, Ttl: dname.Hdr.Ttl},
			Target: prefix + dname.Target,
		})
	}
	return nil
}

// replayHoldsDenial reports whether the authority section of resp has an
// NSEC or NSEC3 record that matches or covers name.
func replayHoldsDenial(resp *dns.Msg, name string) bool {
	for _, rr := range resp.Ns {
		switch r := rr.(type) {
		case *dns.NSEC:
			if equalNames(r.Hdr.Name, name) {
				return true
			}
			// An NSEC at a delegation or a DNAME denies nothing below it.
			below := isStrictSubdomain(r.Hdr.Name, name) &&
				(isDelegation(r.TypeBitMap) || hasType(r.TypeBitMap, dns.TypeDNAME))
			if !below && coversName(r.Hdr.Name, r.NextDomain, name) {
				return true
			}
		case *dns.NSEC3:
			if isSubdomain(parentName(r.Hdr.Name), name) && (r.Match(name) || r.Cover(name)) {
				return true
			}
		}
	}
	return false
}
