package dane

import (
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/miekg/dns"
)

// Certificate usages (RFC 6698 §2.1.1), named as in RFC 7218.
const (
	PKIXTA = 0
	PKIXEE = 1
	DANETA = 2
	DANEEE = 3
)

// Selectors (RFC 6698 §2.1.2), named as in RFC 7218.
const (
	SelectorCert = 0
	SelectorSPKI = 1
)

// Matching types (RFC 6698 §2.1.3), named as in RFC 7218.
const (
	MatchingFull   = 0
	MatchingSHA256 = 1
	MatchingSHA512 = 2
)

// Reason is the cause that makes a TLSA record unusable for SMTP.
type Reason int

// Reasons for an unusable record. An SMTP client ignores such a record, but
// the other records of the set stay usable.
const (
	// ReasonNone: the record is usable.
	ReasonNone Reason = iota
	// ReasonPKIXUsage: usage PKIX-TA(0) or PKIX-EE(1), which SMTP clients
	// do not use because MTAs share no agreed set of trusted CAs
	// (RFC 7672 §3.1.3).
	ReasonPKIXUsage
	// ReasonUnknownUsage: a certificate usage above 3.
	ReasonUnknownUsage
	// ReasonUnknownSelector: a selector above 1.
	ReasonUnknownSelector
	// ReasonUnknownMatchingType: a matching type above 2.
	ReasonUnknownMatchingType
	// ReasonEmptyData: the certificate association data is empty.
	ReasonEmptyData
	// ReasonNotHex: the data in presentation form is not hexadecimal. Only
	// records typed or copied by hand can have it: wire-format data always
	// converts to hexadecimal.
	ReasonNotHex
	// ReasonDigestLength: a SHA2-256 or SHA2-512 digest of the wrong length.
	ReasonDigestLength
	// ReasonMalformedData: Full(0) data without the outer DER structure of
	// a certificate or SubjectPublicKeyInfo, so that it cannot match
	// anything.
	ReasonMalformedData
)

