// Package danetest issues X.509 certificates for tests of DANE
// authentication: roots, intermediates and leaves with RSA, ECDSA and
// Ed25519 keys, with chosen names and validity dates. Its functions panic
// on errors, which only a broken crypto/rand could cause, so that tests
// and examples can build a PKI in a few lines.
package danetest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"time"
)

// Now is the time around which certificates are valid by default:
// from 30 days before it to 335 days after it.
var Now = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// KeyType is the kind of key a certificate holds.
type KeyType int

const (
	// ECDSA is a P-256 key; it signs with ECDSA and SHA-256.
	ECDSA KeyType = iota
	// RSA is a 2048-bit key; it signs with PKCS #1 v1.5 and SHA-256.
	RSA
	// RSAPSS is a 2048-bit RSA key that signs with RSA-PSS and SHA-256.
	// Its SubjectPublicKeyInfo is rsaEncryption, because crypto/x509
	// cannot encode an id-RSASSA-PSS key.
	RSAPSS
	// Ed25519 is an Ed25519 key.
	Ed25519
)

func (k KeyType) String() string {
	switch k {
	case ECDSA:
		return "ECDSA"
	case RSA:
		return "RSA"
	case RSAPSS:
		return "RSA-PSS"
	case Ed25519:
		return "Ed25519"
	}
	return fmt.Sprintf("KeyType(%d)", int(k))
}

// Options describe a certificate to issue. The zero value is an ECDSA
// certificate without names, valid around Now.
type Options struct {
	Key KeyType
	// Signer, when not nil, is the certificate's key instead of a new key
	// of type Key, so that two certificates can share a key, as a
	// cross-signed intermediate does. Key must still name its type.
	Signer crypto.Signer
	// CommonName is the subject common name.
	CommonName string
	// DNSNames are the DNS subject alternative names.
	DNSNames []string
	// NotBefore and NotAfter are the validity dates; a zero value means
	// Now minus 30 days and Now plus 335 days.
	NotBefore, NotAfter time.Time
	// ExtKeyUsage is the extended key usage of a leaf; nil means server
	// authentication. CA certificates have none.
	ExtKeyUsage []x509.ExtKeyUsage
}

// Cert is an issued certificate with its private key.
type Cert struct {
	Cert    *x509.Certificate
	Key     crypto.Signer
	keyType KeyType
}

// NewRoot returns a self-signed CA certificate.
func NewRoot(opts Options) *Cert {
	return issue(nil, opts, true)
}

// NewSelfSigned returns a self-signed leaf certificate, as servers that
// publish only DANE-EE records often use.
func NewSelfSigned(opts Options) *Cert {
	return issue(nil, opts, false)
}

// Intermediate returns a CA certificate that c issues.
func (c *Cert) Intermediate(opts Options) *Cert {
	return issue(c, opts, true)
}

// Leaf returns a server certificate that c issues.
func (c *Cert) Leaf(opts Options) *Cert {
	return issue(c, opts, false)
}

func issue(issuer *Cert, opts Options, isCA bool) *Cert {
	key := opts.Signer
	if key == nil {
		key = newKey(opts.Key)
	}
	template := &x509.Certificate{
		SerialNumber: serialNumber(),
		Subject:      pkix.Name{CommonName: opts.CommonName},
		DNSNames:     opts.DNSNames,
		NotBefore:    opts.NotBefore,
		NotAfter:     opts.NotAfter,
	}
	if template.NotBefore.IsZero() {
		template.NotBefore = Now.Add(-30 * 24 * time.Hour)
	}
	if template.NotAfter.IsZero() {
		template.NotAfter = Now.Add(335 * 24 * time.Hour)
	}
	if isCA {
		template.BasicConstraintsValid = true
		template.IsCA = true
		template.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	} else {
		template.KeyUsage = x509.KeyUsageDigitalSignature
		template.ExtKeyUsage = opts.ExtKeyUsage
		if template.ExtKeyUsage == nil {
			template.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		}
	}

	parent, signer, signerType := template, key, opts.Key
	if issuer != nil {
		parent, signer, signerType = issuer.Cert, issuer.Key, issuer.keyType
	}
	if signerType == RSAPSS {
		template.SignatureAlgorithm = x509.SHA256WithRSAPSS
	}
	der, err := x509.CreateCertificate(rand.Reader, template, parent, key.Public(), signer)
	if err != nil {
		panic(fmt.Sprintf("danetest: creating certificate %q: %v", opts.CommonName, err))
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		panic(fmt.Sprintf("danetest: parsing certificate %q: %v", opts.CommonName, err))
	}
	return &Cert{Cert: cert, Key: key, keyType: opts.Key}
}

func newKey(t KeyType) crypto.Signer {
	var key crypto.Signer
	var err error
	switch t {
	case ECDSA:
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case RSA, RSAPSS:
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	case Ed25519:
		_, key, err = ed25519.GenerateKey(rand.Reader)
	default:
		err = fmt.Errorf("unknown key type %d", int(t))
	}
	if err != nil {
		panic(fmt.Sprintf("danetest: generating a %s key: %v", t, err))
	}
	return key
}

func serialNumber() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic(fmt.Sprintf("danetest: generating a serial number: %v", err))
	}
	return n
}

// Chain returns the certificates of certs, in the same order.
func Chain(certs ...*Cert) []*x509.Certificate {
	chain := make([]*x509.Certificate, len(certs))
	for i, c := range certs {
		chain[i] = c.Cert
	}
	return chain
}

// PEM returns the certificates of certs as PEM CERTIFICATE blocks, in the
// same order.
func PEM(certs ...*Cert) []byte {
	var out []byte
	for _, c := range certs {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Cert.Raw})...)
	}
	return out
}

// TLSCertificate returns a certificate for tls.Config.Certificates that
// sends leaf followed by chain, with leaf's private key.
func TLSCertificate(leaf *Cert, chain ...*Cert) tls.Certificate {
	tc := tls.Certificate{PrivateKey: leaf.Key, Leaf: leaf.Cert}
	for _, c := range append([]*Cert{leaf}, chain...) {
		tc.Certificate = append(tc.Certificate, c.Cert.Raw)
	}
	return tc
}
