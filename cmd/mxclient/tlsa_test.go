package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mxclient/mxclient/dane"
	"github.com/mxclient/mxclient/dane/danetest"
)

// tlsaPKI holds the certificates the tlsa tests share: root issues inter
// (ECDSA), which issues the leaves for mx.example.net.
type tlsaPKI struct {
	root, inter, leaf, leafRSA, leafEd, expiredLeaf, commonNameOnly, otherName *danetest.Cert
}

var (
	tlsaPKIOnce sync.Once
	sharedTLSA  *tlsaPKI
)

func testTLSAPKI() *tlsaPKI {
	tlsaPKIOnce.Do(func() {
		mx := []string{"mx.example.net"}
		p := &tlsaPKI{}
		p.root = danetest.NewRoot(danetest.Options{Key: danetest.RSA, CommonName: "Test Root"})
		p.inter = p.root.Intermediate(danetest.Options{CommonName: "Test Intermediate"})
		p.leaf = p.inter.Leaf(danetest.Options{CommonName: "mx.example.net", DNSNames: mx})
		p.leafRSA = p.inter.Leaf(danetest.Options{Key: danetest.RSA, DNSNames: mx})
		p.leafEd = p.inter.Leaf(danetest.Options{Key: danetest.Ed25519, DNSNames: mx})
		p.expiredLeaf = p.inter.Leaf(danetest.Options{DNSNames: mx,
			NotBefore: danetest.Now.Add(-100 * 24 * time.Hour), NotAfter: danetest.Now.Add(-24 * time.Hour)})
		p.commonNameOnly = p.inter.Leaf(danetest.Options{CommonName: "cn.example.net"})
		p.otherName = p.inter.Leaf(danetest.Options{DNSNames: []string{"mail.example.org"}})
		sharedTLSA = p
	})
	return sharedTLSA
}

// writePEM writes certs to a new PEM file and returns its path.
func writePEM(t *testing.T, certs ...*danetest.Cert) string {
	t.Helper()
	return writeFile(t, "chain.pem", string(danetest.PEM(certs...)))
}

