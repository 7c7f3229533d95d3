// The RFC 5702 §6.1 key has a 512-bit modulus, which crypto/rsa rejects
// unless rsa1024min is off.

//go:debug rsa1024min=0

package dnscrypto

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"math/big"
	"strings"
	"testing"

	"github.com/cloudflare/circl/sign/ed448"
	"github.com/miekg/dns"
)

// signatureVector is a published example: a DNSKEY, the DS records that
// point to it, an RRset and the RRSIG over it made with that key.
type signatureVector struct {
	name   string
	dnskey string
	tag    uint16
	ds     []string
	rrset  []string
	rrsig  string
}

// rfcSignatureVectors are the examples of RFC 5702 §6, RFC 6605 §6 and
// RFC 8080 §6, with the line breaks inside base64 and hex joined. They were
// read from copies of the RFC text quoted in other repositories. Each
// signature verifying, and the deterministic ones being reproduced by Sign,
// is the check on that transcription.
//
// RFC 8080 §6 as published prints its RRSIGs without the algorithm field and
// with a labels field of 3 for the two-label owner example.com., and the
// signatures were computed over that wrong labels value. Verified erratum
// 4935 replaces them with "RRSIG MX 15 2 ..." and "RRSIG MX 16 2 ..." and new
// signatures. The RFC 8080 vectors below are the erratum's corrected records.
var rfcSignatureVectors = []signatureVector{
	{
		name:   "RFC 5702 §6.1 RSASHA256",
		dnskey: "example.net. 3600 IN DNSKEY 256 3 8 AwEAAcFcGsaxxdgiuuGmCkVImy4h99CqT7jwY3pexPGcnUFtR2Fh36BponcwtkZ4cAgtvd4Qs8PkxUdp6p/DlUmObdk=",
		tag:    9033,
		rrset:  []string{"www.example.net. 3600 IN A 192.0.2.91"},
		rrsig: "www.example.net. 3600 IN RRSIG A 8 3 3600 20300101000000 20000101000000 9033 example.net. " +
			"kRCOH6u7l0QGy9qpC9l1sLncJcOKFLJ7GhiUOibu4teYp5VE9RncriShZNz85mwlMgNEacFYK/lPtPiVYP4bwg==",
	},
	{
		name: "RFC 5702 §6.2 RSASHA512",
		dnskey: "example.net. 3600 IN DNSKEY 256 3 10 AwEAAdHoNTOW+et86KuJOWRDp1pndvwb6Y83nSVXXyLA3DLroROUkN6X0O6pn" +
			"WnjJQujX/AyhqFDxj13tOnD9u/1kTg7cV6rklMrZDtJCQ5PCl/D7QNPsgVsMu1J2Q8gpMpztNFLpPBz1bWXjDtaR7ZQBlZ3PFY12ZTSnc" +
			"orffcGmhOL",
		tag:   3740,
		rrset: []string{"www.example.net. 3600 IN A 192.0.2.91"},
		rrsig: "www.example.net. 3600 IN RRSIG A 10 3 3600 20300101000000 20000101000000 3740 example.net. " +
			"tsb4wnjRUDnB1BUi+t6TMTXThjVnG+eCkWqjvvjhzQL1d0YRoOe0CbxrVDYd0xDtsuJRaeUw1ep94PzEWzr0iGYgZBWm/zpq+9fOuagY" +
			"JRfDqfReKBzMweOLDiNa8iP5g9vMhpuv6OPlvpXwm9Sa9ZXIbNl1MBGk0fthPgxdDLw=",
	},
	{
		name: "RFC 6605 §6.1 ECDSAP256SHA256",
		dnskey: "example.net. 3600 IN DNSKEY 257 3 13 GojIhhXUN/u4v54ZQqGSnyhWJwaubCvTmeexv7bR6edb" +
			"krSqQpF64cYbcB7wNcP+e+MAnLr+Wi9xMWyQLc8NAA==",
		tag: 55648,
		ds: []string{"example.net. 3600 IN DS 55648 13 2 " +
			"b4c8c1fe2e7477127b27115656ad6256f424625bf5c1e2770ce6d6e37df61d17"},
		rrset: []string{"www.example.net. 3600 IN A 192.0.2.1"},
		rrsig: "www.example.net. 3600 IN RRSIG A 13 3 3600 20100909100439 20100812100439 55648 example.net. " +
			"qx6wLYqmh+l9oCKTN6qIc+bw6ya+KJ8oMz0YP107epXAyGmt+3SNruPFKG7tZoLBLlUzGGus7ZwmwWep666VCw==",
	},
	{
		name: "RFC 6605 §6.2 ECDSAP384SHA384",
		dnskey: "example.net. 3600 IN DNSKEY 257 3 14 xKYaNhWdGOfJ+nPrL8/arkwf2EY3MDJ+SErKivBVSum1w/egsXvSADtNJhyem5RC" +
			"OpgQ6K8X1DRSEkrbYQ+OB+v8/uX45NBwY8rp65F6Glur8I/mlVNgF6W/qTI37m40",
		tag: 10771,
		ds: []string{"example.net. 3600 IN DS 10771 14 4 " +
			"72d7b62976ce06438e9c0bf319013cf801f09ecc84b8d7e9495f27e305c6a9b0563a9b5f4d288405c3008a946df983d6"},
		rrset: []string{"www.example.net. 3600 IN A 192.0.2.1"},
		rrsig: "www.example.net. 3600 IN RRSIG A 14 3 3600 20100909102025 20100812102025 10771 example.net. " +
			"/L5hDKIvGDyI1fcARX3z65qrmPsVz73QD1Mr5CEqOiLP95hxQouuroGCeZOvzFaxsT8Glr74hbavRKayJNuydCuzWTSSPdz7wnqXL5bd" +
			"cJzusdnI0RSMROxxwGipWcJm",
	},
	{
		name:   "RFC 8080 §6.1 ED25519 key 3613 (erratum 4935)",
		dnskey: "example.com. 3600 IN DNSKEY 257 3 15 l02Woi0iS8Aa25FQkUd9RMzZHJpBoRQwAQEX1SxZJA4=",
		tag:    3613,
		ds: []string{"example.com. 3600 IN DS 3613 15 2 " +
			"3aa5ab37efce57f737fc1627013fee07bdf241bd10f3b1964ab55c78e79a304b"},
		rrset: []string{"example.com. 3600 IN MX 10 mail.example.com."},
		rrsig: "example.com. 3600 IN RRSIG MX 15 2 3600 1440021600 1438207200 3613 example.com. " +
			"oL9krJun7xfBOIWcGHi7mag5/hdZrKWw15jPGrHpjQeRAvTdszaPD+QLs3fx8A4M3e23mRZ9VrbpMngwcrqNAg==",
	},
	{
		name:   "RFC 8080 §6.1 ED25519 key 35217 (erratum 4935)",
		dnskey: "example.com. 3600 IN DNSKEY 257 3 15 zPnZ/QwEe7S8C5SPz2OfS5RR40ATk2/rYnE9xHIEijs=",
		tag:    35217,
		ds: []string{"example.com. 3600 IN DS 35217 15 2 " +
			"401781b934e392de492ec77ae2e15d70f6575a1c0bc59c5275c04ebe80c6614c"},
		rrset: []string{"example.com. 3600 IN MX 10 mail.example.com."},
		rrsig: "example.com. 3600 IN RRSIG MX 15 2 3600 1440021600 1438207200 35217 example.com. " +
			"zXQ0bkYgQTEFyfLyi9QoiY6D8ZdYo4wyUhVioYZXFdT410QPRITQSqJSnzQoSm5poJ7gD7AQR0O7KuI5k2pcBg==",
	},
	{
		name: "RFC 8080 §6.2 ED448 key 9713 (erratum 4935)",
		dnskey: "example.com. 3600 IN DNSKEY 257 3 16 3kgROaDjrh0H2iuixWBrc8g2EpBBLCdGzHmn+G2MpTPhpj/OiBVHHSfPodx" +
			"1FYYUcJKm1MDpJtIA",
		tag: 9713,
		ds: []string{"example.com. 3600 IN DS 9713 16 2 " +
			"6ccf18d5bc5d7fc2fceb1d59d17321402f2aa8d368048db93dd811f5cb2b19c7"},
		rrset: []string{"example.com. 3600 IN MX 10 mail.example.com."},
		rrsig: "example.com. 3600 IN RRSIG MX 16 2 3600 1440021600 1438207200 9713 example.com. " +
			"3cPAHkmlnxcDHMyg7vFC34l0blBhuG1qpwLmjInI8w1CMB29FkEAIJUA0amxWndkmnBZ6SKiwZSAxGILn/NBtOXft0+Gj7FSvOKxE/0" +
			"7+4RQvE581N3Aj/JtIyaiYVdnYtyMWbSNyGEY2213WKsJlwEA",
	},
	{
		name: "RFC 8080 §6.2 ED448 key 38353 (erratum 4935)",
		dnskey: "example.com. 3600 IN DNSKEY 257 3 16 kkreGWoccSDmUBGAe7+zsbG6ZAFQp+syPmYUurBRQc3tDjeMCJcVMRDmgcN" +
			"Lp5HlHAMy12VoISsA",
		tag: 38353,
		ds: []string{"example.com. 3600 IN DS 38353 16 2 " +
			"645ff078b3568f5852b70cb60e8e696cc77b75bfaaffc118cf79cbda1ba28af4"},
		rrset: []string{"example.com. 3600 IN MX 10 mail.example.com."},
		rrsig: "example.com. 3600 IN RRSIG MX 16 2 3600 1440021600 1438207200 38353 example.com. " +
			"E1/oLjSGIbmLny/4fcgM1z4oL6aqo+izT3urCyHyvEp4Sp8Syg1eI+lJ57CSnZqjJP41O/9l4m0AsQ4f7qI1gVnML8vWWiyW2KXhT9k" +
			"uAICUSxv5OWbf81Rq7Yu60npabODB0QFPb/rkW3kUZmQ0YQUA",
	},
}

