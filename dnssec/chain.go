package dnssec

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/mxclient/mxclient/internal/dnscrypto"
	"github.com/mxclient/mxclient/trustanchor"
)

// zoneState is what the walk from a trust anchor towards a name found: the
// deepest zone reached and whether its keys are proven.
type zoneState struct {
	zone     string
	security Security
	// keys is the zone's DNSKEY RRset, proven when security is Secure.
	keys []*dns.DNSKEY
	// reason explains a state other than Secure.
	reason error
	steps  []Step
}

func failedZone(zone string, err error) *zoneState {
	return &zoneState{zone: zone, security: securityOf(err), reason: err}
}

// zoneFor walks from the deepest trust anchor above name down towards
// name, one label at a time, and returns the deepest zone on the way: a
// secure zone with proven keys, the point where the chain of trust provably
// ends (insecure), or the failure that stopped it. It never walks past name.
func (l *lookup) zoneFor(name string) *zoneState {
	owner, anchors := l.v.anchorsFor(name, l.now)
	if len(anchors) == 0 {
		return l.noAnchor(name)
	}
	zs := l.anchorKeys(owner, anchors)
	if zs.security != Secure {
		return zs
	}
	depth, target := countLabels(owner), countLabels(name)
	if target-depth > l.limits.MaxZoneDepth {
		return failedZone(owner, &BogusError{Reason: ReasonLimit, Zone: owner, Name: name,
			Err: &LimitError{Limit: "MaxZoneDepth", Value: l.limits.MaxZoneDepth}})
	}
	for n := depth + 1; n <= target; n++ {
		child := ancestorWithLabels(name, n)
		cut := l.cutAt(child, zs)
		switch cut.kind {
		case cutDelegation:
			zs = l.childKeys(child, cut.ds)
			if zs.security != Secure {
				return zs
			}
		case cutNone:
		case cutNXDomain:
			return zs
		case cutInsecure:
			return &zoneState{zone: child, security: Insecure, reason: cut.err}
		default:
			return failedZone(zs.zone, cut.err)
		}
	}
	return zs
}

// noAnchor decides a name that no valid trust anchor covers. Outside every
// configured anchor nothing can be proven, so the name is insecure, as RFC
// 4035 §4.3 treats data with no trust anchor. When an anchor covers the name
// but is outside its validity period at the validation time, the clock or
// the anchor file is wrong, and the result is indeterminate rather than a
// silent downgrade.
func (l *lookup) noAnchor(name string) *zoneState {
	for _, a := range l.v.anchors {
		if isSubdomain(a.Owner(), name) {
			err := &IndeterminateError{Name: name, Err: fmt.Errorf(
				"the trust anchors for %s are not valid at %s; check the clock or --trust-anchor",
				a.Owner(), l.now.UTC().Format(time.RFC3339))}
			l.step(Step{Zone: a.Owner(), Check: "trust anchor", Name: a.Owner(), Security: Indeterminate, Detail: Explain(err)})
			return failedZone(a.Owner(), err)
		}
	}
	r := &InsecureReason{Zone: ".", Detail: fmt.Sprintf("no trust anchor covers %s", name)}
	l.step(Step{Check: "trust anchor", Name: name, Security: Insecure, Detail: r.Detail})
	return &zoneState{zone: ".", security: Insecure, reason: r}
}

// anchorsFor returns the owner of the deepest trust anchors at or above
// name that are valid at now, and those anchors.
func (v *Validator) anchorsFor(name string, now time.Time) (string, []trustanchor.Anchor) {
	best := ""
	var out []trustanchor.Anchor
	for _, a := range v.anchors {
		owner := a.Owner()
		if !a.ValidAt(now) || !isSubdomain(owner, name) {
			continue
		}
		switch {
		case best == "" || countLabels(owner) > countLabels(best):
			best, out = owner, []trustanchor.Anchor{a}
		case equalNames(owner, best):
			out = append(out, a)
		}
	}
	return best, out
}

// cachedZone runs fetch through the cache under key and replays the steps
// of a cached result into this lookup's trace.
func (l *lookup) cachedZone(key string, fetch func() *zoneState) *zoneState {
	value, shared := l.v.cache.get(l.ctx, key, l.now, func() (any, time.Time, bool) {
		before := len(l.steps)
		zs := fetch()
		zs.steps = slices.Clone(l.steps[before:])
		expires := l.now
		keep := zs.security == Secure || zs.security == Insecure || zs.security == Bogus && !isLimit(zs.reason)
		if zs.security == Secure {
			expires = l.now.Add(keysTTL(zs.keys))
		}
		if keep && zs.security != Secure {
			expires = l.now.Add(negativeCacheTime)
		}
		return zs, expires, keep
	})
	zs, ok := value.(*zoneState)
	if !ok {
		return failedZone(key, &IndeterminateError{Name: key, Err: l.ctx.Err()})
	}
	if shared {
		l.replay(zs.steps)
	}
	return zs
}

