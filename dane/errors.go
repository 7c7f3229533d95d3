package dane

import (
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
)

// Categories for errors.Is. Every *MismatchError matches ErrNoMatch, and
// also ErrNoUsableRecords when the set has no usable record.
var (
	ErrNoMatch         = errors.New("dane: no usable TLSA record matches the certificate chain")
	ErrNoUsableRecords = errors.New("dane: no usable TLSA records")
	ErrNoCertificate   = errors.New("dane: the server sent no certificate")
)

// Outcome is the result of trying one TLSA record against a chain.
type Outcome int

const (
	// Matched: the record authenticates the chain.
	Matched Outcome = iota
	// Unusable: the record was not tried; see Record.Reason.
	Unusable
	// NoMatch: for DANE-EE, the leaf does not match the record. For
	// DANE-TA, no certificate of the chain above the leaf matches it, and
	// the record does not carry a full certificate or key that could serve
	// as a trust anchor absent from the chain.
	NoMatch
	// ChainInvalid: a DANE-TA trust anchor matched, but the chain from the
	// leaf to it does not verify: a signature, an expired or not yet valid
	// certificate, a missing intermediate, a CA or key usage constraint.
	ChainInvalid
	// NameMismatch: a DANE-TA chain verified, but the leaf certificate is
	// issued for none of the reference identifiers, or only its common
	// name matches one while a CA of the chain has DNS name constraints.
	NameMismatch
	// Superseded: the record was not tried because it is a SHA2-256 record
	// and the set has a usable SHA2-512 record with the same usage and
	// selector (digest algorithm agility, RFC 7671 §9).
	Superseded
)

var outcomeNames = [...]string{
	Matched:      "match",
	Unusable:     "unusable",
	NoMatch:      "no match",
	ChainInvalid: "chain invalid",
	NameMismatch: "name mismatch",
	Superseded:   "superseded",
}

func (o Outcome) String() string {
	if o < 0 || int(o) >= len(outcomeNames) {
		return fmt.Sprintf("Outcome(%d)", int(o))
	}
	return outcomeNames[o]
}

// MarshalText encodes o as its description, for JSON output.
func (o Outcome) MarshalText() ([]byte, error) {
	return []byte(o.String()), nil
}

// Attempt is the result of trying one record of a set against a chain.
type Attempt struct {
	Record  Record
	Outcome Outcome
	// Depth is, for Matched, where in Chain the record matched: 0 is the
	// leaf. A DANE-TA trust anchor that the server did not send has the
	// depth len(Chain), one past the last certificate.
	Depth int
	// Chain is, for Matched, the certificates the server sent, in order
	// from the leaf to the trust anchor or to the certificate that the
	// absent trust anchor signed. For DANE-EE it is the leaf alone.
	Chain []*x509.Certificate
	// Err explains why the record did not match. It is nil for Matched and
	// Unusable, whose reason is in Record.
	Err error
}

// String describes the attempt in one line for people, such as
// "3 1 1 0c72…: no match: the leaf's SubjectPublicKeyInfo does not match".
func (a Attempt) String() string {
	switch a.Outcome {
	case Matched:
		return fmt.Sprintf("%s: match at depth %d", a.Record, a.Depth)
	case Unusable:
		return fmt.Sprintf("%s: unusable: %s", a.Record, a.Record.Detail)
	}
	return fmt.Sprintf("%s: %s: %v", a.Record, a.Outcome, a.Err)
}

// Match is a chain that a TLSA record authenticated.
type Match struct {
	// Attempt is the first record of the set, in order, that matched.
	Attempt
	// Attempts has one entry for every record of the set, in order,
	// including the one that matched.
	Attempts []Attempt
}

// MismatchError reports a chain that no usable TLSA record authenticates.
type MismatchError struct {
	// Attempts has one entry for every record of the set, in order.
	Attempts []Attempt
}

func (e *MismatchError) Error() string {
	var b strings.Builder
	if e.noUsable() {
		b.WriteString(ErrNoUsableRecords.Error())
	} else {
		b.WriteString(ErrNoMatch.Error())
	}
	for _, a := range e.Attempts {
		b.WriteString("; ")
		b.WriteString(a.String())
	}
	return b.String()
}

// Is reports whether target is ErrNoMatch, or ErrNoUsableRecords for a set
// without usable records.
func (e *MismatchError) Is(target error) bool {
	return target == ErrNoMatch || target == ErrNoUsableRecords && e.noUsable()
}

func (e *MismatchError) noUsable() bool {
	for _, a := range e.Attempts {
		if a.Outcome != Unusable {
			return false
		}
	}
	return true
}