// invokeStdin calls run with args and stdin, and returns what it wrote.
func invokeStdin(t *testing.T, stdin string, args ...string) invocation {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(args, strings.NewReader(stdin), &stdout, &stderr)
	return invocation{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// recordLine returns the line `mxclient tlsa` prints for cert.
func recordLine(t *testing.T, owner string, usage, selector, matchingType uint8, cert *danetest.Cert) string {
	t.Helper()
	data, err := dane.AssociationData(cert.Cert, selector, matchingType)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%s IN TLSA %d %d %d %x\n", owner, usage, selector, matchingType, data)
}

const mxOwner = "_25._tcp.mx.example.net."

func TestTLSAGenerate(t *testing.T) {
	t.Parallel()
	p := testTLSAPKI()
	chain := writePEM(t, p.leaf, p.inter, p.root)
	der := writeFile(t, "chain.der", string(append(p.leaf.Cert.Raw, p.inter.Cert.Raw...)))
	showcerts := writeFile(t, "showcerts.txt", "CONNECTED(00000003)\n---\nCertificate chain\n 0 s:CN = x\n"+
		string(danetest.PEM(p.leaf))+" 1 s:CN = Test Intermediate\n"+string(danetest.PEM(p.inter))+"---\n")

	tests := []struct {
		name string
		args []string
		want string
		// wantStderr is text that stderr must contain; "" means empty.
		wantStderr string
	}{
		{"default 3 1 1", []string{chain}, recordLine(t, mxOwner, 3, 1, 1, p.leaf), ""},
		{"RSA leaf", []string{writePEM(t, p.leafRSA)}, recordLine(t, mxOwner, 3, 1, 1, p.leafRSA), ""},
		{"Ed25519 leaf", []string{writePEM(t, p.leafEd)}, recordLine(t, mxOwner, 3, 1, 1, p.leafEd), ""},
		{"3 0 1", []string{"--selector", "0", chain}, recordLine(t, mxOwner, 3, 0, 1, p.leaf), ""},
		{"3 1 2", []string{"--mtype", "2", chain}, recordLine(t, mxOwner, 3, 1, 2, p.leaf), ""},
		{"3 0 0", []string{"--selector", "0", "--mtype", "0", chain}, recordLine(t, mxOwner, 3, 0, 0, p.leaf), ""},
		{"3 1 0", []string{"--mtype", "0", chain}, recordLine(t, mxOwner, 3, 1, 0, p.leaf), ""},
		{"DANE-TA for the last certificate", []string{"--usage", "2", chain},
			recordLine(t, mxOwner, 2, 1, 1, p.root), ""},
		{"DANE-TA at depth 1", []string{"--usage", "2", "--depth", "1", "--selector", "0", chain},
			recordLine(t, mxOwner, 2, 0, 1, p.inter), ""},
		{"DANE-TA for a leaf alone", []string{"--usage", "2", writePEM(t, p.leaf)},
			recordLine(t, mxOwner, 2, 1, 1, p.leaf), "warning: the DANE-TA record is for the leaf itself, " +
				"which an SMTP client never takes for a trust anchor"},
		{"DANE-TA for a leaf at depth 1", []string{"--usage", "2", writePEM(t, p.leaf, p.leafRSA)},
			recordLine(t, mxOwner, 2, 1, 1, p.leafRSA),
			"warning: the certificate at depth 1 (empty subject) is not a CA certificate, so an SMTP client " +
				"rejects it as a DANE-TA trust anchor"},
		{"--host and --port", []string{"--host", "smtp.example.org", "--port", "465", chain},
			recordLine(t, "_465._tcp.smtp.example.org.", 3, 1, 1, p.leaf), ""},
		{"--host as U-label", []string{"--host", "MX.B\u00fccher.example", chain},
			recordLine(t, "_25._tcp.mx.xn--bcher-kva.example.", 3, 1, 1, p.leaf), ""},
		{"host from the common name", []string{writePEM(t, p.commonNameOnly)},
			recordLine(t, "_25._tcp.cn.example.net.", 3, 1, 1, p.commonNameOnly), ""},
		{"DER chain", []string{"--usage", "2", der}, recordLine(t, mxOwner, 2, 1, 1, p.inter), ""},
		{"text around PEM blocks", []string{"--usage", "2", showcerts},
			recordLine(t, mxOwner, 2, 1, 1, p.inter), ""},
		{"private key block skipped", []string{writeFile(t, "key.pem",
			string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1}}))+
				string(danetest.PEM(p.leaf)))},
			recordLine(t, mxOwner, 3, 1, 1, p.leaf), "key.pem: skipped a PRIVATE KEY block"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := invoke(t, append([]string{"tlsa"}, tt.args...)...)
			if got.code != exitOK {
				t.Fatalf("tlsa %q = %d, want %d\n%v", tt.args, got.code, exitOK, got)
			}
			if got.stdout != tt.want {
				t.Errorf("tlsa %q printed\n%q\nwant\n%q", tt.args, got.stdout, tt.want)
			}
			checkStream(t, "stderr", got.stderr, tt.wantStderr)
		})
	}
}

func TestTLSAGenerateStdin(t *testing.T) {
	t.Parallel()
	p := testTLSAPKI()
	got := invokeStdin(t, string(danetest.PEM(p.leaf)), "tlsa", "-")
	if want := recordLine(t, mxOwner, 3, 1, 1, p.leaf); got.code != exitOK || got.stdout != want {
		t.Errorf("tlsa - = %d, %q, want %d, %q\n%v", got.code, got.stdout, exitOK, want, got)
	}
}

// TestTLSAMatchesOpenSSL checks the 3 1 1 record against the digest that
// `openssl x509 -pubkey -noout | openssl pkey -pubin -outform DER |
// sha256sum` gives, the usual recipe for a TLSA record.
func TestTLSAMatchesOpenSSL(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("openssl"); err != nil {
		skipMissingTool(t, "openssl is not installed (Debian package openssl): %v", err)
	}
	p := testTLSAPKI()
	for name, cert := range map[string]*danetest.Cert{"ECDSA": p.leaf, "RSA": p.leafRSA, "Ed25519": p.leafEd} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			path := writePEM(t, cert)
			pub := runOpenSSL(t, nil, "x509", "-in", path, "-pubkey", "-noout")
			der := runOpenSSL(t, pub, "pkey", "-pubin", "-outform", "DER")
			sum := sha256.Sum256(der)
			want := hex.EncodeToString(sum[:])

			got := invoke(t, "tlsa", path)
			fields := strings.Fields(got.stdout)
			if got.code != exitOK || len(fields) != 7 {
				t.Fatalf("tlsa %s = %d, %q, want one record line", path, got.code, got.stdout)
			}
			if fields[6] != want {
				t.Errorf("tlsa %s data = %s, want %s from openssl", path, fields[6], want)
			}
		})
	}
}

