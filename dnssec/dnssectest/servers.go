package dnssectest

import (
	"fmt"
	"net"
	"strconv"

	"github.com/miekg/dns"
)

// ServerKind is the behaviour of one name server of a zone.
type ServerKind int

const (
	// DefaultServer is the zone's own server, ns1.<origin>, which answers
	// as RFC 1034 §4.3.2 describes and has glue in the parent's referral.
	// Every zone has one unless ZoneOptions.NoDefaultServer is set. It is
	// not a kind for ExtraServer.
	DefaultServer ServerKind = iota

	// DeadServer is a name inside the zone, with glue in the parent's
	// referral, whose address in the lab's block has no socket. On
	// loopback the kernel rejects each query at once: a UDP query draws an
	// ICMP port unreachable, which a connected client socket reports as
	// "connection refused", and a TCP connection is reset. Use SilentServer
	// for queries that time out.
	DeadServer

	// SilentServer is a name inside the zone, with glue, whose server
	// records every query in the lab's log and never answers, so that each
	// query times out.
	SilentServer

	// LameServer is a name inside the zone, with glue, whose server does
	// not serve the zone. It answers as ExtraServer.Lame selects.
	LameServer

	// NoGlueInZone is a name inside the zone that the parent's referral
	// lists without glue, against RFC 9471, which expects glue for every
	// name server named inside the delegated zone. A working server of the
	// zone listens at the address that the zone itself publishes, so a
	// resolver can learn it only from the zone's other servers.
	NoGlueInZone

	// GluelessServer is a working server of the zone whose name lies
	// outside the zone, so the parent's referral lists it without glue. The
	// lab zone that most closely encloses the name publishes its address.
	// When that zone is the parent, its referrals still leave the address
	// out. Two zones whose only servers are GluelessServers named in each
	// other form a loop: each server's address is served only by the
	// other zone.
	GluelessServer

	// OutOfBailiwickGlue is a working server of the zone whose name lies
	// outside the parent zone. The parent's referral carries glue for the
	// name anyway, which the parent has no authority for: the address of a
	// decoy that records each query and answers REFUSED. A resolver must
	// ignore that glue and look the name up, which finds the working server
	// where a lab zone encloses the name, as for GluelessServer. The zone
	// cannot be a top-level domain, since every name lies inside the root.
	OutOfBailiwickGlue
)

var serverKindNames = map[ServerKind]string{
	DefaultServer:      "DefaultServer",
	DeadServer:         "DeadServer",
	SilentServer:       "SilentServer",
	LameServer:         "LameServer",
	NoGlueInZone:       "NoGlueInZone",
	GluelessServer:     "GluelessServer",
	OutOfBailiwickGlue: "OutOfBailiwickGlue",
}

// String returns the constant's name.
func (k ServerKind) String() string {
	if s, ok := serverKindNames[k]; ok {
		return s
	}
	return "ServerKind(" + strconv.Itoa(int(k)) + ")"
}

// Lameness is the response behaviour of a LameServer.
type Lameness int

const (
	// LameRefused answers every query with REFUSED, as a server that is
	// not configured for the zone.
	LameRefused Lameness = iota
	// LameNotAuthoritative answers from the zone's data with AA clear, as
	// a cache that is not authoritative would. Where the zone's server
	// would send a referral it sends NOERROR with empty sections instead,
	// so no response is either authoritative or a referral.
	LameNotAuthoritative
	// LameUpwardReferral answers every query with NOERROR, AA clear and a
	// referral to the root: its NS RRset and glue, as old name servers did
	// for zones they did not serve. RFC 1034 §5.3.3 directs a resolver to
	// ignore a delegation that is not closer to the name than the servers
	// it asked.
	LameUpwardReferral
)

// String returns the constant's name.
func (m Lameness) String() string {
	switch m {
	case LameRefused:
		return "LameRefused"
	case LameNotAuthoritative:
		return "LameNotAuthoritative"
	case LameUpwardReferral:
		return "LameUpwardReferral"
	}
	return "Lameness(" + strconv.Itoa(int(m)) + ")"
}

