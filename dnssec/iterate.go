package dnssec

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// Defaults for Iterator.
const (
	// DefaultMaxReferrals bounds the referrals one Iterator.Query follows,
	// Unbound's MAX_REFERRAL_COUNT.
	DefaultMaxReferrals = 130
	// maxNSDepth bounds nested lookups of name server addresses (a server
	// named in a zone whose servers are named in yet another zone), BIND's
	// max-recursion-depth.
	maxNSDepth = 7
	// maxMinimisationSteps bounds the extra queries QNAME minimisation may
	// add per Query (RFC 9156 §2.3 suggests a limit of 10).
	maxMinimisationSteps = 10
)

// Iterator is a Source that resolves names itself, starting at the root
// servers and following referrals (RFC 1034 §5.3.3), so that no recursive
// resolver is needed. It sets the DO bit, and keeps the DS records or
// the proof of their absence that referrals carry (RFC 4035 §3.1.4), so
// that the Validator's DS queries need no extra round trip.
//
// Glue is taken only from servers of the zone that contains it; name
// server names without usable glue are resolved separately. QNAME
// minimisation (RFC 9156) is on unless NoQNAMEMinimisation is set.
type Iterator struct {
	// Roots are the root servers' addresses (host:port); nil means
	// DefaultRootHints.
	Roots []string
	// Exchanger sends the queries; nil means NetExchanger.
	Exchanger Exchanger
	// QueryTimeout bounds each query; zero means DefaultQueryTimeout.
	QueryTimeout time.Duration
	// NoQNAMEMinimisation sends the full query name to every server.
	NoQNAMEMinimisation bool
	// MaxReferrals bounds referrals per Query; zero means DefaultMaxReferrals.
	MaxReferrals int
	// Logf, when not nil, receives one line per query sent.
	Logf func(format string, args ...any)

	mu sync.Mutex
	// cuts maps zone names to the addresses of their servers.
	cuts map[string]*delegation
	// stored holds responses learned ahead of being asked for: DS
	// answers taken from referrals.
	stored map[rrsetKey]*storedResponse
}

type delegation struct {
	zone    string
	servers []string
	// glueless lists name server names outside the zone that came
	// without glue; they are resolved only when the other servers fail.
	glueless []string
	// depth is the nesting of name server lookups that found the zone.
	depth int
	// resolving counts lookups of glueless name servers in progress.
	resolving int
	expires   time.Time
}

type storedResponse struct {
	// done is closed when msg is set; msg stays nil when a prefetch failed.
	done    chan struct{}
	msg     *dns.Msg
	expires time.Time
}

func (it *Iterator) chargesQueries() {}

// Query implements Source.
func (it *Iterator) Query(ctx context.Context, name string, qtype uint16) (*dns.Msg, error) {
	name = dns.CanonicalName(name)
	if resp := it.storedAnswer(ctx, name, qtype); resp != nil {
		return resp, nil
	}
	return it.resolve(ctx, name, qtype, 0)
}

func (it *Iterator) storedAnswer(ctx context.Context, name string, qtype uint16) *dns.Msg {
	it.mu.Lock()
	s, ok := it.stored[rrsetKey{name, qtype}]
	it.mu.Unlock()
	if !ok {
		return nil
	}
	select {
	case <-s.done:
	case <-ctx.Done():
		return nil
	}
	if s.msg == nil || time.Now().After(s.expires) {
		return nil
	}
	m := s.msg.Copy()
	m.Id = dns.Id()
	return m
}

// store keeps msg as the response to (name, qtype) until ttl passes.
func (it *Iterator) store(name string, qtype uint16, msg *dns.Msg, ttl uint32) {
	s := &storedResponse{done: make(chan struct{}), msg: msg, expires: time.Now().Add(time.Duration(ttl) * time.Second)}
	close(s.done)
	it.mu.Lock()
	defer it.mu.Unlock()
	if it.stored == nil {
		it.stored = map[rrsetKey]*storedResponse{}
	}
	it.stored[rrsetKey{name, qtype}] = s
}