// negativeCacheTime is how long a failed or insecure chain result is kept.
// A bogus zone is retried after this long, as Unbound does with its
// bogus-ttl (60 s by default).
const negativeCacheTime = 60 * time.Second

func (l *lookup) replay(steps []Step) {
	for _, s := range steps {
		s.Cached = true
		l.step(s)
	}
}

// keysTTL returns how long a proven DNSKEY set stays cached: the TTL the
// validation left on its records.
func keysTTL(keys []*dns.DNSKEY) time.Duration {
	if len(keys) == 0 {
		return 0
	}
	ttl := keys[0].Hdr.Ttl
	for _, k := range keys[1:] {
		ttl = min(ttl, k.Hdr.Ttl)
	}
	return time.Duration(ttl) * time.Second
}

// anchorKeys fetches the DNSKEY RRset of a trust anchor's zone and proves
// it: a key that matches an anchor must sign the set.
func (l *lookup) anchorKeys(owner string, anchors []trustanchor.Anchor) *zoneState {
	return l.cachedZone("keys:"+owner, func() *zoneState {
		var ds []*dns.DS
		var direct []*dns.DNSKEY
		var names []string
		for _, a := range anchors {
			names = append(names, a.String())
			if a.DS != nil {
				ds = append(ds, a.DS)
			} else if a.DNSKEY != nil {
				direct = append(direct, a.DNSKEY)
			}
		}
		l.step(Step{Zone: owner, Check: "trust anchor", Name: owner, Security: Secure, Detail: strings.Join(names, "; ")})
		usableDS := usableDigests(ds)
		usableKeys := slices.DeleteFunc(slices.Clone(direct), func(k *dns.DNSKEY) bool {
			return !dnscrypto.Supported(k.Algorithm)
		})
		if len(usableDS) == 0 && len(usableKeys) == 0 {
			reason := &InsecureReason{Zone: owner,
				Detail: fmt.Sprintf("the trust anchors for %s use only unsupported algorithms or digest types", owner)}
			return &zoneState{zone: owner, security: Insecure, reason: reason}
		}
		return l.proveKeys(owner, usableDS, usableKeys, true)
	})
}

// childKeys fetches the DNSKEY RRset of child and proves it with the DS
// records its parent published.
func (l *lookup) childKeys(child string, ds []*dns.DS) *zoneState {
	return l.cachedZone("keys:"+child, func() *zoneState {
		return l.proveKeys(child, ds, nil, false)
	})
}

// proveKeys fetches zone's DNSKEY RRset and proves it: a key that matches
// one of ds (or equals one of direct) must have the Zone flag, protocol 3
// and no REVOKE bit, and must sign the RRset (RFC 4035 §5.2). Any one
// matching key suffices (RFC 6840 §5.11).
func (l *lookup) proveKeys(zone string, ds []*dns.DS, direct []*dns.DNSKEY, isAnchor bool) *zoneState {
	resp, err := l.query(zone, dns.TypeDNSKEY)
	if err != nil {
		l.step(Step{Zone: zone, Check: "DNSKEY", Name: zone, Type: "DNSKEY", Security: securityOf(err), Detail: Explain(err)})
		return failedZone(zone, err)
	}
	set := find(groupRRsets(resp.Answer), zone, dns.TypeDNSKEY)
	if set == nil {
		err := bogus(ReasonNoDNSKEY, zone, zone, dns.TypeDNSKEY, "the response (%s) has no DNSKEY RRset",
			dns.RcodeToString[resp.Rcode])
		l.step(Step{Zone: zone, Check: "DNSKEY", Name: zone, Type: "DNSKEY", Security: Bogus, Detail: Explain(err)})
		return failedZone(zone, err)
	}
	keys := dnskeys(set)
	matched, err := l.matchKeys(zone, keys, ds, direct, isAnchor)
	if err != nil {
		l.step(Step{Zone: zone, Check: "DNSKEY", Name: zone, Type: "DNSKEY", Security: Bogus, Detail: Explain(err)})
		return failedZone(zone, err)
	}
	sig, err := l.verifyRRset(set, zone, matched)
	if err != nil {
		var be *BogusError
		if errors.As(err, &be) && (be.Reason == ReasonSignatureMissing || be.Reason == ReasonNoMatchingKey) {
			be.Reason = ReasonDNSKEYUnsigned
			be.Detail = fmt.Sprintf("keys matching the %s: %s", anchorWord(isAnchor), keyList(matched))
		}
		return failedZone(zone, err)
	}
	for _, k := range keys {
		k.Hdr.Ttl = capTTL(k.Hdr.Ttl, sig, l.now)
	}
	l.step(Step{Zone: zone, Check: "DNSKEY", Name: zone, Type: "DNSKEY", Security: Secure,
		Detail: fmt.Sprintf("keys %s; signed by %d", keyList(keys), sig.KeyTag)})
	return &zoneState{zone: zone, security: Secure, keys: keys}
}

func anchorWord(isAnchor bool) string {
	if isAnchor {
		return "trust anchor"
	}
	return "DS"
}

