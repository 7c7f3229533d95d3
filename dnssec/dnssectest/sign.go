package dnssectest

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/mxclient/mxclient/internal/dnscrypto"
)

// build assembles the zone's data from the added and generated records and,
// for a signed zone, adds the keys and the denial chain and signs it.
func (z *Zone) build() error {
	d := newZoneData(z.origin)
	for _, rr := range z.added {
		d.add(rr)
	}
	for _, rr := range z.generatedRecords() {
		d.add(rr)
	}
	z.addReferralGlue(d)
	d.index()
	z.soa = d.get(z.origin, dns.TypeSOA).rrs[0].(*dns.SOA)
	if z.signed() {
		if err := z.sign(d); err != nil {
			return err
		}
	}
	z.data = d
	return nil
}

// generatedRecords returns the records the lab adds to the zone. They are
// the SOA unless one was added, the apex NS RRset with the addresses of
// the servers named in the zone, and the NS, glue and DS of every child
// zone. They also include the addresses of other zones' servers whose
// names the zone encloses.
func (z *Zone) generatedRecords() []dns.RR {
	ttl := z.opts.TTL
	var rrs []dns.RR
	if !z.hasAddedSOA() {
		rrs = append(rrs, &dns.SOA{
			Hdr:     header(z.origin, dns.TypeSOA, ttl),
			Ns:      z.servers[0].Name,
			Mbox:    "hostmaster." + trimRoot(z.origin),
			Serial:  1,
			Refresh: 7200,
			Retry:   3600,
			Expire:  1209600,
			Minttl:  ttl,
		})
	}
	rrs = append(rrs, z.serverRecords(ttl, true)...)
	for _, child := range z.lab.zones {
		if child.parent == z {
			rrs = append(rrs, child.serverRecords(ttl, false)...)
			rrs = append(rrs, child.ds...)
		}
	}
	return append(rrs, z.outOfZoneAddresses()...)
}

// addReferralGlue records in d how the zone's referrals depart from the
// address records it holds: the out-of-zone glue of OutOfBailiwickGlue
// servers of its children, and the GluelessServer names whose addresses it
// holds but must not give as glue.
func (z *Zone) addReferralGlue(d *zoneData) {
	for _, other := range z.lab.zones {
		for _, s := range other.servers {
			switch {
			case s.Kind == OutOfBailiwickGlue && other.parent == z:
				d.extraGlue[s.Name] = append(d.extraGlue[s.Name], addressRecord(s.Name, s.Glue, z.opts.TTL))
			case s.Kind == GluelessServer && z.lab.closestZone(s.Name) == z:
				d.withheldGlue[s.Name] = true
			}
		}
	}
}

func header(name string, t uint16, ttl uint32) dns.RR_Header {
	return dns.RR_Header{Name: name, Rrtype: t, Class: dns.ClassINET, Ttl: ttl}
}

func (z *Zone) hasAddedSOA() bool {
	for _, rr := range z.added {
		if rr.Header().Rrtype == dns.TypeSOA {
			return true
		}
	}
	return false
}

// sign adds the DNSKEY RRset, the NSEC3PARAM and the denial chain to d,
// then signs every authoritative RRset.
func (z *Zone) sign(d *zoneData) error {
	for _, rr := range z.keys.published {
		d.add(rr)
	}
	// RFC 9077: denial records take the lower of the SOA's TTL and its
	// minimum field.
	negativeTTL := min(z.soa.Minttl, z.soa.Hdr.Ttl)
	if z.opts.Denial == NSEC {
		d.buildNSEC(negativeTTL)
	} else {
		param := z.nsec3Param()
		d.add(param)
		d.buildNSEC3(param, negativeTTL, z.opts.Denial == NSEC3OptOut)
		if z.hasFault(WrongNSEC3Owner) {
			for _, e := range d.nsec3 {
				e.set.rrs[0].Header().Name = e.hash + ".misplaced." + trimRoot(z.origin)
			}
		}
	}

	for owner, n := range d.nodes {
		if d.belowCut(owner) {
			continue
		}
		for t, set := range n {
			// At a delegation point only DS and NSEC belong to this zone.
			if d.cuts[owner] && t != dns.TypeDS && t != dns.TypeNSEC {
				continue
			}
			if err := z.signRRset(owner, t, set); err != nil {
				return err
			}
		}
	}
	for _, e := range d.nsec3 {
		if err := z.signRRset(e.set.rrs[0].Header().Name, dns.TypeNSEC3, e.set); err != nil {
			return err
		}
	}
	return z.checkReplayTargets(d)
}

