package dnscrypto

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"math/big"

	"github.com/cloudflare/circl/sign/ed448"
	"github.com/miekg/dns"
)

// Errors that Verify and PublicKey wrap, so that callers can tell why a
// signature did not verify.
var (
	// ErrUnsupportedAlgorithm is an algorithm number this package does not
	// implement. RFC 6840 §5.2 treats data signed only with such algorithms
	// as insecure, not bogus.
	ErrUnsupportedAlgorithm = errors.New("unsupported DNSSEC algorithm")
	// ErrBadKey is a DNSKEY whose public key field does not decode for its
	// algorithm.
	ErrBadKey = errors.New("malformed public key")
	// ErrBadSignature is a signature that does not verify, or that is not
	// even of the right shape for its algorithm.
	ErrBadSignature = errors.New("signature does not verify")
)

// Supported reports whether alg is a DNSSEC algorithm this package verifies,
// including one added by RegisterVerifier.
func Supported(alg uint8) bool {
	if builtin(alg) {
		return true
	}
	_, ok := registeredVerifier(alg)
	return ok
}

func builtin(alg uint8) bool {
	switch alg {
	case dns.RSASHA1, dns.RSASHA1NSEC3SHA1, dns.RSASHA256, dns.RSASHA512,
		dns.ECDSAP256SHA256, dns.ECDSAP384SHA384, dns.ED25519, dns.ED448:
		return true
	}
	return false
}

// PublicKey decodes the public key of k for its algorithm.
func PublicKey(k *dns.DNSKEY) (crypto.PublicKey, error) {
	raw, err := base64.StdEncoding.DecodeString(k.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadKey, err)
	}
	switch k.Algorithm {
	case dns.RSASHA1, dns.RSASHA1NSEC3SHA1, dns.RSASHA256, dns.RSASHA512:
		return rsaPublicKey(raw)
	case dns.ECDSAP256SHA256:
		return ecdsaPublicKey(elliptic.P256(), raw)
	case dns.ECDSAP384SHA384:
		return ecdsaPublicKey(elliptic.P384(), raw)
	case dns.ED25519:
		if len(raw) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("%w: Ed25519 key is %d bytes, want %d", ErrBadKey, len(raw), ed25519.PublicKeySize)
		}
		return ed25519.PublicKey(raw), nil
	case dns.ED448:
		if len(raw) != ed448.PublicKeySize {
			return nil, fmt.Errorf("%w: Ed448 key is %d bytes, want %d", ErrBadKey, len(raw), ed448.PublicKeySize)
		}
		return ed448.PublicKey(raw), nil
	}
	if verify, ok := registeredVerifier(k.Algorithm); ok {
		return registeredKey{key: k, verify: verify}, nil
	}
	return nil, fmt.Errorf("%w: %d", ErrUnsupportedAlgorithm, k.Algorithm)
}

// rsaPublicKey decodes the RFC 3110 §2 format: exponent length (one octet,
// or zero and then two octets), exponent, modulus.
func rsaPublicKey(raw []byte) (*rsa.PublicKey, error) {
	if len(raw) < 3 {
		return nil, fmt.Errorf("%w: RSA key of %d bytes", ErrBadKey, len(raw))
	}
	explen, off := int(raw[0]), 1
	if explen == 0 {
		explen, off = int(raw[1])<<8|int(raw[2]), 3
	}
	if explen == 0 || explen > 4 || len(raw) <= off+explen {
		return nil, fmt.Errorf("%w: RSA exponent of %d bytes in a %d-byte key", ErrBadKey, explen, len(raw))
	}
	e := 0
	for _, b := range raw[off : off+explen] {
		e = e<<8 | int(b)
	}
	modulus := raw[off+explen:]
	if modulus[0] == 0 {
		return nil, fmt.Errorf("%w: RSA modulus has a leading zero", ErrBadKey)
	}
	bits := len(modulus) * 8
	// RFC 3110 §2 and RFC 5702 §2 allow moduli of 512 to 4096 bits.
	if bits < 512-7 || bits > 4096 {
		return nil, fmt.Errorf("%w: RSA modulus of %d bits, outside 512 to 4096", ErrBadKey, bits)
	}
	return &rsa.PublicKey{N: new(big.Int).SetBytes(modulus), E: e}, nil
}