// prefetchDNSKEY asks the servers of a signed child zone for its DNSKEY
// RRset while the iteration goes on, since the validator needs it next.
func (it *Iterator) prefetchDNSKEY(ctx context.Context, d *delegation) {
	key := rrsetKey{d.zone, dns.TypeDNSKEY}
	s := &storedResponse{done: make(chan struct{})}
	it.mu.Lock()
	if it.stored == nil {
		it.stored = map[rrsetKey]*storedResponse{}
	}
	if old, ok := it.stored[key]; ok && (old.msg == nil || time.Now().Before(old.expires)) {
		it.mu.Unlock()
		return
	}
	it.stored[key] = s
	it.mu.Unlock()

	// The prefetch outlives the referral's handling but not the lookup's
	// budget, which the context carries.
	ctx = context.WithoutCancel(ctx)
	go func() {
		defer close(s.done)
		resp, _, err := it.askZone(ctx, d, d.zone, dns.TypeDNSKEY)
		if err != nil || resp.Rcode != dns.RcodeSuccess {
			return
		}
		ttl := uint32(3600)
		for _, rr := range resp.Answer {
			ttl = min(ttl, rr.Header().Ttl)
		}
		it.mu.Lock()
		s.msg, s.expires = it.finalAnswer(resp), time.Now().Add(time.Duration(ttl)*time.Second)
		it.mu.Unlock()
	}()
}

// resolve iterates from the closest known delegation down to name. depth
// counts nested name server lookups.
func (it *Iterator) resolve(ctx context.Context, name string, qtype uint16, depth int) (*dns.Msg, error) {
	if depth > maxNSDepth {
		return nil, fmt.Errorf("dnssec: resolving %s: name server lookups nested more than %d deep", name, maxNSDepth)
	}
	// A DS RRset lives on the parent side of a zone cut (RFC 4035 §3.1.4.1),
	// so a DS query starts above the name itself.
	start := name
	if qtype == dns.TypeDS && name != "." {
		start = parentName(name)
	}
	cut := it.closestCut(start)
	if cut.zone == "." && !(name == "." && qtype == dns.TypeDNSKEY) {
		// The validator needs the root's DNSKEY RRset for any answer;
		// fetch it alongside the first referral.
		it.prefetchDNSKEY(ctx, cut)
	}
	// known is the deepest name at or below the zone cut that is known to
	// be no further cut, from which minimisation takes the next label.
	known := cut.zone
	minimise := !it.NoQNAMEMinimisation
	minimised := 0
	maxReferrals := it.MaxReferrals
	if maxReferrals <= 0 {
		maxReferrals = DefaultMaxReferrals
	}

	for referrals := 0; referrals <= maxReferrals; {
		qname, qt := name, qtype
		if minimise && minimised < maxMinimisationSteps {
			if next := nextLabel(known, start); next != "" && !equalNames(next, name) {
				// RFC 9156 §3: ask for one more label, with type A.
				qname, qt = next, dns.TypeA
			}
		}
		resp, server, err := it.askZone(ctx, cut, qname, qt)
		if err != nil {
			return nil, err
		}

		if child, ok := it.referral(resp, cut.zone, qname); ok {
			if qtype == dns.TypeDS && equalNames(child, name) {
				// The parent should have answered DS itself.
				return nil, fmt.Errorf("dnssec: %s (%s) answered DS %s with a referral", server, cut.zone, name)
			}
			if referrals == maxReferrals {
				return nil, &LimitError{Limit: "MaxReferrals", Value: maxReferrals}
			}
			next, err := it.follow(ctx, resp, cut.zone, child, depth)
			if err != nil {
				return nil, err
			}
			cut, known = next, next.zone
			referrals++
			continue
		}
		if qname != name {
			minimised++
			if resp.Rcode == dns.RcodeSuccess && !hasCNAME(resp, qname) {
				// qname exists and is no zone cut: go one label deeper.
				known = qname
			} else {
				// NXDOMAIN or an alias: stop minimising and ask the
				// whole question (RFC 9156 §3).
				minimise = false
			}
			continue
		}
		return it.finalAnswer(resp), nil
	}
	return nil, &LimitError{Limit: "MaxReferrals", Value: maxReferrals}
}

// nextLabel returns the ancestor of name one label below zone, or "" when
// name is zone itself.
func nextLabel(zone, name string) string {
	if equalNames(zone, name) || !isSubdomain(zone, name) {
		return ""
	}
	return ancestorWithLabels(name, countLabels(zone)+1)
}

func hasCNAME(resp *dns.Msg, name string) bool {
	for _, rr := range resp.Answer {
		if rr.Header().Rrtype == dns.TypeCNAME && equalNames(rr.Header().Name, name) {
			return true
		}
	}
	return false
}

