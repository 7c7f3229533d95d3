// Package trustanchor provides the DNSSEC trust anchors that validation
// starts from: the IANA root anchors compiled into the program, and parsers
// for the files an operator can supply in their place.
//
// Two file formats are read. One is IANA's root-anchors.xml, defined in
// RFC 7958 and its successor RFC 9718. The other is zone-file text holding
// DS and DNSKEY records (RFC 4034), as ldns-key2ds -n, dig DS and
// dig DNSKEY print them.
//
// Every anchor is checked as it is read. A DS digest must have the length
// that its digest type implies. A DNSKEY must be a zone key (RFC 4034
// §2.1.1) with protocol 3 (RFC 4034 §2.1.2), and must not carry the REVOKE
// flag (RFC 5011 §2.1). Anchors with an algorithm or digest type that this
// package does not know are kept: the validator treats them as unsupported,
// which makes the zone insecure rather than bogus (RFC 6840 §5.2).
package trustanchor

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// maxInputSize is the largest trust anchor file accepted, in bytes. IANA's
// root-anchors.xml is under 2 kB, and a SHA-256 DS line is about 100 bytes,
// so the limit leaves room for some 10,000 DS records.
const maxInputSize = 1 << 20

// Anchor is one trust anchor: a DS or a DNSKEY record for an owner name,
// with an optional validity period.
type Anchor struct {
	// DS is the anchor as a DS record, or nil. Exactly one of DS and DNSKEY
	// is set. The digest of a DS parsed by this package is lowercase hex.
	DS *dns.DS
	// DNSKEY is the anchor as a DNSKEY record, or nil.
	DNSKEY *dns.DNSKEY

	// ValidFrom is the first instant the anchor may be used. The zero
	// time means no lower bound.
	ValidFrom time.Time
	// ValidUntil is the first instant the anchor may no longer be used.
	// The zero time means no upper bound.
	ValidUntil time.Time

	// Source names where the anchor came from: "embedded IANA root
	// anchors", or FILE:LINE for an anchor read from a file.
	Source string
}

// Owner returns the anchor's owner name in canonical form: lowercase and
// fully qualified.
func (a Anchor) Owner() string {
	rr := a.record()
	if rr == nil {
		return ""
	}
	return dns.CanonicalName(rr.Header().Name)
}

// KeyTag returns the key tag of the DNSKEY that the anchor identifies
// (RFC 4034 Appendix B).
func (a Anchor) KeyTag() uint16 {
	switch {
	case a.DS != nil:
		return a.DS.KeyTag
	case a.DNSKEY != nil:
		return a.DNSKEY.KeyTag()
	}
	return 0
}

// Algorithm returns the DNSSEC algorithm number of the anchor's key.
func (a Anchor) Algorithm() uint8 {
	switch {
	case a.DS != nil:
		return a.DS.Algorithm
	case a.DNSKEY != nil:
		return a.DNSKEY.Algorithm
	}
	return 0
}

// String returns the anchor in presentation form without a TTL, followed
// by its validity period as a comment when it has one, for traces.
func (a Anchor) String() string {
	rr := a.record()
	if rr == nil {
		return "<empty trust anchor>"
	}
	rdata := strings.TrimPrefix(rr.String(), rr.Header().String())
	s := fmt.Sprintf("%s IN %s %s", a.Owner(), dns.TypeToString[rr.Header().Rrtype], rdata)

	var period []string
	if !a.ValidFrom.IsZero() {
		period = append(period, "valid from "+a.ValidFrom.UTC().Format(time.RFC3339))
	}
	if !a.ValidUntil.IsZero() {
		period = append(period, "valid until "+a.ValidUntil.UTC().Format(time.RFC3339))
	}
	if len(period) > 0 {
		s += " ; " + strings.Join(period, ", ")
	}
	return s
}

// ValidAt reports whether t lies in the anchor's validity period, which
// includes ValidFrom and excludes ValidUntil.
func (a Anchor) ValidAt(t time.Time) bool {
	if !a.ValidFrom.IsZero() && t.Before(a.ValidFrom) {
		return false
	}
	if !a.ValidUntil.IsZero() && !t.Before(a.ValidUntil) {
		return false
	}
	return true
}

func (a Anchor) record() dns.RR {
	switch {
	case a.DS != nil:
		return a.DS
	case a.DNSKEY != nil:
		return a.DNSKEY
	}
	return nil
}

// clone returns a copy of a whose record can be changed without changing a.
func (a Anchor) clone() Anchor {
	if a.DS != nil {
		a.DS = dns.Copy(a.DS).(*dns.DS)
	}
	if a.DNSKEY != nil {
		a.DNSKEY = dns.Copy(a.DNSKEY).(*dns.DNSKEY)
	}
	return a
}

// Select returns the anchors that are valid at t, in their original order.
// RFC 9718 says that a relying party should not use a KeyDigest outside
// its validity period.
func Select(anchors []Anchor, t time.Time) []Anchor {
	var valid []Anchor
	for _, a := range anchors {
		if a.ValidAt(t) {
			valid = append(valid, a)
		}
	}
	return valid
}

// ParseError reports a trust anchor file that does not parse. Its message
// names the file, the line, the problem and the fix.
type ParseError struct {
	// File is the name the parser was given, usually a path.
	File string
	// Line is the 1-based line number, or 0 when the error concerns the
	// whole file.
	Line int
	Err  error
}

func (e *ParseError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("trustanchor: %s:%d: %v", e.File, e.Line, e.Err)
	}
	return fmt.Sprintf("trustanchor: %s: %v", e.File, e.Err)
}

func (e *ParseError) Unwrap() error { return e.Err }

// Load reads trust anchors from the file at path. A file whose first
// character other than white space is '<' is parsed as root-anchors.xml,
// any other file as zone-file lines. An error opening the file wraps the
// os error, and a file that does not parse returns a *ParseError.
func Load(path string) ([]Anchor, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("trustanchor: reading trust anchor file: %w", err)
	}
	defer f.Close()

	data, err := readInput(f, path)
	if err != nil {
		return nil, err
	}
	if isXML(data) {
		return parseXML(data, path)
	}
	return parseZone(data, path)
}

func isXML(data []byte) bool {
	return bytes.HasPrefix(bytes.TrimLeft(data, " \t\r\n"), []byte("<"))
}

// readInput reads all of r, up to maxInputSize bytes, and drops a leading
// UTF-8 byte order mark, which some editors write.
func readInput(r io.Reader, name string) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxInputSize+1))
	if err != nil {
		return nil, fmt.Errorf("trustanchor: reading %s: %w", name, err)
	}
	if len(data) > maxInputSize {
		return nil, &ParseError{File: name, Err: fmt.Errorf(
			"file is larger than %d bytes, which is far more than a trust anchor file needs; "+
				"check that this is the right file", maxInputSize)}
	}
	return bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")), nil
}
