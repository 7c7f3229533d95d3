package dnssec

import (
	_ "embed"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/miekg/dns"
)

// namedRoot is IANA's root hints file (named.root, "last update: April 18,
// 2024", root zone version 2024041801), as Debian's dns-root-data package
// ships it in /usr/share/dns/root.hints.
//
//go:embed named.root
var namedRoot string

// DefaultRootHints returns the addresses (host:53) of the 13 root servers,
// IPv4 and IPv6, from the embedded IANA root hints.
func DefaultRootHints() []string {
	hints, err := ParseRootHints(strings.NewReader(namedRoot), "embedded named.root")
	if err != nil {
		panic("dnssec: embedded root hints: " + err.Error())
	}
	return hints
}

// ParseRootHints reads a root hints file in zone-file form, like IANA's
// named.root: NS records for the root and A or AAAA records for the server
// names. It returns the servers' addresses as host:53. name is used in
// error messages.
func ParseRootHints(r io.Reader, name string) ([]string, error) {
	zp := dns.NewZoneParser(r, ".", name)
	var servers []string
	addrs := map[string][]string{}
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		switch x := rr.(type) {
		case *dns.NS:
			if x.Hdr.Name != "." {
				return nil, fmt.Errorf("dnssec: %s: NS record for %s; root hints name the root's servers only", name, x.Hdr.Name)
			}
			servers = append(servers, dns.CanonicalName(x.Ns))
		case *dns.A:
			n := dns.CanonicalName(x.Hdr.Name)
			addrs[n] = append(addrs[n], net.JoinHostPort(x.A.String(), "53"))
		case *dns.AAAA:
			n := dns.CanonicalName(x.Hdr.Name)
			addrs[n] = append(addrs[n], net.JoinHostPort(x.AAAA.String(), "53"))
		default:
			return nil, fmt.Errorf("dnssec: %s: unexpected %s record for %s in root hints",
				name, dns.TypeToString[rr.Header().Rrtype], rr.Header().Name)
		}
	}
	if err := zp.Err(); err != nil {
		return nil, fmt.Errorf("dnssec: reading root hints: %w", err)
	}
	var out []string
	for _, s := range servers {
		out = append(out, addrs[s]...)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("dnssec: %s: no root server with an address; expected \". NS name\" and \"name A address\" lines", name)
	}
	return out, nil
}
