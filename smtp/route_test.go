package smtp

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mxclient/mxclient/dnssec"
	"github.com/mxclient/mxclient/dnssec/dnssectest"
	"github.com/mxclient/mxclient/trustanchor"
)

var routeNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

const (
	digest1 = "0101010101010101010101010101010101010101010101010101010101010101"
	digest2 = "0202020202020202020202020202020202020202020202020202020202020202"
)

var (
	routeLabOnce sync.Once
	routeLab     *dnssectest.Lab
	routeLabErr  error
)

// routeTestLab returns a lab with the mail routing cases of this file.
func routeTestLab(t *testing.T) *dnssectest.Lab {
	t.Helper()
	routeLabOnce.Do(func() {
		l := dnssectest.New(dnssectest.Config{Now: routeNow})
		l.Zone(".", dnssectest.ZoneOptions{})
		l.Zone("test.", dnssectest.ZoneOptions{})
		l.Zone("dane.test.", dnssectest.ZoneOptions{}).Add(`
@            MX    10 mx1
@            MX    20 mx2
@            MX    20 mx3
mx1          A     192.0.2.1
mx2          A     192.0.2.2
mx2          AAAA  2001:db8::2
mx3          A     192.0.2.3
_25._tcp.mx1 TLSA  3 1 1 ` + digest1 + `
_25._tcp.mx2 TLSA  2 0 1 ` + digest2 + `
_25._tcp.mx3 TLSA  1 1 1 ` + digest1 + `
`)
		l.Zone("nullmx.test.", dnssectest.ZoneOptions{}).Add("@ MX 0 .\n@ MX 10 mx.dane.test.")
		l.Zone("implicit.test.", dnssectest.ZoneOptions{}).Add("@ A 192.0.2.30")
		l.Zone("bogusmx.test.", dnssectest.ZoneOptions{Faults: []dnssectest.Fault{
			{Kind: dnssectest.AlteredData, Name: "@", Type: dns.TypeMX}}}).Add("@ MX 10 mx\nmx A 192.0.2.40")
		l.Zone("hosting.test.", dnssectest.ZoneOptions{}).Add(`
host           A     192.0.2.50
_25._tcp.host  TLSA  3 1 1 ` + digest1 + `
host2          A     192.0.2.51
`)
		l.Zone("cname.test.", dnssectest.ZoneOptions{}).Add(`
@             MX    10 mx
@             MX    20 mx2
@             MX    30 mx3
mx            CNAME host.hosting.test.
mx2           CNAME host2.hosting.test.
_25._tcp.mx2  TLSA  3 1 1 ` + digest2 + `
mx3           CNAME www.unsigned.test.
_25._tcp.mx3  TLSA  3 1 1 ` + digest2 + `
`)
		l.Zone("unsigned.test.", dnssectest.ZoneOptions{Unsigned: true}).Add(`
@            MX    10 mx1.dane.test.
@            MX    20 mx
www          A     192.0.2.60
mx           A     192.0.2.61
_25._tcp.mx  TLSA  3 1 1 ` + digest1 + `
`)
		l.Zone("bogustlsa.test.", dnssectest.ZoneOptions{Faults: []dnssectest.Fault{
			{Kind: dnssectest.AlteredData, Name: "_25._tcp.mx", Type: dns.TypeTLSA}}}).Add(`
@            MX    10 mx
mx           A     192.0.2.70
_25._tcp.mx  TLSA  3 1 1 ` + digest1 + `
`)
		routeLab = l
		routeLabErr = l.Start()
	})
	if routeLabErr != nil {
		t.Fatalf("starting the lab: %v", routeLabErr)
	}
	return routeLab
}

