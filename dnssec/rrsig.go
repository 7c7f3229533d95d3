package dnssec

import (
	"fmt"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/mxclient/mxclient/internal/dnscrypto"
)

// revokeFlag is the REVOKE bit of the DNSKEY flags (RFC 5011 §7).
const revokeFlag = 0x0080

// verifyRRset checks that one RRSIG by zone over s verifies with one of
// keys at the validation time, and returns that RRSIG. A failure is a
// *BogusError naming the most telling reason.
func (l *lookup) verifyRRset(s *rrset, zone string, keys []*dns.DNSKEY) (*dns.RRSIG, error) {
	sig, err := l.tryRRSIGs(s, zone, keys)
	st := Step{Zone: zone, Check: "RRSIG", Name: s.name, Type: dns.TypeToString[s.rtype]}
	if err != nil {
		st.Security, st.Detail = Bogus, Explain(err)
		l.step(st)
		return nil, err
	}
	st.Security = Secure
	st.Expires = sigTime(sig.Expiration, l.now).UTC()
	st.Detail = fmt.Sprintf("key %d algorithm %s, expires %s", sig.KeyTag,
		algorithmName(sig.Algorithm), st.Expires.Format(time.RFC3339))
	l.step(st)
	return sig, nil
}

func (l *lookup) tryRRSIGs(s *rrset, zone string, keys []*dns.DNSKEY) (*dns.RRSIG, error) {
	fail := func(reason Reason, format string, args ...any) *BogusError {
		return bogus(reason, zone, s.name, s.rtype, format, args...)
	}
	if len(s.sigs) == 0 {
		return nil, fail(ReasonSignatureMissing, "no RRSIG")
	}
	var best, limit *BogusError
	note := func(e *BogusError) {
		if best == nil || reasonRank(e.Reason) > reasonRank(best.Reason) {
			best = e
		}
	}
	limitHit := func(name string, value int, detail string) *BogusError {
		if limit == nil {
			limit = &BogusError{Reason: ReasonLimit, Zone: zone, Name: s.name, Type: s.rtype,
				Detail: detail, Err: &LimitError{Limit: name, Value: value}}
		}
		return limit
	}
	tried := 0
	for _, sig := range s.sigs {
		if e := l.precheck(sig, s, zone); e != nil {
			note(e)
			continue
		}

		candidates := keysFor(sig, keys)
		if len(candidates) == 0 {
			note(fail(ReasonNoMatchingKey, "no DNSKEY with key tag %d algorithm %d", sig.KeyTag, sig.Algorithm))
			continue
		}
		if len(candidates) > l.limits.MaxKeysPerTag {
			limitHit("MaxKeysPerTag", l.limits.MaxKeysPerTag,
				fmt.Sprintf("%d DNSKEYs share key tag %d", len(candidates), sig.KeyTag))
			candidates = candidates[:l.limits.MaxKeysPerTag]
		}
		for _, key := range candidates {
			if key.Flags&revokeFlag != 0 && s.rtype != dns.TypeDNSKEY {
				// RFC 5011 §2.1: a revoked key signs only its DNSKEY RRset.
				note(fail(ReasonRevokedKey, "key %d has the REVOKE bit", sig.KeyTag))
				continue
			}
			if tried >= l.limits.MaxSignatureChecksPerRRset {
				return nil, limitHit("MaxSignatureChecksPerRRset", l.limits.MaxSignatureChecksPerRRset,
					fmt.Sprintf("%d RRSIGs", len(s.sigs)))
			}
			if l.sigChecks >= l.limits.MaxSignatureChecks {
				return nil, limitHit("MaxSignatureChecks", l.limits.MaxSignatureChecks, "")
			}
			tried++
			l.sigChecks++
			err := verifyHook(sig, key, s.rrs)
			if err == nil {
				return sig, nil
			}
			note(&BogusError{Reason: ReasonSignatureInvalid, Zone: zone, Name: s.name, Type: s.rtype,
				Detail: fmt.Sprintf("key %d algorithm %s", sig.KeyTag, algorithmName(sig.Algorithm)), Err: err})
		}
	}
	// A limit that cut the search short explains the failure better than
	// the signatures it left untried.
	if limit != nil {
		return nil, limit
	}
	return nil, best
}

// verifyHook checks one signature; benchmarks replace it to time the
// cryptography on its own.
var verifyHook = dnscrypto.Verify

