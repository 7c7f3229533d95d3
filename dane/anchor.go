package dane

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"fmt"
	"math/big"
	"time"
)

// anchor is a trust anchor that a DANE-TA(2) record designates: a
// certificate for selector Cert(0), a public key for selector SPKI(1).
type anchor struct {
	// cert is the trust anchor certificate, or, for a key, the certificate
	// of the chain that carries it, or nil when the server did not send it.
	cert *x509.Certificate
	// depth is the position of cert in the chain the server sent, or -1
	// when the anchor comes from the record's own data.
	depth int
	// spki and key are set for a public key anchor: its SubjectPublicKeyInfo
	// as the record or certificate encodes it, and the parsed key.
	spki []byte
	key  crypto.PublicKey
}

func (ta anchor) String() string {
	what := "certificate"
	if ta.key != nil {
		what = "public key"
	}
	if ta.depth < 0 {
		return what + " from the TLSA record"
	}
	subject := ta.cert.Subject.String()
	if subject == "" {
		subject = "empty subject"
	}
	return fmt.Sprintf("%s at depth %d (%s)", what, ta.depth, subject)
}

// trustAnchors returns the trust anchors rec designates: each certificate
// of chain that matches it, or, when none does, the certificate or key in
// the data of a Full(0) record. Only a record with full data can designate
// an anchor that the server did not send (RFC 7671 §5.2.2, §5.2.3).
func trustAnchors(rec Record, chain []*x509.Certificate) ([]anchor, error) {
	t := rec.TLSA
	var anchors []anchor
	for i, cert := range chain {
		if !matches(rec, cert) || sentBefore(chain, i) {
			continue
		}
		ta := anchor{cert: cert, depth: i}
		if t.Selector == SelectorSPKI {
			ta.spki, ta.key = cert.RawSubjectPublicKeyInfo, cert.PublicKey
		}
		anchors = append(anchors, ta)
	}
	if len(anchors) > 0 {
		return anchors, nil
	}
	if t.MatchingType != MatchingFull {
		return nil, fmt.Errorf("no certificate of the chain has this %s digest", selectedPart(t.Selector))
	}

	if t.Selector == SelectorCert {
		cert, err := x509.ParseCertificate(rec.data)
		if err != nil {
			return nil, fmt.Errorf("the record's certificate does not parse: %w", err)
		}
		return []anchor{{cert: cert, depth: -1}}, nil
	}
	key, err := x509.ParsePKIXPublicKey(rec.data)
	if err != nil {
		return nil, fmt.Errorf("no certificate of the chain has this public key, and it cannot "+
			"serve as a trust anchor absent from the chain: %w", err)
	}
	return []anchor{{depth: -1, spki: rec.data, key: key}}, nil
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

// verifyPath verifies the chain from its leaf up to the trust anchor ta,
// which is the only root, and returns the shortest verified path, leaf
// first and ending with the root.
func verifyPath(chain []*x509.Certificate, ta anchor, at time.Time) ([]*x509.Certificate, error) {
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
	shortest := paths[0]
	for _, p := range paths[1:] {
		if len(p) < len(shortest) {
			shortest = p
		}
	}
	return shortest, nil
}

// rootPool returns a pool with ta as the only root. crypto/x509 takes
// roots only as certificates, so a public key anchor is wrapped in
// certificates made for this check alone. There is one for each issuer
// name that the chain uses, each with the anchor's key and valid at the
// time at. A throwaway key signs them, because x509 never checks a root's
// signature. A key that belongs to the leaf itself is anchored by the leaf.
func rootPool(chain []*x509.Certificate, ta anchor, at time.Time) (*x509.CertPool, error) {
	roots := x509.NewCertPool()
	if ta.key == nil || ta.depth == 0 {
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

// presentedPath maps a verified path to the certificates the server sent.
// A root from the record's own data is dropped. A root made by
// keyCertificate is replaced by the certificate of the chain with the same
// name and key, or dropped when there is none.
func presentedPath(path []*x509.Certificate, chain []*x509.Certificate, ta anchor) []*x509.Certificate {
	last := len(path) - 1
	if ta.key == nil || ta.depth == 0 {
		if ta.depth < 0 {
			return path[:last]
		}
		return path
	}
	for _, cert := range chain {
		if bytes.Equal(cert.RawSubject, path[last].RawSubject) &&
			bytes.Equal(cert.RawSubjectPublicKeyInfo, ta.spki) {
			return append(path[:last:last], cert)
		}
	}
	return path[:last]
}
