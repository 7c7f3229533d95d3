package dnssectest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"sync"

	"github.com/miekg/dns"
)

// Host numbers inside the lab's 127.X.Y.0/24 block: the resolver stand-in
// of mode m listens on .(2+m), the zone added n-th (from 0) on .(16+n).
// The zones' extra name servers take the hosts after the last zone's, in
// the order of the zones and of their ExtraServers.
const (
	firstResolverHost = 2
	firstZoneHost     = 16
	maxHosts          = 254 - firstZoneHost + 1
	bindAttempts      = 20
)

// advertisedUDPSize is the EDNS buffer size the servers announce.
const advertisedUDPSize = 1232

// endpoint is one address of the lab with its bound sockets.
type endpoint struct {
	addr    string
	udp     net.PacketConn
	tcp     net.Listener
	respond func(req *dns.Msg, transport string) *dns.Msg
}

func (e *endpoint) close() {
	e.udp.Close()
	e.tcp.Close()
}

// listen picks a random 127.X.Y.0/24 block with X ≠ 0, binds UDP and TCP
// port 53 (or one high port) on every address the lab needs, and assigns the addresses. When a
// bind fails, for example because another lab holds the block, it starts
// over in another block.
//
// NOTE: a server bound to 0.0.0.0:53 on the same machine makes every bind
// fail, because the sockets do not set SO_REUSEADDR. Setting it would let
// two labs share a UDP address unnoticed.
func (l *Lab) listen() ([]*endpoint, error) {
	hosts := len(l.zones)
	for _, z := range l.zones {
		hosts += z.hostsNeeded()
	}
	if hosts > maxHosts {
		return nil, fmt.Errorf("dnssectest: %d zones and their extra name servers need %d addresses, "+
			"more than the %d one lab can serve", len(l.zones), hosts, maxHosts)
	}
	var lastErr error
	for range bindAttempts {
		block := [3]byte{127, byte(1 + rand.IntN(254)), byte(rand.IntN(256))}
		port := 53
		if l.highPort {
			port = 20000 + rand.IntN(40000)
		}
		endpoints, err := l.bind(block, port)
		if err == nil {
			return endpoints, nil
		}
		lastErr = err
	}
	return nil, fmt.Errorf("dnssectest: binding loopback addresses failed %d times "+
		"(is another DNS server bound to 0.0.0.0:53?): %w", bindAttempts, lastErr)
}

// bind opens the sockets of every zone, extra name server and resolver
// mode inside block, or none of them.
func (l *Lab) bind(block [3]byte, port int) ([]*endpoint, error) {
	var endpoints []*endpoint
	addrOf := func(host int) string {
		return fmt.Sprintf("%d.%d.%d.%d:%d", block[0], block[1], block[2], host, port)
	}
	open := func(host int) (*endpoint, error) {
		addr := addrOf(host)
		udp, err := net.ListenPacket("udp4", addr)
		if err != nil {
			return nil, err
		}
		tcp, err := net.Listen("tcp4", addr)
		if err != nil {
			udp.Close()
			return nil, err
		}
		e := &endpoint{addr: addr, udp: udp, tcp: tcp}
		endpoints = append(endpoints, e)
		return e, nil
	}
	fail := func(err error) ([]*endpoint, error) {
		for _, e := range endpoints {
			e.close()
		}
		return nil, err
	}

	resolvers := make(map[ResolverMode]string)
	for _, mode := range resolverModes {
		e, err := open(firstResolverHost + int(mode))
		if err != nil {
			return fail(err)
		}
		e.respond = l.resolverResponder(mode)
		resolvers[mode] = e.addr
	}
	zoneAddrs := make([]string, len(l.zones))
	for i, z := range l.zones {
		e, err := open(firstZoneHost + i)
		if err != nil {
			return fail(err)
		}
		e.respond = z.respond
		zoneAddrs[i] = e.addr
	}
	servers := make([][]NameServer, len(l.zones))
	next := firstZoneHost + len(l.zones)
	for i, z := range l.zones {
		var err error
		servers[i], err = z.bindServers(zoneAddrs[i], &next, open, addrOf)
		if err != nil {
			return fail(err)
		}
	}

	l.resolvers = resolvers
	for i, z := range l.zones {
		z.addr = zoneAddrs[i]
		z.servers = servers[i]
	}
	return endpoints, nil
}

// serve starts a UDP and a TCP dns.Server on every endpoint and waits until
// all of them run, so that Close can stop them.
func (l *Lab) serve(endpoints []*endpoint) error {
	events := make(chan error, 4*len(endpoints))
	for _, e := range endpoints {
		h := &handler{lab: l, endpoint: e}
		l.servers = append(l.servers,
			&dns.Server{PacketConn: e.udp, Handler: h, UDPSize: dns.MaxMsgSize},
			&dns.Server{Listener: e.tcp, Handler: h})
	}
	for _, srv := range l.servers {
		srv.NotifyStartedFunc = func() { events <- nil }
		go func() {
			if err := srv.ActivateAndServe(); err != nil {
				events <- err
			}
		}()
	}
	var errs []error
	for range l.servers {
		if err := <-events; err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("dnssectest: starting servers: %w", err)
	}
	return nil
}