var reasonNames = [...]string{
	ReasonNone:                "usable",
	ReasonPKIXUsage:           "PKIX usage",
	ReasonUnknownUsage:        "unknown certificate usage",
	ReasonUnknownSelector:     "unknown selector",
	ReasonUnknownMatchingType: "unknown matching type",
	ReasonEmptyData:           "empty data",
	ReasonNotHex:              "data not hexadecimal",
	ReasonDigestLength:        "wrong digest length",
	ReasonMalformedData:       "malformed full data",
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

// Record is one TLSA record of a set, classified for SMTP.
type Record struct {
	TLSA *dns.TLSA
	// Index is the position of the record in the slice given to Classify,
	// from 0.
	Index int
	// Reason is ReasonNone for a usable record, otherwise why it is
	// unusable.
	Reason Reason
	// Detail explains an unusable record in a phrase with its specifics,
	// such as the digest length found and the one expected. It is "" for a
	// usable record.
	Detail string
	// data is the decoded certificate association data of a usable record.
	data []byte
}

// Usable reports whether an SMTP client uses the record to authenticate
// the server.
func (r Record) Usable() bool { return r.Reason == ReasonNone }

// String returns the record's four data fields in presentation form, such
// as "3 1 1 0c72…", with the association data shortened when it is longer
// than a SHA2-512 digest.
func (r Record) String() string {
	t := r.TLSA
	data := t.Certificate
	if len(data) > 2*sha512.Size {
		data = data[:24] + "…" + data[len(data)-8:]
	}
	return fmt.Sprintf("%d %d %d %s", t.Usage, t.Selector, t.MatchingType, data)
}

// Status is the kind of TLSA RRset, which decides how an SMTP client must
// use TLS with the server.
type Status int

const (
	// NoRecords: there are no TLSA records, so DANE does not apply.
	NoRecords Status = iota
	// NoUsableRecords: records exist but none is usable. The client must
	// still use TLS, but cannot authenticate the server (RFC 7672 §2.2).
	NoUsableRecords
	// UsableRecords: TLS is mandatory and the server's chain must match a
	// usable record.
	UsableRecords
)

var statusNames = [...]string{
	NoRecords:       "no TLSA records",
	NoUsableRecords: "TLSA records, none usable",
	UsableRecords:   "usable TLSA records",
}

func (s Status) String() string {
	if s < 0 || int(s) >= len(statusNames) {
		return fmt.Sprintf("Status(%d)", int(s))
	}
	return statusNames[s]
}

// Set is a TLSA RRset classified for SMTP.
type Set struct {
	// Records are all the records given to Classify, in the same order,
	// usable or not.
	Records []Record
}

// Classify classifies each TLSA record for SMTP. A record that is unusable
// never affects the others of the set.
func Classify(rrs []*dns.TLSA) *Set {
	s := &Set{Records: make([]Record, 0, len(rrs))}
	for i, rr := range rrs {
		rec := classify(rr)
		rec.Index = i
		s.Records = append(s.Records, rec)
	}
	return s
}

// Status returns which of the three cases of RFC 7672 §2.2 the set is.
func (s *Set) Status() Status {
	if len(s.Records) == 0 {
		return NoRecords
	}
	for _, r := range s.Records {
		if r.Usable() {
			return UsableRecords
		}
	}
	return NoUsableRecords
}

// Usable returns the usable records of the set, in order.
func (s *Set) Usable() []Record {
	var usable []Record
	for _, r := range s.Records {
		if r.Usable() {
			usable = append(usable, r)
		}
	}
	return usable
}

func classify(rr *dns.TLSA) Record {
	rec := Record{TLSA: rr}
	switch {
	case rr.Usage == PKIXTA || rr.Usage == PKIXEE:
		return unusable(rec, ReasonPKIXUsage, "usage %s(%d) is not used for SMTP (RFC 7672 §3.1.3)",
			usageName(rr.Usage), rr.Usage)
	case rr.Usage > DANEEE:
		return unusable(rec, ReasonUnknownUsage, "usage %d is unknown", rr.Usage)
	case rr.Selector > SelectorSPKI:
		return unusable(rec, ReasonUnknownSelector, "selector %d is unknown", rr.Selector)
	case rr.MatchingType > MatchingSHA512:
		return unusable(rec, ReasonUnknownMatchingType, "matching type %d is unknown", rr.MatchingType)
	case rr.Certificate == "":
		return unusable(rec, ReasonEmptyData, "the certificate association data is empty")
	}
	data, err := hex.DecodeString(rr.Certificate)
	if err != nil {
		return unusable(rec, ReasonNotHex, "the certificate association data is not hexadecimal: %v", err)
	}
	if want := digestSize(rr.MatchingType); want != 0 && len(data) != want {
		return unusable(rec, ReasonDigestLength, "the %s digest is %d bytes long, want %d",
			matchingName(rr.MatchingType), len(data), want)
	}
	if rr.MatchingType == MatchingFull {
		if err := checkFullData(rr.Selector, data); err != nil {
			return unusable(rec, ReasonMalformedData, "the Full(0) data is %v", err)
		}
	}
	rec.data = data
	return rec
}

func unusable(rec Record, reason Reason, format string, args ...any) Record {
	rec.Reason = reason
	rec.Detail = fmt.Sprintf(format, args...)
	return rec
}

// digestSize returns the digest length in bytes of a matching type, or 0
// for Full(0) and unknown types.
func digestSize(matchingType uint8) int {
	switch matchingType {
	case MatchingSHA256:
		return sha256.Size
	case MatchingSHA512:
		return sha512.Size
	}
	return 0
}

// checkFullData checks that Full(0) data has the outer DER structure its
// selector requires: a Certificate (RFC 5280 §4.1) or a
// SubjectPublicKeyInfo (RFC 5280 §4.1.2.7), with nothing after it. The
// contents are not parsed, so that a certificate that crypto/x509
// rejects, such as one with a negative serial number, and a key of an
// algorithm Go cannot use still count as well-formed. Matching compares
// bytes, and a record that OpenSSL loads must not become unusable here,
// which would leave the server unauthenticated.
func checkFullData(selector uint8, data []byte) error {
	var algorithm pkix.AlgorithmIdentifier
	var bits asn1.BitString
	if selector == SelectorCert {
		var tbs asn1.RawValue
		if err := unmarshalSequence(data, &tbs, &algorithm, &bits); err != nil {
			return fmt.Errorf("not an X.509 certificate: %w", err)
		}
		if !isSequence(tbs) {
			return errors.New("not an X.509 certificate: its tbsCertificate is not a SEQUENCE")
		}
		return nil
	}
	if err := unmarshalSequence(data, &algorithm, &bits); err != nil {
		return fmt.Errorf("not a SubjectPublicKeyInfo: %w", err)
	}
	return nil
}

// unmarshalSequence parses data as one DER SEQUENCE, with nothing after
// it, whose elements encoding/asn1 parses into fields, in order, with
// nothing after the last.
func unmarshalSequence(data []byte, fields ...any) error {
	var seq asn1.RawValue
	rest, err := asn1.Unmarshal(data, &seq)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return fmt.Errorf("%d bytes after its end", len(rest))
	}
	if !isSequence(seq) {
		return fmt.Errorf("a value with tag %d, not a SEQUENCE", seq.Tag)
	}
	elements := seq.Bytes
	for _, f := range fields {
		if elements, err = asn1.Unmarshal(elements, f); err != nil {
			return err
		}
	}
	if len(elements) > 0 {
		return fmt.Errorf("%d bytes after the last element of its SEQUENCE", len(elements))
	}
	return nil
}

func isSequence(v asn1.RawValue) bool {
	return v.Class == asn1.ClassUniversal && v.Tag == asn1.TagSequence && v.IsCompound
}

// usageName returns the RFC 7218 acronym of a certificate usage.
func usageName(u uint8) string {
	switch u {
	case PKIXTA:
		return "PKIX-TA"
	case PKIXEE:
		return "PKIX-EE"
	case DANETA:
		return "DANE-TA"
	case DANEEE:
		return "DANE-EE"
	}
	return "unknown usage"
}

// selectorName returns the RFC 7218 acronym of a selector.
func selectorName(s uint8) string {
	switch s {
	case SelectorCert:
		return "Cert"
	case SelectorSPKI:
		return "SPKI"
	}
	return "unknown selector"
}

// matchingName returns the RFC 7218 acronym of a matching type.
func matchingName(m uint8) string {
	switch m {
	case MatchingFull:
		return "Full"
	case MatchingSHA256:
		return "SHA2-256"
	case MatchingSHA512:
		return "SHA2-512"
	}
	return "unknown matching type"
}

// Describe returns the RFC 7218 names of a record's parameters with their
// numbers, such as "DANE-EE(3) SPKI(1) SHA2-256(1)".
func Describe(rr *dns.TLSA) string {
	return fmt.Sprintf("%s(%d) %s(%d) %s(%d)", usageName(rr.Usage), rr.Usage,
		selectorName(rr.Selector), rr.Selector, matchingName(rr.MatchingType), rr.MatchingType)
}