func runOpenSSL(t *testing.T, stdin []byte, args ...string) []byte {
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

// skipMissingTool skips the test because something from Debian is missing,
// unless MXCLIENT_REQUIRE_TOOLS=1, which CI sets after installing the tools.
func skipMissingTool(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("MXCLIENT_REQUIRE_TOOLS") == "1" {
		t.Fatalf(format+" (MXCLIENT_REQUIRE_TOOLS=1 turns this skip into a failure)", args...)
	}
	t.Skipf(format, args...)
}

// atNow is the --at argument that pins validation to danetest.Now.
var atNow = []string{"--at", danetest.Now.Format(time.RFC3339)}

func TestTLSAVerify(t *testing.T) {
	t.Parallel()
	p := testTLSAPKI()
	chain := writePEM(t, p.leaf, p.inter)
	ee := recordLine(t, mxOwner, 3, 1, 1, p.leaf)
	ta := recordLine(t, mxOwner, 2, 0, 1, p.inter)
	absentRoot := recordLine(t, mxOwner, 2, 1, 0, p.root)
	wrongEE := recordLine(t, mxOwner, 3, 1, 1, p.otherName)
	pkixEE := recordLine(t, mxOwner, 1, 1, 1, p.leaf)
	short := mxOwner + " IN TLSA 3 1 1 abcd\n"

	tests := []struct {
		name    string
		args    []string
		records string
		want    int
		// wantStdout are lines that stdout must hold, in order.
		wantStdout []string
	}{
		{"DANE-EE match", nil, ee, exitOK, []string{
			"record 1: 3 1 1 ",
			"  usable, DANE-EE(3) SPKI(1) SHA2-256(1): match: the leaf certificate",
			"accepted: record 1 authenticates the chain"}},
		{"DANE-TA match on intermediate", atNow, ta, exitOK, []string{
			"reference identifiers: mx.example.net.",
			"  usable, DANE-TA(2) Cert(0) SHA2-256(1): match: trust anchor at depth 1 (CN=Test Intermediate), " +
				"leaf name verified",
			"accepted: record 1 authenticates the chain"}},
		{"DANE-TA match on absent root", atNow, absentRoot, exitOK, []string{
			"  usable, DANE-TA(2) SPKI(1) Full(0): match: trust anchor absent from the chain, at depth 2, " +
				"leaf name verified",
			"accepted: record 1 authenticates the chain"}},
		{"mixed set", atNow, pkixEE + short + wrongEE + ta, exitOK, []string{
			"record 1: 1 1 1 ",
			"  unusable: usage PKIX-EE(1) is not used for SMTP (RFC 7672 §3.1.3)",
			"record 2: 3 1 1 abcd",
			"  unusable: the SHA2-256 digest is 2 bytes long, want 32",
			"record 3: 3 1 1 ",
			"  usable, DANE-EE(3) SPKI(1) SHA2-256(1): no match: the leaf certificate's SubjectPublicKeyInfo " +
				"does not match",
			"record 4: 2 0 1 ",
			"accepted: record 4 authenticates the chain"}},
		{"SHA2-256 superseded by SHA2-512", nil, ee + recordLine(t, mxOwner, 3, 1, 2, p.otherName), exitCheckFailed,
			[]string{"  usable, DANE-EE(3) SPKI(1) SHA2-256(1): superseded: not used, because the set has a " +
				"SHA2-512 record with the same usage and selector (digest algorithm agility, RFC 7671 §9)",
				"  usable, DANE-EE(3) SPKI(1) SHA2-512(2): no match: ",
				"rejected: no usable record matches the chain"}},
		{"no match", nil, wrongEE, exitCheckFailed, []string{
			"  usable, DANE-EE(3) SPKI(1) SHA2-256(1): no match: ",
			"rejected: no usable record matches the chain"}},
		{"only unusable records", nil, pkixEE + short, exitOK, []string{
			"  unusable: usage PKIX-EE(1)",
			"accepted without authentication: no record is usable, so an SMTP client must use TLS " +
				"but cannot authenticate the server (RFC 7672 §2.2)"}},
		{"DANE-TA with a wrong --host", append([]string{"--host", "mx.example.org"}, atNow...), ta, exitCheckFailed,
			[]string{"reference identifiers: mx.example.org",
				"  usable, DANE-TA(2) Cert(0) SHA2-256(1): name mismatch: the leaf certificate is issued for " +
					"mx.example.net, none of which matches mx.example.org",
				"rejected: no usable record matches the chain"}},
		{"DANE-TA with --name", append([]string{"--host", "mx.example.org", "--name", "mx.example.net"}, atNow...),
			ta, exitOK, []string{"reference identifiers: mx.example.org, mx.example.net",
				"accepted: record 1 authenticates the chain"}},
		{"--name and --host as U-labels", append([]string{"--host", "mx.b\u00fccher.example", "--name",
			"B\u00dcCHER.example."}, atNow...), ta, exitCheckFailed, []string{
			"reference identifiers: mx.xn--bcher-kva.example, xn--bcher-kva.example.",
			"rejected: no usable record matches the chain"}},
		{"DANE-TA for the leaf", atNow, recordLine(t, mxOwner, 2, 0, 1, p.leaf), exitCheckFailed, []string{
			"  usable, DANE-TA(2) Cert(0) SHA2-256(1): no match: only the leaf certificate matches, but a " +
				"DANE-TA record must match a certificate that issued the leaf",
			"rejected: no usable record matches the chain"}},
		{"DANE-TA after the leaf expired", []string{"--at", "2027-06-01T00:00:00Z"}, ta, exitCheckFailed, []string{
			"  usable, DANE-TA(2) Cert(0) SHA2-256(1): chain invalid: to the trust anchor certificate at depth 1 " +
				"(CN=Test Intermediate): x509: certificate has expired or is not yet valid",
			"rejected: no usable record matches the chain"}},
		{"DANE-TA before the leaf is valid", []string{"--at", "2020-01-01T00:00:00Z"}, ta, exitCheckFailed,
			[]string{"rejected: no usable record matches the chain"}},
		{"owner names without a host", atNow, "example.net. IN TLSA 2 0 1 " + strings.Fields(ta)[6] + "\n",
			exitCheckFailed, []string{"reference identifiers: none (give --host or --name)",
				"  usable, DANE-TA(2) Cert(0) SHA2-256(1): name mismatch: no reference identifiers were given"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			records := writeFile(t, "records.txt", tt.records)
			args := append([]string{"tlsa", "--verify", records}, tt.args...)
			got := invoke(t, append(args, chain)...)
			if got.code != tt.want {
				t.Errorf("tlsa %q = %d, want %d\n%v", args, got.code, tt.want, got)
			}
			checkLines(t, got.stdout, tt.wantStdout)
			checkStream(t, "stderr", got.stderr, "")
		})
	}
}

// checkLines checks that text has lines starting with each of want, in
// order.
func checkLines(t *testing.T, text string, want []string) {
	t.Helper()
	lines := strings.Split(text, "\n")
	i := 0
	for _, w := range want {
		for i < len(lines) && !strings.HasPrefix(lines[i], w) {
			i++
		}
		if i == len(lines) {
			t.Errorf("stdout has no line starting with %q after the lines before it:\n%s", w, text)
			return
		}
		i++
	}
}

// TestTLSAVerifyInternationalName checks that a --name in U-label form
// matches a leaf issued for its A-label form.
func TestTLSAVerifyInternationalName(t *testing.T) {
	t.Parallel()
	p := testTLSAPKI()
	leaf := p.inter.Leaf(danetest.Options{DNSNames: []string{"xn--bcher-kva.example"}})
	records := writeFile(t, "records.txt", recordLine(t, mxOwner, 2, 1, 1, p.inter))
	got := invoke(t, append([]string{"tlsa", "--verify", records, "--name", "b\u00fccher.example"},
		append(atNow, writePEM(t, leaf, p.inter))...)...)
	if got.code != exitOK {
		t.Errorf("tlsa --verify --name b\u00fccher.example = %d, want %d\n%v", got.code, exitOK, got)
	}
	checkLines(t, got.stdout, []string{"reference identifiers: mx.example.net., xn--bcher-kva.example",
		"accepted: record 1 authenticates the chain"})
}

func TestTLSAVerifyStdin(t *testing.T) {
	t.Parallel()
	p := testTLSAPKI()
	records := recordLine(t, mxOwner, 3, 1, 1, p.leaf)
	chainPEM := string(danetest.PEM(p.leaf))

	got := invokeStdin(t, records, "tlsa", "--verify", "-", writePEM(t, p.leaf))
	if got.code != exitOK || !strings.Contains(got.stdout, "accepted: record 1") {
		t.Errorf("tlsa --verify - with records on stdin = %v", got)
	}
	got = invokeStdin(t, chainPEM, "tlsa", "--verify", writeFile(t, "r.txt", records), "-")
	if got.code != exitOK || !strings.Contains(got.stdout, "accepted: record 1") {
		t.Errorf("tlsa --verify FILE - with the chain on stdin = %v", got)
	}

	// The output of `mxclient lookup NAME TLSA` is valid input.
	rr, err := dane.NewTLSA(mxOwner, dane.DANEEE, dane.SelectorSPKI, dane.MatchingSHA256, p.leaf.Cert)
	if err != nil {
		t.Fatal(err)
	}
	rr.Hdr.Ttl = 3600
	lookupOutput := "; " + mxOwner + " TLSA: secure, NOERROR\n" + rr.String() + "\n"
	got = invokeStdin(t, lookupOutput, "tlsa", "--verify", "-", writePEM(t, p.leaf))
	if got.code != exitOK || !strings.Contains(got.stdout, "accepted: record 1") {
		t.Errorf("tlsa --verify - with the output of lookup on stdin = %v", got)
	}
}

// TestTLSARoundTrip checks that every record `mxclient tlsa` prints is
// accepted by `mxclient tlsa --verify` for the same chain.
func TestTLSARoundTrip(t *testing.T) {
	t.Parallel()
	p := testTLSAPKI()
	chain := writePEM(t, p.leafRSA, p.inter, p.root)
	for _, usage := range []string{"2", "3"} {
		for _, selector := range []string{"0", "1"} {
			for _, mtype := range []string{"0", "1", "2"} {
				args := []string{"tlsa", "--usage", usage, "--selector", selector, "--mtype", mtype, chain}
				printed := invoke(t, args...)
				if printed.code != exitOK {
					t.Fatalf("%q = %v", args, printed)
				}
				records := writeFile(t, "records.txt", printed.stdout)
				got := invoke(t, append([]string{"tlsa", "--verify", records}, append(atNow, chain)...)...)
				if got.code != exitOK || !strings.Contains(got.stdout, "accepted: record 1 authenticates") {
					t.Errorf("tlsa --verify of the output of %q = %v", args, got)
				}
			}
		}
	}
}

func TestTLSAInputErrors(t *testing.T) {
	t.Parallel()
	p := testTLSAPKI()
	chain := writePEM(t, p.leaf)
	records := writeFile(t, "records.txt", recordLine(t, mxOwner, 3, 1, 1, p.leaf))
	leafPEM := string(danetest.PEM(p.leaf))
	damaged := strings.Replace(leafPEM, "MII", "M!I", 1)
	if damaged == leafPEM {
		damaged = leafPEM[:40] + "!" + leafPEM[41:]
	}
	missing := filepath.Join(t.TempDir(), "missing.pem")
	badCert := writeFile(t, "bad.pem",
		string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{0x30, 0x00}})))

	tests := []struct {
		name string
		args []string
		// wantStderr is a pattern that stderr must match.
		wantStderr string
	}{
		{"damaged PEM", []string{writeFile(t, "damaged.pem", damaged)},
			`damaged\.pem: 1 of its 1 PEM blocks are damaged`},
		{"damaged leaf before a good certificate", []string{writeFile(t, "damaged2.pem", damaged+leafPEM)},
			`damaged2\.pem: 1 of its 2 PEM blocks are damaged`},
		{"certificate that does not parse", []string{badCert}, `bad\.pem: certificate 1 does not parse: x509: `},
		{"neither PEM nor DER", []string{writeFile(t, "text.pem", "hello\n")},
			`text\.pem: no PEM CERTIFICATE block, and not DER certificates either`},
		{"only a private key", []string{writeFile(t, "key.pem",
			string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1}})))},
			`key\.pem: no CERTIFICATE block, only PRIVATE KEY`},
		{"empty certificate file", []string{writeFile(t, "empty.pem", "")}, `empty\.pem: no PEM CERTIFICATE`},
		{"missing certificate file", []string{missing}, regexp.QuoteMeta(missing) + `: no such file or directory`},
		{"records with a syntax error", []string{"--verify", writeFile(t, "bad.txt",
			"; first\n"+mxOwner+" IN TLSA 3 x 1 abcd\n"), chain}, `bad\.txt:2: bad TLSA Selector: "x"`},
		{"records not hexadecimal", []string{"--verify", writeFile(t, "hex.txt", mxOwner+" IN TLSA 3 1 1 xyz\n"),
			chain}, `hex\.txt: record 1: .* not hexadecimal`},
		{"no records", []string{"--verify", writeFile(t, "none.txt", "; nothing\n"), chain},
			`none\.txt: no TLSA records found`},
		{"records of another type", []string{"--verify", writeFile(t, "a.txt", "mx.example.net. IN A 192.0.2.1\n"),
			chain}, `a\.txt: record 1: mx\.example\.net\. has type A`},
		{"missing records file", []string{"--verify", missing, chain}, regexp.QuoteMeta(missing)},
		{"bad chain with --verify", []string{"--verify", records, badCert}, `bad\.pem: certificate 1`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := invoke(t, append([]string{"tlsa"}, tt.args...)...)
			if got.code != exitDataErr {
				t.Errorf("tlsa %q = %d, want %d\n%v", tt.args, got.code, exitDataErr, got)
			}
			checkStream(t, "stdout", got.stdout, "")
			if !regexp.MustCompile(`^mxclient: .*` + tt.wantStderr).MatchString(got.stderr) {
				t.Errorf("stderr = %q, want it to match %q", got.stderr, tt.wantStderr)
			}
			if strings.Contains(got.stderr, "--help") {
				t.Errorf("stderr = %q, want no usage hint for bad input", got.stderr)
			}
		})
	}
}

