package dnssec

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// Exchanger sends one query to one server and returns the response. It is
// the seam below every Source: NetExchanger uses the network, while tests
// and replay runners answer in process.
type Exchanger interface {
	// Exchange sends query to server (host:port) over network ("udp" or
	// "tcp"). A response whose ID or question does not match the query is
	// never returned.
	Exchange(ctx context.Context, query *dns.Msg, server, network string) (*dns.Msg, error)
}

// maxUDPResponse is the largest UDP datagram the client reads.
const maxUDPResponse = 65535

// NetExchanger exchanges messages over UDP and TCP sockets.
type NetExchanger struct{}

// Exchange implements Exchanger. Over UDP it keeps reading until a response
// matches the query or the context ends, so that a forged or stray datagram
// cannot displace the real answer.
func (NetExchanger) Exchange(ctx context.Context, query *dns.Msg, server, network string) (*dns.Msg, error) {
	packed, err := query.Pack()
	if err != nil {
		return nil, fmt.Errorf("dnssec: packing query: %w", err)
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, network, server)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if deadline, ok := ctx.Deadline(); ok {
		conn.SetDeadline(deadline)
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	if network == "tcp" {
		return exchangeTCP(conn, query, packed)
	}
	return exchangeUDP(conn, query, packed)
}

func exchangeUDP(conn net.Conn, query *dns.Msg, packed []byte) (*dns.Msg, error) {
	if _, err := conn.Write(packed); err != nil {
		return nil, err
	}
	buf := make([]byte, maxUDPResponse)
	for {
		n, err := conn.Read(buf)
		if err != nil {
			return nil, err
		}
		resp := new(dns.Msg)
		if resp.Unpack(buf[:n]) != nil {
			continue
		}
		if matchesQuery(query, resp) {
			return resp, nil
		}
	}
}

func exchangeTCP(conn net.Conn, query *dns.Msg, packed []byte) (*dns.Msg, error) {
	frame := binary.BigEndian.AppendUint16(nil, uint16(len(packed)))
	if _, err := conn.Write(append(frame, packed...)); err != nil {
		return nil, err
	}
	var length [2]byte
	if _, err := io.ReadFull(conn, length[:]); err != nil {
		return nil, err
	}
	buf := make([]byte, binary.BigEndian.Uint16(length[:]))
	if _, err := io.ReadFull(conn, buf); err != nil {
		return nil, err
	}
	resp := new(dns.Msg)
	if err := resp.Unpack(buf); err != nil {
		return nil, fmt.Errorf("dnssec: malformed TCP response: %w", err)
	}
	if !matchesQuery(query, resp) {
		return nil, errors.New("dnssec: TCP response does not match the query")
	}
	return resp, nil
}

// matchesQuery reports whether resp is a response to query: same ID, the QR
// bit, and the same question (the name compared without regard to case).
func matchesQuery(query, resp *dns.Msg) bool {
	if resp.Id != query.Id || !resp.Response || len(resp.Question) != 1 || len(query.Question) != 1 {
		return false
	}
	q, r := query.Question[0], resp.Question[0]
	return q.Qtype == r.Qtype && q.Qclass == r.Qclass && strings.EqualFold(q.Name, r.Name)
}
