package integration

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// hostPostfix is the host number, in the lab's block, of the Postfix
// receiver's smtpd listener. The DNS servers of labHosts do not use it.
const hostPostfix = 25

// hostSOCKS is the host number of the microsocks SOCKS5 proxy.
const hostSOCKS = 108

// Mail domains of the Postfix test, each a signed zone below test. whose
// MX host mx.DOMAIN has the receiver's address and a TLSA record for
// _25._tcp.mx.DOMAIN.
const (
	// daneEEDomain publishes DANE-EE 3 1 1 for the server's key.
	daneEEDomain = "dane-ee.test"
	// daneTADomain publishes DANE-TA 2 0 1 for the CA certificate.
	daneTADomain = "dane-ta.test"
	// daneBadDomain publishes DANE-EE 3 1 1 for a key the server does not
	// have.
	daneBadDomain = "dane-bad.test"
)

// mailDelivery is how long Postfix may take from the end of DATA to the
// message in the maildir.
const mailDelivery = 15 * time.Second

// postfixAddedHeaders are the header fields that Postfix adds on delivery:
// smtpd adds Received, virtual(8) the other three.
var postfixAddedHeaders = []string{"received", "return-path", "delivered-to", "x-original-to"}

// TestIntegrationPostfixReceiver delivers with mxclient send to Postfix
// under DANE-EE and DANE-TA, and checks that a TLSA record that matches
// nothing and a recipient that Postfix rejects give the sysexits codes
// that README.md documents.
func TestIntegrationPostfixReceiver(t *testing.T) {
	requireDNSTools(t)
	requirePostfix(t)
	start := time.Now()
	bin := buildMxclient(t)

	mxHosts := []string{"mx." + daneEEDomain, "mx." + daneTADomain, "mx." + daneBadDomain}
	cert, err := newMailCert(filepath.Join(t.TempDir(), "smtpd-chain.pem"), mxHosts)
	if err != nil {
		t.Fatalf("making the server certificate: %v", err)
	}
	unrelated, err := unrelatedSPKISHA256()
	if err != nil {
		t.Fatal(err)
	}
	l := buildLabWith(t, func(b block) []zoneSpec {
		addr := b.addr(hostPostfix)
		return []zoneSpec{
			mailZone(daneEEDomain, addr, "3 1 1 "+cert.spkiSHA256),
			mailZone(daneTADomain, addr, "2 0 1 "+cert.caSHA256),
			mailZone(daneBadDomain, addr, "3 1 1 "+unrelated),
		}
	})
	addr := l.block.addr(hostPostfix)
	if _, err := l.ns.run("", "ip", "address", "add", addr+"/32", "dev", "lo"); err != nil {
		t.Fatal(err)
	}
	rejected := "rejected@" + daneEEDomain
	p := startPostfix(t, l.ns, postfixConfig{
		addr:      addr,
		hostname:  mxHosts[0],
		domains:   []string{daneEEDomain, daneTADomain, daneBadDomain},
		chainFile: cert.chainFile,
		rejected:  rejected,
	})
	t.Logf("mxclient built, lab and Postfix started in %v", time.Since(start).Round(time.Millisecond))

	send := func(t *testing.T, recipient string, message []byte) clientRun {
		t.Helper()
		run, err := l.runClientInput(message, bin, "send",
			"--dns-mode", "upstream", "--resolver", l.unboundAddr(), "--trust-anchor", l.anchorFile,
			"--timeout", "30s", "--helo", "client.test", "-f", "sender@client.test", recipient)
		if err != nil {
			t.Fatalf("mxclient send %s: %v\n%s", recipient, err, run.output())
		}
		t.Logf("mxclient send %s: exit %d\n%s", recipient, run.exitCode, run.output())
		return run
	}

	for _, domain := range []string{daneEEDomain, daneTADomain} {
		t.Run("delivers "+domain, func(t *testing.T) {
			recipient := "rcpt@" + domain
			message := testMessage(recipient)
			known, err := p.messages()
			if err != nil {
				t.Fatal(err)
			}
			run := send(t, recipient, message)
			if run.exitCode != 0 {
				t.Fatalf("mxclient send %s exited %d, want 0\n%s\n--- Postfix log\n%s",
					recipient, run.exitCode, run.output(), p.log())
			}
			delivered, err := os.ReadFile(p.waitNewMessage(t, known, mailDelivery))
			if err != nil {
				t.Fatal(err)
			}
			compareDelivered(t, message, delivered)
		})
	}

	t.Run("delivers through a SOCKS5 proxy", func(t *testing.T) {
		proxy := startMicrosocks(t, l)
		recipient := "rcpt@" + daneEEDomain
		message := testMessage(recipient)
		known, err := p.messages()
		if err != nil {
			t.Fatal(err)
		}
		run, err := l.runClientInput(message, bin, "send",
			"--dns-mode", "upstream", "--resolver", l.unboundAddr(), "--trust-anchor", l.anchorFile,
			"--timeout", "30s", "--helo", "client.test", "-f", "sender@client.test",
			"--proxy", "socks5://"+proxy, recipient)
		if err != nil {
			t.Fatalf("mxclient send --proxy: %v\n%s", err, run.output())
		}
		if run.exitCode != 0 {
			t.Fatalf("mxclient send --proxy exited %d, want 0\n%s\n--- Postfix log\n%s", run.exitCode, run.output(), p.log())
		}
		if !strings.Contains(run.stdout, "DANE verified") {
			t.Errorf("the delivery through the proxy was not under DANE:\n%s", run.stdout)
		}
		proxyHost, _, _ := net.SplitHostPort(proxy)
		if !strings.Contains(p.log(), "["+proxyHost+"]") {
			t.Errorf("Postfix saw no connection from the proxy %s:\n%s", proxyHost, p.log())
		}
		delivered, err := os.ReadFile(p.waitNewMessage(t, known, mailDelivery))
		if err != nil {
			t.Fatal(err)
		}
		compareDelivered(t, message, delivered)
	})

	t.Run("TLSA mismatch defers", func(t *testing.T) {
		recipient := "rcpt@" + daneBadDomain
		known, err := p.messages()
		if err != nil {
			t.Fatal(err)
		}
		run := send(t, recipient, testMessage(recipient))
		if run.exitCode != 75 {
			t.Errorf("mxclient send %s exited %d, want 75 (temporary failure)\n%s", recipient, run.exitCode, run.output())
		}
		checkNothingNew(t, p, known)
	})

	t.Run("rejected recipient", func(t *testing.T) {
		known, err := p.messages()
		if err != nil {
			t.Fatal(err)
		}
		run := send(t, rejected, testMessage(rejected))
		if run.exitCode != 67 {
			t.Errorf("mxclient send %s exited %d, want 67 (recipient rejected)\n%s\n--- Postfix log\n%s",
				rejected, run.exitCode, run.output(), p.log())
		}
		checkNothingNew(t, p, known)
	})
}