func parseRR(t testing.TB, text string) dns.RR {
	t.Helper()
	rr, err := dns.NewRR(text)
	if err != nil {
		t.Fatalf("dns.NewRR(%q): %v", text, err)
	}
	return rr
}

func parseRRs(t testing.TB, texts []string) []dns.RR {
	t.Helper()
	rrs := make([]dns.RR, 0, len(texts))
	for _, text := range texts {
		rrs = append(rrs, parseRR(t, text))
	}
	return rrs
}

// rfcVector returns the vector whose name starts with prefix.
func rfcVector(t testing.TB, prefix string) signatureVector {
	t.Helper()
	for _, v := range rfcSignatureVectors {
		if strings.HasPrefix(v.name, prefix) {
			return v
		}
	}
	t.Fatalf("no signature vector named %q", prefix)
	return signatureVector{}
}

// parsed returns the vector's DNSKEY, RRSIG and RRset.
func (v signatureVector) parsed(t testing.TB) (*dns.DNSKEY, *dns.RRSIG, []dns.RR) {
	t.Helper()
	return parseRR(t, v.dnskey).(*dns.DNSKEY), parseRR(t, v.rrsig).(*dns.RRSIG), parseRRs(t, v.rrset)
}

// alterRdata changes one RDATA field of rr so that its signature no longer
// covers it.
func alterRdata(t *testing.T, rr dns.RR) {
	t.Helper()
	switch x := rr.(type) {
	case *dns.A:
		x.A[len(x.A)-1]++
	case *dns.MX:
		x.Preference++
	default:
		t.Fatalf("alterRdata: no change defined for %T", rr)
	}
}

