package main

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"

	"github.com/mxclient/mxclient/dnssec/dnssectest"
	"github.com/mxclient/mxclient/smtp/smtptest"
)

func TestSendProxyCommand(t *testing.T) {
	if _, err := exec.LookPath("socat"); err != nil {
		skipMissingTool(t, "socat not found (Debian package socat): %v", err)
	}
	w := newSendWorld(t)
	before := len(w.mx.Messages())
	var stdout, stderr bytes.Buffer
	code := run(w.args("--proxy-command", "socat - TCP:%h:%p", "b@example.test"),
		strings.NewReader("Subject: proxied\r\n\r\nbody\r\n"), &stdout, &stderr)
	if code != exitOK {
		t.Fatalf("send --proxy-command = %d\n%s\n%s", code, stdout.String(), stderr.String())
	}
	if got := len(w.mx.Messages()) - before; got != 1 {
		t.Errorf("receiver got %d messages through the proxy command, want 1", got)
	}
	if !strings.Contains(stdout.String(), "DANE verified") {
		t.Errorf("the proxied delivery was not under DANE:\n%s", stdout.String())
	}
}

func TestSendProxyFlagsRejected(t *testing.T) {
	w := newSendWorld(t)
	tests := [][]string{
		{"--proxy", "socks5://127.0.0.1:1080", "--proxy-command", "socat - TCP:%h:%p", "b@example.test"},
		{"--proxy", "http://127.0.0.1:3128", "b@example.test"},
	}
	for _, extra := range tests {
		var stdout, stderr bytes.Buffer
		if code := run(w.args(extra...), strings.NewReader("x\r\n"), &stdout, &stderr); code != exitUsage {
			t.Errorf("send %q = %d, want %d\n%s", extra, code, exitUsage, stderr.String())
		}
	}
}

func TestSendEightBitWithout8BITMIME(t *testing.T) {
	srv, err := smtptest.Start(smtptest.Config{Port: 25, Domain: "mx.plain8.test",
		Script: smtptest.Script{EHLO: &smtptest.Reply{Code: 250, Text: "mx.plain8.test\nSIZE"}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	l := dnssectest.New(dnssectest.Config{})
	t.Cleanup(l.Close)
	l.Zone(".", dnssectest.ZoneOptions{})
	l.Zone("test.", dnssectest.ZoneOptions{})
	l.Zone("plain8.test.", dnssectest.ZoneOptions{}).Add("@ MX 10 mx\nmx A " + srv.Addr().Addr().String())
	if err := l.Start(); err != nil {
		t.Fatal(err)
	}
	args := []string{"send", "--dns-mode", "upstream", "--resolver", l.Resolver(dnssectest.Normal),
		"--trust-anchor", writeTrustAnchor(t, l), "--helo", "client.test", "-f", "a@sender.test", "b@plain8.test"}
	var stdout, stderr bytes.Buffer
	code := run(args, strings.NewReader("Subject: 8\r\n\r\ncaf\xc3\xa9\r\n"), &stdout, &stderr)
	if code != exitOK {
		t.Fatalf("send = %d\n%s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "does not offer 8BITMIME") {
		t.Errorf("stderr lacks the 8BITMIME warning: %q", stderr.String())
	}
	if !bytes.Contains(srv.Received(), []byte("caf\xc3\xa9\r\n")) {
		t.Error("the 8-bit body did not arrive as it was")
	}
}
