package dnssectest

import (
	"crypto"
	"fmt"

	"github.com/miekg/dns"

	"github.com/mxclient/mxclient/internal/dnscrypto"
)

// zoneKey is a DNSKEY record with its private key.
type zoneKey struct {
	dnskey *dns.DNSKEY
	// private is nil for the crafted keys of the KeyTrap fault, which have
	// no private key.
	private crypto.Signer
}

func (k *zoneKey) tag() uint16 { return k.dnskey.KeyTag() }

// keySet is a signed zone's keys.
type keySet struct {
	// ksk signs the DNSKEY RRset and zsk everything else; both are the
	// same combined signing key unless ZoneOptions.SplitKeys is set.
	ksk, zsk *zoneKey
	// revoked is the extra key of the RevokedKey fault, or nil.
	revoked *zoneKey
	// trap is the KeyTrap fault's crafted keys, or nil.
	trap *keyTrap
	// published is the DNSKEY RRset the zone serves.
	published []dns.RR
	// dsKey is the key that the parent's DS digests: the KSK, or a key the
	// zone does not publish under the WrongDS fault.
	dsKey *dns.DNSKEY
}

// generateKeys makes the zone's keys, applying the faults that change them.
func (z *Zone) generateKeys() (*keySet, error) {
	ks := &keySet{}
	var err error
	if ks.ksk, err = z.newKey(dns.ZONE | dns.SEP); err != nil {
		return nil, err
	}
	ks.zsk = ks.ksk
	if z.opts.SplitKeys {
		if ks.zsk, err = z.newKey(dns.ZONE); err != nil {
			return nil, err
		}
	}
	ks.dsKey = ks.ksk.dnskey

	if z.hasFault(RevokedKSK) {
		// The REVOKE flag changes the key tag, so the DS below and every
		// RRSIG the KSK makes carry the revoked key's tag.
		ks.ksk.dnskey.Flags |= dns.REVOKE
	}
	if z.hasFault(RevokedKey) {
		if ks.revoked, err = z.newKey(dns.ZONE | dns.SEP | dns.REVOKE); err != nil {
			return nil, err
		}
	}
	if z.hasFault(WrongDS) {
		unpublished, err := z.newKey(dns.ZONE | dns.SEP)
		if err != nil {
			return nil, err
		}
		ks.dsKey = unpublished.dnskey
	}

	ks.published = append(ks.published, ks.ksk.dnskey)
	if ks.zsk != ks.ksk {
		ks.published = append(ks.published, ks.zsk.dnskey)
	}
	if ks.revoked != nil {
		ks.published = append(ks.published, ks.revoked.dnskey)
	}
	if f, ok := z.fault(KeyTrap); ok {
		if ks.trap, err = newKeyTrap(ks.zsk.dnskey, f.count()); err != nil {
			return nil, fmt.Errorf("dnssectest: zone %s: %w", z.origin, err)
		}
		ks.published = append(ks.published, ks.trap.keys...)
	}
	return ks, nil
}

// newKey generates a key pair of the zone's algorithm with the given flags.
func (z *Zone) newKey(flags uint16) (*zoneKey, error) {
	private, public, err := dnscrypto.GenerateKey(z.opts.Algorithm, z.opts.RSABits)
	if err != nil {
		return nil, fmt.Errorf("dnssectest: generating a key for %s: %w", z.origin, err)
	}
	dnskey := &dns.DNSKEY{
		Hdr: dns.RR_Header{
			Name: z.origin, Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET, Ttl: z.opts.TTL,
		},
		Flags:     flags,
		Protocol:  3,
		Algorithm: z.opts.Algorithm,
		PublicKey: public,
	}
	return &zoneKey{dnskey: dnskey, private: private}, nil
}

// dsRecords returns the DS RRset (SHA-256, RFC 4509) that the parent
// publishes for the zone, with the parent's TTL.
func (z *Zone) dsRecords(ttl uint32) []dns.RR {
	if !z.signed() {
		return nil
	}
	ds := z.keys.dsKey.ToDS(dns.SHA256)
	ds.Hdr.Ttl = ttl
	switch {
	case z.hasFault(UnsupportedDSAlgorithm):
		ds.Algorithm = dns.PRIVATEDNS
	case z.hasFault(UnsupportedDSDigest):
		ds.DigestType = 99
	case z.hasFault(WrongSHA256DS):
		sha1 := z.keys.dsKey.ToDS(dns.SHA1)
		sha1.Hdr.Ttl = ttl
		// Flipping the first digest digit gives a SHA-256 DS for no key.
		digest := []byte(ds.Digest)
		if digest[0] == '0' {
			digest[0] = '1'
		} else {
			digest[0] = '0'
		}
		ds.Digest = string(digest)
		return []dns.RR{sha1, ds}
	}
	return []dns.RR{ds}
}