func TestTLSAUsageErrors(t *testing.T) {
	t.Parallel()
	p := testTLSAPKI()
	chain := writePEM(t, p.leaf, p.inter)
	records := writeFile(t, "records.txt", recordLine(t, mxOwner, 3, 1, 1, p.leaf))
	noName := writePEM(t, p.root)
	twoHosts := writeFile(t, "two.txt", recordLine(t, mxOwner, 2, 0, 1, p.inter)+
		recordLine(t, "_25._tcp.mx2.example.net.", 2, 0, 1, p.inter))

	tests := []struct {
		name       string
		args       []string
		wantStderr string
	}{
		{"no argument", nil, "mxclient: tlsa takes one CERT.pem argument, but got 0 arguments"},
		{"two arguments", []string{chain, chain}, "tlsa takes one CERT.pem argument, but got 2 arguments"},
		{"PKIX-EE", []string{"--usage", "1", chain}, "--usage 1 (PKIX-EE) is not usable for SMTP (RFC 7672 §3.1.3)"},
		{"PKIX-TA", []string{"--usage", "0", chain}, "--usage 0 (PKIX-TA) is not usable for SMTP"},
		{"usage 4", []string{"--usage", "4", chain}, "--usage 4 is not a certificate usage"},
		{"usage out of range", []string{"--usage", "300", chain}, `invalid argument "300" for "--usage"`},
		{"selector 2", []string{"--selector", "2", chain}, "--selector 2 is not a selector"},
		{"matching type 3", []string{"--mtype", "3", chain}, "--mtype 3 is not a matching type"},
		{"port 0", []string{"--port", "0", chain}, "--port 0 is not a TCP port"},
		{"negative depth", []string{"--usage", "2", "--depth", "-1", chain}, "--depth -1 is negative"},
		{"depth with DANE-EE", []string{"--depth", "1", chain}, "--depth 1 needs --usage 2"},
		{"depth past the chain", []string{"--usage", "2", "--depth", "2", chain},
			"--depth 2 is out of range: " + chain + " contains 2 certificates (depths 0 to 1)"},
		{"invalid host", []string{"--host", "mx..example.net", chain}, `--host "mx..example.net" is not a valid`},
		{"host with a blank", []string{"--host", "mx example.net", chain},
			`--host "mx example.net" is not a valid domain name: its label "mx example" may contain only ` +
				"letters, digits, hyphens and underscores"},
		{"name with an empty label", []string{"--verify", records, "--name", "mx..example.net", chain},
			`--name "mx..example.net" is not a valid domain name (idna: invalid label`},
		{"name with a wildcard", []string{"--verify", records, "--name", "*.example.net", chain},
			`--name "*.example.net" is not a valid domain name: its label "*"`},
		{"name with a leading hyphen", []string{"--verify", records, "--name", "-mx.example.net", chain},
			`--name "-mx.example.net" is not a valid domain name`},
		{"name with an invalid A-label", []string{"--verify", records, "--name", "xn--zz.example", chain},
			`--name "xn--zz.example" is not a valid domain name`},
		{"empty name", []string{"--verify", records, "--name", "", chain}, `--name "" is not a valid domain name`},
		{"no host in certificate", []string{"--usage", "2", noName}, "the leaf certificate has no DNS name"},
		{"--name without --verify", []string{"--name", "example.net", chain},
			"--name does not apply to printing records"},
		{"--at without --verify", []string{"--at", "2026-01-01T00:00:00Z", chain},
			"--at does not apply to printing records"},
		{"--usage with --verify", []string{"--verify", records, "--usage", "2", chain},
			"--usage does not apply to --verify"},
		{"--port with --verify", []string{"--verify", records, "--port", "25", chain},
			"--port does not apply to --verify"},
		{"bad --at", []string{"--verify", records, "--at", "yesterday", chain},
			`--at "yesterday" is not an RFC 3339 time`},
		{"both on stdin", []string{"--verify", "-", "-"}, "cannot both read standard input"},
		{"owner names of two hosts", []string{"--verify", twoHosts, chain},
			"the records have owner names for mx.example.net. and mx2.example.net.; choose the TLSA base domain " +
				"with --host"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := invoke(t, append([]string{"tlsa"}, tt.args...)...)
			if got.code != exitUsage {
				t.Errorf("tlsa %q = %d, want %d\n%v", tt.args, got.code, exitUsage, got)
			}
			checkStream(t, "stdout", got.stdout, "")
			checkStream(t, "stderr", got.stderr, tt.wantStderr)
			checkStream(t, "stderr", got.stderr, "Run 'mxclient tlsa --help' for usage.")
		})
	}
}

