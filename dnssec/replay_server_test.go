package dnssec

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// replayNet is an Exchanger that answers every query in process from the
// RANGE entries of a replay file, by destination address and query, so
// nothing is sent to the addresses the file names.
type replayNet struct {
	ranges []*replayRange

	mu sync.Mutex
	// step selects the ranges that answer: those whose step interval
	// contains it.
	step int
	// served holds every response given since the file started.
	served []*dns.Msg
	// fillFromCache makes a query that no entry matches get the answer
	// Unbound's cache would give, if any (see replayCachedResponse).
	fillFromCache bool
	// unanswered counts the queries that no entry answered. filled lists
	// those of them that got answers from earlier responses instead.
	unanswered int
	filled     []string
	// log has one line per query of the current lookup, for traces.
	log []string
}

// errReplayNoAnswer stands for a server that does not answer: no entry
// matches the query, or the matching entry's response does not match it.
var errReplayNoAnswer = errors.New("replay: no answer (timeout)")

// startLookup selects the ranges of step and clears the log.
func (n *replayNet) startLookup(step int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.step = step
	n.log = nil
}

// cacheUse returns how many queries no entry answered, and which of them
// got answers from earlier responses instead.
func (n *replayNet) cacheUse() (unanswered int, filled []string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.unanswered, slices.Compact(slices.Clone(n.filled))
}

// takeLog returns the log lines of the current lookup.
func (n *replayNet) takeLog() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.log)
}

// Exchange implements Exchanger. As Unbound's test harness does, it takes
// the first range, in file order, that covers the current step and the
// server's address and has an entry matching the query, and answers with
// the first such entry. A server with no matching entry does not answer.
// Like NetExchanger, it never returns a response whose ID or question
// differs from the query's.
func (n *replayNet) Exchange(ctx context.Context, query *dns.Msg, server, network string) (*dns.Msg, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	addr, err := netip.ParseAddrPort(server)
	if err != nil {
		return nil, fmt.Errorf("replay: server %q is not IP:PORT: %w", server, err)
	}
	q := query.Question[0]
	desc := fmt.Sprintf("%s %s to %s over %s", q.Name, dns.TypeToString[q.Qtype], server, network)
	n.mu.Lock()
	defer n.mu.Unlock()

	e := findReplayEntry(n.ranges, n.step, addr, query, network)
	if e == nil {
		n.unanswered++
		if cached := n.cachedResponse(query); cached != nil {
			n.log = append(n.log, fmt.Sprintf("query %s: no entry matches; answered from an earlier response", desc))
			return cached, nil
		}
		n.log = append(n.log, fmt.Sprintf("query %s: no entry matches", desc))
		return nil, errReplayNoAnswer
	}
	resp, err := wireRoundTrip(e.response(query))
	if err != nil {
		n.log = append(n.log, fmt.Sprintf("query %s: the entry of line %d is not a valid message (%v), dropped", desc, e.line, err))
		return nil, errReplayNoAnswer
	}
	if !matchesQuery(query, resp) {
		n.log = append(n.log, fmt.Sprintf("query %s: the entry of line %d answers another ID or question, dropped", desc, e.line))
		return nil, errReplayNoAnswer
	}
	n.log = append(n.log, fmt.Sprintf("query %s: entry of line %d, %s, %d answer records", desc, e.line,
		dns.RcodeToString[resp.Rcode], len(resp.Answer)))
	n.served = append(n.served, resp)
	return resp.Copy(), nil
}

// wireRoundTrip packs m and unpacks the result, so that the product parses
// each response from the wire form, as it would from the network. A
// record the wire form cannot hold, such as an A record of five octets,
// makes the whole message unusable, as NetExchanger would find it.
func wireRoundTrip(m *dns.Msg) (*dns.Msg, error) {
	wire, err := m.Pack()
	if err != nil {
		return nil, err
	}
	out := new(dns.Msg)
	if err := out.Unpack(wire); err != nil {
		return nil, err
	}
	return out, nil
}

// cachedResponse returns the answer to query from earlier responses when
// fillFromCache is set, and records it in filled.
func (n *replayNet) cachedResponse(query *dns.Msg) *dns.Msg {
	if !n.fillFromCache {
		return nil
	}
	q := query.Question[0]
	resp := replayCachedResponse(q, n.served)
	if resp == nil {
		return nil
	}
	resp.Id = query.Id
	resp.Question = slices.Clone(query.Question)
	resp, err := wireRoundTrip(resp)
	if err != nil {
		return nil
	}
	n.filled = append(n.filled, q.Name+" "+dns.TypeToString[q.Qtype])
	return resp
}

