package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestDemoDelivers(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run([]string{"demo"}, strings.NewReader(""), &stdout, &stderr)
	if code != exitOK {
		t.Fatalf("demo = %d, want 0\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	for _, want := range []string{
		"MX dane-demo.test.: secure",
		"DANE verified",
		"matched at depth",
		"postmaster@dane-demo.test: delivered to ",
		"received the message over TLS",
	} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("demo output lacks %q:\n%s", want, stdout.String())
		}
	}
	if stderr.Len() != 0 {
		t.Errorf("demo wrote to stderr:\n%s", stderr.String())
	}
}