func TestRFCKeyTagsAndDS(t *testing.T) {
	for _, v := range rfcSignatureVectors {
		t.Run(v.name, func(t *testing.T) {
			key, _, _ := v.parsed(t)
			if got := key.KeyTag(); got != v.tag {
				t.Errorf("KeyTag() = %d, want %d", got, v.tag)
			}
			for _, text := range v.ds {
				want := parseRR(t, text).(*dns.DS)
				got := key.ToDS(want.DigestType)
				if got == nil {
					t.Fatalf("ToDS(%d) = nil", want.DigestType)
				}
				if !strings.EqualFold(got.Digest, want.Digest) {
					t.Errorf("ToDS(%d).Digest = %s, want %s", want.DigestType, got.Digest, want.Digest)
				}
				if got.KeyTag != want.KeyTag || got.Algorithm != want.Algorithm {
					t.Errorf("ToDS(%d) = tag %d algorithm %d, want tag %d algorithm %d",
						want.DigestType, got.KeyTag, got.Algorithm, want.KeyTag, want.Algorithm)
				}
			}
		})
	}
}

func TestRFCSignaturesVerify(t *testing.T) {
	for _, v := range rfcSignatureVectors {
		t.Run(v.name, func(t *testing.T) {
			key, sig, rrset := v.parsed(t)
			if err := Verify(sig, key, rrset); err != nil {
				t.Errorf("Verify = %v, want nil", err)
			}
		})
	}
}

func TestRFCSignaturesRejectAlteredRdata(t *testing.T) {
	for _, v := range rfcSignatureVectors {
		t.Run(v.name, func(t *testing.T) {
			key, sig, rrset := v.parsed(t)
			alterRdata(t, rrset[0])
			err := Verify(sig, key, rrset)
			if !errors.Is(err, ErrBadSignature) {
				t.Errorf("Verify with %s = %v, want ErrBadSignature", rrset[0], err)
			}
		})
	}
}

func TestRFCSignaturesRejectFlippedSignatureByte(t *testing.T) {
	for _, v := range rfcSignatureVectors {
		t.Run(v.name, func(t *testing.T) {
			key, sig, rrset := v.parsed(t)
			raw, err := base64.StdEncoding.DecodeString(sig.Signature)
			if err != nil {
				t.Fatal(err)
			}
			for _, i := range []int{0, len(raw) / 2, len(raw) - 1} {
				flipped := bytes.Clone(raw)
				flipped[i] ^= 0x01
				bad := *sig
				bad.Signature = base64.StdEncoding.EncodeToString(flipped)
				if err := Verify(&bad, key, rrset); !errors.Is(err, ErrBadSignature) {
					t.Errorf("Verify with signature byte %d flipped = %v, want ErrBadSignature", i, err)
				}
			}
		})
	}
}

