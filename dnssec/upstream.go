package dnssec

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// Source returns DNS responses without validating them. The Validator asks
// it for answers, DS and DNSKEY sets and denials; each response must carry
// the RRSIG, NSEC and NSEC3 records that prove it.
type Source interface {
	Query(ctx context.Context, name string, qtype uint16) (*dns.Msg, error)
}

// Defaults for Upstream.
const (
	// DefaultQueryTimeout bounds one query to one server.
	DefaultQueryTimeout = 2 * time.Second
	// DefaultAttempts is how many queries one Upstream.Query may send in
	// all, across the configured servers.
	DefaultAttempts = 4
	// ednsBufferSize is the UDP payload size advertised in EDNS0, the value
	// DNS Flag Day 2020 chose to avoid IP fragmentation.
	ednsBufferSize = 1232
)

// Upstream is a Source that asks recursive resolvers, with EDNS0, the DO bit
// (to receive DNSSEC records) and the CD bit (so that a validating resolver
// still returns data it considers bogus, for the Validator to judge).
type Upstream struct {
	// Servers are host:port addresses, tried in order.
	Servers []string
	// Exchanger sends the queries; nil means NetExchanger.
	Exchanger Exchanger
	// QueryTimeout bounds each query; zero means DefaultQueryTimeout.
	QueryTimeout time.Duration
	// Attempts bounds the queries sent per call; zero means DefaultAttempts.
	Attempts int
	// Logf, when not nil, receives one line per query sent.
	Logf func(format string, args ...any)
}

// Query implements Source. It sends the query over UDP, repeats it over TCP
// when the response is truncated, and moves to the next server on a timeout,
// a network error, SERVFAIL, REFUSED, FORMERR or NOTIMP.
func (u *Upstream) Query(ctx context.Context, name string, qtype uint16) (*dns.Msg, error) {
	if len(u.Servers) == 0 {
		return nil, errors.New("dnssec: no upstream resolver configured")
	}
	attempts := u.Attempts
	if attempts <= 0 {
		attempts = DefaultAttempts
	}
	var lastErr error
	var lastResp *dns.Msg
	for i := 0; i < attempts; i++ {
		if ctx.Err() != nil {
			break
		}
		server := u.Servers[i%len(u.Servers)]
		if err := chargeQuery(ctx); err != nil {
			return nil, err
		}
		resp, err := u.queryServer(ctx, name, qtype, server)
		if err != nil {
			lastErr = fmt.Errorf("%s: %w", server, err)
			continue
		}
		switch resp.Rcode {
		case dns.RcodeServerFailure, dns.RcodeRefused, dns.RcodeFormatError, dns.RcodeNotImplemented:
			lastResp = resp
			lastErr = fmt.Errorf("%s answered %s", server, dns.RcodeToString[resp.Rcode])
			continue
		}
		return resp, nil
	}
	if lastResp != nil {
		return lastResp, nil
	}
	if err := ctx.Err(); err != nil {
		// The command's deadline, not the server, ended the attempts.
		return nil, fmt.Errorf("%w (last attempt: %v)", err, lastErr)
	}
	return nil, lastErr
}

func (u *Upstream) chargesQueries() {}

// queryServer sends one query to server, over TCP again if UDP comes back
// truncated.
func (u *Upstream) queryServer(ctx context.Context, name string, qtype uint16, server string) (*dns.Msg, error) {
	ex := u.Exchanger
	if ex == nil {
		ex = NetExchanger{}
	}
	timeout := u.QueryTimeout
	if timeout <= 0 {
		timeout = DefaultQueryTimeout
	}
	query := newQuery(name, qtype)

	resp, err := u.exchange(ctx, ex, query, server, "udp", timeout)
	if err != nil || !resp.Truncated {
		return resp, err
	}
	query.Id = dns.Id()
	return u.exchange(ctx, ex, query, server, "tcp", timeout)
}

func (u *Upstream) exchange(ctx context.Context, ex Exchanger, query *dns.Msg, server, network string, timeout time.Duration) (*dns.Msg, error) {
	return exchangeOnce(ctx, ex, query, server, network, timeout, u.Logf)
}

func truncatedNote(m *dns.Msg) string {
	if m.Truncated {
		return ", truncated"
	}
	return ""
}

// newQuery builds a recursive query with EDNS0, DO and CD.
func newQuery(name string, qtype uint16) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.RecursionDesired = true
	m.CheckingDisabled = true
	m.SetEdns0(ednsBufferSize, true)
	return m
}

// ParseServer turns ADDR or ADDR:PORT into host:port, port 53 by default.
// ADDR is an IPv4 or IPv6 address; an IPv6 address with a port needs
// brackets ([::1]:5353).
func ParseServer(s string) (string, error) {
	if addr, err := netip.ParseAddr(s); err == nil {
		return net.JoinHostPort(addr.String(), "53"), nil
	}
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		return "", fmt.Errorf("dnssec: resolver %q is not ADDR or ADDR:PORT with an IP address (use [ADDR]:PORT for IPv6)", s)
	}
	if ap.Port() == 0 {
		return "", fmt.Errorf("dnssec: resolver %q has port 0", s)
	}
	return ap.String(), nil
}

// ResolvConfServers returns the nameserver addresses in a resolv.conf file
// as host:port. Search and domain lines are ignored: names are always taken
// as absolute.
func ResolvConfServers(path string) ([]string, error) {
	conf, err := dns.ClientConfigFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("dnssec: reading %s: %w", path, err)
	}
	var servers []string
	for _, s := range conf.Servers {
		// Link-local IPv6 servers may carry a zone (fe80::1%eth0).
		host := strings.TrimSpace(s)
		if host == "" {
			continue
		}
		servers = append(servers, net.JoinHostPort(host, strconv.Itoa(portOrDefault(conf.Port))))
	}
	if len(servers) == 0 {
		return nil, fmt.Errorf("dnssec: %s lists no nameserver; pass --resolver ADDR", path)
	}
	return servers, nil
}

func portOrDefault(p string) int {
	n, err := strconv.Atoi(p)
	if err != nil || n <= 0 || n > 65535 {
		return 53
	}
	return n
}
