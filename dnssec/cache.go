package dnssec

import (
	"context"
	"sync"
	"time"
)

// cache stores proven zone keys and zone-cut facts until they expire, and
// lets concurrent lookups that need the same entry wait for one fetch.
type cache struct {
	mu      sync.Mutex
	entries map[string]*cacheEntry
}

type cacheEntry struct {
	// done is closed when value and expires are set.
	done    chan struct{}
	value   any
	expires time.Time
	// keep is false for results that must not outlive the fetch that made
	// them: indeterminate ones and those cut short by a limit.
	keep bool
}

func newCache() *cache {
	return &cache{entries: make(map[string]*cacheEntry)}
}

// get returns the entry for key, calling fetch to make it if there is no
// live one. Callers that arrive while a fetch runs wait for its result. The
// second return value is true when the value was made by another caller.
func (c *cache) get(ctx context.Context, key string, now time.Time,
	fetch func() (value any, expires time.Time, keep bool)) (any, bool) {
	c.mu.Lock()
	e, ok := c.entries[key]
	if ok {
		select {
		case <-e.done:
			if e.keep && now.Before(e.expires) {
				c.mu.Unlock()
				return e.value, true
			}
			delete(c.entries, key)
			ok = false
		default:
		}
	}
	if ok {
		c.mu.Unlock()
		select {
		case <-e.done:
			return e.value, true
		case <-ctx.Done():
			return nil, true
		}
	}
	e = &cacheEntry{done: make(chan struct{})}
	c.entries[key] = e
	c.mu.Unlock()

	value, expires, keep := fetch()

	c.mu.Lock()
	e.value, e.expires, e.keep = value, expires, keep
	if !keep && c.entries[key] == e {
		delete(c.entries, key)
	}
	close(e.done)
	c.mu.Unlock()
	return value, false
}

// clear drops every entry. Fetches in flight finish for their waiters but
// are not kept.
func (c *cache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries = make(map[string]*cacheEntry)
}

// has reports whether a finished, live entry exists for key.
func (c *cache) has(key string, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok {
		return false
	}
	select {
	case <-e.done:
		return e.keep && now.Before(e.expires)
	default:
		// A fetch in flight will be shared; no need to prefetch.
		return true
	}
}
