package dnssec

import (
	"context"
	"fmt"
	"sync"

	"github.com/miekg/dns"
)

// Auto is a Source that uses an upstream resolver while it delivers what
// validation needs, and switches to iterating from the root for good when
// it does not: when it cannot be reached, ignores the DO bit, strips
// RRSIGs, or gives answers that come out bogus where iterating proves them.
// Many resolvers of cloud hosts and home routers behave that way.
type Auto struct {
	Upstream *Upstream
	Iterator *Iterator
	// Notify, when not nil, is called once, with the reason, when Auto
	// switches to iterating.
	Notify func(reason string)

	mu        sync.Mutex
	probed    bool
	iterating bool
}

func (a *Auto) chargesQueries() {}

// Query implements Source.
func (a *Auto) Query(ctx context.Context, name string, qtype uint16) (*dns.Msg, error) {
	a.probe(ctx)
	if a.Iterating() {
		return a.Iterator.Query(ctx, name, qtype)
	}
	resp, err := a.Upstream.Query(ctx, name, qtype)
	if ctx.Err() != nil {
		return resp, err
	}
	if err != nil {
		a.switchToIterate(fmt.Sprintf("the resolver failed (%v)", err))
		return a.Iterator.Query(ctx, name, qtype)
	}
	if why := upstreamProblem(resp); why != "" {
		a.switchToIterate(why)
		return a.Iterator.Query(ctx, name, qtype)
	}
	return resp, nil
}

// Iterating reports whether Auto has switched to iterating.
func (a *Auto) Iterating() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.iterating
}

// probe asks the upstream once for the root DNSKEY RRset, which every
// resolver that passes DNSSEC records on returns with its RRSIGs.
func (a *Auto) probe(ctx context.Context) {
	a.mu.Lock()
	if a.probed || a.iterating {
		a.mu.Unlock()
		return
	}
	a.probed = true
	a.mu.Unlock()

	resp, err := a.Upstream.Query(ctx, ".", dns.TypeDNSKEY)
	switch {
	case ctx.Err() != nil:
	case err != nil:
		a.switchToIterate(fmt.Sprintf("the resolver failed (%v)", err))
	case upstreamProblem(resp) != "":
		a.switchToIterate(upstreamProblem(resp))
	case !hasRRSIG(resp.Answer, dns.TypeDNSKEY):
		a.switchToIterate("the resolver strips RRSIG records (the root DNSKEY RRset came without them)")
	}
}

// upstreamProblem names what makes a response useless for validation, or
// returns "".
func upstreamProblem(resp *dns.Msg) string {
	switch resp.Rcode {
	case dns.RcodeFormatError, dns.RcodeNotImplemented:
		return "the resolver rejects EDNS queries with the DO bit (" + dns.RcodeToString[resp.Rcode] + ")"
	case dns.RcodeServerFailure, dns.RcodeRefused:
		return "the resolver answered " + dns.RcodeToString[resp.Rcode]
	}
	opt := resp.IsEdns0()
	if opt == nil || !opt.Do() {
		return "the resolver ignores the DO bit, so it returns no DNSSEC records"
	}
	return ""
}

func hasRRSIG(section []dns.RR, covered uint16) bool {
	for _, rr := range section {
		if sig, ok := rr.(*dns.RRSIG); ok && sig.TypeCovered == covered {
			return true
		}
	}
	return false
}

func (a *Auto) switchToIterate(reason string) {
	a.mu.Lock()
	if a.iterating {
		a.mu.Unlock()
		return
	}
	a.iterating = true
	a.mu.Unlock()
	if a.Notify != nil {
		a.Notify(reason)
	}
}

// tryIterating switches to iterating after a bogus result, unless it
// already has. It reports whether the lookup should be tried again.
func (a *Auto) tryIterating() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.iterating {
		return false
	}
	a.iterating = true
	return true
}

// keepIterating ends a trial begun by tryIterating: it stays with
// iterating when that proved what the upstream could not, and goes back to
// the upstream otherwise.
func (a *Auto) keepIterating(keep bool, reason string) {
	if !keep {
		a.mu.Lock()
		a.iterating = false
		a.mu.Unlock()
		return
	}
	if a.Notify != nil {
		a.Notify(reason)
	}
}