// matchKeys returns the keys of the set that match a DS record or equal a
// trust anchor key, and may therefore sign the DNSKEY RRset.
func (l *lookup) matchKeys(zone string, keys []*dns.DNSKEY, ds []*dns.DS, direct []*dns.DNSKEY, isAnchor bool) ([]*dns.DNSKEY, error) {
	var matched []*dns.DNSKEY
	revoked := false
	mismatches := 0
	for _, k := range keys {
		if k.Protocol != 3 || k.Flags&dns.ZONE == 0 {
			continue
		}
		ok, tried := matchesDS(k, ds)
		mismatches += tried
		if ok {
			mismatches--
		}
		if mismatches > l.limits.MaxDSMismatches {
			return nil, &BogusError{Reason: ReasonLimit, Zone: zone, Name: zone, Type: dns.TypeDNSKEY,
				Detail: "too many DNSKEYs share the key tags of the DS records",
				Err:    &LimitError{Limit: "MaxDSMismatches", Value: l.limits.MaxDSMismatches}}
		}
		if !ok && !matchesKey(k, direct) {
			continue
		}
		if k.Flags&revokeFlag != 0 {
			revoked = true
			continue
		}
		matched = append(matched, k)
	}
	if len(matched) > 0 {
		return matched, nil
	}
	reason := ReasonDSMismatch
	if isAnchor {
		reason = ReasonAnchorMismatch
	}
	detail := fmt.Sprintf("DS %s; DNSKEYs %s", dsList(ds), keyList(keys))
	if isAnchor && len(direct) > 0 {
		detail = fmt.Sprintf("anchor keys %s; DNSKEYs %s", keyList(direct), keyList(keys))
	}
	if revoked {
		reason = ReasonRevokedKey
		detail = "the only matching key has the REVOKE bit; " + detail
	}
	return nil, bogus(reason, zone, zone, dns.TypeDNSKEY, "%s", detail)
}

// matchesDS reports whether a DS record digests k, and how many digests it
// computed to find out.
func matchesDS(k *dns.DNSKEY, ds []*dns.DS) (bool, int) {
	tag := k.KeyTag()
	computed := 0
	for _, d := range ds {
		if d.KeyTag != tag || d.Algorithm != k.Algorithm {
			continue
		}
		computed++
		digest := digestHook(k, d.DigestType)
		if digest != nil && strings.EqualFold(digest.Digest, d.Digest) {
			return true, computed
		}
	}
	return false, computed
}

// digestHook computes the DS digest of a key; benchmarks replace it to
// time the hashing on its own.
var digestHook = (*dns.DNSKEY).ToDS

func matchesKey(k *dns.DNSKEY, direct []*dns.DNSKEY) bool {
	for _, a := range direct {
		if a.Algorithm == k.Algorithm && a.Protocol == k.Protocol &&
			a.Flags&^revokeFlag == k.Flags&^revokeFlag && a.PublicKey == k.PublicKey {
			return true
		}
	}
	return false
}

// usableDigests returns the DS records a validator can use: a supported
// algorithm and digest type, and no SHA-1 digests when SHA-256 ones are
// present (RFC 4509 §3).
func usableDigests(ds []*dns.DS) []*dns.DS {
	var out []*dns.DS
	hasSHA256 := false
	for _, d := range ds {
		if !dnscrypto.Supported(d.Algorithm) || !supportedDigest(d.DigestType) {
			continue
		}
		if d.DigestType == dns.SHA256 {
			hasSHA256 = true
		}
		out = append(out, d)
	}
	if hasSHA256 {
		out = slices.DeleteFunc(out, func(d *dns.DS) bool { return d.DigestType == dns.SHA1 })
	}
	return out
}

func supportedDigest(t uint8) bool {
	return t == dns.SHA1 || t == dns.SHA256 || t == dns.SHA384
}

func dnskeys(s *rrset) []*dns.DNSKEY {
	var keys []*dns.DNSKEY
	for _, rr := range s.rrs {
		if k, ok := rr.(*dns.DNSKEY); ok {
			keys = append(keys, k)
		}
	}
	return keys
}

func keyList(keys []*dns.DNSKEY) string {
	var parts []string
	for _, k := range keys {
		role := "ZSK"
		if k.Flags&dns.SEP != 0 {
			role = "KSK"
		}
		if k.Flags&revokeFlag != 0 {
			role += ",REVOKED"
		}
		parts = append(parts, fmt.Sprintf("%d/%d/%s", k.KeyTag(), k.Algorithm, role))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, " ")
}

func dsList(ds []*dns.DS) string {
	var parts []string
	for _, d := range ds {
		parts = append(parts, fmt.Sprintf("%d/%d/%s", d.KeyTag, d.Algorithm, digestName(d.DigestType)))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, " ")
}

func digestName(t uint8) string {
	switch t {
	case dns.SHA1:
		return "SHA-1"
	case dns.SHA256:
		return "SHA-256"
	case dns.SHA384:
		return "SHA-384"
	}
	return fmt.Sprintf("digest%d", t)
}
