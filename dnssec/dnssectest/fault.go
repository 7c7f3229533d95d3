package dnssectest

import (
	"fmt"
	"strconv"

	"github.com/miekg/dns"
)

// FaultKind is a deliberate defect that a signed zone can carry. Each kind's
// comment describes what the servers send and what a validator must conclude.
// "Bogus" is the RFC 4035 §4.3 state: a chain of trust exists but the data
// fails validation.
type FaultKind int

const (
	// ExpiredSignatures serves RRSIGs whose validity ended a day before
	// Config.Now (inception Now-31d, expiration Now-24h). Targetable; with
	// no target it covers every RRset of the zone, DNSKEY included. Data
	// that depends on them is bogus.
	ExpiredSignatures FaultKind = iota + 1

	// NotYetValidSignatures serves RRSIGs whose validity starts a day after
	// Config.Now (inception Now+24h, expiration Now+31d). Targetable.
	// Bogus, like ExpiredSignatures.
	NotYetValidSignatures

	// MissingRRSIG serves RRsets without any RRSIG. Targetable; with no
	// target the whole zone is unsigned but still has its DS and DNSKEY.
	// Data of a zone with a secure delegation and no signature is bogus.
	MissingRRSIG

	// UnsignedDNSKEY serves the DNSKEY RRset without RRSIGs, so no key can
	// be authenticated from the DS. Zone-wide. Everything in the zone, and
	// below it, is bogus.
	UnsignedDNSKEY

	// AlteredData signs an RRset and then serves a changed copy: one octet
	// of the RDATA differs, or a name in it gains a label. The RRSIG is
	// otherwise correct. Targetable. The altered RRset is bogus.
	AlteredData

	// CorruptSignature flips bits in the signature field of the RRSIGs.
	// Targetable: with Type dns.TypeNSEC3 it gives every NSEC3 record a bad
	// signature. Bogus for the data they cover.
	CorruptSignature

	// WrongDS makes the parent's DS digest a key that the zone does not
	// publish. Zone-wide. No DNSKEY matches the DS, so the zone is bogus
	// (RFC 4035 §5.2), not insecure.
	WrongDS

	// IrrelevantDenial replaces the NSEC or NSEC3 records of negative
	// answers, of wildcard answers and of referrals without DS by one
	// signed, valid record of the zone's chain that neither matches nor
	// covers the query name, its ancestors or their wildcards. Targetable
	// by query name (Name; Type is ignored). The denial is not proven, so
	// the answer is bogus.
	IrrelevantDenial

	// WildcardWithoutProof serves wildcard expansions without the NSEC or
	// NSEC3 record that proves the query name does not exist. Targetable
	// by query name. A validator must treat the expanded answer as bogus
	// (RFC 4035 §5.3.4).
	WildcardWithoutProof

	// KeyTrap is the key-tag collision attack of CVE-2023-50387. The DNSKEY
	// RRset gains Count crafted keys (default 40) with the key tag of the
	// zone's ZSK (or combined key), and every RRSIG of the zone is preceded
	// by Count copies with that key tag and random signatures. Only the
	// real key and real signature verify, so the data is still valid, but
	// a validator that tries every key against every signature does
	// (Count+1)² verifications per RRset. A validator must bound that work;
	// whether it then reports secure or bogus is its policy. For RSA the
	// crafted keys have random moduli. For the other algorithms they are
	// real public keys whose reserved flag bits (RFC 4034 §2.1.1) are set
	// to reach the key tag. Zone-wide.
	KeyTrap

	// RevokedKey publishes a second key with the REVOKE flag (RFC 5011,
	// flags 385), adds its RRSIG to the DNSKEY RRset, and signs the targeted
	// RRsets with that key only. The parent's DS still digests the zone's
	// real KSK, so the DNSKEY RRset validates. Targetable; DNSKEY targets
	// are ignored. A revoked key must not validate data, so the targeted
	// RRsets are bogus.
	RevokedKey

	// RevokedKSK sets the REVOKE flag on the zone's KSK (or combined key),
	// and the parent's DS digests that revoked key. Zone-wide. The only
	// secure entry point is revoked, so the zone is bogus.
	RevokedKSK

	// ReplayedWildcardSignature replaces the RRSIG of the targeted RRset
	// (Name and Type are required) with one whose labels field is the label
	// count of the zone's parent: for x.sub.example. in zone sub.example.,
	// labels 1, so the signature covers *.example. The signer is the zone
	// named by Signer, by default the faulted zone itself, and the
	// signature is made with that zone's ZSK, so it verifies
	// cryptographically. With the default signer the labels field is
	// smaller than the signer name's label count, which no genuine
	// wildcard in the zone can produce. With Signer set to an ancestor
	// zone the signer is not the zone that holds the name. Either way the
	// RRset is bogus. No denial proof comes with it.
	ReplayedWildcardSignature

	// WrongNSEC3Owner serves every NSEC3 record under
	// <hash>.misplaced.<zone> instead of <hash>.<zone>, correctly signed
	// under that owner. Zone-wide, NSEC3 zones only. RFC 5155 §7.2 and §8
	// need the hash as the label directly below the apex, so the records
	// prove nothing and negative answers are bogus.
	WrongNSEC3Owner

	// UnsupportedDSAlgorithm makes the parent's DS record carry algorithm
	// 253 (PRIVATEDNS) instead of the key's own. Zone-wide. A validator
	// knows no DS it can use, so the zone is insecure (RFC 6840 §5.2).
	UnsupportedDSAlgorithm

	// UnsupportedDSDigest makes the parent's DS record use digest type
	// 99, which no standard assigns. Zone-wide. The zone is insecure
	// (RFC 6840 §5.2).
	UnsupportedDSDigest

	// WrongSHA256DS makes the parent publish a correct SHA-1 DS and a
	// SHA-256 DS for a key the zone does not publish. Zone-wide. A
	// validator ignores the SHA-1 record beside a SHA-256 one (RFC 4509
	// §3), so no DNSKEY matches and the zone is bogus.
	WrongSHA256DS
)