// mailZone returns a signed zone for domain whose MX host mx.domain has
// the address addr and the TLSA record data tlsa.
func mailZone(domain, addr, tlsa string) zoneSpec {
	return zoneSpec{
		name: domain + ".", host: hostLeaf, signer: ldnsSigner, alg: 13, denial: nsec,
		body: fmt.Sprintf("@ MX 10 mx\nmx A %s\n_25._tcp.mx TLSA %s\n", addr, tlsa),
	}
}

// testMessage returns a message to recipient with a folded header field,
// 8-bit text and body lines that SMTP dot-stuffing must restore, with LF
// line ends as Postfix stores them in the maildir.
func testMessage(recipient string) []byte {
	return []byte("From: Sender <sender@client.test>\n" +
		"To: <" + recipient + ">\n" +
		"Subject: DANE delivery to Postfix\n" +
		"Date: Mon, 02 Jun 2025 10:00:00 +0000\n" +
		"Message-ID: <postfix-receiver." + recipient + ">\n" +
		"MIME-Version: 1.0\n" +
		"Content-Type: text/plain; charset=utf-8\n" +
		"Content-Transfer-Encoding: 8bit\n" +
		"X-Folded: the first part\n" +
		"\tand its continuation line\n" +
		"\n" +
		"First line of the body.\n" +
		".a line that starts with a dot\n" +
		"..two dots\n" +
		".\n" +
		"The line above is a lone dot.\n" +
		"Größe: 8-bit UTF-8 text\n" +
		"trailing spaces   \n" +
		"\n" +
		"The last line.\n")
}