// finalAnswer returns the response as a recursive resolver would: the
// sections as the authoritative server gave them, without EDNS options.
func (it *Iterator) finalAnswer(resp *dns.Msg) *dns.Msg {
	m := resp.Copy()
	m.Extra = nil
	for _, rr := range resp.Extra {
		if rr.Header().Rrtype != dns.TypeOPT {
			m.Extra = append(m.Extra, rr)
		}
	}
	m.Authoritative = false
	m.RecursionAvailable = true
	return m
}

// closestCut returns the deepest known delegation at or above name.
func (it *Iterator) closestCut(name string) *delegation {
	it.mu.Lock()
	defer it.mu.Unlock()
	now := time.Now()
	for n := name; ; n = parentName(n) {
		if d, ok := it.cuts[n]; ok && now.Before(d.expires) {
			return d
		}
		if n == "." {
			break
		}
	}
	roots := it.Roots
	if roots == nil {
		roots = DefaultRootHints()
	}
	return &delegation{zone: ".", servers: roots, expires: now.Add(time.Hour)}
}

// askZone sends the query to the zone's servers in random order until one
// gives a usable response: not a timeout, SERVFAIL, REFUSED or a lame
// answer.
func (it *Iterator) askZone(ctx context.Context, cut *delegation, name string, qtype uint16) (*dns.Msg, string, error) {
	tried := map[string]bool{}
	var problems []string
	for {
		servers := it.untried(cut, tried)
		if len(servers) == 0 {
			// Every known address failed: find more through the name
			// servers that came without glue, if any.
			failures, err := it.resolveGlueless(ctx, cut)
			problems = append(problems, failures...)
			if err != nil {
				return nil, "", err
			}
			if servers = it.untried(cut, tried); len(servers) == 0 {
				break
			}
		}
		for _, server := range servers {
			tried[server] = true
			if err := chargeQuery(ctx); err != nil {
				return nil, "", err
			}
			resp, err := it.exchange(ctx, server, name, qtype)
			if err != nil {
				if ctx.Err() != nil {
					return nil, "", ctx.Err()
				}
				problems = append(problems, fmt.Sprintf("%s: %v", server, err))
				continue
			}
			if lame := lameReason(resp, cut.zone, name); lame != "" {
				problems = append(problems, fmt.Sprintf("%s: %s", server, lame))
				continue
			}
			return resp, server, nil
		}
	}
	return nil, "", fmt.Errorf("dnssec: no server of %s answered %s %s: %s", cut.zone, name,
		dns.TypeToString[qtype], strings.Join(problems, "; "))
}

