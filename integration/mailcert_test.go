package integration

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"math/big"
	"os"
	"time"
)

// mailCert is a server certificate issued by a private CA, with the
// association data of the TLSA records that match it.
type mailCert struct {
	// chainFile holds the private key, the server certificate and the CA
	// certificate, in the order that Postfix's smtpd_tls_chain_files
	// expects. The server sends the CA certificate so that a DANE-TA
	// record for it can match.
	chainFile string
	// spkiSHA256 is the SHA-256 digest of the server certificate's public
	// key, for a TLSA record 3 1 1 (DANE-EE, SPKI, SHA-256).
	spkiSHA256 string
	// caSHA256 is the SHA-256 digest of the whole CA certificate, for a
	// TLSA record 2 0 1 (DANE-TA, full certificate, SHA-256).
	caSHA256 string
}

// newMailCert makes a CA and a server certificate for dnsNames, valid
// from an hour ago for a day, and writes the key and chain to path.
func newMailCert(path string, dnsNames []string) (*mailCert, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	caTemplate := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "mxclient integration test CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTemplate, caTemplate, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}

	serverKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	serverTemplate := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: dnsNames[0]},
		DNSNames:     dnsNames,
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	serverDER, err := x509.CreateCertificate(rand.Reader, serverTemplate, ca, &serverKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	server, err := x509.ParseCertificate(serverDER)
	if err != nil {
		return nil, err
	}

	keyDER, err := x509.MarshalPKCS8PrivateKey(serverKey)
	if err != nil {
		return nil, err
	}
	var text bytes.Buffer
	pem.Encode(&text, &pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	pem.Encode(&text, &pem.Block{Type: "CERTIFICATE", Bytes: serverDER})
	pem.Encode(&text, &pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	if err := os.WriteFile(path, text.Bytes(), 0o600); err != nil {
		return nil, err
	}

	spki := sha256.Sum256(server.RawSubjectPublicKeyInfo)
	caDigest := sha256.Sum256(caDER)
	return &mailCert{
		chainFile:  path,
		spkiSHA256: hex.EncodeToString(spki[:]),
		caSHA256:   hex.EncodeToString(caDigest[:]),
	}, nil
}

// unrelatedSPKISHA256 returns the SHA-256 digest of a fresh public key's
// SubjectPublicKeyInfo, for a TLSA record that matches no certificate.
func unrelatedSPKISHA256() (string, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", err
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return "", err
	}
	digest := sha256.Sum256(der)
	return hex.EncodeToString(digest[:]), nil
}
