package dnssec

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// prefetched holds responses that a lookup asked for ahead of need, so
// that the chain walk, which is sequential, finds them ready.
type prefetched struct {
	mu      sync.Mutex
	entries map[rrsetKey]*prefetchEntry
}

type prefetchEntry struct {
	done chan struct{}
	msg  *dns.Msg
	err  error
	// expires is when a shared response may no longer be reused.
	expires time.Time
}

// prefetchChain asks, all at once, for the DS and DNSKEY RRsets of every
// name from the trust anchor down to signer, except what the cache already
// proves. Once an answer names its signer, the chain of trust needs those
// sets and nothing else about them is unknown, so one round trip fetches
// what the walk would fetch one step at a time. A name between two zones
// that is no zone cut costs one wasted DNSKEY query.
func (l *lookup) prefetchChain(signer string) {
	owner, anchors := l.v.anchorsFor(signer, l.now)
	if len(anchors) == 0 || countLabels(signer)-countLabels(owner) > l.limits.MaxZoneDepth {
		return
	}
	for n := countLabels(owner); n <= countLabels(signer); n++ {
		name := ancestorWithLabels(signer, n)
		if l.v.cache.has("keys:"+name, l.now) {
			continue
		}
		if n > countLabels(owner) && !l.v.cache.has("cut:"+name, l.now) {
			l.prefetch(name, dns.TypeDS)
		}
		l.prefetch(name, dns.TypeDNSKEY)
	}
}

func (l *lookup) prefetch(name string, qtype uint16) {
	key := rrsetKey{name, qtype}
	l.ahead.mu.Lock()
	if l.ahead.entries == nil {
		l.ahead.entries = map[rrsetKey]*prefetchEntry{}
	}
	if _, ok := l.ahead.entries[key]; ok {
		l.ahead.mu.Unlock()
		return
	}
	if _, charges := l.v.source.(queryCharger); !charges && chargeQuery(l.ctx) != nil {
		l.ahead.mu.Unlock()
		return
	}
	e := &prefetchEntry{done: make(chan struct{})}
	l.ahead.entries[key] = e
	l.ahead.mu.Unlock()

	go func() {
		defer close(e.done)
		e.msg, e.err = l.v.shared(l.ctx, name, qtype)
	}()
}

// inflight lets lookups that need the same response share one query: a
// query in flight is waited for, and a response is kept for its TTL.
type inflight struct {
	mu      sync.Mutex
	entries map[rrsetKey]*prefetchEntry
}

// shared asks the Source for (name, qtype), or takes the response of the
// same query that another lookup sent. Each caller gets its own copy of
// the response, because validation adjusts TTLs in place.
func (v *Validator) shared(ctx context.Context, name string, qtype uint16) (*dns.Msg, error) {
	key := rrsetKey{dns.CanonicalName(name), qtype}
	now := v.now()
	v.flight.mu.Lock()
	if v.flight.entries == nil {
		v.flight.entries = map[rrsetKey]*prefetchEntry{}
	}
	e, ok := v.flight.entries[key]
	if ok && e.isDone() && !now.Before(e.expires) {
		ok = false
	}
	if !ok {
		e = &prefetchEntry{done: make(chan struct{})}
		v.flight.entries[key] = e
	}
	v.flight.mu.Unlock()

	if !ok {
		e.msg, e.err = v.source.Query(ctx, name, qtype)
		e.expires = now.Add(responseTTL(e.msg, e.err))
		close(e.done)
	} else {
		select {
		case <-e.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		var le *LimitError
		if errors.As(e.err, &le) {
			// The other lookup ran out of its own budget, not this one.
			return v.source.Query(ctx, name, qtype)
		}
	}
	if e.msg == nil {
		return nil, e.err
	}
	return e.msg.Copy(), e.err
}

func (e *prefetchEntry) isDone() bool {
	select {
	case <-e.done:
		return true
	default:
		return false
	}
}

// responseTTL is how long a response may be reused: the smallest TTL in it,
// or not at all for failures.
func responseTTL(m *dns.Msg, err error) time.Duration {
	if err != nil || m == nil || (m.Rcode != dns.RcodeSuccess && m.Rcode != dns.RcodeNameError) {
		return 0
	}
	ttl := uint32(negativeCacheTime / time.Second)
	for _, section := range [][]dns.RR{m.Answer, m.Ns} {
		for _, rr := range section {
			ttl = min(ttl, rr.Header().Ttl)
		}
	}
	return time.Duration(ttl) * time.Second
}

// clear forgets every kept response.
func (f *inflight) clear() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.entries = nil
}

// takePrefetched returns the prefetched response for (name, qtype), waiting
// for it if it is on its way, and forgets it so that a second query asks
// again.
func (l *lookup) takePrefetched(name string, qtype uint16) (*dns.Msg, error, bool) {
	key := rrsetKey{dns.CanonicalName(name), qtype}
	l.ahead.mu.Lock()
	e, ok := l.ahead.entries[key]
	if ok {
		delete(l.ahead.entries, key)
	}
	l.ahead.mu.Unlock()
	if !ok {
		return nil, nil, false
	}
	select {
	case <-e.done:
	case <-l.ctx.Done():
		return nil, l.ctx.Err(), true
	}
	return e.msg, e.err, true
}