// TestRFC8080PublishedRRSIGsUseWrongLabels checks the diagnosis of RFC 8080
// erratum 4935: the signatures printed in RFC 8080 §6 as published were made
// over a labels field of 3. Ed25519 and Ed448 are deterministic, so signing
// with the published private key and labels 3 reproduces them exactly, while
// the corrected RRSIG with labels 2 is what verifies.
func TestRFC8080PublishedRRSIGsUseWrongLabels(t *testing.T) {
	tests := []struct {
		name      string
		vector    string
		published string
	}{
		{
			name:      "ED25519 key 3613",
			vector:    "RFC 8080 §6.1 ED25519 key 3613",
			published: "Edk+IB9KNNWg0HAjm7FazXyrd5m3Rk8zNZbvNpAcM+eysqcUOMIjWoevFkjH5GaMWeG96GUVZu6ECKOQmemHDg==",
		},
		{
			name:   "ED448 key 9713",
			vector: "RFC 8080 §6.2 ED448 key 9713",
			published: "Nmc0rgGKpr3GKYXcB1JmqqS4NYwhmechvJTqVzt3jR+Qy/lSLFoIk1L+9e39GPL+5tVzDPN3f9kAwiu8KCuPPjtl227ay" +
				"aCZtRKZuJax7n9NuYlZJIusX0SOIOKBGzG+yWYtz1/jjbzl5GGkWvREUCUA",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := rfcVector(t, tt.vector)
			key, sig, rrset := v.parsed(t)
			priv := rfc8080PrivateKeys[v.tag]

			wrong := *sig
			wrong.Labels = 3
			wrong.Signature = tt.published
			if err := Verify(&wrong, key, rrset); err != nil {
				t.Errorf("Verify(published signature, labels 3) = %v, want nil", err)
			}
			wrong.Labels = 2
			if err := Verify(&wrong, key, rrset); !errors.Is(err, ErrBadSignature) {
				t.Errorf("Verify(published signature, labels 2) = %v, want ErrBadSignature", err)
			}

			resigned := *sig
			resigned.Labels = 3
			if err := Sign(&resigned, priv, rrset); err != nil {
				t.Fatal(err)
			}
			if resigned.Signature != tt.published {
				t.Errorf("Sign with labels 3 = %s, want the published %s", resigned.Signature, tt.published)
			}
		})
	}
}

// rfc8080PrivateKeys are the private keys of RFC 8080 §6, by key tag.
var rfc8080PrivateKeys = map[uint16]crypto.Signer{
	3613:  ed25519Seed("ODIyNjAzODQ2MjgwODAxMjI2NDUxOTAyMDQxNDIyNjI="),
	35217: ed25519Seed("DSSF3o0s0f+ElWzj9E/Osxw8hLpk55chkmx0LYN5WiY="),
	9713:  ed448Seed("xZ+5Cgm463xugtkY5B0Jx6erFTXp13rYegst0qRtNsOYnaVpMx0Z/c5EiA9x8wWbDDct/U3FhYWA"),
	38353: ed448Seed("WEykD3ht3MHkU8iH4uVOLz8JLwtRBSqiBoM6fF72+Mrp/u5gjxuB1DV6NnPO2BlZdz4hdSTkOdOA"),
}

func ed25519Seed(b64 string) crypto.Signer {
	return ed25519.NewKeyFromSeed(mustBase64(b64))
}

func ed448Seed(b64 string) crypto.Signer {
	return ed448.NewKeyFromSeed(mustBase64(b64))
}