var faultNames = map[FaultKind]string{
	ExpiredSignatures:         "ExpiredSignatures",
	NotYetValidSignatures:     "NotYetValidSignatures",
	MissingRRSIG:              "MissingRRSIG",
	UnsignedDNSKEY:            "UnsignedDNSKEY",
	AlteredData:               "AlteredData",
	CorruptSignature:          "CorruptSignature",
	WrongDS:                   "WrongDS",
	IrrelevantDenial:          "IrrelevantDenial",
	WildcardWithoutProof:      "WildcardWithoutProof",
	KeyTrap:                   "KeyTrap",
	RevokedKey:                "RevokedKey",
	RevokedKSK:                "RevokedKSK",
	ReplayedWildcardSignature: "ReplayedWildcardSignature",
	WrongNSEC3Owner:           "WrongNSEC3Owner",
	UnsupportedDSAlgorithm:    "UnsupportedDSAlgorithm",
	UnsupportedDSDigest:       "UnsupportedDSDigest",
	WrongSHA256DS:             "WrongSHA256DS",
}

// String returns the constant's name.
func (k FaultKind) String() string {
	if s, ok := faultNames[k]; ok {
		return s
	}
	return "FaultKind(" + strconv.Itoa(int(k)) + ")"
}

// Fault is one deliberate defect of a zone.
//
// A targetable fault applies to the RRsets whose owner is Name and whose
// type is Type. An empty Name matches every owner and a zero Type every
// type, so the zero target is the whole zone. Name is relative to the
// zone's origin unless it ends in a dot, and "@" is the origin. Zone-wide
// kinds reject a target.
type Fault struct {
	Kind FaultKind
	Name string
	Type uint16
	// Count is the number of crafted keys and extra signatures of KeyTrap;
	// zero means 40.
	Count int
	// Signer is the zone whose key makes the ReplayedWildcardSignature
	// RRSIG and whose name is its signer field; empty means the faulted
	// zone.
	Signer string
}

// String describes f for test names and error messages.
func (f Fault) String() string {
	s := f.Kind.String()
	if f.Name != "" || f.Type != 0 {
		s += fmt.Sprintf("(%s %s)", f.Name, dns.Type(f.Type))
	}
	return s
}

func (f Fault) count() int {
	if f.Count > 0 {
		return f.Count
	}
	return 40
}

// targetable reports whether the kind accepts Name and Type.
func (k FaultKind) targetable() bool {
	switch k {
	case UnsignedDNSKEY, WrongDS, KeyTrap, RevokedKSK, WrongNSEC3Owner,
		UnsupportedDSAlgorithm, UnsupportedDSDigest, WrongSHA256DS:
		return false
	}
	return true
}

// matches reports whether f targets the RRset at owner of type t in z.
func (f Fault) matches(z *Zone, owner string, t uint16) bool {
	if f.Name != "" && z.absName(f.Name) != owner {
		return false
	}
	return f.Type == 0 || f.Type == t
}

// check reports a fault that z cannot carry.
func (f Fault) check(z *Zone) error {
	wrap := func(msg string) error {
		return fmt.Errorf("dnssectest: zone %s: fault %s: %s", z.origin, f, msg)
	}
	if _, ok := faultNames[f.Kind]; !ok {
		return wrap("unknown kind")
	}
	if !f.Kind.targetable() && (f.Name != "" || f.Type != 0) {
		return wrap("this kind applies to the whole zone and takes no Name or Type")
	}
	if f.Name != "" && !dns.IsSubDomain(z.origin, z.absName(f.Name)) {
		return wrap("the target name is outside the zone")
	}
	switch f.Kind {
	case WrongNSEC3Owner:
		if z.opts.Denial == NSEC {
			return wrap("the zone uses NSEC, not NSEC3")
		}
	case ReplayedWildcardSignature:
		if f.Name == "" || f.Type == 0 {
			return wrap("Name and Type are required")
		}
		if z.origin == "." {
			return wrap("the root has no parent to take a wildcard from")
		}
		signer := z.lab.byOrigin[dns.CanonicalName(dns.Fqdn(f.Signer))]
		if f.Signer != "" && (signer == nil || !signer.signed()) {
			return wrap("Signer " + f.Signer + " is not a signed zone of the lab")
		}
	}
	return nil
}

// hasFault reports whether z carries a fault of kind k.
func (z *Zone) hasFault(k FaultKind) bool {
	_, ok := z.fault(k)
	return ok
}

// fault returns z's first fault of kind k.
func (z *Zone) fault(k FaultKind) (Fault, bool) {
	for _, f := range z.opts.Faults {
		if f.Kind == k {
			return f, true
		}
	}
	return Fault{}, false
}

// queryFault reports whether z carries a fault of kind k that targets
// query name qname.
func (z *Zone) queryFault(k FaultKind, qname string) bool {
	for _, f := range z.opts.Faults {
		if f.Kind == k && (f.Name == "" || z.absName(f.Name) == qname) {
			return true
		}
	}
	return false
}