// ExtraServer is a name server of a zone besides its own, ns1.<origin>.
// Start lists it in the zone's apex NS RRset and in the parent's
// delegation, gives it an address in the lab's block and publishes that
// address as its kind describes.
type ExtraServer struct {
	Kind ServerKind
	// Name is the server's host name, relative to the zone's origin unless
	// it ends in a dot. Empty means ns<N>.<origin>, where N is the
	// server's position in ExtraServers plus 2. OutOfBailiwickGlue and
	// GluelessServer need a name outside the zone. The other kinds need
	// one inside it and outside the lab's zones below it.
	Name string
	// Lame selects the answers of a LameServer; other kinds ignore it.
	Lame Lameness
}

// NameServer is one name server of a zone, as the lab serves it.
type NameServer struct {
	// Name is the host name in the zone's NS records, in canonical form.
	Name string
	Kind ServerKind
	// Addr is the address ("127.X.Y.Z:53") where the server listens or,
	// for a DeadServer, where nothing listens. It is "" before Start.
	Addr string
	// Glue is the address that the parent's referral gives for Name, or
	// for the root zone the address in RootHints: Addr, the decoy's
	// address for OutOfBailiwickGlue, or "" when there is no glue.
	Glue string
	// Lame is the behaviour of a LameServer.
	Lame Lameness
}

// Servers returns the zone's name servers in the order of its NS records:
// ns1.<origin> first unless NoDefaultServer is set, then ExtraServers.
// Addresses are set only after Lab.Start.
func (z *Zone) Servers() []NameServer {
	return append([]NameServer(nil), z.servers...)
}

// ServerNames returns the host names in the zone's NS records.
func (z *Zone) ServerNames() []string {
	var names []string
	for _, s := range z.servers {
		names = append(names, s.Name)
	}
	return names
}

// ReferralLoop adds the zone at origin like Zone, delegated from its
// enclosing zone as usual. The zone's own server, and any working extra
// server, answers each query for a name in the zone with a referral back
// up to the enclosing zone: its NS RRset and glue, with AA clear. The enclosing zone refers the name down
// again, so a resolver that follows every referral goes back and forth for
// ever. RFC 1034 §5.3.3 directs a resolver to ignore the upward referral,
// which leaves the zone without a server that answers. The resolver
// stand-in follows the loop up to its referral bound and answers SERVFAIL.
func (l *Lab) ReferralLoop(origin string, opts ZoneOptions) *Zone {
	z := l.Zone(origin, opts)
	if z.parent == nil {
		panic("dnssectest: the root zone has no enclosing zone to refer back to")
	}
	z.referBack = true
	return z
}

// planServers returns the name servers of the zone at origin, without
// addresses, after checking what can be checked before the lab starts.
func planServers(origin string, opts ZoneOptions) ([]NameServer, error) {
	var servers []NameServer
	if !opts.NoDefaultServer {
		servers = append(servers, NameServer{Name: defaultServerName(origin)})
	} else if len(opts.ExtraServers) == 0 {
		return nil, fmt.Errorf("dnssectest: zone %s: NoDefaultServer without ExtraServers leaves no name server",
			origin)
	}
	seen := make(map[string]bool)
	for _, s := range servers {
		seen[s.Name] = true
	}
	for i, x := range opts.ExtraServers {
		s, err := planServer(origin, i, x)
		if err != nil {
			return nil, err
		}
		if seen[s.Name] {
			return nil, fmt.Errorf("dnssectest: zone %s: name server %s appears twice", origin, s.Name)
		}
		seen[s.Name] = true
		servers = append(servers, s)
	}
	return servers, nil
}