func mustBase64(s string) []byte {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// rsaKeyFromRFC5702 builds an RSA private key from the base64 fields that
// RFC 5702 §6 prints: modulus, public exponent, private exponent and the
// two primes.
func rsaKeyFromRFC5702(t *testing.T, modulus, publicExponent, privateExponent, prime1, prime2 string) *rsa.PrivateKey {
	t.Helper()
	n := func(b64 string) *big.Int { return new(big.Int).SetBytes(mustBase64(b64)) }
	key := &rsa.PrivateKey{
		PublicKey: rsa.PublicKey{N: n(modulus), E: int(n(publicExponent).Int64())},
		D:         n(privateExponent),
		Primes:    []*big.Int{n(prime1), n(prime2)},
	}
	if err := key.Validate(); err != nil {
		t.Fatalf("RFC 5702 private key: %v", err)
	}
	key.Precompute()
	return key
}

// TestRFCSignaturesReproduced signs each example RRset with the private key
// its RFC publishes. RSASSA-PKCS1-v1_5, Ed25519 and Ed448 are deterministic,
// so Sign must produce the published signature byte for byte, which checks
// SignedData and SignData together. ECDSA (RFC 6605) signs with a random
// nonce and is covered by TestRoundTrip instead.
func TestRFCSignaturesReproduced(t *testing.T) {
	keys := map[string]crypto.Signer{
		"RFC 5702 §6.1 RSASHA256": rsaKeyFromRFC5702(t,
			"wVwaxrHF2CK64aYKRUibLiH30KpPuPBjel7E8ZydQW1HYWHfoGmidzC2RnhwCC293hCzw+TFR2nqn8OVSY5t2Q==",
			"AQAB",
			"UR44xX6zB3eaeyvTRzmskHADrPCmPWnr8dxsNwiDGHzrMKLN+i/HAam+97HxIKVWNDH2ba9Mf1SA8xu9dcHZAQ==",
			"4c8IvFu1AVXGWeFLLFh5vs7fbdzdC6U82fduE6KkSWk=",
			"2zZpBE8ZXVnL74QjG4zINlDfH+EOEtjJJ3RtaYDugvE="),
		"RFC 5702 §6.2 RSASHA512": rsaKeyFromRFC5702(t,
			"0eg1M5b563zoq4k5ZEOnWmd2/BvpjzedJVdfIsDcMuuhE5SQ3pfQ7qmdaeMlC6Nf8DKGoUPGPXe06cP27/WRODtxXquSUytkO0kJDk"+
				"8KX8PtA0+yBWwy7UnZDyCkynO00Uuk8HPVtZeMO1pHtlAGVnc8VjXZlNKdyit99waaE4s=",
			"AQAB",
			"rFS1IPbJllFFgFc33B5DDlC1egO8e81P4fFadODbp56V7sphKa6AZQCx8NYAew6VXFFPAKTw41QdHnK5kIYOwxvfFDjDcUGza88qbj"+
				"yrDPSJenkeZbISMUSSqy7AMFzEolkk6WSn6k3thUVRgSlqDoOV3SEIAsrB043XzGrKIVE=",
			"8mbtsu9Tl9v7tKSHdCIeprLIQXQLzxlSZun5T1n/OjvXSUtvD7xnZJ+LHqaBj1dIgMbCq2U8O04QVcK3TS9GiQ==",
			"3a6gkfs74d0Jb7yL4j4adAif4fcp7ZrGt7G5NRVDDY/Mv4TERAKMa0TKN3okKE0A7X+Rv2K84mhT4QLDlllEcw=="),
	}
	for _, v := range rfcSignatureVectors {
		key, sig, rrset := v.parsed(t)
		priv, ok := keys[v.name]
		if !ok {
			priv, ok = rfc8080PrivateKeys[v.tag]
		}
		if !ok {
			continue
		}
		t.Run(v.name, func(t *testing.T) {
			if got, want := mustBase64(key.PublicKey), publicKeyWire(t, priv); !bytes.Equal(got, want) {
				t.Fatalf("the published private key does not belong to the published DNSKEY")
			}
			resigned := *sig
			resigned.Signature = ""
			if err := Sign(&resigned, priv, rrset); err != nil {
				t.Fatal(err)
			}
			if resigned.Signature != sig.Signature {
				t.Errorf("Sign = %s, want the published %s", resigned.Signature, sig.Signature)
			}
		})
	}
}

// publicKeyWire returns the DNSKEY public key field of priv's public key.
func publicKeyWire(t *testing.T, priv crypto.Signer) []byte {
	t.Helper()
	switch pub := priv.Public().(type) {
	case *rsa.PublicKey:
		return rsaWire(pub)
	case ed25519.PublicKey:
		return pub
	case ed448.PublicKey:
		return pub
	}
	t.Fatalf("publicKeyWire: unexpected key type %T", priv.Public())
	return nil
}

// TestRFC6605PrivateKeys checks that the private keys RFC 6605 §6 prints
// belong to its DNSKEYs, and that a signature made with them verifies.
func TestRFC6605PrivateKeys(t *testing.T) {
	tests := []struct {
		name    string
		curve   elliptic.Curve
		private string
	}{
		{"RFC 6605 §6.1 ECDSAP256SHA256", elliptic.P256(), "GU6SnQ/Ou+xC5RumuIUIuJZteXT2z0O/ok1s38Et6mQ="},
		{"RFC 6605 §6.2 ECDSAP384SHA384", elliptic.P384(),
			"WURgWHCcYIYUPWgeLmiPY2DJJk02vgrmTfitxgqcL4vwW7BOrbawVmVe0d9V94SR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, sig, rrset := rfcVector(t, tt.name).parsed(t)
			priv, err := ecdsa.ParseRawPrivateKey(tt.curve, mustBase64(tt.private))
			if err != nil {
				t.Fatal(err)
			}
			point, err := priv.PublicKey.Bytes()
			if err != nil {
				t.Fatal(err)
			}
			// The DNSKEY public key field is the uncompressed SEC 1 point
			// without its 0x04 prefix (RFC 6605 §4).
			if !bytes.Equal(point[1:], mustBase64(key.PublicKey)) {
				t.Fatalf("the published private key does not belong to the published DNSKEY")
			}
			resigned := *sig
			if err := Sign(&resigned, priv, rrset); err != nil {
				t.Fatal(err)
			}
			if err := Verify(&resigned, key, rrset); err != nil {
				t.Errorf("Verify(new signature) = %v, want nil", err)
			}
		})
	}
}

