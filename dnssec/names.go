package dnssec

import (
	"bytes"
	"strings"

	"github.com/miekg/dns"
)

// isSubdomain reports whether child is parent or below it.
func isSubdomain(parent, child string) bool {
	return dns.IsSubDomain(parent, child)
}

// isStrictSubdomain reports whether child is below parent and not equal to it.
func isStrictSubdomain(parent, child string) bool {
	return !equalNames(parent, child) && dns.IsSubDomain(parent, child)
}

func equalNames(a, b string) bool {
	return strings.EqualFold(a, b)
}

func countLabels(name string) int {
	return dns.CountLabel(name)
}

// ancestorWithLabels returns the rightmost n labels of name as a name.
func ancestorWithLabels(name string, n int) string {
	if n <= 0 {
		return "."
	}
	idx := dns.Split(name)
	if n >= len(idx) {
		return name
	}
	return name[idx[len(idx)-n]:]
}

// parentName returns name without its leftmost label.
func parentName(name string) string {
	off, end := dns.NextLabel(name, 0)
	if end {
		return "."
	}
	return name[off:]
}

// wireLabels returns the labels of name as lowercase wire bytes, from the
// root outwards, the order RFC 4034 §6.1 compares them in.
func wireLabels(name string) [][]byte {
	buf := make([]byte, 256)
	n, err := dns.PackDomainName(dns.CanonicalName(name), buf, 0, nil, false)
	if err != nil {
		return nil
	}
	buf = buf[:n]
	var labels [][]byte
	for off := 0; off < len(buf) && buf[off] != 0; {
		l := int(buf[off])
		labels = append(labels, bytes.ToLower(buf[off+1:off+1+l]))
		off += 1 + l
	}
	for i, j := 0, len(labels)-1; i < j; i, j = i+1, j-1 {
		labels[i], labels[j] = labels[j], labels[i]
	}
	return labels
}

// canonicalCompare orders names as RFC 4034 §6.1 does: label by label from
// the root, each label compared as lowercase octets, absent labels first.
func canonicalCompare(a, b string) int {
	la, lb := wireLabels(a), wireLabels(b)
	for i := 0; i < len(la) && i < len(lb); i++ {
		if c := bytes.Compare(la[i], lb[i]); c != 0 {
			return c
		}
	}
	return len(la) - len(lb)
}

// coversName reports whether the NSEC span from owner to next covers name:
// owner < name < next in canonical order, where a next name at or before
// the owner marks the last NSEC of the zone, whose span wraps to the end.
func coversName(owner, next, name string) bool {
	afterOwner := canonicalCompare(owner, name) < 0
	if canonicalCompare(owner, next) < 0 {
		return afterOwner && canonicalCompare(name, next) < 0
	}
	return afterOwner
}

// wildcardAt returns the wildcard name directly below name: "*." for the
// root, "*.example." for example.
func wildcardAt(name string) string {
	if name == "." {
		return "*."
	}
	return "*." + name
}
