package dnssectest

import (
	"strconv"

	"github.com/miekg/dns"
)

// ResolverMode is the behaviour of a recursive resolver stand-in. Every
// mode answers any query, with or without RD, and never sets AD or AA.
type ResolverMode int

const (
	// Normal is modelled on a non-validating recursive resolver such as
	// Unbound asked with DO and CD. It resolves from the root through the
	// lab's zones, following referrals and CNAME and DNAME links across
	// zones. It returns the answer with its RRSIGs, DS RRsets from the
	// parent side, and negative answers with their SOA, NSEC or NSEC3
	// records and RRSIGs, collected from every zone along a chain. Without
	// DO in the query the RRSIG, NSEC and NSEC3 records are left out,
	// unless the query asks for that type. RA is set and CD is copied from
	// the query. A CNAME loop ends the chain at the first repeated name,
	// with NOERROR.
	Normal ResolverMode = iota
	// StripRRSIG resolves like Normal but removes every RRSIG, NSEC and
	// NSEC3 record from all sections, and still echoes the DO bit.
	StripRRSIG
	// IgnoreDO resolves like Normal for a query without DO: no RRSIG, NSEC
	// or NSEC3 records, and an OPT record without the DO bit.
	IgnoreDO
	// TruncateUDP answers every UDP query with an empty response with TC
	// set, and TCP queries like Normal.
	TruncateUDP
	// Silent never answers, for timeout tests.
	Silent
	// ServFail answers every query with SERVFAIL and no records.
	ServFail
)

// resolverModes lists every mode; each gets its own address.
var resolverModes = []ResolverMode{Normal, StripRRSIG, IgnoreDO, TruncateUDP, Silent, ServFail}

// String returns the constant's name.
func (m ResolverMode) String() string {
	switch m {
	case Normal:
		return "Normal"
	case StripRRSIG:
		return "StripRRSIG"
	case IgnoreDO:
		return "IgnoreDO"
	case TruncateUDP:
		return "TruncateUDP"
	case Silent:
		return "Silent"
	case ServFail:
		return "ServFail"
	}
	return "ResolverMode(" + strconv.Itoa(int(m)) + ")"
}

// Bounds of the stand-in's own resolution.
const (
	// maxReferrals bounds the zone cuts followed for one name.
	maxReferrals = 16
	// maxRestarts bounds the names a CNAME or DNAME chain leads to across
	// zones.
	maxRestarts = 16
)

// Resolver returns the address ("127.X.Y.Z:53", UDP and TCP) of the
// recursive resolver stand-in with the given mode, or "" before Start.
func (l *Lab) Resolver(mode ResolverMode) string {
	return l.resolvers[mode]
}

// resolverResponder returns the function that answers queries for mode.
func (l *Lab) resolverResponder(mode ResolverMode) func(*dns.Msg, string) *dns.Msg {
	return func(req *dns.Msg, transport string) *dns.Msg {
		switch {
		case mode == Silent:
			return nil
		case mode == ServFail:
			resp := errorResponse(req, dns.RcodeServerFailure)
			resp.RecursionAvailable = true
			return resp
		case mode == TruncateUDP && transport == "udp":
			resp := new(dns.Msg)
			resp.SetReply(req)
			resp.RecursionAvailable = true
			resp.Truncated = true
			echoEDNS(resp, req, requestDO(req))
			return resp
		}
		return l.recursiveResponse(req, mode)
	}
}

// recursiveResponse resolves req's question and shapes the response for
// mode.
func (l *Lab) recursiveResponse(req *dns.Msg, mode ResolverMode) *dns.Msg {
	q := req.Question[0]
	do := requestDO(req)
	r := l.resolve(q.Name, q.Qtype)

	resp := new(dns.Msg)
	resp.SetReply(req)
	resp.RecursionAvailable = true
	resp.Rcode = r.rcode
	resp.Answer, resp.Ns = r.answer, r.authority

	keepDNSSEC := do && mode != StripRRSIG && mode != IgnoreDO
	if !keepDNSSEC {
		keepType := q.Qtype
		if mode == StripRRSIG {
			keepType = 0
		}
		resp.Answer = withoutDNSSEC(resp.Answer, keepType)
		resp.Ns = withoutDNSSEC(resp.Ns, 0)
	}
	echoEDNS(resp, req, do && mode != IgnoreDO)
	return resp
}

// resolve answers name and type from the lab's zones the way a recursive
// resolver would, starting at the root for the name and again for every
// name a CNAME or DNAME chain leads to outside the zone that answered. It
// stops at a name already seen (a loop) and after maxRestarts names, and
// returns the chain collected so far.
func (l *Lab) resolve(name string, qtype uint16) *response {
	out := &response{}
	seen := make(map[string]bool)
	name = dns.CanonicalName(name)
	for range maxRestarts {
		seen[name] = true
		r := l.iterate(name, qtype)
		if r == nil {
			out.rcode = dns.RcodeServerFailure
			break
		}
		out.rcode = r.rcode
		out.answer = append(out.answer, r.answer...)
		out.authority = append(out.authority, r.authority...)
		if r.next == "" || seen[r.next] {
			break
		}
		name = r.next
	}
	out.answer = dedupe(out.answer)
	out.authority = dedupe(out.authority)
	return out
}

// iterate follows referrals from the root to the zone that answers name,
// and returns that zone's response. It returns nil when a referral leads to
// a name server that is not one of the lab's zones, or when there are too
// many referrals.
func (l *Lab) iterate(name string, qtype uint16) *response {
	z := l.byOrigin["."]
	for range maxReferrals {
		r := z.lookup(name, qtype, true)
		if r.referral == "" {
			return r
		}
		if z = l.byOrigin[r.referral]; z == nil {
			return nil
		}
	}
	return nil
}

// withoutDNSSEC returns rrs without RRSIG, NSEC and NSEC3 records, except
// those of type keep.
func withoutDNSSEC(rrs []dns.RR, keep uint16) []dns.RR {
	var out []dns.RR
	for _, rr := range rrs {
		switch t := rr.Header().Rrtype; t {
		case dns.TypeRRSIG, dns.TypeNSEC, dns.TypeNSEC3:
			if t != keep {
				continue
			}
		}
		out = append(out, rr)
	}
	return out
}