// testRRSIG returns an RRSIG header for rrset, without a signature, with
// labels taken from the owner of the first record.
func testRRSIG(alg uint8, keyTag uint16, rrset []dns.RR) *dns.RRSIG {
	h := rrset[0].Header()
	return &dns.RRSIG{
		Hdr:         dns.RR_Header{Name: h.Name, Rrtype: dns.TypeRRSIG, Class: dns.ClassINET, Ttl: h.Ttl},
		TypeCovered: h.Rrtype,
		Algorithm:   alg,
		Labels:      uint8(dns.CountLabel(h.Name)),
		OrigTtl:     3600,
		Expiration:  1893456000, // 2030-01-01
		Inception:   946684800,  // 2000-01-01
		KeyTag:      keyTag,
		SignerName:  "example.org.",
	}
}

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		alg  uint8
		bits int
	}{
		{"RSASHA1", dns.RSASHA1, 1024},
		{"RSASHA1-NSEC3-SHA1", dns.RSASHA1NSEC3SHA1, 1024},
		{"RSASHA256", dns.RSASHA256, 1024},
		// RFC 5702 §6.1 itself signs with a 512-bit key. crypto/rsa accepts
		// one only with rsa1024min=0, set at the top of this file.
		{"RSASHA256 512-bit", dns.RSASHA256, 512},
		{"RSASHA512", dns.RSASHA512, 1024},
		{"ECDSAP256SHA256", dns.ECDSAP256SHA256, 0},
		{"ECDSAP384SHA384", dns.ECDSAP384SHA384, 0},
		{"ED25519", dns.ED25519, 0},
		{"ED448", dns.ED448, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			priv, public, err := GenerateKey(tt.alg, tt.bits)
			if err != nil {
				t.Fatalf("GenerateKey(%d, %d): %v", tt.alg, tt.bits, err)
			}
			key := &dns.DNSKEY{
				Hdr:      dns.RR_Header{Name: "example.org.", Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET, Ttl: 3600},
				Flags:    dns.ZONE | dns.SEP,
				Protocol: 3, Algorithm: tt.alg, PublicKey: public,
			}
			rrset := parseRRs(t, []string{
				"example.org. 3600 IN MX 10 mx1.example.org.",
				"example.org. 3600 IN MX 20 mx2.example.org.",
			})
			sig := testRRSIG(tt.alg, key.KeyTag(), rrset)
			if err := Sign(sig, priv, rrset); err != nil {
				t.Fatalf("Sign: %v", err)
			}
			if err := Verify(sig, key, rrset); err != nil {
				t.Errorf("Verify = %v, want nil", err)
			}
			alterRdata(t, rrset[1])
			if err := Verify(sig, key, rrset); !errors.Is(err, ErrBadSignature) {
				t.Errorf("Verify after changing %s = %v, want ErrBadSignature", rrset[1], err)
			}
		})
	}
}

func TestRoundTripRSAKeySize(t *testing.T) {
	_, public, err := GenerateKey(dns.RSASHA256, 512)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := PublicKey(&dns.DNSKEY{Algorithm: dns.RSASHA256, PublicKey: public})
	if err != nil {
		t.Fatalf("PublicKey: %v", err)
	}
	if got := pub.(*rsa.PublicKey).N.BitLen(); got != 512 {
		t.Errorf("modulus of a 512-bit key = %d bits, want 512", got)
	}
}

func TestSignRejectsKeyOfWrongType(t *testing.T) {
	ecKey, _, err := GenerateKey(dns.ECDSAP256SHA256, 0)
	if err != nil {
		t.Fatal(err)
	}
	edKey, _, err := GenerateKey(dns.ED25519, 0)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		alg  uint8
		key  crypto.Signer
	}{
		{"RSASHA256 with ECDSA key", dns.RSASHA256, ecKey},
		{"ECDSAP256SHA256 with Ed25519 key", dns.ECDSAP256SHA256, edKey},
		{"ED25519 with ECDSA key", dns.ED25519, ecKey},
		{"ED448 with Ed25519 key", dns.ED448, edKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := SignData(tt.alg, tt.key, []byte("data")); err == nil {
				t.Errorf("SignData(%d, %T) = nil error, want an error", tt.alg, tt.key)
			}
		})
	}
}

