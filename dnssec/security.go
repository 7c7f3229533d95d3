package dnssec

import (
	"fmt"
)

// Security is the outcome of validating one lookup (RFC 4033 §5, RFC 4035
// §4.3).
type Security int

const (
	// Indeterminate means the data needed for a proof could not be
	// obtained: timeouts, unreachable servers, server failures.
	Indeterminate Security = iota
	// Bogus means signatures or proofs that should exist are missing or
	// wrong.
	Bogus
	// Insecure means the data is proven to come from an unsigned zone.
	Insecure
	// Secure means a chain of signatures from a trust anchor proves the data.
	Secure
)

var securityNames = [...]string{
	Indeterminate: "indeterminate",
	Bogus:         "bogus",
	Insecure:      "insecure",
	Secure:        "secure",
}

func (s Security) String() string {
	if s < 0 || int(s) >= len(securityNames) {
		return fmt.Sprintf("Security(%d)", int(s))
	}
	return securityNames[s]
}

// MarshalText encodes s as its lowercase name, for JSON output.
func (s Security) MarshalText() ([]byte, error) {
	return []byte(s.String()), nil
}

// ParseSecurity returns the Security named by text.
func ParseSecurity(text string) (Security, error) {
	for s, name := range securityNames {
		if name == text {
			return Security(s), nil
		}
	}
	return Indeterminate, fmt.Errorf("dnssec: unknown security state %q", text)
}

// weakest returns the weaker of two states, so that a CNAME chain is only as
// strong as its weakest link: bogus, then indeterminate, then insecure, then
// secure.
func weakest(a, b Security) Security {
	if weakRank(a) < weakRank(b) {
		return a
	}
	return b
}

func weakRank(s Security) int {
	switch s {
	case Bogus:
		return 0
	case Indeterminate:
		return 1
	case Insecure:
		return 2
	}
	return 3
}
