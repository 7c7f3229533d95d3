package dnssectest

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// Config configures a Lab.
type Config struct {
	// Now is the reference time of the signatures. Zero means time.Now()
	// when New runs.
	Now time.Time
	// Inception and Expiration bound the validity of every signature that
	// no fault changes. Zero means Now-24h and Now+30 days.
	Inception, Expiration time.Time
	// UnprivilegedPort serves on a random port above 1023, shared by all
	// the lab's addresses, instead of port 53, so that a process without
	// root can run a lab. Only the resolver stand-ins are then of use:
	// glue and root hints carry no port, so iterating from RootHints
	// cannot reach the servers.
	UnprivilegedPort bool
}

// Lab is a hierarchy of zones and the servers that serve it. Build it with
// Zone and Zone.Add, then call Start. Zone, Add and Start must not run
// concurrently with each other. After Start every method is safe for
// concurrent use.
type Lab struct {
	highPort              bool
	now                   time.Time
	inception, expiration time.Time

	zones    []*Zone
	byOrigin map[string]*Zone

	started   bool
	startErr  error
	servers   []*dns.Server
	resolvers map[ResolverMode]string
	closeOnce sync.Once
	closed    bool

	log queryLog
}

// New returns an empty Lab. Add the root zone first.
func New(cfg Config) *Lab {
	now := cfg.Now
	if now.IsZero() {
		now = time.Now()
	}
	l := &Lab{
		highPort:   cfg.UnprivilegedPort,
		now:        now,
		inception:  cfg.Inception,
		expiration: cfg.Expiration,
		byOrigin:   make(map[string]*Zone),
	}
	if l.inception.IsZero() {
		l.inception = now.Add(-24 * time.Hour)
	}
	if l.expiration.IsZero() {
		l.expiration = now.Add(30 * 24 * time.Hour)
	}
	return l
}

// Now returns the reference time the lab signs with.
func (l *Lab) Now() time.Time { return l.now }

// Zone adds the zone at origin and returns it. The root zone "." comes
// first, and every zone comes before the zones below it. The parent of a
// new zone is the closest enclosing zone already added: Start adds the
// delegation to it (NS records for ns1.<origin> and ZoneOptions.ExtraServers,
// with glue as each server's kind describes), and unless the new zone is
// unsigned, its DS.
//
// Zone panics on mistakes in the code that builds the lab: when the lab has
// started or opts are invalid. It also panics when origin is not a valid
// name, is already a zone, has no enclosing zone or encloses an older zone.
func (l *Lab) Zone(origin string, opts ZoneOptions) *Zone {
	if l.started {
		panic("dnssectest: adding zone " + origin + ": the lab has already started")
	}
	if _, ok := dns.IsDomainName(origin); !ok {
		panic(fmt.Sprintf("dnssectest: invalid zone name %q", origin))
	}
	origin = dns.CanonicalName(origin)
	if l.byOrigin[origin] != nil {
		panic("dnssectest: zone " + origin + " added twice")
	}
	if len(l.zones) == 0 && origin != "." {
		panic("dnssectest: adding zone " + origin + ": add the root zone first")
	}
	for _, other := range l.zones {
		if other.origin != origin && dns.IsSubDomain(origin, other.origin) {
			panic("dnssectest: zone " + origin + " must be added before " + other.origin +
				", which is below it")
		}
	}
	opts, err := normalizeOptions(origin, opts)
	if err != nil {
		panic(err)
	}
	servers, err := planServers(origin, opts)
	if err != nil {
		panic(err)
	}
	z := &Zone{lab: l, origin: origin, opts: opts, index: len(l.zones), servers: servers}
	if origin != "." {
		z.parent = l.enclosingZone(origin)
	}
	l.zones = append(l.zones, z)
	l.byOrigin[origin] = z
	return z
}

// enclosingZone returns the zone with the longest origin above name.
func (l *Lab) enclosingZone(name string) *Zone {
	for n := parentName(name); ; n = parentName(n) {
		if z := l.byOrigin[n]; z != nil {
			return z
		}
	}
}

// Start generates the keys, picks the addresses, adds the delegations, signs
// every zone and starts the servers. Calling it again returns the first
// call's result. On an error the lab is closed.
func (l *Lab) Start() error {
	if l.started {
		return l.startErr
	}
	l.started = true
	if l.closed {
		l.startErr = errors.New("dnssectest: the lab was closed before it started")
		return l.startErr
	}
	l.startErr = l.start()
	if l.startErr != nil {
		l.Close()
	}
	return l.startErr
}