// TestSignedDataCanonicalForm compares the signed data of two RRsets under
// the same RRSIG: equal when the RRsets differ only in what RFC 4034 §6
// canonicalises away, different otherwise.
func TestSignedDataCanonicalForm(t *testing.T) {
	tests := []struct {
		name string
		a, b []string
		// labels is the RRSIG labels field; zero means the label count of
		// the first owner in a.
		labels uint8
		same   bool
	}{
		{
			name: "owner case is ignored",
			a:    []string{"www.example.org. 3600 IN A 192.0.2.1"},
			b:    []string{"WWW.Example.ORG. 3600 IN A 192.0.2.1"},
			same: true,
		},
		{
			name: "MX exchange case is ignored",
			a:    []string{"example.org. 3600 IN MX 10 mail.example.org."},
			b:    []string{"example.org. 3600 IN MX 10 MAIL.Example.Org."},
			same: true,
		},
		{
			name: "NS name case is ignored",
			a:    []string{"example.org. 3600 IN NS ns1.example.org."},
			b:    []string{"example.org. 3600 IN NS NS1.EXAMPLE.ORG."},
			same: true,
		},
		{
			name: "CNAME target case is ignored",
			a:    []string{"www.example.org. 3600 IN CNAME host.example.org."},
			b:    []string{"www.example.org. 3600 IN CNAME Host.Example.ORG."},
			same: true,
		},
		{
			name: "SOA name case is ignored",
			a:    []string{"example.org. 3600 IN SOA ns1.example.org. hostmaster.example.org. 1 7200 3600 1209600 3600"},
			b:    []string{"example.org. 3600 IN SOA NS1.example.org. HostMaster.Example.org. 1 7200 3600 1209600 3600"},
			same: true,
		},
		{
			// RFC 6840 §5.1 removed NSEC from the RFC 4034 §6.2 list: the
			// next owner name keeps the case the zone gave it.
			name: "NSEC next name case is signed",
			a:    []string{"a.example.org. 3600 IN NSEC b.example.org. A RRSIG NSEC"},
			b:    []string{"a.example.org. 3600 IN NSEC B.Example.org. A RRSIG NSEC"},
			same: false,
		},
		{
			name: "record TTL is replaced by the original TTL",
			a:    []string{"www.example.org. 3600 IN A 192.0.2.1"},
			b:    []string{"www.example.org. 120 IN A 192.0.2.1"},
			same: true,
		},
		{
			name: "duplicate records are removed",
			a:    []string{"www.example.org. 3600 IN A 192.0.2.1", "www.example.org. 3600 IN A 192.0.2.2"},
			b: []string{"www.example.org. 3600 IN A 192.0.2.1", "www.example.org. 3600 IN A 192.0.2.2",
				"www.example.org. 3600 IN A 192.0.2.1"},
			same: true,
		},
		{
			name: "record order is ignored",
			a:    []string{"www.example.org. 3600 IN A 192.0.2.1", "www.example.org. 3600 IN A 192.0.2.2"},
			b:    []string{"www.example.org. 3600 IN A 192.0.2.2", "www.example.org. 3600 IN A 192.0.2.1"},
			same: true,
		},
		{
			name: "different RDATA is signed",
			a:    []string{"www.example.org. 3600 IN A 192.0.2.1"},
			b:    []string{"www.example.org. 3600 IN A 192.0.2.2"},
			same: false,
		},
		{
			// RFC 4035 §5.3.2: with labels 2, a.z.example.org. was expanded
			// from *.example.org. and is signed as that name.
			name:   "wildcard owner is rebuilt from the labels field",
			a:      []string{"a.z.example.org. 3600 IN MX 1 mx.example.org."},
			b:      []string{"*.example.org. 3600 IN MX 1 mx.example.org."},
			labels: 2,
			same:   true,
		},
		{
			name:   "wildcard owner keeps as many labels as the labels field",
			a:      []string{"a.z.example.org. 3600 IN MX 1 mx.example.org."},
			b:      []string{"*.example.org. 3600 IN MX 1 mx.example.org."},
			labels: 3,
			same:   false,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := parseRRs(t, tt.a), parseRRs(t, tt.b)
			sig := testRRSIG(dns.ECDSAP256SHA256, 1, a)
			if tt.labels != 0 {
				sig.Labels = tt.labels
			}
			da, err := SignedData(sig, a)
			if err != nil {
				t.Fatalf("SignedData(%v): %v", tt.a, err)
			}
			db, err := SignedData(sig, b)
			if err != nil {
				t.Fatalf("SignedData(%v): %v", tt.b, err)
			}
			if got := bytes.Equal(da, db); got != tt.same {
				t.Errorf("SignedData equal = %v, want %v\na: %x\nb: %x", got, tt.same, da, db)
			}
		})
	}
}

func TestSignedDataSignerCase(t *testing.T) {
	rrset := parseRRs(t, []string{"www.example.org. 3600 IN A 192.0.2.1"})
	lower := testRRSIG(dns.ECDSAP256SHA256, 1, rrset)
	upper := *lower
	upper.SignerName = "EXAMPLE.Org."
	dl, err := SignedData(lower, rrset)
	if err != nil {
		t.Fatal(err)
	}
	du, err := SignedData(&upper, rrset)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(dl, du) {
		t.Errorf("SignedData with signer %s differs from signer %s", upper.SignerName, lower.SignerName)
	}
}

func TestSignedDataEmptyRRset(t *testing.T) {
	sig := testRRSIG(dns.ECDSAP256SHA256, 1, parseRRs(t, []string{"www.example.org. 3600 IN A 192.0.2.1"}))
	if _, err := SignedData(sig, nil); err == nil {
		t.Error("SignedData(empty RRset) = nil error, want an error")
	}
}

