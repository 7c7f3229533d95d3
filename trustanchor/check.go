package trustanchor

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"

	"github.com/miekg/dns"
)

// digestTypes lists the DS digest types whose digest length is fixed.
// Other digest types are accepted with any length, because the validator
// treats them as unsupported (RFC 6840 §5.2).
var digestTypes = map[uint8]struct {
	name string
	size int
}{
	dns.SHA1:   {"SHA-1", 20},   // RFC 4034 §5.1.4
	dns.SHA256: {"SHA-256", 32}, // RFC 4509
	dns.SHA384: {"SHA-384", 48}, // RFC 6605
}

// checkDS checks the digest of a DS anchor and rewrites it as lowercase
// hex. The fix is appended to messages about a damaged digest.
func checkDS(ds *dns.DS, fix string) error {
	digest, err := hex.DecodeString(ds.Digest)
	if err != nil {
		return fmt.Errorf("DS digest %q is not hexadecimal; %s", ds.Digest, fix)
	}
	if len(digest) == 0 {
		return fmt.Errorf("DS digest is empty; %s", fix)
	}
	if t, ok := digestTypes[ds.DigestType]; ok && len(digest) != t.size {
		return fmt.Errorf("DS digest is %d bytes, %s (digest type %d) needs %d; %s",
			len(digest), t.name, ds.DigestType, t.size, fix)
	}
	ds.Digest = hex.EncodeToString(digest)
	return nil
}

// checkDNSKEY checks that a DNSKEY can serve as a trust anchor. The fix is
// appended to messages about a damaged record.
func checkDNSKEY(k *dns.DNSKEY, fix string) error {
	// RFC 4034 §2.1.2: the Protocol field MUST have value 3.
	if k.Protocol != 3 {
		return fmt.Errorf("DNSKEY protocol is %d, but RFC 4034 §2.1.2 requires 3; %s",
			k.Protocol, fix)
	}
	key, err := base64.StdEncoding.DecodeString(k.PublicKey)
	if err != nil {
		return fmt.Errorf("DNSKEY public key is not valid base64 (%v); %s", err, fix)
	}
	if len(key) == 0 {
		return fmt.Errorf("DNSKEY public key is empty; %s", fix)
	}
	// RFC 5011 §2.1: a key with the REVOKE bit set must not be used as a
	// trust anchor.
	if k.Flags&dns.REVOKE != 0 {
		return fmt.Errorf("DNSKEY with key tag %d has the REVOKE flag (%d) set, and RFC 5011 §2.1 "+
			"forbids using a revoked key as a trust anchor; use the zone's current key instead",
			k.KeyTag(), dns.REVOKE)
	}
	// RFC 4034 §2.1.1: without the Zone Key flag, the key must not be used
	// to verify RRSIGs.
	if k.Flags&dns.ZONE == 0 {
		return fmt.Errorf("DNSKEY flags are %d, without the Zone Key flag (%d), so the key cannot "+
			"verify the zone's signatures (RFC 4034 §2.1.1); use the zone's key-signing key, "+
			"whose flags are 257", k.Flags, dns.ZONE)
	}
	return nil
}
