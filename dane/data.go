package dane

import (
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// AssociationData returns the certificate association data of cert for a
// selector and matching type (RFC 6698 §2.1.2, §2.1.3). The selected bytes
// are the certificate's own DER encoding, or its SubjectPublicKeyInfo
// exactly as the certificate carries it: nothing is re-encoded, so keys of
// every algorithm match, including those Go cannot use.
func AssociationData(cert *x509.Certificate, selector, matchingType uint8) ([]byte, error) {
	var selected []byte
	switch selector {
	case SelectorCert:
		selected = cert.Raw
	case SelectorSPKI:
		selected = cert.RawSubjectPublicKeyInfo
	default:
		return nil, fmt.Errorf("dane: unknown selector %d: use 0 (Cert) or 1 (SPKI)", selector)
	}
	switch matchingType {
	case MatchingFull:
		return append([]byte(nil), selected...), nil
	case MatchingSHA256:
		sum := sha256.Sum256(selected)
		return sum[:], nil
	case MatchingSHA512:
		sum := sha512.Sum512(selected)
		return sum[:], nil
	}
	return nil, fmt.Errorf("dane: unknown matching type %d: use 0 (Full), 1 (SHA2-256) or 2 (SHA2-512)",
		matchingType)
}

// NewTLSA returns the TLSA record with owner name owner (see OwnerName)
// that associates cert with the given parameters. Usage must be DANETA or
// DANEEE, the only ones usable for SMTP (RFC 7672 §3.1.3). The record has
// class IN and TTL 0, and its data is lowercase hexadecimal.
func NewTLSA(owner string, usage, selector, matchingType uint8, cert *x509.Certificate) (*dns.TLSA, error) {
	if usage != DANETA && usage != DANEEE {
		return nil, fmt.Errorf("dane: usage %d is not usable for SMTP: use 3 (DANE-EE) or 2 (DANE-TA)", usage)
	}
	data, err := AssociationData(cert, selector, matchingType)
	if err != nil {
		return nil, err
	}
	return &dns.TLSA{
		Hdr:          dns.RR_Header{Name: owner, Rrtype: dns.TypeTLSA, Class: dns.ClassINET},
		Usage:        usage,
		Selector:     selector,
		MatchingType: matchingType,
		Certificate:  hex.EncodeToString(data),
	}, nil
}

// OwnerName returns the owner name of the TLSA records of a TCP service,
// such as "_25._tcp.mx.example.net." for port 25 of mx.example.net
// (RFC 6698 §3). The host is the TLSA base domain; a missing final dot is
// added.
func OwnerName(host string, port uint16) string {
	return "_" + strconv.Itoa(int(port)) + "._tcp." + dns.Fqdn(host)
}

// SplitOwnerName splits a TLSA owner name of the form _PORT._tcp.HOST.
// into the TLSA base domain HOST (with a final dot) and the port. It
// reports false for an owner name of any other form.
func SplitOwnerName(owner string) (host string, port uint16, ok bool) {
	labels := dns.SplitDomainName(owner)
	if len(labels) < 3 || !strings.EqualFold(labels[1], "_tcp") {
		return "", 0, false
	}
	digits, found := strings.CutPrefix(labels[0], "_")
	if !found {
		return "", 0, false
	}
	p, err := strconv.ParseUint(digits, 10, 16)
	if err != nil {
		return "", 0, false
	}
	return dns.Fqdn(strings.Join(labels[2:], ".")), uint16(p), true
}
