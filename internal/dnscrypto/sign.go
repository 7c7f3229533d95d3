package dnscrypto

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/asn1"
	"encoding/base64"
	"fmt"
	"math/big"

	"github.com/cloudflare/circl/sign/ed448"
	"github.com/miekg/dns"
)

// Sign fills in sig.Signature with a signature by key over rrset. All other
// RRSIG fields must be set already: Sign signs them exactly as they are,
// which lets test zones carry deliberately wrong labels, times or signers.
func Sign(sig *dns.RRSIG, key crypto.Signer, rrset []dns.RR) error {
	data, err := SignedData(sig, rrset)
	if err != nil {
		return err
	}
	signature, err := SignData(sig.Algorithm, key, data)
	if err != nil {
		return err
	}
	sig.Signature = base64.StdEncoding.EncodeToString(signature)
	return nil
}

// SignData signs data with key in the wire format of algorithm alg.
func SignData(alg uint8, key crypto.Signer, data []byte) ([]byte, error) {
	switch alg {
	case dns.RSASHA1, dns.RSASHA1NSEC3SHA1, dns.RSASHA256, dns.RSASHA512:
		if _, ok := key.(*rsa.PrivateKey); !ok {
			return nil, fmt.Errorf("dnscrypto: algorithm %d needs an RSA key, got %T", alg, key)
		}
		h, hashID := hashFor(alg)
		h.Write(data)
		return key.Sign(rand.Reader, h.Sum(nil), hashID)
	case dns.ECDSAP256SHA256, dns.ECDSAP384SHA384:
		priv, ok := key.(*ecdsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("dnscrypto: algorithm %d needs an ECDSA key, got %T", alg, key)
		}
		return signECDSA(alg, priv, data)
	case dns.ED25519:
		if _, ok := key.(ed25519.PrivateKey); !ok {
			return nil, fmt.Errorf("dnscrypto: algorithm 15 needs an Ed25519 key, got %T", key)
		}
		return key.Sign(rand.Reader, data, crypto.Hash(0))
	case dns.ED448:
		priv, ok := key.(ed448.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("dnscrypto: algorithm 16 needs an Ed448 key, got %T", key)
		}
		return ed448.Sign(priv, data, ""), nil
	}
	return nil, fmt.Errorf("dnscrypto: %w: %d", ErrUnsupportedAlgorithm, alg)
}

// signECDSA returns r and s as fixed-size big-endian integers (RFC 6605 §4).
func signECDSA(alg uint8, key *ecdsa.PrivateKey, data []byte) ([]byte, error) {
	h, _ := hashFor(alg)
	h.Write(data)
	der, err := ecdsa.SignASN1(rand.Reader, key, h.Sum(nil))
	if err != nil {
		return nil, err
	}
	var rs struct{ R, S *big.Int }
	if _, err := asn1.Unmarshal(der, &rs); err != nil {
		return nil, err
	}
	size := (key.Curve.Params().BitSize + 7) / 8
	out := make([]byte, 2*size)
	rs.R.FillBytes(out[:size])
	rs.S.FillBytes(out[size:])
	return out, nil
}

// GenerateKey makes a key pair for alg and returns the private key and the
// public key in DNSKEY presentation form (base64). bits applies to RSA only.
func GenerateKey(alg uint8, bits int) (crypto.Signer, string, error) {
	var raw []byte
	var priv crypto.Signer
	switch alg {
	case dns.RSASHA1, dns.RSASHA1NSEC3SHA1, dns.RSASHA256, dns.RSASHA512:
		k, err := rsa.GenerateKey(rand.Reader, bits)
		if err != nil {
			return nil, "", fmt.Errorf("dnscrypto: generating %d-bit RSA key: %w", bits, err)
		}
		priv, raw = k, rsaWire(&k.PublicKey)
	case dns.ECDSAP256SHA256, dns.ECDSAP384SHA384:
		curve := elliptic.P256()
		if alg == dns.ECDSAP384SHA384 {
			curve = elliptic.P384()
		}
		k, err := ecdsa.GenerateKey(curve, rand.Reader)
		if err != nil {
			return nil, "", err
		}
		sec1, err := k.PublicKey.Bytes()
		if err != nil {
			return nil, "", err
		}
		priv, raw = k, sec1[1:]
	case dns.ED25519:
		pub, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, "", err
		}
		priv, raw = k, pub
	case dns.ED448:
		pub, k, err := ed448.GenerateKey(rand.Reader)
		if err != nil {
			return nil, "", err
		}
		priv, raw = k, pub
	default:
		return nil, "", fmt.Errorf("dnscrypto: %w: %d", ErrUnsupportedAlgorithm, alg)
	}
	return priv, base64.StdEncoding.EncodeToString(raw), nil
}

// rsaWire encodes an RSA public key in the RFC 3110 §2 format.
func rsaWire(pub *rsa.PublicKey) []byte {
	e := big.NewInt(int64(pub.E)).Bytes()
	var out []byte
	if len(e) < 256 {
		out = append(out, byte(len(e)))
	} else {
		out = append(out, 0, byte(len(e)>>8), byte(len(e)))
	}
	out = append(out, e...)
	return append(out, pub.N.Bytes()...)
}