// compareDelivered checks that the delivered message is sent byte for
// byte, once the header fields that Postfix adds are removed, and that
// Postfix received it over TLS.
func compareDelivered(t *testing.T, sent, delivered []byte) {
	t.Helper()
	header, body, ok := bytes.Cut(delivered, []byte("\n\n"))
	if !ok {
		t.Fatalf("the delivered message has no empty line after its header:\n%s", delivered)
	}
	sentHeader, sentBody, _ := bytes.Cut(sent, []byte("\n\n"))

	var original, received []string
	for _, field := range headerFields(string(header)) {
		name, _, _ := strings.Cut(field, ":")
		name = strings.ToLower(strings.TrimSpace(name))
		switch {
		case name == "received":
			received = append(received, field)
		case slices.Contains(postfixAddedHeaders, name):
		default:
			original = append(original, field)
		}
	}
	if got := strings.Join(original, ""); got != string(sentHeader)+"\n" {
		t.Errorf("delivered header without the fields Postfix adds:\n%s\nwant:\n%s", got, sentHeader)
	}
	if !bytes.Equal(body, sentBody) {
		t.Errorf("delivered body:\n%q\nwant:\n%q", body, sentBody)
	}
	if len(received) != 1 {
		t.Fatalf("the delivered message has %d Received fields, want 1 from Postfix: %q", len(received), received)
	}
	// Postfix's smtpd records the protocol as ESMTPS (RFC 3848) in its
	// Received field when the session used TLS.
	if !strings.Contains(received[0], "with ESMTPS") {
		t.Errorf("Received field %q does not contain \"with ESMTPS\", so the session did not use TLS", received[0])
	}
}

// headerFields splits a header into its fields, each with its
// continuation lines and its final LF.
func headerFields(header string) []string {
	var fields []string
	for _, line := range strings.SplitAfter(header+"\n", "\n") {
		if line == "" {
			continue
		}
		if (line[0] == ' ' || line[0] == '\t') && len(fields) > 0 {
			fields[len(fields)-1] += line
			continue
		}
		fields = append(fields, line)
	}
	return fields
}

// checkNothingNew checks that the maildir holds no message beyond known
// and that Postfix's queue is empty, so that nothing is on its way there.
func checkNothingNew(t *testing.T, p *postfixReceiver, known []string) {
	t.Helper()
	queued, err := p.queued()
	if err != nil {
		t.Fatal(err)
	}
	if len(queued) > 0 {
		t.Errorf("Postfix's queue holds %v, want it empty\n--- Postfix log\n%s", queued, p.log())
	}
	paths, err := p.messages()
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != len(known) {
		t.Errorf("the maildir holds %d messages, want the %d from before\n--- Postfix log\n%s",
			len(paths), len(known), p.log())
	}
}

// startMicrosocks runs Debian's microsocks SOCKS5 server on its own lab
// address inside the namespace and returns its address.
func startMicrosocks(t *testing.T, l *lab) string {
	t.Helper()
	if _, err := exec.LookPath("microsocks"); err != nil {
		skipMissingTool(t, "microsocks not found (Debian package microsocks): %v", err)
	}
	addr := l.block.addr(hostSOCKS)
	if _, err := l.ns.run("", "ip", "address", "add", addr+"/32", "dev", "lo"); err != nil {
		t.Fatal(err)
	}
	// -b makes the proxy connect from its own address, so that the
	// receiver's log shows that the connection came through it.
	cmd := l.ns.command("microsocks", "-i", addr, "-p", "1080", "-b", addr)
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting microsocks: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	proxy := net.JoinHostPort(addr, "1080")
	// microsocks prints nothing when it is ready: wait until it accepts.
	for i := 0; i < 50; i++ {
		if _, err := l.ns.run("", "bash", "-c", "exec 3<>/dev/tcp/"+addr+"/1080"); err == nil {
			return proxy
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("microsocks does not accept connections on %s", proxy)
	return ""
}
