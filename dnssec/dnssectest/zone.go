package dnssectest

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/miekg/dns"

	"github.com/mxclient/mxclient/internal/dnscrypto"
)

// Denial selects how a signed zone proves that names and types do not exist.
type Denial int

const (
	// NSEC is a chain of NSEC records (RFC 4034 §4, RFC 4035 §2.3).
	NSEC Denial = iota
	// NSEC3 is a chain of hashed NSEC3 records (RFC 5155) that covers every
	// delegation, secure or not.
	NSEC3
	// NSEC3OptOut is an NSEC3 chain with the opt-out flag on every record:
	// insecure delegations, and empty non-terminals that exist only because
	// of them, have no NSEC3 record of their own (RFC 5155 §6).
	NSEC3OptOut
)

// String returns the name of d as the package's constants spell it.
func (d Denial) String() string {
	switch d {
	case NSEC:
		return "NSEC"
	case NSEC3:
		return "NSEC3"
	case NSEC3OptOut:
		return "NSEC3OptOut"
	}
	return "Denial(" + strconv.Itoa(int(d)) + ")"
}

// Defaults that ZoneOptions falls back to.
const (
	DefaultAlgorithm = dns.ECDSAP256SHA256
	DefaultRSABits   = 2048
	DefaultTTL       = 3600
)

// ZoneOptions configures one zone of a Lab. The zero value is a zone signed
// with one ECDSA P-256 key (flags 257) and an NSEC chain.
type ZoneOptions struct {
	// Algorithm is the DNSSEC algorithm number of the zone's keys: 5, 7, 8,
	// 10, 13, 14, 15 or 16. Zero means DefaultAlgorithm (13).
	Algorithm uint8
	// RSABits is the modulus size for the RSA algorithms, 512 to 4096. Zero
	// means DefaultRSABits. Keys under 1024 bits need GODEBUG rsa1024min=0.
	RSABits int
	// SplitKeys gives the zone a KSK (flags 257), which signs only the DNSKEY
	// RRset, and a ZSK (flags 256), which signs everything else. Without it
	// one combined signing key (flags 257) signs everything.
	SplitKeys bool
	// Denial is the zone's denial-of-existence mechanism.
	Denial Denial
	// NSEC3Iterations is the number of extra SHA-1 iterations of NSEC3
	// hashing. RFC 9276 §3.1 recommends 0.
	NSEC3Iterations uint16
	// NSEC3Salt is the NSEC3 salt in hexadecimal; empty means no salt.
	NSEC3Salt string
	// Unsigned serves the zone without DNSSEC records and puts no DS in the
	// parent, so that the parent's NSEC or NSEC3 proves an insecure
	// delegation.
	Unsigned bool
	// TTL is the TTL of the generated records and the default TTL of the
	// records that Zone.Add parses. Zero means DefaultTTL.
	TTL uint32
	// Faults are the deliberate defects of this zone, applied when the lab
	// starts. See Fault.
	Faults []Fault
	// ExtraServers are name servers of the zone besides ns1.<origin>, each
	// with a chosen behaviour, such as a dead or lame server. See
	// ServerKind.
	ExtraServers []ExtraServer
	// NoDefaultServer leaves ns1.<origin> out of the zone's NS records and
	// the parent's referral, so that ExtraServers are the zone's only name
	// servers. The zone's own server still listens at Zone.Addr.
	NoDefaultServer bool
}

// Zone is one zone of a Lab, created by Lab.Zone. Addr, DNSKEYs and DS
// return data only after Lab.Start.
type Zone struct {
	lab    *Lab
	origin string
	opts   ZoneOptions
	parent *Zone
	// index is the zone's position in Lab.zones, which fixes its address.
	index int
	// added holds the records from Add, before the lab adds its own.
	added []dns.RR
	// servers are the zone's name servers in NS record order. Start sets
	// their addresses.
	servers []NameServer
	// referBack makes every server answer with a referral to the parent,
	// for ReferralLoop.
	referBack bool

	// The fields below are set by Lab.Start.

	addr string
	keys *keySet
	// ds is the DS RRset that the parent publishes for this zone.
	ds   []dns.RR
	soa  *dns.SOA
	data *zoneData
}

// Origin returns the zone's apex name in canonical form.
func (z *Zone) Origin() string { return z.origin }

// Addr returns the address of the zone's authoritative server, or "" before
// Lab.Start.
func (z *Zone) Addr() string { return z.addr }

// DNSKEYs returns the DNSKEY RRset that the zone publishes, including any
// keys that its faults add. It is empty for unsigned zones and before
// Lab.Start.
func (z *Zone) DNSKEYs() []*dns.DNSKEY {
	if z.keys == nil {
		return nil
	}
	var keys []*dns.DNSKEY
	for _, rr := range z.keys.published {
		keys = append(keys, rr.(*dns.DNSKEY))
	}
	return keys
}

// DS returns the DS RRset that the parent zone publishes for this zone. It
// is empty for the root, for unsigned zones and before Lab.Start.
func (z *Zone) DS() []*dns.DS {
	var ds []*dns.DS
	for _, rr := range z.ds {
		ds = append(ds, rr.(*dns.DS))
	}
	return ds
}

// Add parses zone-file text and adds the records to the zone, like AddErr,
// but panics on an error. It suits tests and fixed demonstration zones.
func (z *Zone) Add(records ...string) {
	if err := z.AddErr(records...); err != nil {
		panic(err)
	}
}

