package smtp

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"

	"github.com/miekg/dns"

	"github.com/mxclient/mxclient/dane"
	"github.com/mxclient/mxclient/dnssec"
)

// resolveHost looks up a mail exchanger's addresses and, where DANE
// applies, its TLSA records, and sets the host's policy. A bogus or
// unobtainable answer for any of them makes the host unusable: it is
// skipped, never treated as if it had no DNSSEC (RFC 7672 §2.2).
func resolveHost(ctx context.Context, v *dnssec.Validator, h *Host, mxSecurity dnssec.Security, rng *rand.Rand) {
	fail := func(err error) {
		h.Policy, h.Err = PolicyUnusable, err
	}
	a, aaaa, err := lookupAddresses(ctx, v, h.Name)
	if err != nil {
		fail(err)
		return
	}
	for _, r := range []*dnssec.Result{a, aaaa} {
		if r.Security == dnssec.Bogus || r.Security == dnssec.Indeterminate {
			fail(fmt.Errorf("address lookup %s %s is %s: %s", r.Name, dns.TypeToString[r.Type],
				r.Security, dnssec.Explain(r.Reason)))
			return
		}
	}
	v4, v6 := addressesOf(a), addressesOf(aaaa)
	if len(v4)+len(v6) == 0 {
		fail(fmt.Errorf("%s has no A or AAAA records", h.Name))
		return
	}
	h.Addrs = orderAddresses(v4, v6, rng)
	h.AddrSecurity = dnssec.Secure
	if a.Security == dnssec.Insecure || aaaa.Security == dnssec.Insecure {
		h.AddrSecurity = dnssec.Insecure
	}
	h.Expanded, h.Policy = h.Name, PolicyOpportunistic
	withAddrs := a
	if len(v4) == 0 {
		withAddrs = aaaa
	}
	if n := len(withAddrs.Links); n > 0 {
		h.Expanded = withAddrs.Links[n-1].Name
	}

	bases := tlsaBases(h, withAddrs)
	if len(bases) == 0 {
		return
	}
	tlsa, err := lookupTLSA(ctx, v, bases)
	if err != nil {
		fail(err)
		return
	}
	h.TLSA = tlsa
	h.Policy = policyFor(tlsa, mxSecurity)
}

// lookupAddresses looks up A and AAAA for name at the same time.
func lookupAddresses(ctx context.Context, v *dnssec.Validator, name string) (a, aaaa *dnssec.Result, err error) {
	type result struct {
		res *dnssec.Result
		err error
	}
	ch := make(chan result, 1)
	go func() {
		res, err := v.Lookup(ctx, name, dns.TypeAAAA)
		ch <- result{res, err}
	}()
	a, errA := v.Lookup(ctx, name, dns.TypeA)
	r := <-ch
	if err := errors.Join(errA, r.err); err != nil {
		return nil, nil, fmt.Errorf("looking up the addresses of %s: %w", name, err)
	}
	return a, r.res, nil
}

func addressesOf(r *dnssec.Result) []netip.Addr {
	var out []netip.Addr
	for _, rr := range r.Answer {
		switch x := rr.(type) {
		case *dns.A:
			if addr, ok := netip.AddrFromSlice(x.A.To4()); ok {
				out = append(out, addr)
			}
		case *dns.AAAA:
			if addr, ok := netip.AddrFromSlice(x.AAAA.To16()); ok {
				out = append(out, addr)
			}
		}
	}
	return out
}

// orderAddresses picks IPv4 or IPv6 first at random, as Postfix does with
// smtp_address_preference = any, and shuffles within each family.
func orderAddresses(v4, v6 []netip.Addr, rng *rand.Rand) []netip.Addr {
	rng.Shuffle(len(v4), func(i, j int) { v4[i], v4[j] = v4[j], v4[i] })
	rng.Shuffle(len(v6), func(i, j int) { v6[i], v6[j] = v6[j], v6[i] })
	if rng.IntN(2) == 0 {
		return append(v4, v6...)
	}
	return append(v6, v4...)
}

// tlsaBases returns the names to look for TLSA records under, in order, as
// RFC 7672 §2.2.2 and Postfix's tls_dane_resolve decide it. Secure address
// records give the CNAME-expanded name and then the name as the MX gives
// it. Insecure address records behind a secure CNAME give the name as the
// MX gives it. Anything else gives none, and DANE does not apply.
func tlsaBases(h *Host, addrs *dnssec.Result) []string {
	cnamed := len(addrs.Links) > 1 && addrs.Links[0].Type == dns.TypeCNAME
	switch {
	case h.AddrSecurity == dnssec.Secure && cnamed && h.Expanded != h.Name:
		return []string{h.Expanded, h.Name}
	case h.AddrSecurity == dnssec.Secure:
		return []string{h.Name}
	case cnamed && addrs.Links[0].Security == dnssec.Secure:
		return []string{h.Name}
	}
	return nil
}

// lookupTLSA asks for _25._tcp TLSA records under each base in turn. Only
// a secure denial moves on to the next base; an insecure answer or denial
// means no DANE; a bogus or unobtainable one is an error.
func lookupTLSA(ctx context.Context, v *dnssec.Validator, bases []string) (*TLSA, error) {
	for i, base := range bases {
		owner := dane.OwnerName(base, 25)
		res, err := v.Lookup(ctx, owner, dns.TypeTLSA)
		if err != nil {
			return nil, fmt.Errorf("looking up %s TLSA: %w", owner, err)
		}
		switch res.Security {
		case dnssec.Bogus, dnssec.Indeterminate:
			return nil, fmt.Errorf("TLSA lookup %s is %s: %s", owner, res.Security, dnssec.Explain(res.Reason))
		case dnssec.Insecure:
			return nil, nil
		}
		var records []*dns.TLSA
		for _, rr := range res.Answer {
			if t, ok := rr.(*dns.TLSA); ok {
				records = append(records, t)
			}
		}
		if len(records) > 0 {
			return &TLSA{BaseDomain: base, Security: res.Security, Set: dane.Classify(records)}, nil
		}
		if i == len(bases)-1 {
			return nil, nil
		}
	}
	return nil, nil
}

// policyFor decides the TLS policy of a host with a TLSA RRset.
func policyFor(tlsa *TLSA, mxSecurity dnssec.Security) Policy {
	if tlsa == nil {
		return PolicyOpportunistic
	}
	switch tlsa.Set.Status() {
	case dane.UsableRecords:
		if mxSecurity == dnssec.Secure {
			return PolicyDANEVerified
		}
		return PolicyDANETrusted
	case dane.NoUsableRecords:
		return PolicyTLSUnauthenticated
	}
	return PolicyOpportunistic
}