func (l *Lab) start() error {
	if len(l.zones) == 0 {
		return errors.New("dnssectest: starting a lab without zones: add the root zone first")
	}
	for _, z := range l.zones {
		for _, f := range z.opts.Faults {
			if err := f.check(z); err != nil {
				return err
			}
		}
		if err := z.checkServers(); err != nil {
			return err
		}
	}

	if err := l.generateKeys(); err != nil {
		return err
	}

	endpoints, err := l.listen()
	if err != nil {
		return err
	}

	err = l.buildZones()
	if err == nil {
		err = l.serve(endpoints)
	}
	if err != nil {
		for _, e := range endpoints {
			e.close()
		}
	}
	return err
}

// generateKeys makes the keys of all signed zones in parallel, since RSA
// key generation can take seconds.
func (l *Lab) generateKeys() error {
	errs := make([]error, len(l.zones))
	var wg sync.WaitGroup
	for i, z := range l.zones {
		if !z.signed() {
			continue
		}
		wg.Go(func() { z.keys, errs[i] = z.generateKeys() })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// buildZones adds the generated records to every zone and signs them in
// parallel. Every zone's keys and address exist by then, so parents can
// take their children's DS and glue.
func (l *Lab) buildZones() error {
	for _, z := range l.zones {
		if z.parent != nil {
			z.ds = z.dsRecords(z.parent.opts.TTL)
		}
	}
	errs := make([]error, len(l.zones))
	var wg sync.WaitGroup
	for i, z := range l.zones {
		wg.Go(func() { errs[i] = z.build() })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Close stops every server of the lab. It is safe to call more than once,
// and a lab closed before Start never starts.
func (l *Lab) Close() {
	l.closeOnce.Do(func() {
		l.closed = true
		for _, srv := range l.servers {
			// Shutdown returns an error only for a server that is not
			// running, which needs no stopping.
			_ = srv.Shutdown()
		}
	})
}

// TrustAnchor returns the DS record (SHA-256) of the root zone's KSK, the
// trust anchor to validate the lab's hierarchy with, or nil before Start.
// Under the root's WrongDS fault it digests a key that the root does not
// publish.
func (l *Lab) TrustAnchor() []dns.RR {
	root := l.byOrigin["."]
	if root == nil || root.keys == nil {
		return nil
	}
	return root.dsRecords(root.opts.TTL)
}

// RootKeys returns the root zone's KSK (or combined signing key), the
// DNSKEY form of the trust anchor, or nil before Start.
func (l *Lab) RootKeys() []*dns.DNSKEY {
	root := l.byOrigin["."]
	if root == nil || root.keys == nil {
		return nil
	}
	return []*dns.DNSKEY{root.keys.ksk.dnskey}
}

// RootHints returns zone-file text naming the root servers and their
// addresses, in the form of the IANA root hints file, or "" before Start.
// It lists ns1. unless the root has NoDefaultServer, then the root's
// ExtraServers.
func (l *Lab) RootHints() string {
	root := l.byOrigin["."]
	if root == nil || root.addr == "" {
		return ""
	}
	var b strings.Builder
	for _, s := range root.servers {
		fmt.Fprintf(&b, ".\t3600000\tIN\tNS\t%s\n", s.Name)
	}
	for _, s := range root.servers {
		fmt.Fprintf(&b, "%s\t3600000\tIN\tA\t%s\n", s.Name, hostOf(s.Glue))
	}
	return b.String()
}

// Authoritative returns the address ("127.X.Y.Z:53") of the authoritative
// server of the zone at origin, or "" if there is no such zone or the lab
// has not started.
func (l *Lab) Authoritative(origin string) string {
	if z := l.byOrigin[dns.CanonicalName(dns.Fqdn(origin))]; z != nil {
		return z.addr
	}
	return ""
}

// Zones returns the lab's zones in the order they were added.
func (l *Lab) Zones() []*Zone {
	return append([]*Zone(nil), l.zones...)
}

// ZoneAt returns the zone at origin, or nil.
func (l *Lab) ZoneAt(origin string) *Zone {
	return l.byOrigin[dns.CanonicalName(dns.Fqdn(origin))]
}

// hostOf returns the IP address part of a "host:port" address.
func hostOf(addr string) string {
	host, _, _ := strings.Cut(addr, ":")
	return host
}