// untried returns the addresses of cut not in tried, in random order.
func (it *Iterator) untried(cut *delegation, tried map[string]bool) []string {
	it.mu.Lock()
	var out []string
	for _, s := range cut.servers {
		if !tried[s] {
			out = append(out, s)
		}
	}
	it.mu.Unlock()
	rand.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// glueChain lists the zones whose glueless name servers a chain of nested
// lookups is resolving, to tell a loop from a concurrent lookup.
type glueChain struct {
	zone string
	next *glueChain
}

type glueChainKey struct{}

func (c *glueChain) has(zone string) bool {
	for ; c != nil; c = c.next {
		if c.zone == zone {
			return true
		}
	}
	return false
}

// resolveGlueless resolves name servers of cut that came without glue
// until one has addresses, which it adds to cut, or none is left. It
// returns the reasons of the names it gave up on. A spent budget, or a
// loop of zones whose servers can only be found through each other, is an
// error.
func (it *Iterator) resolveGlueless(ctx context.Context, cut *delegation) ([]string, error) {
	chain, _ := ctx.Value(glueChainKey{}).(*glueChain)
	if chain.has(cut.zone) {
		return nil, fmt.Errorf("dnssec: the name servers of %s can be found only through name server "+
			"lookups that need %s itself: a loop of servers without glue", cut.zone, cut.zone)
	}
	ctx = context.WithValue(ctx, glueChainKey{}, &glueChain{zone: cut.zone, next: chain})

	var failures []string
	for {
		it.mu.Lock()
		if len(cut.glueless) == 0 {
			busy := cut.resolving > 0
			it.mu.Unlock()
			if !busy {
				return failures, nil
			}
			// Another lookup is resolving the last names: wait for it.
			select {
			case <-time.After(10 * time.Millisecond):
				continue
			case <-ctx.Done():
				return failures, ctx.Err()
			}
		}
		host := cut.glueless[0]
		cut.glueless = cut.glueless[1:]
		cut.resolving++
		it.mu.Unlock()

		addrs, err := it.lookupAddresses(ctx, host, cut.depth+1)
		it.mu.Lock()
		cut.resolving--
		cut.servers = append(cut.servers, addrs...)
		it.mu.Unlock()

		var le *LimitError
		if errors.As(err, &le) {
			return failures, err
		}
		if len(addrs) > 0 {
			return failures, nil
		}
		if err == nil {
			err = errors.New("no A or AAAA records")
		}
		failures = append(failures, fmt.Sprintf("name server %s: %v", host, err))
	}
}

// lameReason returns why a response from a server of zone cannot be used,
// or "" when it can. Answers without the AA bit are accepted when they carry data
// for the name, an NXDOMAIN, a negative answer's SOA, NSEC or NSEC3
// records (RFC 2308 §2.2 allows NODATA without an SOA), or a referral below
// the zone, as resolvers do; anything else without AA is lame.
func lameReason(resp *dns.Msg, zone, name string) string {
	switch resp.Rcode {
	case dns.RcodeSuccess, dns.RcodeNameError, dns.RcodeYXDomain:
	default:
		return "answered " + dns.RcodeToString[resp.Rcode]
	}
	if resp.Authoritative || resp.Rcode != dns.RcodeSuccess || hasAnswerFor(resp, name) {
		return ""
	}
	for _, rr := range resp.Ns {
		owner := rr.Header().Name
		switch rr.Header().Rrtype {
		case dns.TypeSOA, dns.TypeNSEC, dns.TypeNSEC3:
			if isSubdomain(zone, owner) {
				return ""
			}
		case dns.TypeNS:
			if isStrictSubdomain(zone, owner) && isSubdomain(owner, name) {
				return ""
			}
		}
	}
	return "lame: neither an answer nor a referral below " + zone
}

func hasAnswerFor(resp *dns.Msg, name string) bool {
	for _, rr := range resp.Answer {
		if equalNames(rr.Header().Name, name) {
			return true
		}
	}
	return false
}

func (it *Iterator) exchange(ctx context.Context, server, name string, qtype uint16) (*dns.Msg, error) {
	ex := it.Exchanger
	if ex == nil {
		ex = NetExchanger{}
	}
	timeout := it.QueryTimeout
	if timeout <= 0 {
		timeout = DefaultQueryTimeout
	}
	q := new(dns.Msg)
	q.SetQuestion(name, qtype)
	q.RecursionDesired = false
	q.SetEdns0(ednsBufferSize, true)

	resp, err := exchangeOnce(ctx, ex, q, server, "udp", timeout, it.Logf)
	if err != nil || !resp.Truncated {
		return resp, err
	}
	q.Id = dns.Id()
	return exchangeOnce(ctx, ex, q, server, "tcp", timeout, it.Logf)
}

// referral reports whether resp delegates name from zone to a child zone
// below it, and returns the child.
func (it *Iterator) referral(resp *dns.Msg, zone, name string) (string, bool) {
	// Some servers set AA on referrals; an SOA in the authority section
	// marks a negative answer instead.
	if len(resp.Answer) > 0 || resp.Rcode != dns.RcodeSuccess || hasType(typesIn(resp.Ns), dns.TypeSOA) {
		return "", false
	}
	for _, rr := range resp.Ns {
		ns, ok := rr.(*dns.NS)
		if ok && isStrictSubdomain(zone, ns.Hdr.Name) && isSubdomain(ns.Hdr.Name, name) {
			return dns.CanonicalName(ns.Hdr.Name), true
		}
	}
	return "", false
}

// follow turns a referral from zone to child into the child's delegation:
// the addresses of its name servers, from glue inside zone (the referring
// servers' bailiwick) or by resolving the names. It stores the DS RRset or
// the proof of its absence that the referral carries.
func (it *Iterator) follow(ctx context.Context, resp *dns.Msg, zone, child string, depth int) (*delegation, error) {
	var names []string
	ttl := uint32(86400)
	for _, rr := range resp.Ns {
		if ns, ok := rr.(*dns.NS); ok && equalNames(ns.Hdr.Name, child) {
			names = append(names, dns.CanonicalName(ns.Ns))
			ttl = min(ttl, ns.Hdr.Ttl)
		}
	}
	glue := map[string][]string{}
	for _, rr := range resp.Extra {
		host := dns.CanonicalName(rr.Header().Name)
		// Glue from outside the referring zone could point anywhere.
		if !isSubdomain(zone, host) {
			continue
		}
		switch a := rr.(type) {
		case *dns.A:
			glue[host] = append(glue[host], net.JoinHostPort(a.A.String(), "53"))
		case *dns.AAAA:
			glue[host] = append(glue[host], net.JoinHostPort(a.AAAA.String(), "53"))
		}
	}
	var servers, glueless []string
	for _, n := range names {
		switch {
		case len(glue[n]) > 0:
			servers = append(servers, glue[n]...)
		case !isSubdomain(child, n):
			glueless = append(glueless, n)
		}
		// A server named inside the zone it serves cannot be reached
		// without glue, so it is left out.
	}
	if len(servers) == 0 && len(glueless) == 0 {
		return nil, fmt.Errorf("dnssec: no address for any name server of %s (%s)", child, strings.Join(names, ", "))
	}
	d := &delegation{zone: child, servers: servers, glueless: glueless, depth: depth,
		expires: time.Now().Add(time.Duration(ttl) * time.Second)}
	it.mu.Lock()
	if it.cuts == nil {
		it.cuts = map[string]*delegation{}
	}
	it.cuts[child] = d
	it.mu.Unlock()
	if it.storeDS(resp, child, ttl) {
		it.prefetchDNSKEY(ctx, d)
	}
	return d, nil
}

// lookupAddresses resolves a name server name to addresses, A then AAAA.
// An error from the A lookup ends it: trying AAAA after a failure would
// double the work at every level of a loop of glueless servers.
func (it *Iterator) lookupAddresses(ctx context.Context, host string, depth int) ([]string, error) {
	var out []string
	for _, t := range []uint16{dns.TypeA, dns.TypeAAAA} {
		resp, err := it.resolve(ctx, host, t, depth)
		if err != nil {
			return out, err
		}
		for _, rr := range resp.Answer {
			switch a := rr.(type) {
			case *dns.A:
				out = append(out, net.JoinHostPort(a.A.String(), "53"))
			case *dns.AAAA:
				out = append(out, net.JoinHostPort(a.AAAA.String(), "53"))
			}
		}
		if len(out) > 0 {
			return out, nil
		}
	}
	return out, nil
}

// storeDS keeps what a referral says about the child's DS RRset as the
// response to a DS query: the DS records with their RRSIGs, or the NSEC or
// NSEC3 records that prove there are none. It reports whether the
// referral carried DS records.
func (it *Iterator) storeDS(resp *dns.Msg, child string, ttl uint32) bool {
	m := new(dns.Msg)
	m.SetQuestion(child, dns.TypeDS)
	m.Response = true
	m.RecursionAvailable = true
	for _, rr := range resp.Ns {
		h := rr.Header()
		switch {
		case h.Rrtype == dns.TypeDS && equalNames(h.Name, child):
			m.Answer = append(m.Answer, rr)
		case h.Rrtype == dns.TypeRRSIG && rr.(*dns.RRSIG).TypeCovered == dns.TypeDS && equalNames(h.Name, child):
			m.Answer = append(m.Answer, rr)
		case h.Rrtype == dns.TypeNSEC || h.Rrtype == dns.TypeNSEC3:
			m.Ns = append(m.Ns, rr)
		case h.Rrtype == dns.TypeRRSIG && isDenialSig(rr.(*dns.RRSIG)):
			m.Ns = append(m.Ns, rr)
		}
	}
	if len(m.Answer) == 0 && len(m.Ns) == 0 {
		return false
	}
	it.store(child, dns.TypeDS, m, ttl)
	return len(m.Answer) > 0
}

func isDenialSig(sig *dns.RRSIG) bool {
	return sig.TypeCovered == dns.TypeNSEC || sig.TypeCovered == dns.TypeNSEC3
}

// exchangeOnce sends one query with its own timeout and logs it.
func exchangeOnce(ctx context.Context, ex Exchanger, query *dns.Msg, server, network string,
	timeout time.Duration, logf func(string, ...any)) (*dns.Msg, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	resp, err := ex.Exchange(ctx, query, server, network)
	if logf != nil {
		q := query.Question[0]
		took := time.Since(start).Round(time.Millisecond)
		if err != nil {
			logf("query %s %s to %s over %s: %v (%s)", q.Name, dns.TypeToString[q.Qtype], server, network, err, took)
		} else {
			logf("query %s %s to %s over %s: %s, %d answer records%s (%s)", q.Name, dns.TypeToString[q.Qtype],
				server, network, dns.RcodeToString[resp.Rcode], len(resp.Answer), truncatedNote(resp), took)
		}
	}
	return resp, err
}

func typesIn(section []dns.RR) []uint16 {
	var types []uint16
	for _, rr := range section {
		types = append(types, rr.Header().Rrtype)
	}
	return types
}
