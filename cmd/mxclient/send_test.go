package main

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/mxclient/mxclient/dane"
	"github.com/mxclient/mxclient/dane/danetest"
	"github.com/mxclient/mxclient/dnssec/dnssectest"
	"github.com/mxclient/mxclient/smtp/smtptest"
)

// sendWorld is a lab whose domains have MX hosts on smtptest receivers
// listening on port 25 of their own loopback addresses.
type sendWorld struct {
	lab     *dnssectest.Lab
	anchor  string
	mx      *smtptest.Server
	rejects *smtptest.Server
}

var (
	sendWorldOnce sync.Once
	sharedSend    *sendWorld
	sendWorldErr  error
)

func newSendWorld(t *testing.T) *sendWorld {
	t.Helper()
	sendWorldOnce.Do(func() { sharedSend, sendWorldErr = startSendWorld() })
	if sendWorldErr != nil {
		t.Fatalf("starting the mail lab: %v", sendWorldErr)
	}
	w := *sharedSend
	w.anchor = writeTrustAnchor(t, w.lab)
	return &w
}

func startSendWorld() (*sendWorld, error) {
	root := danetest.NewRoot(danetest.Options{CommonName: "Send Test Root"})
	leaf := root.Leaf(danetest.Options{DNSNames: []string{"mx.example.test"}})
	tlsCfg := &tls.Config{Certificates: []tls.Certificate{danetest.TLSCertificate(leaf, root)}}
	mx, err := smtptest.Start(smtptest.Config{Port: 25, TLS: tlsCfg, Domain: "mx.example.test"})
	if err != nil {
		return nil, err
	}
	rejects, err := smtptest.Start(smtptest.Config{Port: 25, Domain: "mx.rejects.test",
		Script: smtptest.Script{RCPT: map[string]smtptest.Reply{"nobody@rejects.test": {Code: 550, Text: "5.1.1 no such user"}}}})
	if err != nil {
		mx.Close()
		return nil, err
	}
	data, err := dane.AssociationData(leaf.Cert, 1, 1)
	if err != nil {
		return nil, err
	}
	l := dnssectest.New(dnssectest.Config{})
	l.Zone(".", dnssectest.ZoneOptions{})
	l.Zone("test.", dnssectest.ZoneOptions{})
	l.Zone("example.test.", dnssectest.ZoneOptions{}).Add(fmt.Sprintf(
		"@ MX 10 mx\nmx A %s\n_25._tcp.mx TLSA 3 1 1 %x\n", mx.Addr().Addr(), data))
	l.Zone("rejects.test.", dnssectest.ZoneOptions{}).Add(fmt.Sprintf("@ MX 10 mx\nmx A %s\n", rejects.Addr().Addr()))
	l.Zone("nullmx.test.", dnssectest.ZoneOptions{}).Add("@ MX 0 .")
	if err := l.Start(); err != nil {
		mx.Close()
		rejects.Close()
		return nil, err
	}
	return &sendWorld{lab: l, mx: mx, rejects: rejects}, nil
}

func (w *sendWorld) args(extra ...string) []string {
	return append([]string{"send", "--dns-mode", "upstream", "--resolver", w.lab.Resolver(dnssectest.Normal),
		"--trust-anchor", w.anchor, "--helo", "client.test", "-f", "a@sender.test"}, extra...)
}

// failingWriter fails every write, like a pipe whose reader is gone.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

// failingReader fails after returning some data.
type failingReader struct{ sent bool }

func (r *failingReader) Read(p []byte) (int, error) {
	if !r.sent {
		r.sent = true
		return copy(p, "Subject: x\r\n"), nil
	}
	return 0, errors.New("input/output error")
}