// precheck applies the checks of RFC 4035 §5.3.1 that need no
// cryptography: signer, algorithm, labels field and validity period.
func (l *lookup) precheck(sig *dns.RRSIG, s *rrset, zone string) *BogusError {
	if !equalNames(sig.SignerName, zone) {
		return bogus(ReasonBadSigner, zone, s.name, s.rtype, "RRSIG signer %s, expected %s", sig.SignerName, zone)
	}
	if !dnscrypto.Supported(sig.Algorithm) {
		return bogus(ReasonNoMatchingKey, zone, s.name, s.rtype, "RRSIG algorithm %d is not supported", sig.Algorithm)
	}
	// The labels field is at most the owner's label count (RFC 4035
	// §5.3.1), and at least the signer's so that no wildcard above the
	// zone can be claimed.
	ownerLabels, signerLabels := countLabels(s.name), countLabels(zone)
	if int(sig.Labels) > ownerLabels || int(sig.Labels) < signerLabels {
		return bogus(ReasonBadLabels, zone, s.name, s.rtype, "RRSIG labels %d, owner has %d and signer %d",
			sig.Labels, ownerLabels, signerLabels)
	}
	return l.checkWindow(sig, s, zone)
}

// checkWindow checks the RRSIG validity period against the validation time.
func (l *lookup) checkWindow(sig *dns.RRSIG, s *rrset, zone string) *BogusError {
	inception := sigTime(sig.Inception, l.now)
	expiration := sigTime(sig.Expiration, l.now)
	if l.now.Before(inception) {
		return bogus(ReasonSignatureNotYetValid, zone, s.name, s.rtype,
			"key %d, inception %s, validation time %s", sig.KeyTag,
			inception.UTC().Format(time.RFC3339), l.now.UTC().Format(time.RFC3339))
	}
	if l.now.After(expiration) {
		return bogus(ReasonSignatureExpired, zone, s.name, s.rtype,
			"key %d, expired %s, validation time %s", sig.KeyTag,
			expiration.UTC().Format(time.RFC3339), l.now.UTC().Format(time.RFC3339))
	}
	return nil
}

// reasonRank orders failures by how much they tell the reader: a
// signature that was checked and failed beats a missing key, which beats a
// signature from the wrong signer.
func reasonRank(r Reason) int {
	switch r {
	case ReasonSignatureInvalid, ReasonSignatureExpired, ReasonSignatureNotYetValid, ReasonLimit:
		return 4
	case ReasonRevokedKey, ReasonBadLabels:
		return 3
	case ReasonNoMatchingKey:
		return 2
	case ReasonBadSigner:
		return 1
	}
	return 0
}

// keysFor returns the keys with the RRSIG's key tag and algorithm, the Zone
// flag and protocol 3 (RFC 4034 §2.1.1, §2.1.2).
func keysFor(sig *dns.RRSIG, keys []*dns.DNSKEY) []*dns.DNSKEY {
	var out []*dns.DNSKEY
	for _, k := range keys {
		if k.Algorithm == sig.Algorithm && k.Protocol == 3 && k.Flags&dns.ZONE != 0 && k.KeyTag() == sig.KeyTag {
			out = append(out, k)
		}
	}
	return out
}

// sigTime converts an RRSIG timestamp to the time nearest to now that it
// can denote, using the serial number arithmetic of RFC 4034 §3.1.5.
func sigTime(v uint32, now time.Time) time.Time {
	n := now.Unix()
	d := int64(v) - (n & 0xffffffff)
	if d > 1<<31 {
		d -= 1 << 32
	} else if d < -(1 << 31) {
		d += 1 << 32
	}
	return time.Unix(n+d, 0)
}

// capTTL returns the TTL rr may be kept for, under a secure RRSIG: no more
// than its original TTL (RFC 4035 §5.3.3) and no later than its expiration.
func capTTL(ttl uint32, sig *dns.RRSIG, now time.Time) uint32 {
	if sig == nil {
		return ttl
	}
	if sig.OrigTtl < ttl {
		ttl = sig.OrigTtl
	}
	left := sigTime(sig.Expiration, now).Sub(now) / time.Second
	if left < 0 {
		left = 0
	}
	if int64(left) < int64(ttl) {
		ttl = uint32(left)
	}
	return ttl
}

func algorithmName(alg uint8) string {
	if name, ok := dns.AlgorithmToString[alg]; ok {
		return fmt.Sprintf("%d (%s)", alg, name)
	}
	return fmt.Sprintf("%d", alg)
}

// expandedFromWildcard reports whether sig shows that its RRset at owner
// was synthesized from a wildcard: the labels field counts fewer labels
// than the owner has, the "*" of a wildcard owner itself excepted (RFC 4034
// §3.1.3).
func expandedFromWildcard(owner string, sig *dns.RRSIG) bool {
	labels := countLabels(owner)
	if strings.HasPrefix(owner, "*.") {
		labels--
	}
	return int(sig.Labels) < labels
}
