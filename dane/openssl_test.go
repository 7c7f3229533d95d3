package dane

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/mxclient/mxclient/dane/danetest"
)

// openssl runs openssl with args and returns its standard output.
func openssl(t *testing.T, stdin []byte, args ...string) []byte {
	t.Helper()
	cmd := exec.Command("openssl", args...)
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return out
}

// TestRSAPSSKey checks a certificate whose key is id-RSASSA-PSS, which
// crypto/x509 parses without understanding the key. openssl makes it,
// because crypto/x509 cannot.
func TestRSAPSSKey(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("openssl"); err != nil {
		skipMissingTool(t, "openssl is not installed (Debian package openssl): %v", err)
	}
	dir := t.TempDir()
	certPath := filepath.Join(dir, "cert.pem")
	openssl(t, nil, "req", "-x509", "-newkey", "rsa-pss", "-pkeyopt", "rsa_keygen_bits:2048",
		"-nodes", "-keyout", filepath.Join(dir, "key.pem"), "-out", certPath,
		"-subj", "/CN=mx.example.net", "-days", "2")
	pemBytes, err := os.ReadFile(certPath)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		t.Fatalf("openssl wrote no PEM block:\n%s", pemBytes)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatalf("ParseCertificate(RSA-PSS key) = %v", err)
	}
	if cert.PublicKeyAlgorithm != x509.UnknownPublicKeyAlgorithm {
		t.Logf("crypto/x509 now knows the RSA-PSS key algorithm (%v)", cert.PublicKeyAlgorithm)
	}

	// The SPKI digest must equal openssl's, taken from the same bytes.
	pub := openssl(t, pemBytes, "x509", "-pubkey", "-noout")
	der := openssl(t, pub, "pkey", "-pubin", "-outform", "DER")
	want := sha256.Sum256(der)
	got, err := AssociationData(cert, SelectorSPKI, MatchingSHA256)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want[:]) {
		t.Fatalf("AssociationData(RSA-PSS key, 1, 1) = %x, want %x from openssl", got, want)
	}

	records := []*dns.TLSA{
		rawRecord(DANEEE, SelectorSPKI, MatchingSHA256, hex.EncodeToString(got)),
		record(t, DANEEE, SelectorSPKI, MatchingFull, &danetest.Cert{Cert: cert}),
		record(t, DANEEE, SelectorCert, MatchingSHA512, &danetest.Cert{Cert: cert}),
	}
	for i, rr := range records {
		m, err := verifier([]*dns.TLSA{rr}).Verify([]*x509.Certificate{cert})
		if err != nil {
			t.Errorf("record %d (%s): Verify() = %v, want a match", i, Record{TLSA: rr}, err)
			continue
		}
		if m.Depth != 0 {
			t.Errorf("record %d: match at depth %d, want 0", i, m.Depth)
		}
	}

	// As an absent DANE-TA key, Go cannot use it: the record stays usable
	// but cannot match.
	absent := record(t, DANETA, SelectorSPKI, MatchingFull, &danetest.Cert{Cert: cert})
	leaf := pki(t).leaf
	m, err := verifier([]*dns.TLSA{absent}).Verify([]*x509.Certificate{leaf.Cert})
	me := wantMismatch(t, m, err, NoMatch)
	if !strings.Contains(me.Attempts[0].Err.Error(), "cannot serve as a trust anchor absent from the chain") {
		t.Errorf("attempt error = %v, want it to say why the key cannot be an absent anchor", me.Attempts[0].Err)
	}
}
