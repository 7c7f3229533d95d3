package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mxclient/mxclient/dnssec/dnssectest"
)

func TestSendMessageEdgeCases(t *testing.T) {
	w := newSendWorld(t)
	tests := []struct {
		name  string
		input string
		// want is what the receiver's raw bytes must contain, in order.
		want []string
		// never must not appear in the raw bytes.
		never      []string
		wantStderr string
	}{
		{name: "lone dots", input: "Subject: dots\n\n.\n..\n.x\n",
			want: []string{"\r\n..\r\n...\r\n..x\r\n.\r\n"}},
		{name: "smuggling with bare LF", input: "Subject: s\n\nbody\n.\nMAIL FROM:<evil@x>\n",
			want: []string{"body\r\n..\r\nMAIL FROM:<evil@x>\r\n.\r\n"}, never: []string{"\r\n.\r\nMAIL FROM:<evil"}},
		{name: "smuggling with bare CR", input: "Subject: s\r\n\r\nbody\r.\rRCPT TO:<evil@x>\r\n",
			want: []string{"body\r\n..\r\nRCPT TO:<evil@x>\r\n"}, never: []string{"\r\n.\r\nRCPT"}},
		{name: "8-bit body", input: "Subject: 8\r\n\r\ncaf\xc3\xa9\r\n", want: []string{"caf\xc3\xa9\r\n"}},
		{name: "2 MB line", input: "Subject: long\r\n\r\n" + strings.Repeat("x", 2<<20) + "\r\n",
			want: []string{strings.Repeat("x", 998) + "\r\n "}, wantStderr: "were folded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(w.mx.Connections())
			var stdout, stderr bytes.Buffer
			code := run(w.args("-q", "b@example.test"), strings.NewReader(tt.input), &stdout, &stderr)
			if code != exitOK {
				t.Fatalf("send = %d\n%s", code, stderr.String())
			}
			var raw []byte
			for _, c := range w.mx.Connections()[before:] {
				raw = append(raw, c.Received...)
			}
			for _, want := range tt.want {
				if !bytes.Contains(raw, []byte(want)) {
					t.Errorf("the receiver's bytes lack %q", want[:min(len(want), 60)])
				}
			}
			for _, never := range tt.never {
				if bytes.Contains(raw, []byte(never)) {
					t.Errorf("the receiver's bytes contain %q: the input ended DATA early", never)
				}
			}
			if !strings.Contains(stderr.String(), tt.wantStderr) {
				t.Errorf("stderr = %q, want it to contain %q", stderr.String(), tt.wantStderr)
			}
			if stdout.Len() != 0 {
				t.Errorf("-q printed on stdout: %q", stdout.String())
			}
		})
	}
}

func TestSendNonASCIIRecipientWithoutSMTPUTF8(t *testing.T) {
	w := newSendWorld(t)
	var stdout, stderr bytes.Buffer
	code := run(w.args("jos\u00e9@example.test"), strings.NewReader("Subject: x\r\n\r\nbody\r\n"), &stdout, &stderr)
	if code != exitUnavailable {
		t.Errorf("send to a UTF-8 address via a server without SMTPUTF8 = %d, want %d\n%s", code, exitUnavailable, stderr.String())
	}
	if !strings.Contains(stderr.String(), "SMTPUTF8") {
		t.Errorf("stderr does not name SMTPUTF8: %s", stderr.String())
	}
}

func TestDemoServe(t *testing.T) {
	var stdout, stderr bytes.Buffer
	g := &globalOptions{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runDemo(ctx, g, &demoOptions{serve: true}, &streams{out: &stdout, errOut: &stderr}) }()
	time.Sleep(2 * time.Second)
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("demo --serve = %v\n%s", err, stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{"--dns-mode upstream --resolver 127.", ":53 --trust-anchor ", "mxclient lookup ", "mxclient send "} {
		if !strings.Contains(out, want) {
			t.Errorf("demo --serve output lacks %q:\n%s", want, out)
		}
	}
}

func TestSendNullSender(t *testing.T) {
	w := newSendWorld(t)
	for _, from := range []string{"", "<>"} {
		before := len(w.mx.Messages())
		args := []string{"send", "--dns-mode", "upstream", "--resolver", w.lab.Resolver(dnssectest.Normal),
			"--trust-anchor", w.anchor, "--helo", "client.test", "-f", from, "-q", "b@example.test"}
		var stdout, stderr bytes.Buffer
		if code := run(args, strings.NewReader("Subject: bounce\r\n\r\nbody\r\n"), &stdout, &stderr); code != exitOK {
			t.Fatalf("send -f %q = %d\n%s", from, code, stderr.String())
		}
		msgs := w.mx.Messages()[before:]
		if len(msgs) != 1 || msgs[0].From != "" {
			t.Errorf("send -f %q: reverse-path = %+v, want the null reverse-path", from, msgs)
		}
	}
}

func TestSendBodyWithoutHeader(t *testing.T) {
	w := newSendWorld(t)
	before := len(w.mx.Messages())
	var stdout, stderr bytes.Buffer
	if code := run(w.args("-q", "b@example.test"), strings.NewReader("just a body line\n"), &stdout, &stderr); code != exitOK {
		t.Fatalf("send = %d\n%s", code, stderr.String())
	}
	data := string(w.mx.Messages()[before].Data)
	head, body, ok := strings.Cut(data, "\r\n\r\n")
	if !ok || body != "just a body line\r\n" {
		t.Errorf("delivered message = %q, want the added fields, an empty line and the body", data)
	}
	if !strings.HasPrefix(head, "From: ") || !strings.Contains(head, "\r\nDate: ") {
		t.Errorf("delivered header = %q, want From and Date added", head)
	}
}

func TestSendOverlongAddress(t *testing.T) {
	w := newSendWorld(t)
	long := strings.Repeat("l", 64) + "@" + strings.Repeat("a", 60) + "." + strings.Repeat("b", 60) + "." +
		strings.Repeat("c", 60) + "." + strings.Repeat("d", 20) + ".test"
	for _, args := range [][]string{w.args(long), w.args("-f", long, "b@example.test")} {
		var stdout, stderr bytes.Buffer
		if code := run(args, strings.NewReader("Subject: x\r\n\r\nbody\r\n"), &stdout, &stderr); code != exitDataErr {
			t.Errorf("send with a %d-octet address = %d, want %d\n%s", len(long), code, exitDataErr, stderr.String())
		}
	}
}
