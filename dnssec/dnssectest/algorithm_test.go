package dnssectest

import (
	"encoding/base64"
	"testing"

	"github.com/miekg/dns"
)

func TestAllAlgorithmsSignAndVerify(t *testing.T) {
	zones := []struct {
		origin string
		opts   ZoneOptions
		// modulusBits is the RSA key size to check, 0 for other algorithms.
		modulusBits int
	}{
		{"rsasha1.", ZoneOptions{Algorithm: dns.RSASHA1, RSABits: 512}, 512},
		{"rsasha1nsec3.", ZoneOptions{Algorithm: dns.RSASHA1NSEC3SHA1, RSABits: 1024, Denial: NSEC3}, 1024},
		{"rsasha256.", ZoneOptions{Algorithm: dns.RSASHA256, RSABits: 4096, SplitKeys: true}, 4096},
		{"rsasha512.", ZoneOptions{Algorithm: dns.RSASHA512, RSABits: 1024, Denial: NSEC3OptOut}, 1024},
		{"ecdsap256.", ZoneOptions{Algorithm: dns.ECDSAP256SHA256}, 0},
		{"ecdsap384.", ZoneOptions{Algorithm: dns.ECDSAP384SHA384, SplitKeys: true}, 0},
		{"ed25519.", ZoneOptions{Algorithm: dns.ED25519, Denial: NSEC3}, 0},
		{"ed448.", ZoneOptions{Algorithm: dns.ED448}, 0},
	}
	l := New(Config{Now: testNow})
	t.Cleanup(l.Close)
	l.Zone(".", ZoneOptions{})
	for _, z := range zones {
		l.Zone(z.origin, z.opts).Add("www A 192.0.2.1")
	}
	if err := l.Start(); err != nil {
		t.Fatalf("Start() = %v", err)
	}

	for _, z := range zones {
		t.Run(z.origin, func(t *testing.T) {
			addr := l.Authoritative(z.origin)
			keys := query(t, addr, z.origin, dns.TypeDNSKEY, true)
			for _, k := range records[*dns.DNSKEY](keys.Answer) {
				if k.Algorithm != z.opts.Algorithm {
					t.Errorf("DNSKEY %d has algorithm %d, want %d", k.KeyTag(), k.Algorithm, z.opts.Algorithm)
				}
				if z.modulusBits != 0 {
					if got := rsaModulusBits(t, k); got != z.modulusBits {
						t.Errorf("DNSKEY %d has a %d-bit modulus, want %d", k.KeyTag(), got, z.modulusBits)
					}
				}
			}
			for _, q := range []struct {
				name  string
				qtype uint16
			}{
				{z.origin, dns.TypeDNSKEY},
				{"www." + z.origin, dns.TypeA},
				{"nope." + z.origin, dns.TypeA},
			} {
				resp := query(t, addr, q.name, q.qtype, true)
				if n := verifySignatures(t, l, resp); n == 0 {
					t.Errorf("%s %s: no RRSIG", q.name, dns.TypeToString[q.qtype])
				}
			}
			ds := query(t, l.Authoritative("."), z.origin, dns.TypeDS, true)
			if got := records[*dns.DS](ds.Answer); len(got) != 1 || got[0].Algorithm != z.opts.Algorithm {
				t.Errorf("root serves DS %v, want one of algorithm %d", got, z.opts.Algorithm)
			}
		})
	}
}

// rsaModulusBits returns the size of the RSA modulus of k (RFC 3110 §2).
func rsaModulusBits(t *testing.T, k *dns.DNSKEY) int {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(k.PublicKey)
	if err != nil || len(raw) < 4 {
		t.Fatalf("DNSKEY %d: malformed RSA key", k.KeyTag())
	}
	explen, off := int(raw[0]), 1
	if explen == 0 {
		explen, off = int(raw[1])<<8|int(raw[2]), 3
	}
	modulus := raw[off+explen:]
	bits := len(modulus) * 8
	for b := modulus[0]; b&0x80 == 0; b <<= 1 {
		bits--
	}
	return bits
}