// planServer checks the i-th extra server of the zone at origin and
// returns it with its absolute name.
func planServer(origin string, i int, x ExtraServer) (NameServer, error) {
	fail := func(format string, args ...any) (NameServer, error) {
		return NameServer{}, fmt.Errorf("dnssectest: zone %s: extra server %d (%s): %s",
			origin, i, x.Kind, fmt.Sprintf(format, args...))
	}
	if x.Kind == DefaultServer || serverKindNames[x.Kind] == "" {
		return fail("not a kind for ExtraServer")
	}
	if x.Lame < LameRefused || x.Lame > LameUpwardReferral {
		return fail("unknown lameness %d", int(x.Lame))
	}
	name := x.Name
	if name == "" {
		name = "ns" + strconv.Itoa(i+2)
	}
	if _, ok := dns.IsDomainName(name); !ok {
		return fail("invalid name %q", name)
	}
	name = absoluteName(origin, name)
	inZone := dns.IsSubDomain(origin, name)
	switch x.Kind {
	case GluelessServer, OutOfBailiwickGlue:
		if inZone {
			return fail("the name %s must lie outside the zone", name)
		}
		if origin == "." {
			return fail("the root zone has no referral to leave glue out of")
		}
	case NoGlueInZone:
		if origin == "." {
			return fail("the root zone has no referral to leave glue out of")
		}
		fallthrough
	default:
		if !inZone {
			return fail("the name %s must lie inside the zone", name)
		}
	}
	return NameServer{Name: name, Kind: x.Kind, Lame: x.Lame}, nil
}

// checkServers reports an extra server of z that the lab's other zones
// make impossible: an in-zone name that lies in a child zone, or an
// OutOfBailiwickGlue name inside the parent.
func (z *Zone) checkServers() error {
	for _, s := range z.servers {
		switch s.Kind {
		case DefaultServer, GluelessServer:
		case OutOfBailiwickGlue:
			if dns.IsSubDomain(z.parent.origin, s.Name) {
				return fmt.Errorf("dnssectest: zone %s: OutOfBailiwickGlue name %s lies inside the parent %s",
					z.origin, s.Name, z.parent.origin)
			}
		default:
			if owner := z.lab.closestZone(s.Name); owner != z {
				return fmt.Errorf("dnssectest: zone %s: name server %s lies in the child zone %s",
					z.origin, s.Name, owner.origin)
			}
		}
	}
	return nil
}

// hostsNeeded returns how many addresses the zone's extra servers take:
// one each, and a second for the decoy of OutOfBailiwickGlue.
func (z *Zone) hostsNeeded() int {
	n := 0
	for _, s := range z.servers {
		switch s.Kind {
		case DefaultServer:
		case OutOfBailiwickGlue:
			n += 2
		default:
			n++
		}
	}
	return n
}

// bindServers opens the sockets of z's extra servers on the hosts from
// *next on, advancing *next, and returns the servers with their addresses.
// The zone's own server listens at zoneAddr.
func (z *Zone) bindServers(zoneAddr string, next *int, open func(host int) (*endpoint, error),
	addrOf func(host int) string) ([]NameServer, error) {
	servers := z.Servers()
	for i := range servers {
		s := &servers[i]
		if s.Kind == DefaultServer {
			s.Addr, s.Glue = zoneAddr, zoneAddr
			continue
		}
		host := *next
		*next++
		s.Addr = addrOf(host)
		if s.Kind != DeadServer {
			e, err := open(host)
			if err != nil {
				return nil, err
			}
			e.respond = z.responder(*s)
		}
		switch s.Kind {
		case DeadServer, SilentServer, LameServer:
			s.Glue = s.Addr
		case OutOfBailiwickGlue:
			decoy, err := open(*next)
			if err != nil {
				return nil, err
			}
			*next++
			decoy.respond = refuse
			s.Glue = decoy.addr
		}
	}
	return servers, nil
}

// responder returns the function that answers queries sent to s.
func (z *Zone) responder(s NameServer) func(*dns.Msg, string) *dns.Msg {
	switch s.Kind {
	case SilentServer:
		return func(*dns.Msg, string) *dns.Msg { return nil }
	case LameServer:
		return func(req *dns.Msg, _ string) *dns.Msg { return z.respondLame(req, s.Lame) }
	}
	return z.respond
}