// AddErr parses zone-file text and adds the records to the zone. Each
// string may hold several lines. Owner names are relative to the zone's
// origin unless they end in a dot, "@" is the origin, and records without a
// TTL take ZoneOptions.TTL.
//
// The lab generates the SOA (unless the text has one at the apex), the apex
// NS RRset and its address record ns1.<origin>, the delegations to the
// lab's child zones, and all DNSSEC records. AddErr therefore rejects
// DNSKEY, RRSIG, NSEC, NSEC3 and NSEC3PARAM records, records outside the
// zone, and any record once the lab has started.
func (z *Zone) AddErr(records ...string) error {
	if z.lab.started {
		return fmt.Errorf("dnssectest: adding records to %s: the lab has already started", z.origin)
	}
	var parsed []dns.RR
	for _, text := range records {
		rrs, err := z.parse(text)
		if err != nil {
			return err
		}
		parsed = append(parsed, rrs...)
	}
	z.added = append(z.added, parsed...)
	return nil
}

// parse reads one block of zone-file text relative to the zone's origin.
func (z *Zone) parse(text string) ([]dns.RR, error) {
	header := fmt.Sprintf("$TTL %d\n", z.opts.TTL)
	zp := dns.NewZoneParser(strings.NewReader(header+text), z.origin, "")
	zp.SetIncludeAllowed(false)
	var rrs []dns.RR
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		if err := z.checkAdded(rr); err != nil {
			return nil, err
		}
		rr.Header().Name = dns.CanonicalName(rr.Header().Name)
		rrs = append(rrs, rr)
	}
	if err := zp.Err(); err != nil {
		return nil, fmt.Errorf("dnssectest: parsing records for %s: %w", z.origin, err)
	}
	return rrs, nil
}

// checkAdded rejects a record that Add must not accept.
func (z *Zone) checkAdded(rr dns.RR) error {
	h := rr.Header()
	if !dns.IsSubDomain(z.origin, h.Name) {
		return fmt.Errorf("dnssectest: record %q is outside zone %s", rr.String(), z.origin)
	}
	if h.Class != dns.ClassINET {
		return fmt.Errorf("dnssectest: record %q: only class IN is served", rr.String())
	}
	switch h.Rrtype {
	case dns.TypeDNSKEY, dns.TypeRRSIG, dns.TypeNSEC, dns.TypeNSEC3, dns.TypeNSEC3PARAM:
		return fmt.Errorf("dnssectest: record %q: the lab generates %s records when it signs the zone",
			rr.String(), dns.TypeToString[h.Rrtype])
	case dns.TypeSOA:
		if !strings.EqualFold(h.Name, z.origin) {
			return fmt.Errorf("dnssectest: record %q: SOA is only allowed at the apex", rr.String())
		}
	}
	return nil
}

// absName turns a name relative to the zone's origin, "@" or an absolute
// name into a canonical absolute name.
func (z *Zone) absName(name string) string {
	return absoluteName(z.origin, name)
}

// absoluteName turns a name relative to origin, "" or "@" (origin itself)
// or an absolute name into a canonical absolute name.
func absoluteName(origin, name string) string {
	switch {
	case name == "" || name == "@":
		return origin
	case dns.IsFqdn(name):
		return dns.CanonicalName(name)
	case origin == ".":
		return dns.CanonicalName(name + ".")
	}
	return dns.CanonicalName(name + "." + origin)
}

// signed reports whether the zone carries DNSSEC records.
func (z *Zone) signed() bool { return !z.opts.Unsigned }

// normalizeOptions fills in defaults and checks opts for the zone at origin.
func normalizeOptions(origin string, opts ZoneOptions) (ZoneOptions, error) {
	if opts.Algorithm == 0 {
		opts.Algorithm = DefaultAlgorithm
	}
	if opts.TTL == 0 {
		opts.TTL = DefaultTTL
	}
	if !dnscrypto.Supported(opts.Algorithm) {
		return opts, fmt.Errorf("dnssectest: zone %s: unsupported algorithm %d", origin, opts.Algorithm)
	}
	if isRSA(opts.Algorithm) {
		if opts.RSABits == 0 {
			opts.RSABits = DefaultRSABits
		}
		if opts.RSABits < 512 || opts.RSABits > 4096 {
			return opts, fmt.Errorf("dnssectest: zone %s: RSA key size %d is outside 512 to 4096 bits",
				origin, opts.RSABits)
		}
	}
	if opts.Denial < NSEC || opts.Denial > NSEC3OptOut {
		return opts, fmt.Errorf("dnssectest: zone %s: unknown denial %d", origin, int(opts.Denial))
	}
	salt, err := hex.DecodeString(opts.NSEC3Salt)
	if err != nil || len(salt) > 255 {
		return opts, fmt.Errorf("dnssectest: zone %s: NSEC3 salt %q is not 0 to 255 bytes of hex",
			origin, opts.NSEC3Salt)
	}
	opts.NSEC3Salt = strings.ToUpper(opts.NSEC3Salt)
	if opts.Unsigned && len(opts.Faults) > 0 {
		return opts, errors.New("dnssectest: zone " + origin + ": an unsigned zone cannot carry faults")
	}
	return opts, nil
}

func isRSA(alg uint8) bool {
	switch alg {
	case dns.RSASHA1, dns.RSASHA1NSEC3SHA1, dns.RSASHA256, dns.RSASHA512:
		return true
	}
	return false
}