func findReplayEntry(ranges []*replayRange, step int, addr netip.AddrPort, query *dns.Msg, network string) *replayEntry {
	addr = netip.AddrPortFrom(addr.Addr().Unmap(), addr.Port())
	for _, r := range ranges {
		if step < r.first || step > r.last {
			continue
		}
		if len(r.addrs) > 0 && !slices.Contains(r.addrs, addr) {
			continue
		}
		for _, e := range r.entries {
			if e.match.matches(e.msg, query, network) {
				return e
			}
		}
	}
	return nil
}

// matches reports whether query, received over network, fits the MATCH
// keywords of an entry whose scripted message is entry.
func (m replayMatch) matches(entry, query *dns.Msg, network string) bool {
	q := query.Question[0]
	needQuestion := m.qtype || m.qname || m.subdomain
	if needQuestion && len(entry.Question) == 0 {
		return false
	}
	opt := query.IsEdns0()
	switch {
	case m.opcode && query.Opcode != entry.Opcode:
		return false
	case m.qtype && q.Qtype != entry.Question[0].Qtype:
		return false
	case m.qname && !equalNames(q.Name, entry.Question[0].Name):
		return false
	case m.subdomain && !isSubdomain(entry.Question[0].Name, q.Name):
		return false
	case m.tcp && network != "tcp", m.udp && network != "udp":
		return false
	case m.do && (opt == nil || !opt.Do()):
		return false
	case m.noEDNS && opt != nil:
		return false
	}
	return true
}

// response builds the scripted answer to query, applying ADJUST.
func (e *replayEntry) response(query *dns.Msg) *dns.Msg {
	resp := e.msg.Copy()
	if e.copyID {
		resp.Id = query.Id
	}
	if e.copyQuery {
		resp.Question = slices.Clone(query.Question)
	}
	return resp
}

// replaySource returns the Source a validating resolver configured like
// the file would use. Stub zones become one Iterator: the stub for the root
// gives its root servers, and a stub below the root is a zone cut the
// Iterator knows from the start, as Unbound treats it. A forward-zone
// becomes an Upstream, with a router that sends each query to the deepest
// zone containing it.
func replaySource(cfg replayConfig, ex Exchanger) (Source, error) {
	if len(cfg.zones) == 0 {
		return nil, errors.New("no stub-zone or forward-zone in the config")
	}
	// An empty, non-nil Roots keeps the Iterator away from the real
	// root servers when no stub-zone names the root.
	it := &Iterator{Roots: []string{}, Exchanger: ex, NoQNAMEMinimisation: !cfg.qnameMinimisation}
	router := &replayRouter{fallback: it}
	for _, z := range cfg.zones {
		var servers []string
		for _, a := range z.addrs {
			servers = append(servers, a.String())
		}
		switch {
		case z.forward:
			router.zones = append(router.zones, replayRoute{zone: z.name, source: &Upstream{Servers: servers, Exchanger: ex}})
		case z.name == ".":
			it.Roots = servers
		default:
			// NOTE: this reaches into the Iterator's cache of zone cuts,
			// which has no exported way to configure stub zones.
			if it.cuts == nil {
				it.cuts = map[string]*delegation{}
			}
			it.cuts[z.name] = &delegation{zone: z.name, servers: servers, expires: time.Now().Add(24 * time.Hour)}
		}
	}
	if len(router.zones) == 0 {
		return it, nil
	}
	if len(router.zones) == 1 && router.zones[0].zone == "." {
		return router.zones[0].source, nil
	}
	return router, nil
}

// replayRouter sends a query under a forward-zone to that zone's Upstream,
// the deepest such zone winning, and every other query to the Iterator, as
// Unbound picks among its forward and stub zones. A DS query is routed by
// the parent of its name, because the DS RRset lives on the parent side of
// the zone cut (RFC 4035 §3.1.4.1).
type replayRouter struct {
	zones    []replayRoute
	fallback Source
}

type replayRoute struct {
	zone   string
	source Source
}

// chargesQueries marks the router as a Source whose Iterator and Upstreams
// charge each query to the lookup's budget themselves.
func (r *replayRouter) chargesQueries() {}

func (r *replayRouter) Query(ctx context.Context, name string, qtype uint16) (*dns.Msg, error) {
	route := name
	if qtype == dns.TypeDS && name != "." {
		route = parentName(name)
	}
	src, depth := r.fallback, -1
	for _, z := range r.zones {
		if isSubdomain(z.zone, route) && countLabels(z.zone) > depth {
			src, depth = z.source, countLabels(z.zone)
		}
	}
	return src.Query(ctx, name, qtype)
}
