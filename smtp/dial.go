package smtp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"

	"golang.org/x/net/proxy"
)

// Dialer opens TCP connections. *net.Dialer is one, for direct
// connections; NewSOCKS5Dialer and NewProxyCommand make the others.
type Dialer interface {
	DialContext(ctx context.Context, network, address string) (net.Conn, error)
}

// Dial connects to an SMTP server at addr through d, or directly when d
// is nil. Only an IP address is passed on, so that a proxy never resolves
// a name: every name was resolved and validated before. The caller
// limits the time to connect with ctx, normally to Timeouts.Connect; the
// connection outlives ctx.
func Dial(ctx context.Context, addr netip.AddrPort, d Dialer) (net.Conn, error) {
	if !addr.IsValid() {
		return nil, fmt.Errorf("smtp: connecting to %v: invalid address", addr)
	}
	addr = netip.AddrPortFrom(addr.Addr().Unmap(), addr.Port())
	if d == nil {
		d = &net.Dialer{}
	}
	conn, err := d.DialContext(ctx, "tcp", addr.String())
	if err != nil {
		return nil, fmt.Errorf("smtp: connecting to %s: %w", addr, err)
	}
	return conn, nil
}

// NewSOCKS5Dialer returns a Dialer that connects through the SOCKS5 proxy
// (RFC 1928) at proxyURL, "socks5://HOST:PORT", with an optional
// "USER:PASSWORD@" for username and password authentication (RFC 1929).
// It sends the proxy CONNECT requests for IP addresses only. A host name
// in proxyURL is resolved with the system's resolver, as any program
// resolves the name of its proxy.
func NewSOCKS5Dialer(proxyURL string) (Dialer, error) {
	u, err := url.Parse(proxyURL)
	if err != nil {
		return nil, fmt.Errorf("smtp: invalid proxy URL %q: %w", proxyURL, err)
	}
	if u.Scheme != "socks5" {
		return nil, fmt.Errorf("smtp: invalid proxy URL %q: the scheme must be socks5", proxyURL)
	}
	if u.Hostname() == "" || u.Port() == "" || u.Path != "" && u.Path != "/" || u.RawQuery != "" {
		return nil, fmt.Errorf("smtp: invalid proxy URL %q: want socks5://HOST:PORT", proxyURL)
	}
	var auth *proxy.Auth
	if u.User != nil {
		password, _ := u.User.Password()
		auth = &proxy.Auth{User: u.User.Username(), Password: password}
	}
	d, err := proxy.SOCKS5("tcp", u.Host, auth, &net.Dialer{})
	if err != nil {
		return nil, fmt.Errorf("smtp: proxy %s: %w", u.Redacted(), err)
	}
	cd, ok := d.(proxy.ContextDialer)
	if !ok {
		return nil, errors.New("smtp: golang.org/x/net/proxy returned a SOCKS5 dialer without DialContext")
	}
	return &socks5Dialer{d: cd, proxy: u.Redacted()}, nil
}

// socks5Dialer names the proxy in its errors and refuses host names.
type socks5Dialer struct {
	d     proxy.ContextDialer
	proxy string
}

func (s *socks5Dialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	if _, err := netip.ParseAddrPort(address); err != nil {
		return nil, fmt.Errorf("smtp: the SOCKS5 proxy is given only IP addresses, not %q", address)
	}
	conn, err := s.d.DialContext(ctx, network, address)
	if err != nil {
		return nil, fmt.Errorf("through SOCKS5 proxy %s: %w", s.proxy, err)
	}
	return conn, nil
}