func ecdsaPublicKey(curve elliptic.Curve, raw []byte) (*ecdsa.PublicKey, error) {
	size := (curve.Params().BitSize + 7) / 8
	if len(raw) != 2*size {
		return nil, fmt.Errorf("%w: ECDSA %s key is %d bytes, want %d", ErrBadKey, curve.Params().Name, len(raw), 2*size)
	}
	// The DNSKEY holds X and Y without the 0x04 prefix of the SEC 1 form.
	sec1 := append([]byte{4}, raw...)
	pub, err := ecdsa.ParseUncompressedPublicKey(curve, sec1)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadKey, err)
	}
	return pub, nil
}

// Verify checks the cryptographic signature of sig over rrset with key. It
// does not check the validity period, the labels field or whether key may
// sign for the zone: those are the validator's rules.
func Verify(sig *dns.RRSIG, key *dns.DNSKEY, rrset []dns.RR) error {
	pub, err := PublicKey(key)
	if err != nil {
		return err
	}
	data, err := SignedData(sig, rrset)
	if err != nil {
		return err
	}
	signature, err := base64.StdEncoding.DecodeString(sig.Signature)
	if err != nil {
		return fmt.Errorf("%w: signature is not base64: %v", ErrBadSignature, err)
	}
	return VerifyData(sig.Algorithm, pub, data, signature)
}

// VerifyData checks signature over data with pub, a key that PublicKey
// returned for the same algorithm.
func VerifyData(alg uint8, pub crypto.PublicKey, data, signature []byte) error {
	switch alg {
	case dns.RSASHA1, dns.RSASHA1NSEC3SHA1, dns.RSASHA256, dns.RSASHA512:
		key, ok := pub.(*rsa.PublicKey)
		if !ok {
			return fmt.Errorf("%w: not an RSA key", ErrBadKey)
		}
		h, hashID := hashFor(alg)
		h.Write(data)
		if err := rsa.VerifyPKCS1v15(key, hashID, h.Sum(nil), signature); err != nil {
			return fmt.Errorf("%w: %v", ErrBadSignature, err)
		}
		return nil
	case dns.ECDSAP256SHA256, dns.ECDSAP384SHA384:
		key, ok := pub.(*ecdsa.PublicKey)
		if !ok {
			return fmt.Errorf("%w: not an ECDSA key", ErrBadKey)
		}
		return verifyECDSA(alg, key, data, signature)
	case dns.ED25519:
		key, ok := pub.(ed25519.PublicKey)
		if !ok {
			return fmt.Errorf("%w: not an Ed25519 key", ErrBadKey)
		}
		if !ed25519.Verify(key, data, signature) {
			return ErrBadSignature
		}
		return nil
	case dns.ED448:
		key, ok := pub.(ed448.PublicKey)
		if !ok {
			return fmt.Errorf("%w: not an Ed448 key", ErrBadKey)
		}
		if len(signature) != ed448.SignatureSize || !ed448.Verify(key, data, signature, "") {
			return ErrBadSignature
		}
		return nil
	}
	if key, ok := pub.(registeredKey); ok {
		return key.verifyData(alg, data, signature)
	}
	return fmt.Errorf("%w: %d", ErrUnsupportedAlgorithm, alg)
}

// verifyECDSA checks an RFC 6605 §4 signature: r and s as fixed-size
// big-endian integers, one after the other.
func verifyECDSA(alg uint8, key *ecdsa.PublicKey, data, signature []byte) error {
	h, _ := hashFor(alg)
	size := (key.Curve.Params().BitSize + 7) / 8
	if len(signature) != 2*size {
		return fmt.Errorf("%w: ECDSA signature is %d bytes, want %d", ErrBadSignature, len(signature), 2*size)
	}
	h.Write(data)
	r := new(big.Int).SetBytes(signature[:size])
	s := new(big.Int).SetBytes(signature[size:])
	if !ecdsa.Verify(key, h.Sum(nil), r, s) {
		return ErrBadSignature
	}
	return nil
}

// hashFor returns the digest an RSA or ECDSA algorithm signs.
func hashFor(alg uint8) (hash.Hash, crypto.Hash) {
	switch alg {
	case dns.RSASHA256, dns.ECDSAP256SHA256:
		return sha256.New(), crypto.SHA256
	case dns.ECDSAP384SHA384:
		return sha512.New384(), crypto.SHA384
	case dns.RSASHA512:
		return sha512.New(), crypto.SHA512
	}
	return sha1.New(), crypto.SHA1
}
