package dane

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"time"
)

// anchor is a trust anchor that a DANE-TA(2) record designates: a
// certificate for selector Cert(0), a public key for selector SPKI(1).
type anchor struct {
	// cert is the trust anchor certificate: the certificate of the chain
	// that matches the record, or the certificate in the data of a 2 0 0
	// record. It is nil for a public key that the server did not send.
	cert *x509.Certificate
	// depth is the position of cert in the chain the server sent, from 1,
	// or -1 when the anchor comes from the record's own data.
	depth int
	// isKey is set for selector SPKI(1).
	isKey bool
	// key is the public key in the data of a 2 1 0 record, set only when
	// cert is nil.
	key crypto.PublicKey
}

func (ta anchor) String() string {
	kind := "certificate"
	if ta.isKey {
		kind = "public key"
	}
	if ta.depth < 0 {
		return kind + " from the TLSA record"
	}
	return fmt.Sprintf("%s at depth %d (%s)", kind, ta.depth, subjectOf(ta.cert))
}

// trustAnchors returns the trust anchors rec designates: each certificate
// of chain above the leaf that matches it, or, when none does, the
// certificate or key in the data of a Full(0) record. Only a record with
// full data can designate an anchor that the server did not send (RFC 7671
// §5.2.2, §5.2.3).
//
// The leaf is never a trust anchor. The DANE code of OpenSSL 3.0, which
// Postfix uses, matches DANE-TA records only against certificates above
// the leaf (check_dane_issuer), and a server whose leaf is its own trust
// anchor can publish a DANE-EE record instead. A 2 1 0 record of the leaf's own
// key still works as an absent trust anchor for a self-signed leaf, as it
// does in OpenSSL, because that key signs the leaf.
func trustAnchors(rec Record, chain []*x509.Certificate) ([]anchor, error) {
	t := rec.TLSA
	isKey := t.Selector == SelectorSPKI
	var anchors []anchor
	for i := 1; i < len(chain); i++ {
		if !matches(rec, chain[i]) || sentBefore(chain, i) {
			continue
		}
		anchors = append(anchors, anchor{cert: chain[i], depth: i, isKey: isKey})
	}
	if len(anchors) > 0 {
		return anchors, nil
	}

	leafOnly := matches(rec, chain[0])
	switch {
	case leafOnly && !(isKey && t.MatchingType == MatchingFull):
		return nil, errors.New("only the leaf certificate matches, but a DANE-TA record must match a " +
			"certificate that issued the leaf, directly or through intermediates")
	case t.MatchingType != MatchingFull:
		return nil, fmt.Errorf("no certificate of the chain has this %s digest", selectedPart(t.Selector))
	case !isKey:
		// Classify checked only the outer DER structure, so crypto/x509 may
		// still reject the certificate, for example for a negative serial
		// number. Then the record cannot match anything.
		cert, err := x509.ParseCertificate(rec.data)
		if err != nil {
			return nil, fmt.Errorf("no certificate of the chain is this certificate, and it cannot serve "+
				"as a trust anchor absent from the chain: %w", err)
		}
		return []anchor{{cert: cert, depth: -1}}, nil
	}
	key, err := x509.ParsePKIXPublicKey(rec.data)
	if err != nil {
		return nil, fmt.Errorf("no certificate of the chain has this public key, and it cannot "+
			"serve as a trust anchor absent from the chain: %w", err)
	}
	return []anchor{{depth: -1, isKey: true, key: key}}, nil
}

// sentBefore reports whether chain[i] is a second or later copy of a
// certificate that the server sent more than once.
func sentBefore(chain []*x509.Certificate, i int) bool {
	for _, c := range chain[:i] {
		if bytes.Equal(c.Raw, chain[i].Raw) {
			return true
		}
	}
	return false
}

