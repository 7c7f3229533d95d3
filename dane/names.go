package dane

import (
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
)

// presentedNames returns the DNS names that a certificate is issued for:
// its DNS subject alternative names, or, only when it has none, its
// subject common name (RFC 7671 §10.2, RFC 6125 §6.4.4). fromCommonName
// reports the second case.
func presentedNames(cert *x509.Certificate) (names []string, fromCommonName bool) {
	if len(cert.DNSNames) > 0 {
		return cert.DNSNames, false
	}
	if cert.Subject.CommonName != "" {
		return []string{cert.Subject.CommonName}, true
	}
	return nil, false
}

// checkLeafNames returns nil when the leaf of path, a chain verified from
// the leaf up to its trust anchor, is issued for one of the reference
// identifiers refs, and otherwise why it is not.
//
// crypto/x509 applies the DNS name constraints of the CAs in path to the
// leaf's DNS subject alternative names only. So a leaf without them is
// matched by its common name only when no CA in path has DNS name
// constraints, whether or not they are marked critical. OpenSSL 3.0
// checks the common name against the constraints instead
// (NAME_CONSTRAINTS_check_CN), so a common name inside a permitted subtree
// is rejected here but accepted by OpenSSL. No common name that OpenSSL
// rejects for its constraints is accepted here, and no subtree matching
// of common names, with their wildcards and text that is not a DNS name,
// has to agree with crypto/x509 and OpenSSL.
func checkLeafNames(path []*x509.Certificate, refs []string) error {
	leaf := path[0]
	if len(refs) == 0 {
		return errors.New("no reference identifiers were given to check the leaf certificate's names against")
	}
	names, fromCommonName := presentedNames(leaf)
	if len(names) == 0 {
		return fmt.Errorf("the leaf certificate has no DNS names, and a DANE-TA leaf must be issued for "+
			"one of %s", strings.Join(refs, ", "))
	}
	if !matchesAnyName(names, refs) {
		return fmt.Errorf("the leaf certificate is issued for %s, none of which matches %s",
			strings.Join(names, ", "), strings.Join(refs, ", "))
	}
	if fromCommonName {
		if ca, depth := dnsConstrainedCA(path); ca != nil {
			return fmt.Errorf("the leaf certificate has no DNS subject alternative names, and its common "+
				"name %s cannot stand in for one, because the CA certificate at depth %d (%s) has DNS "+
				"name constraints, which crypto/x509 applies to subject alternative names only",
				names[0], depth, subjectOf(ca))
		}
	}
	return nil
}

// dnsConstrainedCA returns the first certificate above the leaf in path
// that has permitted or excluded DNS name constraints, and its depth, or
// nil.
func dnsConstrainedCA(path []*x509.Certificate) (*x509.Certificate, int) {
	for depth := 1; depth < len(path); depth++ {
		c := path[depth]
		if len(c.PermittedDNSDomains) > 0 || len(c.ExcludedDNSDomains) > 0 {
			return c, depth
		}
	}
	return nil, 0
}

// subjectOf returns the subject of cert for messages.
func subjectOf(cert *x509.Certificate) string {
	if s := cert.Subject.String(); s != "" {
		return s
	}
	return "empty subject"
}

// matchesAnyName reports whether one of the presented names matches one
// of the reference identifiers refs.
func matchesAnyName(presented, refs []string) bool {
	for _, p := range presented {
		for _, ref := range refs {
			if matchName(p, ref) {
				return true
			}
		}
	}
	return false
}

// matchName reports whether the presented name pattern, from a
// certificate, matches the reference identifier ref. Both are compared
// without regard to ASCII case or a final dot. A name with a byte outside
// ASCII matches nothing: certificates carry internationalised names as
// A-labels, which are ASCII, and Unicode case folding would equate "ſ"
// (U+017F) with "s". A wildcard must be the whole leftmost label of pattern, with at
// least two labels after it, and it matches exactly one label of ref. So
// "*.example.net" matches "mx.example.net" but neither "example.net" nor
// "a.mx.example.net", and "m*.example.net" and "*.net" match nothing.
func matchName(pattern, ref string) bool {
	pattern = strings.TrimSuffix(pattern, ".")
	ref = strings.TrimSuffix(ref, ".")
	if pattern == "" || ref == "" || strings.Contains(ref, "*") || !isASCII(pattern) || !isASCII(ref) {
		return false
	}
	suffix, wildcard := strings.CutPrefix(pattern, "*.")
	if !wildcard {
		return !strings.Contains(pattern, "*") && equalFoldASCII(pattern, ref)
	}
	if strings.Contains(suffix, "*") || strings.Count(suffix, ".") < 1 ||
		strings.HasPrefix(suffix, ".") || strings.Contains(suffix, "..") {
		return false
	}
	first, rest, found := strings.Cut(ref, ".")
	return found && first != "" && equalFoldASCII(rest, suffix)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// equalFoldASCII reports whether a and b are equal when the ASCII letters
// A to Z are taken as a to z. Every other byte must be equal.
func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if lowerASCII(a[i]) != lowerASCII(b[i]) {
			return false
		}
	}
	return true
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
