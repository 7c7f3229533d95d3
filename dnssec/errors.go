package dnssec

import (
	"errors"
	"fmt"
	"strings"

	"github.com/miekg/dns"
)

// Categories for errors.Is: every *BogusError matches ErrBogus and every
// *IndeterminateError matches ErrIndeterminate.
var (
	ErrBogus         = errors.New("dnssec: bogus")
	ErrIndeterminate = errors.New("dnssec: indeterminate")
)

// Reason says why an answer is bogus.
type Reason int

// Reasons for a bogus result. Each names one distinct failure so that a
// caller, and the person reading `mxclient lookup --trace`, can act on it.
const (
	ReasonUnknown Reason = iota
	// ReasonSignatureMissing: an RRset in a signed zone has no RRSIG.
	ReasonSignatureMissing
	// ReasonSignatureExpired: the RRSIG expiration is before the validation time.
	ReasonSignatureExpired
	// ReasonSignatureNotYetValid: the RRSIG inception is after the validation time.
	ReasonSignatureNotYetValid
	// ReasonSignatureInvalid: the signature does not verify over the data.
	ReasonSignatureInvalid
	// ReasonNoMatchingKey: no DNSKEY of the zone has the RRSIG's key tag and algorithm.
	ReasonNoMatchingKey
	// ReasonRevokedKey: the only matching key has the REVOKE bit and may not sign this RRset.
	ReasonRevokedKey
	// ReasonBadLabels: the RRSIG labels field is larger than the owner's
	// label count, or smaller than the signer's.
	ReasonBadLabels
	// ReasonBadSigner: the RRSIG signer is not the zone that holds the owner name.
	ReasonBadSigner
	// ReasonDSMismatch: no DNSKEY of the child matches a DS record of the parent.
	ReasonDSMismatch
	// ReasonNoDNSKEY: the zone's DNSKEY RRset is missing.
	ReasonNoDNSKEY
	// ReasonDNSKEYUnsigned: no DS-matched key signs the DNSKEY RRset.
	ReasonDNSKEYUnsigned
	// ReasonDenialMissing: a negative answer carries no NSEC or NSEC3 proof.
	ReasonDenialMissing
	// ReasonDenialInvalid: NSEC or NSEC3 records are present but do not prove the denial.
	ReasonDenialInvalid
	// ReasonWildcardUnproven: a wildcard expansion lacks the proof that the name does not exist.
	ReasonWildcardUnproven
	// ReasonCNAMELoop: a CNAME or DNAME chain returns to a name it has passed.
	ReasonCNAMELoop
	// ReasonDNAMEMismatch: a CNAME synthesized from a DNAME does not match the substitution.
	ReasonDNAMEMismatch
	// ReasonLimit: a resource limit was hit; see LimitError.
	ReasonLimit
	// ReasonMalformed: a response is inconsistent (wrong records in a
	// section, a proof from the wrong zone).
	ReasonMalformed
	// ReasonAnchorMismatch: no DNSKEY of the trust anchor's zone matches the anchor.
	ReasonAnchorMismatch
)

var reasonNames = [...]string{
	ReasonUnknown:              "unknown failure",
	ReasonSignatureMissing:     "signature missing",
	ReasonSignatureExpired:     "signature expired",
	ReasonSignatureNotYetValid: "signature not yet valid",
	ReasonSignatureInvalid:     "signature invalid",
	ReasonNoMatchingKey:        "no matching DNSKEY",
	ReasonRevokedKey:           "signed by a revoked key",
	ReasonBadLabels:            "RRSIG labels field out of range",
	ReasonBadSigner:            "signer is not the zone of the owner",
	ReasonDSMismatch:           "no DNSKEY matches the DS",
	ReasonNoDNSKEY:             "DNSKEY RRset missing",
	ReasonDNSKEYUnsigned:       "DNSKEY RRset not signed by a DS-matched key",
	ReasonDenialMissing:        "denial of existence missing",
	ReasonDenialInvalid:        "denial of existence does not prove the answer",
	ReasonWildcardUnproven:     "wildcard expansion without proof",
	ReasonCNAMELoop:            "CNAME loop",
	ReasonDNAMEMismatch:        "CNAME does not match its DNAME",
	ReasonLimit:                "resource limit exceeded",
	ReasonMalformed:            "malformed response",
	ReasonAnchorMismatch:       "no DNSKEY matches the trust anchor",
}

func (r Reason) String() string {
	if r < 0 || int(r) >= len(reasonNames) {
		return fmt.Sprintf("Reason(%d)", int(r))
	}
	return reasonNames[r]
}

// MarshalText encodes r as its description, for JSON output.
func (r Reason) MarshalText() ([]byte, error) {
	return []byte(r.String()), nil
}

// BogusError explains a bogus result: which check failed, in which zone,
// on which record.
type BogusError struct {
	Reason Reason
	// Zone is the zone whose keys or proofs failed.
	Zone string
	// Name and Type identify the RRset or the denial that failed.
	Name string
	Type uint16
	// Detail adds specifics: key tags, times, the records tried.
	Detail string
	// Err is the underlying cause, such as a LimitError or a crypto error.
	Err error
}

func (e *BogusError) Error() string {
	msg := "dnssec: bogus: " + e.Reason.String()
	if e.Name != "" {
		msg += " for " + e.Name
		if e.Type != 0 {
			msg += " " + dns.TypeToString[e.Type]
		}
	}
	if e.Zone != "" {
		msg += " in zone " + e.Zone
	}
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Is reports whether target is ErrBogus.
func (e *BogusError) Is(target error) bool { return target == ErrBogus }

func (e *BogusError) Unwrap() error { return e.Err }

// IndeterminateError explains why the data needed for a proof could not be
// obtained.
type IndeterminateError struct {
	Name string
	Type uint16
	Err  error
}

func (e *IndeterminateError) Error() string {
	return fmt.Sprintf("dnssec: indeterminate: querying %s %s: %v", e.Name, dns.TypeToString[e.Type], e.Err)
}

// Is reports whether target is ErrIndeterminate.
func (e *IndeterminateError) Is(target error) bool { return target == ErrIndeterminate }

func (e *IndeterminateError) Unwrap() error { return e.Err }

// LimitError reports a resource limit that a lookup hit. It is wrapped in a
// BogusError with ReasonLimit.
type LimitError struct {
	// Limit is the field name in Limits, such as "MaxQueries".
	Limit string
	Value int
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("limit %s (%d) reached", e.Limit, e.Value)
}

// InsecureReason explains why a result is insecure. It is not an error: an
// insecure answer is a valid answer from an unsigned zone.
type InsecureReason struct {
	// Zone is where the chain of trust ends: the name with no DS, or the
	// zone whose keys use only unsupported algorithms.
	Zone   string
	Detail string
}

func (r *InsecureReason) Error() string {
	return "dnssec: insecure: " + r.Detail
}

// Explain returns the message of a Result's Reason without the package and
// state prefixes, for output that already shows the state.
func Explain(err error) string {
	if err == nil {
		return ""
	}
	msg := err.Error()
	for _, prefix := range []string{"dnssec: bogus: ", "dnssec: indeterminate: ", "dnssec: insecure: ", "dnssec: "} {
		if rest, ok := strings.CutPrefix(msg, prefix); ok {
			return rest
		}
	}
	return msg
}

func bogus(reason Reason, zone, name string, qtype uint16, format string, args ...any) *BogusError {
	return &BogusError{Reason: reason, Zone: zone, Name: name, Type: qtype, Detail: fmt.Sprintf(format, args...)}
}