// checkReplayTargets reports a ReplayedWildcardSignature fault whose target
// RRset does not exist, since it would otherwise change nothing.
func (z *Zone) checkReplayTargets(d *zoneData) error {
	for _, f := range z.opts.Faults {
		if f.Kind == ReplayedWildcardSignature && d.get(z.absName(f.Name), f.Type) == nil {
			return fmt.Errorf("dnssectest: zone %s: fault %s: the zone has no such RRset", z.origin, f)
		}
	}
	return nil
}

func (z *Zone) nsec3Param() *dns.NSEC3PARAM {
	// RFC 5155 §4.1.2: the NSEC3PARAM flags, opt-out included, are zero.
	return &dns.NSEC3PARAM{
		Hdr:        header(z.origin, dns.TypeNSEC3PARAM, z.opts.TTL),
		Hash:       dns.SHA1,
		Iterations: z.opts.NSEC3Iterations,
		SaltLength: uint8(len(z.opts.NSEC3Salt) / 2),
		Salt:       z.opts.NSEC3Salt,
	}
}

// signingPlan is the keys, validity window and fault effects that apply to
// the signing of one RRset.
type signingPlan struct {
	inception, expiration time.Time
	keys                  []*zoneKey
	missing, corrupt      bool
	altered               bool
	replay                *Fault
}

// signingFor applies z's faults to the signing of the RRset at owner of
// type t.
func (z *Zone) signingFor(owner string, t uint16) signingPlan {
	s := signingPlan{inception: z.lab.inception, expiration: z.lab.expiration, keys: []*zoneKey{z.keys.zsk}}
	if t == dns.TypeDNSKEY {
		// As in RFC 5011 revocation, a revoked key also signs the DNSKEY
		// RRset it is in.
		s.keys = []*zoneKey{z.keys.ksk}
		if z.keys.revoked != nil {
			s.keys = append(s.keys, z.keys.revoked)
		}
		s.missing = z.hasFault(UnsignedDNSKEY)
	}
	now := z.lab.now
	for _, f := range z.opts.Faults {
		if !f.Kind.targetable() || !f.matches(z, owner, t) {
			continue
		}
		switch f.Kind {
		case ExpiredSignatures:
			s.inception, s.expiration = now.Add(-31*24*time.Hour), now.Add(-24*time.Hour)
		case NotYetValidSignatures:
			s.inception, s.expiration = now.Add(24*time.Hour), now.Add(31*24*time.Hour)
		case MissingRRSIG:
			s.missing = true
		case CorruptSignature:
			s.corrupt = true
		case AlteredData:
			s.altered = true
		case RevokedKey:
			if t != dns.TypeDNSKEY {
				s.keys = []*zoneKey{z.keys.revoked}
			}
		case ReplayedWildcardSignature:
			s.replay = &f
		}
	}
	return s
}

// signRRset signs set, the RRset at owner of type t, as z's faults demand.
func (z *Zone) signRRset(owner string, t uint16, set *rrset) error {
	s := z.signingFor(owner, t)
	signed := set.rrs
	if s.altered {
		set.rrs = alterRRset(set.rrs)
	}
	if s.missing {
		return nil
	}
	if s.replay != nil {
		sig, err := z.replayedSignature(owner, t, signed, *s.replay)
		set.sigs = []dns.RR{sig}
		return err
	}

	for i, k := range s.keys {
		sig := z.newRRSIG(k, owner, t, signed, s.inception, s.expiration)
		if err := dnscrypto.Sign(sig, k.private, signed); err != nil {
			return fmt.Errorf("dnssectest: signing %s %s in %s: %w",
				owner, dns.TypeToString[t], z.origin, err)
		}
		if s.corrupt {
			corruptSignature(sig)
		}
		if trap := z.keys.trap; trap != nil && i == 0 {
			// The fake signatures come first, so that a validator trying
			// them in order meets the real one last.
			fake := *sig
			fake.KeyTag = z.keys.zsk.tag()
			set.sigs = append(set.sigs, trap.fakeSignatures(&fake, len(trap.keys))...)
		}
		set.sigs = append(set.sigs, sig)
	}
	return nil
}