func refuse(req *dns.Msg, _ string) *dns.Msg {
	return errorResponse(req, dns.RcodeRefused)
}

// respondLame answers req as a server that does not serve the zone.
func (z *Zone) respondLame(req *dns.Msg, mode Lameness) *dns.Msg {
	if mode == LameRefused {
		return refuse(req, "")
	}
	do := requestDO(req)
	resp := new(dns.Msg)
	resp.SetReply(req)
	if mode == LameUpwardReferral {
		root := z.lab.byOrigin["."]
		resp.Ns, resp.Extra = root.referralToApex()
		echoEDNS(resp, req, do)
		return resp
	}
	q := req.Question[0]
	if !dns.IsSubDomain(z.origin, dns.CanonicalName(q.Name)) {
		return refuse(req, "")
	}
	r := z.lookup(q.Name, q.Qtype, do)
	if r.referral == "" {
		resp.Rcode = r.rcode
		resp.Answer, resp.Ns = r.answer, r.authority
	}
	echoEDNS(resp, req, do)
	return resp
}

// referralToApex returns the NS RRset at z's apex, without RRSIGs, and the
// address records of those names that z itself publishes: a referral to
// z as a server elsewhere would give it.
func (z *Zone) referralToApex() (authority, additional []dns.RR) {
	d := z.data
	ns := d.get(z.origin, dns.TypeNS)
	authority = append(authority, ns.rrs...)
	for _, rr := range ns.rrs {
		host := dns.CanonicalName(rr.(*dns.NS).Ns)
		for _, t := range []uint16{dns.TypeA, dns.TypeAAAA} {
			if set := d.get(host, t); set != nil {
				additional = append(additional, set.rrs...)
			}
		}
	}
	return authority, additional
}

// serverRecords returns the NS record at z's origin for each of z's
// servers, and address records for the servers named inside z: their
// addresses for z's own apex, or their glue for the parent's delegation.
// The addresses of names outside z are published elsewhere: in the zone
// that encloses the name, and as the parent's out-of-zone glue for
// OutOfBailiwickGlue.
func (z *Zone) serverRecords(ttl uint32, apex bool) []dns.RR {
	var rrs []dns.RR
	for _, s := range z.servers {
		rrs = append(rrs, &dns.NS{Hdr: header(z.origin, dns.TypeNS, ttl), Ns: s.Name})
	}
	for _, s := range z.servers {
		if !dns.IsSubDomain(z.origin, s.Name) {
			continue
		}
		addr := s.Glue
		if apex {
			addr = s.Addr
		}
		if addr != "" {
			rrs = append(rrs, addressRecord(s.Name, addr, ttl))
		}
	}
	return rrs
}

// addressRecord returns the A record of name for addr ("host:port").
func addressRecord(name, addr string, ttl uint32) dns.RR {
	return &dns.A{Hdr: header(name, dns.TypeA, ttl), A: net.ParseIP(hostOf(addr)).To4()}
}

// outOfZoneAddresses returns the address records that z publishes for
// the GluelessServer and OutOfBailiwickGlue names of other zones that z
// encloses most closely.
func (z *Zone) outOfZoneAddresses() []dns.RR {
	var rrs []dns.RR
	for _, other := range z.lab.zones {
		for _, s := range other.servers {
			if s.Kind != GluelessServer && s.Kind != OutOfBailiwickGlue {
				continue
			}
			if z.lab.closestZone(s.Name) == z {
				rrs = append(rrs, addressRecord(s.Name, s.Addr, z.opts.TTL))
			}
		}
	}
	return rrs
}

// closestZone returns the lab zone at or most closely above name.
func (l *Lab) closestZone(name string) *Zone {
	if z := l.byOrigin[name]; z != nil {
		return z
	}
	return l.enclosingZone(name)
}

// defaultServerName returns the name of the zone's own server.
func defaultServerName(origin string) string {
	if origin == "." {
		return "ns1."
	}
	return "ns1." + origin
}