func TestSendExitCodes(t *testing.T) {
	w := newSendWorld(t)
	msg := "From: a@sender.test\r\nTo: b@example.test\r\nSubject: test\r\n\r\nhello\r\n"
	tests := []struct {
		name       string
		args       []string
		stdin      string
		want       int
		wantStdout string
		wantStderr string
	}{
		{name: "delivered under DANE", args: w.args("b@example.test"), stdin: msg, want: exitOK,
			wantStdout: "b@example.test: delivered to mx.example.test."},
		{name: "rejected recipient", args: w.args("nobody@rejects.test"), stdin: msg, want: exitNoUser,
			wantStderr: "nobody@rejects.test: failed"},
		{name: "null MX", args: w.args("b@nullmx.test"), stdin: msg, want: exitNoHost,
			wantStderr: "accepts no mail"},
		{name: "NXDOMAIN", args: w.args("b@nope.test"), stdin: msg, want: exitNoHost,
			wantStderr: "does not exist"},
		{name: "invalid recipient", args: w.args("not-an-address"), stdin: msg, want: exitDataErr,
			wantStderr: `invalid recipient "not-an-address"`},
		{name: "no recipients", args: w.args(), stdin: msg, want: exitUsage},
		{name: "unknown option", args: w.args("-Z", "b@example.test"), stdin: msg, want: exitUsage},
		{name: "sendmail options accepted", args: w.args("-oi", "-oem", "-i", "-B", "8BITMIME", "-N", "never",
			"-F", "Tester", "-bm", "--", "b@example.test"), stdin: msg, want: exitOK},
		{name: "bad trust anchor defers", args: append([]string{"send", "--dns-mode", "upstream", "--resolver",
			w.lab.Resolver(dnssectest.Normal), "--trust-anchor", "/nonexistent/anchor", "--helo", "client.test",
			"-f", "a@sender.test"}, "b@example.test"), stdin: msg, want: exitTempFail, wantStderr: "trust anchor"},
		{name: "resolver down defers", args: append([]string{"send", "--dns-mode", "upstream", "--resolver",
			w.lab.Resolver(dnssectest.Silent), "--trust-anchor", w.anchor, "--helo", "client.test",
			"-f", "a@sender.test", "--timeout", "3s"}, "b@example.test"), stdin: msg, want: exitTempFail},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tt.args, strings.NewReader(tt.stdin), &stdout, &stderr)
			if code != tt.want {
				t.Fatalf("run(%q) = %d, want %d\nstdout:\n%s\nstderr:\n%s", tt.args, code, tt.want, stdout.String(), stderr.String())
			}
			if !strings.Contains(stdout.String(), tt.wantStdout) {
				t.Errorf("stdout does not contain %q:\n%s", tt.wantStdout, stdout.String())
			}
			if !strings.Contains(stderr.String(), tt.wantStderr) {
				t.Errorf("stderr does not contain %q:\n%s", tt.wantStderr, stderr.String())
			}
		})
	}
}

func TestSendExtractRecipients(t *testing.T) {
	w := newSendWorld(t)
	before := len(w.mx.Messages())
	msg := "From: a@sender.test\r\nTo: b@example.test\r\nBcc: secret@example.test,\r\n  other@example.test\r\nSubject: t\r\n\r\nbody\r\n"
	var stdout, stderr bytes.Buffer
	code := run(w.args("-t"), strings.NewReader(msg), &stdout, &stderr)
	if code != exitOK {
		t.Fatalf("send -t = %d\n%s\n%s", code, stdout.String(), stderr.String())
	}
	msgs := w.mx.Messages()[before:]
	if len(msgs) != 1 {
		t.Fatalf("receiver got %d messages, want 1", len(msgs))
	}
	if got := strings.Join(msgs[0].To, ","); got != "b@example.test,secret@example.test,other@example.test" {
		t.Errorf("recipients = %s, want the To and Bcc addresses", got)
	}
	if bytes.Contains(msgs[0].Data, []byte("Bcc")) || bytes.Contains(msgs[0].Data, []byte("other@")) {
		t.Errorf("the Bcc field reached the receiver:\n%s", msgs[0].Data)
	}
}

func TestSendAddsMissingFields(t *testing.T) {
	w := newSendWorld(t)
	before := len(w.mx.Messages())
	var stdout, stderr bytes.Buffer
	code := run(w.args("-F", "Test Sender", "b@example.test"), strings.NewReader("Subject: bare\n\nbody\n"), &stdout, &stderr)
	if code != exitOK {
		t.Fatalf("send = %d\n%s\n%s", code, stdout.String(), stderr.String())
	}
	data := string(w.mx.Messages()[before].Data)
	for _, want := range []string{"From: \"Test Sender\" <a@sender.test>\r\n", "\r\nDate: ", "\r\nMessage-ID: <", "Subject: bare\r\n", "\r\n\r\nbody\r\n"} {
		if !strings.Contains(data, want) {
			t.Errorf("delivered message lacks %q:\n%s", want, data)
		}
	}
}

func TestSendClosedStdout(t *testing.T) {
	w := newSendWorld(t)
	var stderr bytes.Buffer
	code := run(w.args("b@example.test"), strings.NewReader("Subject: x\r\n\r\nbody\r\n"), failingWriter{}, &stderr)
	if code != exitOK {
		t.Errorf("send with a closed stdout = %d, want %d\n%s", code, exitOK, stderr.String())
	}
}

func TestSendReadError(t *testing.T) {
	w := newSendWorld(t)
	before := len(w.mx.Connections())
	var stdout, stderr bytes.Buffer
	code := run(w.args("b@example.test"), &failingReader{}, &stdout, &stderr)
	if code != exitTempFail {
		t.Errorf("send with a failing stdin = %d, want %d\n%s", code, exitTempFail, stderr.String())
	}
	if n := len(w.mx.Connections()); n != before {
		t.Errorf("the receiver got %d connections after a read error, want none", n-before)
	}
}

func TestArgsForSendmail(t *testing.T) {
	if got := strings.Join(argsFor("/usr/sbin/sendmail", []string{"-t"}), " "); got != "send -t" {
		t.Errorf("argsFor(sendmail) = %q, want \"send -t\"", got)
	}
	if got := strings.Join(argsFor("/usr/bin/mxclient", []string{"lookup"}), " "); got != "lookup" {
		t.Errorf("argsFor(mxclient) = %q, want \"lookup\"", got)
	}
}