func routeValidator(t *testing.T, lab *dnssectest.Lab) *dnssec.Validator {
	t.Helper()
	var anchors []trustanchor.Anchor
	for _, rr := range lab.TrustAnchor() {
		anchors = append(anchors, trustanchor.Anchor{DS: rr.(*dns.DS)})
	}
	v, err := dnssec.New(dnssec.Config{
		Source:  &dnssec.Upstream{Servers: []string{lab.Resolver(dnssectest.Normal)}},
		Anchors: anchors,
		Now:     func() time.Time { return routeNow },
	})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func findRoute(t *testing.T, domain string) (*Route, error) {
	t.Helper()
	v := routeValidator(t, routeTestLab(t))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return FindRoute(ctx, v, domain, RouteOptions{Rand: rand.New(rand.NewPCG(1, 2))})
}

// hostPolicy is what a test expects of one host.
type hostPolicy struct {
	name   string
	policy Policy
	// base is the TLSA base domain, "" when no TLSA applies.
	base string
}

func TestFindRouteHosts(t *testing.T) {
	tests := []struct {
		domain   string
		implicit bool
		hosts    []hostPolicy
	}{
		{"dane.test", false, []hostPolicy{
			{"mx1.dane.test.", PolicyDANEVerified, "mx1.dane.test."},
			{"mx2.dane.test.", PolicyDANEVerified, "mx2.dane.test."},
			{"mx3.dane.test.", PolicyTLSUnauthenticated, "mx3.dane.test."},
		}},
		{"implicit.test", true, []hostPolicy{{"implicit.test.", PolicyOpportunistic, ""}}},
		// A CNAME'd host: the expanded name first, then the name as the MX
		// gives it; behind an insecure target, only a secure CNAME counts.
		{"cname.test", false, []hostPolicy{
			{"mx.cname.test.", PolicyDANEVerified, "host.hosting.test."},
			{"mx2.cname.test.", PolicyDANEVerified, "mx2.cname.test."},
			{"mx3.cname.test.", PolicyDANEVerified, "mx3.cname.test."},
		}},
		// An insecure MX RRset: a secure TLSA set is still enforced, and
		// TLSA records of an unsigned host are ignored.
		{"unsigned.test", false, []hostPolicy{
			{"mx1.dane.test.", PolicyDANETrusted, "mx1.dane.test."},
			{"mx.unsigned.test.", PolicyOpportunistic, ""},
		}},
		{"bogustlsa.test", false, []hostPolicy{{"mx.bogustlsa.test.", PolicyUnusable, ""}}},
	}
	for _, tt := range tests {
		t.Run(tt.domain, func(t *testing.T) {
			t.Parallel()
			route, err := findRoute(t, tt.domain)
			if err != nil {
				t.Fatalf("FindRoute(%s) = %v", tt.domain, err)
			}
			if route.Implicit != tt.implicit {
				t.Errorf("FindRoute(%s).Implicit = %v, want %v", tt.domain, route.Implicit, tt.implicit)
			}
			if len(route.Hosts) != len(tt.hosts) {
				t.Fatalf("FindRoute(%s) has %d hosts, want %d", tt.domain, len(route.Hosts), len(tt.hosts))
			}
			for i, want := range tt.hosts {
				h := route.Hosts[i]
				if h.Name != want.name {
					t.Errorf("host %d = %s, want %s", i, h.Name, want.name)
				}
				if h.Policy != want.policy {
					t.Errorf("host %s policy = %s (err %v), want %s", h.Name, h.Policy, h.Err, want.policy)
				}
				base := ""
				if h.TLSA != nil {
					base = h.TLSA.BaseDomain
				}
				if base != want.base {
					t.Errorf("host %s TLSA base domain = %q, want %q", h.Name, base, want.base)
				}
				if want.policy == PolicyUnusable && h.Err == nil {
					t.Errorf("host %s is unusable without a reason", h.Name)
				}
				if want.policy != PolicyUnusable && len(h.Addrs) == 0 {
					t.Errorf("host %s has no addresses", h.Name)
				}
			}
		})
	}
}

func TestFindRouteErrors(t *testing.T) {
	tests := []struct {
		domain    string
		kind      RouteErrorKind
		temporary bool
	}{
		{"nope.test", NoSuchDomain, false},
		{"nullmx.test", NullMX, false},
		{"bogusmx.test", DNSFailure, true},
		{"bad..domain", BadDomain, false},
		{strings.Repeat("a.", 127) + "test", BadDomain, false},
	}
	for _, tt := range tests {
		t.Run(tt.domain[:min(len(tt.domain), 20)], func(t *testing.T) {
			t.Parallel()
			_, err := findRoute(t, tt.domain)
			var re *RouteError
			if !errors.As(err, &re) {
				t.Fatalf("FindRoute(%s) error = %v, want a *RouteError", tt.domain, err)
			}
			if re.Kind != tt.kind {
				t.Errorf("FindRoute(%s) error kind = %d (%v), want %d", tt.domain, re.Kind, err, tt.kind)
			}
			if re.Temporary() != tt.temporary {
				t.Errorf("FindRoute(%s) Temporary() = %v, want %v", tt.domain, re.Temporary(), tt.temporary)
			}
		})
	}
}

func TestFindRouteAddressLiteral(t *testing.T) {
	tests := []struct {
		in   string
		want netip.Addr
	}{
		{"[192.0.2.9]", netip.MustParseAddr("192.0.2.9")},
		{"[IPv6:2001:db8::9]", netip.MustParseAddr("2001:db8::9")},
	}
	for _, tt := range tests {
		route, err := findRoute(t, tt.in)
		if err != nil {
			t.Fatalf("FindRoute(%s) = %v", tt.in, err)
		}
		if route.Literal != tt.want || len(route.Hosts) != 0 {
			t.Errorf("FindRoute(%s) = literal %v with %d hosts, want literal %v", tt.in, route.Literal, len(route.Hosts), tt.want)
		}
	}
	for _, bad := range []string{"[2001:db8::9]", "[IPv6:192.0.2.9]", "[300.0.0.1]"} {
		if _, err := findRoute(t, bad); err == nil {
			t.Errorf("FindRoute(%s) error = nil, want an invalid-domain error", bad)
		}
	}
}

func TestASCIIDomain(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Example.TEST", "example.test."},
		{"münchen.test", "xn--mnchen-3ya.test."},
		{"example.test.", "example.test."},
	}
	for _, tt := range tests {
		got, err := ASCIIDomain(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ASCIIDomain(%q) = %q, %v, want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestReferenceIDs(t *testing.T) {
	h := &Host{Name: "mx.cname.test.", TLSA: &TLSA{BaseDomain: "host.hosting.test."}}
	got := strings.Join(h.ReferenceIDs("Cname.Test."), ",")
	if want := "host.hosting.test,mx.cname.test,cname.test"; got != want {
		t.Errorf("ReferenceIDs = %s, want %s", got, want)
	}
}