// TestWildcardExpansionVerifies signs a wildcard RRset and checks that the
// signature verifies over an expansion of it, as a validator receives it.
func TestWildcardExpansionVerifies(t *testing.T) {
	priv, public, err := GenerateKey(dns.ED25519, 0)
	if err != nil {
		t.Fatal(err)
	}
	key := &dns.DNSKEY{Hdr: dns.RR_Header{Name: "example.org.", Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET},
		Flags: dns.ZONE, Protocol: 3, Algorithm: dns.ED25519, PublicKey: public}
	wildcard := parseRRs(t, []string{"*.example.org. 3600 IN MX 1 mx.example.org."})
	sig := testRRSIG(dns.ED25519, key.KeyTag(), wildcard)
	sig.Labels = 2
	if err := Sign(sig, priv, wildcard); err != nil {
		t.Fatal(err)
	}
	for _, owner := range []string{"a.example.org.", "a.b.example.org.", "A.B.C.Example.ORG."} {
		expanded := parseRRs(t, []string{owner + " 3600 IN MX 1 mx.example.org."})
		if err := Verify(sig, key, expanded); err != nil {
			t.Errorf("Verify(expansion at %s) = %v, want nil", owner, err)
		}
	}
	other := parseRRs(t, []string{"a.example.org. 3600 IN MX 2 mx.example.org."})
	if err := Verify(sig, key, other); !errors.Is(err, ErrBadSignature) {
		t.Errorf("Verify(expansion with other RDATA) = %v, want ErrBadSignature", err)
	}
}

// FuzzPublicKey feeds arbitrary public key fields to PublicKey for every
// algorithm number, and a key that decodes to VerifyData with a garbage
// signature. Neither may panic, and every error must name its category.
func FuzzPublicKey(f *testing.F) {
	for _, v := range rfcSignatureVectors {
		key := parseRR(f, v.dnskey).(*dns.DNSKEY)
		f.Add(key.Algorithm, mustBase64(key.PublicKey))
	}
	f.Add(uint8(dns.RSASHA256), []byte{})
	f.Add(uint8(dns.RSASHA256), []byte{0, 0, 0})
	f.Add(uint8(dns.RSASHA256), []byte{0, 0, 1, 3, 0})
	f.Add(uint8(dns.RSASHA256), append([]byte{1, 0}, make([]byte, 64)...))
	f.Add(uint8(dns.RSASHA1), append([]byte{4, 0xff, 0xff, 0xff, 0xff, 0x80}, make([]byte, 63)...))
	f.Add(uint8(dns.ECDSAP256SHA256), make([]byte, 64))
	f.Add(uint8(dns.ECDSAP384SHA384), make([]byte, 95))
	f.Add(uint8(dns.ED25519), make([]byte, 31))
	f.Add(uint8(dns.ED448), make([]byte, 57))
	f.Add(uint8(3), make([]byte, 20))

	f.Fuzz(func(t *testing.T, alg uint8, raw []byte) {
		key := &dns.DNSKEY{Flags: dns.ZONE, Protocol: 3, Algorithm: alg,
			PublicKey: base64.StdEncoding.EncodeToString(raw)}
		pub, err := PublicKey(key)
		if err != nil {
			if !errors.Is(err, ErrBadKey) && !errors.Is(err, ErrUnsupportedAlgorithm) {
				t.Fatalf("PublicKey(algorithm %d, %x) = %v, want ErrBadKey or ErrUnsupportedAlgorithm", alg, raw, err)
			}
			return
		}
		if !Supported(alg) {
			t.Fatalf("PublicKey(unsupported algorithm %d) = %T, want an error", alg, pub)
		}
		err = VerifyData(alg, pub, []byte("signed data"), raw)
		if err != nil && !errors.Is(err, ErrBadSignature) {
			t.Fatalf("VerifyData(algorithm %d, garbage signature) = %v, want ErrBadSignature", alg, err)
		}
	})
}

// FuzzVerify runs Verify on the published vectors with the labels field,
// the owner name and the signature replaced by fuzz input. It must not
// panic, and a failure must be ErrBadSignature or a packing error.
func FuzzVerify(f *testing.F) {
	for i, v := range rfcSignatureVectors {
		_, sig, rrset := v.parsed(f)
		f.Add(uint8(i), sig.Labels, rrset[0].Header().Name, mustBase64(sig.Signature))
	}
	f.Add(uint8(0), uint8(0), ".", []byte{})
	f.Add(uint8(2), uint8(9), "*.a.b.c.example.net.", make([]byte, 64))

	f.Fuzz(func(t *testing.T, index, labels uint8, owner string, signature []byte) {
		v := rfcSignatureVectors[int(index)%len(rfcSignatureVectors)]
		key, sig, rrset := v.parsed(t)
		if _, ok := dns.IsDomainName(owner); !ok || !dns.IsFqdn(owner) {
			return
		}
		for _, rr := range rrset {
			rr.Header().Name = owner
		}
		sig.Labels = labels
		sig.Signature = base64.StdEncoding.EncodeToString(signature)
		err := Verify(sig, key, rrset)
		if err != nil && !errors.Is(err, ErrBadSignature) && !strings.HasPrefix(err.Error(), "dnscrypto: packing") {
			t.Fatalf("Verify(labels %d, owner %q) = %v, want nil, ErrBadSignature or a packing error",
				labels, owner, err)
		}
	})
}