// verifiedPaths verifies the chain from its leaf up to the trust anchor
// ta, which is the only root, and returns the verified paths that pass
// checkIssuers, shortest first. Each path starts with the leaf and ends
// with the root.
func verifiedPaths(chain []*x509.Certificate, ta anchor, at time.Time) ([][]*x509.Certificate, error) {
	roots, err := rootPool(chain, ta, at)
	if err != nil {
		return nil, err
	}
	intermediates := x509.NewCertPool()
	for _, cert := range chain[1:] {
		intermediates.AddCert(cert)
	}
	paths, err := chain[0].Verify(x509.VerifyOptions{
		Roots:         roots,
		Intermediates: intermediates,
		CurrentTime:   at,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	if err != nil {
		return nil, err
	}

	slices.SortStableFunc(paths, func(a, b []*x509.Certificate) int { return len(a) - len(b) })
	var valid [][]*x509.Certificate
	var firstErr error
	for _, path := range paths {
		if err := checkIssuers(path); err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		valid = append(valid, path)
	}
	if len(valid) == 0 {
		return nil, firstErr
	}
	return valid, nil
}

// rootPool returns a pool with ta as the only root. A certificate anchor
// is its own root, so that its validity dates, CA flag, path length
// constraint, extended key usage and name constraints all apply, even
// when a 2 1 x record designates it by its key. crypto/x509 takes roots
// only as certificates, so a key that the server did not send is wrapped
// in certificates made for this check alone. There is one for each issuer
// name that the chain uses, each with the anchor's key and valid at the
// time at. A throwaway key signs them, because x509 never checks a root's
// signature.
func rootPool(chain []*x509.Certificate, ta anchor, at time.Time) (*x509.CertPool, error) {
	roots := x509.NewCertPool()
	if ta.cert != nil {
		roots.AddCert(ta.cert)
		return roots, nil
	}
	seen := make(map[string]bool)
	for _, cert := range chain {
		issuer := string(cert.RawIssuer)
		if seen[issuer] {
			continue
		}
		seen[issuer] = true
		wrapper, err := keyCertificate(cert.RawIssuer, ta.key, at)
		if err != nil {
			return nil, fmt.Errorf("wrapping the trust anchor key: %w", err)
		}
		roots.AddCert(wrapper)
	}
	return roots, nil
}

// keyCertificate returns a CA certificate for key with the subject name
// subject, valid for a day either side of at.
func keyCertificate(subject []byte, key crypto.PublicKey, at time.Time) (*x509.Certificate, error) {
	_, signer, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	template := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		RawSubject:            subject,
		NotBefore:             at.Add(-24 * time.Hour),
		NotAfter:              at.Add(24 * time.Hour),
		BasicConstraintsValid: true,
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, key, signer)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

// checkIssuers checks that every certificate above the leaf in a
// verified path, the trust anchor included, is a CA certificate, and that
// the path is more than the leaf alone, which crypto/x509 returns when the
// leaf is itself the root. When crypto/x509 checks a signature, it already
// rejects an issuer of version 3 without cA or with a key usage that lacks
// keyCertSign. It accepts a version 1 root, which has no basic
// constraints, and so does OpenSSL 3.0.22. This check rejects it.
func checkIssuers(path []*x509.Certificate) error {
	if len(path) == 1 {
		return errors.New("the trust anchor is the leaf certificate itself, but it must be a " +
			"certificate that issued the leaf")
	}
	for depth := 1; depth < len(path); depth++ {
		if reason := notCAReason(path[depth]); reason != "" {
			return fmt.Errorf("the certificate at depth %d (%s) is not a CA certificate: %s",
				depth, subjectOf(path[depth]), reason)
		}
	}
	return nil
}

// oidKeyUsage is the object identifier of the key usage extension
// (RFC 5280 §4.2.1.3).
var oidKeyUsage = asn1.ObjectIdentifier{2, 5, 29, 15}

// notCAReason returns why cert cannot issue certificates, or "" when it
// can: it needs basic constraints with cA set (RFC 5280 §4.2.1.9) and, if
// it has a key usage extension, keyCertSign in it (RFC 5280 §4.2.1.3).
func notCAReason(cert *x509.Certificate) string {
	switch {
	case !cert.BasicConstraintsValid:
		return "it has no basic constraints"
	case !cert.IsCA:
		return "its basic constraints do not set cA"
	case hasExtension(cert, oidKeyUsage) && cert.KeyUsage&x509.KeyUsageCertSign == 0:
		return "its key usage lacks keyCertSign"
	}
	return ""
}

func hasExtension(cert *x509.Certificate, oid asn1.ObjectIdentifier) bool {
	for _, ext := range cert.Extensions {
		if ext.Id.Equal(oid) {
			return true
		}
	}
	return false
}

// presentedPath maps a verified path to the certificates the server sent:
// it drops a root that the server did not send, which comes from the
// record's own data or from keyCertificate.
func presentedPath(path []*x509.Certificate, ta anchor) []*x509.Certificate {
	if ta.depth < 0 {
		return path[:len(path)-1]
	}
	return path
}
