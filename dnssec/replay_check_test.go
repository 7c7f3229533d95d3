package dnssec

import (
	"fmt"
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// replayOutcome is what a client of a validating resolver can tell from an
// answer: the rcode, the AD bit and the answer records. The runner compares
// outcomes, not packets, because the product is a validator and not a
// resolver that serves Unbound's exact response layout.
type replayOutcome struct {
	rcode int
	ad    bool
	// answer holds the answer records other than RRSIG as replayRecordKey
	// forms, sorted and without duplicates.
	answer []string
}

// expectedOutcome reads the outcome from the entry of a CHECK_ANSWER step.
func expectedOutcome(e *replayEntry) replayOutcome {
	return replayOutcome{
		rcode:  e.msg.Rcode,
		ad:     e.msg.AuthenticatedData,
		answer: replayAnswerKeys(e.msg.Answer),
	}
}

// resolverOutcome maps a validation result to what a validating resolver
// answers the client query: Secure data with AD, Insecure data without,
// and SERVFAIL with no records for Bogus and Indeterminate (RFC 4035
// §5.5). The resolver sets AD only when the query carried DO or AD (RFC
// 6840 §5.8), so for a query with neither, secure and insecure answers look
// the same.
func resolverOutcome(res *Result, query *dns.Msg) replayOutcome {
	switch res.Security {
	case Secure, Insecure:
		return replayOutcome{
			rcode:  res.Rcode,
			ad:     res.Security == Secure && replayWantsAD(query),
			answer: replayAnswerKeys(res.Answer),
		}
	}
	return replayOutcome{rcode: dns.RcodeServerFailure}
}

func replayWantsAD(query *dns.Msg) bool {
	opt := query.IsEdns0()
	return query.AuthenticatedData || opt != nil && opt.Do()
}

func replayAnswerKeys(rrs []dns.RR) []string {
	var keys []string
	for _, rr := range rrs {
		if rr.Header().Rrtype != dns.TypeRRSIG {
			keys = append(keys, replayRecordKey(rr))
		}
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

// replayRecordKey returns rr in presentation form with TTL 0 and in lower
// case, after a trip through the wire form so that generic rdata (RFC
// 3597) and typed rdata compare equal. Names compare without regard to
// case (RFC 4343); folding the case of other fields too is safe because no
// two records a file compares differ only in the case of a key, a
// signature or a text string.
func replayRecordKey(rr dns.RR) string {
	c := dns.Copy(rr)
	c.Header().Ttl = 0
	buf := make([]byte, dns.MaxMsgSize)
	if n, err := dns.PackRR(c, buf, 0, nil, false); err == nil {
		if typed, _, err := dns.UnpackRR(buf[:n], 0); err == nil {
			c = typed
		}
	}
	return strings.ToLower(c.String())
}

// String describes the outcome, such as "NOERROR AD, 1 answer record".
func (o replayOutcome) String() string {
	s := dns.RcodeToString[o.rcode]
	if o.ad {
		s += " AD"
	}
	switch len(o.answer) {
	case 0:
	case 1:
		s += ", 1 answer record"
	default:
		s += fmt.Sprintf(", %d answer records", len(o.answer))
	}
	return s
}

// diffOutcome returns the first difference between got and want, or "".
func diffOutcome(got, want replayOutcome) string {
	if got.rcode != want.rcode || got.ad != want.ad {
		return fmt.Sprintf("got %s, want %s", got, want)
	}
	missing := setDifference(want.answer, got.answer)
	extra := setDifference(got.answer, want.answer)
	if len(missing) == 0 && len(extra) == 0 {
		return ""
	}
	var parts []string
	if len(missing) > 0 {
		parts = append(parts, "missing "+strings.Join(missing, " | "))
	}
	if len(extra) > 0 {
		parts = append(parts, "unexpected "+strings.Join(extra, " | "))
	}
	return "answer records differ: " + strings.Join(parts, "; ")
}

// setDifference returns the elements of a that are not in b.
func setDifference(a, b []string) []string {
	var out []string
	for _, s := range a {
		if !slices.Contains(b, s) {
			out = append(out, strings.Join(strings.Fields(s), " "))
		}
	}
	return out
}