func TestTLSAHelp(t *testing.T) {
	t.Parallel()
	got := invoke(t, "tlsa", "--help")
	if got.code != exitOK {
		t.Errorf("tlsa --help = %d, want %d", got.code, exitOK)
	}
	checkStream(t, "stdout", got.stdout, "Usage:\n  mxclient tlsa [flags] CERT.pem")
	for _, code := range []int{exitOK, exitCheckFailed, exitUsage, exitDataErr} {
		line := regexp.MustCompile(fmt.Sprintf(`(?m)^ +%d +\S`, code))
		if !line.MatchString(got.stdout) {
			t.Errorf("tlsa --help lists no exit status %d:\n%s", code, got.stdout)
		}
	}
	for _, flag := range []string{"--usage USAGE", "--selector SELECTOR", "--mtype TYPE", "--host HOST",
		"--port PORT", "--depth N", "--verify RECORDS", "--name NAME", "--at TIME"} {
		checkStream(t, "stdout", got.stdout, flag)
	}
}

// TestTLSAChainTooLong checks the limit on the chain that --verify reads.
func TestTLSAChainTooLong(t *testing.T) {
	t.Parallel()
	p := testTLSAPKI()
	certs := make([]*danetest.Cert, dane.MaxChainLength+1)
	for i := range certs {
		certs[i] = p.leaf
	}
	records := writeFile(t, "records.txt", recordLine(t, mxOwner, 3, 1, 1, p.leaf))
	got := invoke(t, "tlsa", "--verify", records, writePEM(t, certs...))
	if got.code != exitDataErr || !strings.Contains(got.stderr, "contains 17 certificates, more than the 16") {
		t.Errorf("tlsa --verify with 17 certificates = %v", got)
	}
}