// handler records each query in the lab's log and sends the endpoint's
// response, truncated to the client's UDP buffer size when needed.
type handler struct {
	lab      *Lab
	endpoint *endpoint
}

func (h *handler) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	transport := w.LocalAddr().Network()
	h.lab.log.record(h.endpoint.addr, transport, req)
	resp := checkRequest(req)
	if resp == nil {
		resp = h.endpoint.respond(req, transport)
	}
	if resp == nil {
		return
	}
	if transport == "udp" {
		fitUDP(resp, req)
	}
	// A client that went away is no concern of the lab.
	_ = w.WriteMsg(resp)
}

// checkRequest returns an error response for a request that is not a
// standard query of class IN, and nil for one the servers answer.
func checkRequest(req *dns.Msg) *dns.Msg {
	switch {
	case req.Opcode != dns.OpcodeQuery:
		return errorResponse(req, dns.RcodeNotImplemented)
	case len(req.Question) != 1:
		return errorResponse(req, dns.RcodeFormatError)
	case req.Question[0].Qclass != dns.ClassINET:
		return errorResponse(req, dns.RcodeRefused)
	}
	return nil
}

func errorResponse(req *dns.Msg, rcode int) *dns.Msg {
	resp := new(dns.Msg)
	resp.SetRcode(req, rcode)
	echoEDNS(resp, req, false)
	return resp
}

// echoEDNS adds an OPT record to resp if req has one, with the DO bit set
// to do.
func echoEDNS(resp, req *dns.Msg, do bool) {
	if req.IsEdns0() != nil {
		resp.SetEdns0(advertisedUDPSize, do)
	}
}

// requestDO reports whether req sets the DO bit.
func requestDO(req *dns.Msg) bool {
	opt := req.IsEdns0()
	return opt != nil && opt.Do()
}

// fitUDP empties resp and sets TC when it exceeds the client's UDP buffer
// size: 512 octets without EDNS (RFC 1035 §4.2.1), else the OPT's size.
// A partial answer would leave out signatures or proofs, so nothing is kept.
func fitUDP(resp, req *dns.Msg) {
	size := dns.MinMsgSize
	if opt := req.IsEdns0(); opt != nil {
		size = max(size, int(opt.UDPSize()))
	}
	resp.Compress = true
	if resp.Len() <= size {
		return
	}
	opt := resp.IsEdns0()
	resp.Answer, resp.Ns, resp.Extra = nil, nil, nil
	if opt != nil {
		resp.Extra = []dns.RR{opt}
	}
	resp.Truncated = true
}

// Query is one query that a server of the lab received.
type Query struct {
	// Server is the address of the server, as Authoritative and Resolver
	// return it.
	Server string
	// Transport is "udp" or "tcp".
	Transport string
	Name      string
	Type      uint16
	// DO and CD are the request's DNSSEC OK and Checking Disabled bits.
	DO, CD bool
}

type queryLog struct {
	mu      sync.Mutex
	queries []Query
}

func (q *queryLog) record(server, transport string, req *dns.Msg) {
	entry := Query{Server: server, Transport: transport, DO: requestDO(req), CD: req.CheckingDisabled}
	if len(req.Question) > 0 {
		entry.Name, entry.Type = req.Question[0].Name, req.Question[0].Qtype
	}
	q.mu.Lock()
	q.queries = append(q.queries, entry)
	q.mu.Unlock()
}

// Queries returns the number of queries that all servers of the lab have
// received since Start or the last ResetQueryLog.
func (l *Lab) Queries() int {
	l.log.mu.Lock()
	defer l.log.mu.Unlock()
	return len(l.log.queries)
}

// QueriesTo returns the number of queries that the server at addr has
// received since Start or the last ResetQueryLog.
func (l *Lab) QueriesTo(addr string) int {
	n := 0
	for _, q := range l.QueryLog() {
		if q.Server == addr {
			n++
		}
	}
	return n
}

// QueryLog returns a copy of the queries received since Start or the last
// ResetQueryLog, in the order the servers handled them.
func (l *Lab) QueryLog() []Query {
	l.log.mu.Lock()
	defer l.log.mu.Unlock()
	return append([]Query(nil), l.log.queries...)
}

// ResetQueryLog clears the query log.
func (l *Lab) ResetQueryLog() {
	l.log.mu.Lock()
	l.log.queries = nil
	l.log.mu.Unlock()
}
