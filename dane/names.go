package dane

import (
	"crypto/x509"
	"strings"
)

// presentedNames returns the DNS names that a certificate is issued for:
// its DNS subject alternative names, or, only when it has none, its
// subject common name (RFC 7671 §10.2, RFC 6125 §6.4.4).
func presentedNames(cert *x509.Certificate) []string {
	if len(cert.DNSNames) > 0 {
		return cert.DNSNames
	}
	if cert.Subject.CommonName != "" {
		return []string{cert.Subject.CommonName}
	}
	return nil
}

// matchesAnyName reports whether cert is issued for one of the reference
// identifiers refs.
func matchesAnyName(cert *x509.Certificate, refs []string) bool {
	for _, presented := range presentedNames(cert) {
		for _, ref := range refs {
			if matchName(presented, ref) {
				return true
			}
		}
	}
	return false
}

// matchName reports whether the presented name pattern, from a
// certificate, matches the reference identifier ref. Both are compared as
// ASCII without regard to case or a final dot. A wildcard must be the
// whole leftmost label of pattern, with at least two labels after it, and
// it matches exactly one label of ref. So "*.example.net" matches
// "mx.example.net" but neither "example.net" nor "a.mx.example.net", and
// "m*.example.net" and "*.net" match nothing.
func matchName(pattern, ref string) bool {
	pattern = strings.TrimSuffix(pattern, ".")
	ref = strings.TrimSuffix(ref, ".")
	if pattern == "" || ref == "" || strings.Contains(ref, "*") {
		return false
	}
	suffix, wildcard := strings.CutPrefix(pattern, "*.")
	if !wildcard {
		return !strings.Contains(pattern, "*") && strings.EqualFold(pattern, ref)
	}
	if strings.Contains(suffix, "*") || strings.Count(suffix, ".") < 1 ||
		strings.HasPrefix(suffix, ".") || strings.Contains(suffix, "..") {
		return false
	}
	first, rest, found := strings.Cut(ref, ".")
	return found && first != "" && strings.EqualFold(rest, suffix)
}
