package dnssec

import (
	"crypto/dsa"
	"crypto/sha1"
	"encoding/asn1"
	"encoding/base64"
	"fmt"
	"math/big"

	"github.com/miekg/dns"

	"github.com/mxclient/mxclient/internal/dnscrypto"
)

// This file verifies DSA signatures (DNSSEC algorithms 3 and 6, RFC 2536
// and RFC 5155 §2) for the replay runner. RFC 8624 §3.1 lists DSA as MUST
// NOT for validation, so production code lacks it, and the runner adds
// this verifier through dnscrypto.RegisterVerifier while it runs.

// registerReplayDSA makes algorithms DSA and DSA-NSEC3-SHA1 verifiable
// until the returned function is called.
func registerReplayDSA() (unregister func()) {
	undo3 := dnscrypto.RegisterVerifier(dns.DSA, verifyReplayDSA)
	undo6 := dnscrypto.RegisterVerifier(dns.DSANSEC3SHA1, verifyReplayDSA)
	return func() {
		undo6()
		undo3()
	}
}

// verifyReplayDSA checks a DSA signature over data with key. The signature
// is either RFC 2536 §3's 41 octets (T, R, S) or the DER SEQUENCE of R and
// S that some of Unbound's replay files carry instead.
func verifyReplayDSA(key *dns.DNSKEY, data, signature []byte) error {
	pub, err := replayDSAKey(key)
	if err != nil {
		return err
	}
	r, s, err := replayDSASignature(signature)
	if err != nil {
		return err
	}
	digest := sha1.Sum(data)
	if !dsa.Verify(pub, digest[:], r, s) {
		return dnscrypto.ErrBadSignature
	}
	return nil
}

// replayDSAKey decodes the public key field of RFC 2536 §2: T (one
// octet), Q (20 octets), then P, G and Y of 64 + 8*T octets each.
func replayDSAKey(key *dns.DNSKEY) (*dsa.PublicKey, error) {
	raw, err := base64.StdEncoding.DecodeString(key.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", dnscrypto.ErrBadKey, err)
	}
	if len(raw) < 1 || raw[0] > 8 {
		return nil, fmt.Errorf("%w: DSA key without a T octet of 0 to 8", dnscrypto.ErrBadKey)
	}
	size := 64 + 8*int(raw[0])
	if len(raw) != 1+20+3*size {
		return nil, fmt.Errorf("%w: DSA key of %d octets, want %d for T=%d", dnscrypto.ErrBadKey, len(raw), 1+20+3*size, raw[0])
	}
	field := func(off, n int) *big.Int { return new(big.Int).SetBytes(raw[off : off+n]) }
	return &dsa.PublicKey{
		Parameters: dsa.Parameters{
			Q: field(1, 20),
			P: field(21, size),
			G: field(21+size, size),
		},
		Y: field(21+2*size, size),
	}, nil
}

// replayDSASignature returns R and S from either signature encoding.
func replayDSASignature(signature []byte) (r, s *big.Int, err error) {
	// A DER SEQUENCE starts with 0x30; the T octet of RFC 2536 is at most 8.
	if len(signature) > 0 && signature[0] == 0x30 {
		var der struct{ R, S *big.Int }
		rest, err := asn1.Unmarshal(signature, &der)
		if err != nil || len(rest) != 0 {
			return nil, nil, fmt.Errorf("%w: invalid DER DSA signature", dnscrypto.ErrBadSignature)
		}
		return der.R, der.S, nil
	}
	if len(signature) != 41 {
		return nil, nil, fmt.Errorf("%w: DSA signature of %d octets, want 41 or DER", dnscrypto.ErrBadSignature, len(signature))
	}
	if signature[0] > 8 {
		return nil, nil, fmt.Errorf("%w: DSA signature T octet above 8", dnscrypto.ErrBadSignature)
	}
	return new(big.Int).SetBytes(signature[1:21]), new(big.Int).SetBytes(signature[21:41]), nil
}