// newRRSIG returns an unsigned RRSIG by k over the RRset at owner of type t.
// Its labels field leaves out a leading wildcard label (RFC 4034 §3.1.3).
func (z *Zone) newRRSIG(k *zoneKey, owner string, t uint16, rrs []dns.RR,
	inception, expiration time.Time) *dns.RRSIG {
	labels := dns.CountLabel(owner)
	if strings.HasPrefix(owner, "*.") {
		labels--
	}
	ttl := rrs[0].Header().Ttl
	return &dns.RRSIG{
		Hdr:         header(owner, dns.TypeRRSIG, ttl),
		TypeCovered: t,
		Algorithm:   k.dnskey.Algorithm,
		Labels:      uint8(labels),
		OrigTtl:     ttl,
		Expiration:  uint32(expiration.Unix()),
		Inception:   uint32(inception.Unix()),
		KeyTag:      k.tag(),
		SignerName:  z.origin,
	}
}

// replayedSignature makes the RRSIG of the ReplayedWildcardSignature fault:
// labels set to the label count of z's parent name, signed by the ZSK of
// f.Signer (z itself by default) with that zone as signer.
func (z *Zone) replayedSignature(owner string, t uint16, rrs []dns.RR, f Fault) (dns.RR, error) {
	signer := z
	if f.Signer != "" {
		signer = z.lab.byOrigin[dns.CanonicalName(dns.Fqdn(f.Signer))]
	}
	k := signer.keys.zsk
	sig := signer.newRRSIG(k, owner, t, rrs, z.lab.inception, z.lab.expiration)
	sig.Labels = uint8(dns.CountLabel(z.origin) - 1)
	if err := dnscrypto.Sign(sig, k.private, rrs); err != nil {
		return nil, fmt.Errorf("dnssectest: signing the replayed wildcard %s %s: %w",
			owner, dns.TypeToString[t], err)
	}
	return sig, nil
}

// corruptSignature inverts one octet in the middle of sig's signature.
func corruptSignature(sig *dns.RRSIG) {
	b, err := base64.StdEncoding.DecodeString(sig.Signature)
	if err != nil || len(b) == 0 {
		return
	}
	b[len(b)/2] ^= 0xFF
	sig.Signature = base64.StdEncoding.EncodeToString(b)
}

// alterRRset returns rrs with its first record changed in a way that keeps
// the record well formed where the type allows.
func alterRRset(rrs []dns.RR) []dns.RR {
	out := append([]dns.RR(nil), rrs...)
	out[0] = alterRecord(rrs[0])
	return out
}

func alterRecord(rr dns.RR) dns.RR {
	c := dns.Copy(rr)
	switch x := c.(type) {
	case *dns.A:
		x.A = append(net.IP(nil), x.A...)
		x.A[len(x.A)-1] ^= 1
	case *dns.AAAA:
		x.AAAA = append(net.IP(nil), x.AAAA...)
		x.AAAA[len(x.AAAA)-1] ^= 1
	case *dns.TXT:
		x.Txt = append(append([]string(nil), x.Txt...), "altered")
	case *dns.MX:
		x.Preference++
	case *dns.SRV:
		x.Port++
	case *dns.CNAME:
		x.Target = "altered." + x.Target
	case *dns.DNAME:
		x.Target = "altered." + x.Target
	case *dns.NS:
		x.Ns = "altered." + x.Ns
	case *dns.PTR:
		x.Ptr = "altered." + x.Ptr
	case *dns.SOA:
		x.Serial++
	case *dns.DS:
		x.Digest = flipHex(x.Digest)
	case *dns.TLSA:
		x.Certificate = flipHex(x.Certificate)
	case *dns.NSEC:
		x.TypeBitMap = toggleType(x.TypeBitMap, dns.TypeTXT)
	case *dns.NSEC3:
		x.TypeBitMap = toggleType(x.TypeBitMap, dns.TypeTXT)
	default:
		// NOTE: other types get their last RDATA octet flipped, which can
		// leave a name or length field malformed.
		raw := new(dns.RFC3597)
		if err := raw.ToRFC3597(c); err != nil || raw.Rdata == "" {
			return c
		}
		raw.Rdata = raw.Rdata[:len(raw.Rdata)-2] + flipHex(raw.Rdata[len(raw.Rdata)-2:])
		return raw
	}
	return c
}

// flipHex inverts the first octet of a hexadecimal string.
func flipHex(s string) string {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) == 0 {
		return s
	}
	b[0] ^= 0xFF
	return strings.ToUpper(hex.EncodeToString(b))
}

// toggleType adds t to a type bitmap, or removes it if present.
func toggleType(types []uint16, t uint16) []uint16 {
	var out []uint16
	found := false
	for _, x := range types {
		if x == t {
			found = true
			continue
		}
		out = append(out, x)
	}
	if !found {
		out = append(out, t)
		slices.Sort(out)
	}
	return out
}
