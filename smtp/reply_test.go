package smtp

import (
	"bufio"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func readReplyString(s string) (Reply, error) {
	rr := replyReader{r: bufio.NewReader(strings.NewReader(s))}
	return rr.read()
}

func TestReadReply(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Reply
	}{
		{"single line", "250 OK\r\n", Reply{Code: 250, Lines: []string{"OK"}}},
		{"code alone", "250\r\n", Reply{Code: 250, Lines: []string{""}}},
		{"multi-line", "250-mx.example.net\r\n250-SIZE 1000\r\n250 8BITMIME\r\n",
			Reply{Code: 250, Lines: []string{"mx.example.net", "SIZE 1000", "8BITMIME"}}},
		{"enhanced code", "550 5.1.1 no such user\r\n",
			Reply{Code: 550, Enhanced: "5.1.1", Lines: []string{"5.1.1 no such user"}}},
		{"enhanced code of three-digit parts", "451 4.123.456 try later\r\n",
			Reply{Code: 451, Enhanced: "4.123.456", Lines: []string{"4.123.456 try later"}}},
		{"enhanced code of another class", "550 4.1.1 odd\r\n",
			Reply{Code: 550, Lines: []string{"4.1.1 odd"}}},
		{"enhanced code alone", "250 2.0.0\r\n",
			Reply{Code: 250, Enhanced: "2.0.0", Lines: []string{"2.0.0"}}},
		{"not an enhanced code", "250 2.0 OK\r\n", Reply{Code: 250, Lines: []string{"2.0 OK"}}},
		{"bare LF", "220-hello\n220 there\n", Reply{Code: 220, Lines: []string{"hello", "there"}}},
		{"line of 512 octets", "250 " + strings.Repeat("x", 506) + "\r\n",
			Reply{Code: 250, Lines: []string{strings.Repeat("x", 506)}}},
		{"100 lines", strings.Repeat("250-x\r\n", 99) + "250 x\r\n",
			Reply{Code: 250, Lines: strings.Split(strings.Repeat("x ", 100)[:199], " ")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readReplyString(tt.in)
			if err != nil {
				t.Fatalf("read(%q) = %v", tt.in, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("read(%q) mismatch (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestReadReplyMalformed(t *testing.T) {
	tests := []struct {
		name, in, reason string
	}{
		{"line of 513 octets", "250 " + strings.Repeat("x", 507) + "\r\n", "longer than 512"},
		{"line longer than the buffer", "250 " + strings.Repeat("x", 10000) + "\r\n", "longer than 512"},
		{"101 lines", strings.Repeat("250-x\r\n", 100) + "250 x\r\n", "more than 100 lines"},
		{"endless reply", strings.Repeat("250-x\r\n", 1000), "more than 100 lines"},
		{"mixed codes", "250-a\r\n251 b\r\n", "has the code 251"},
		{"no code", "hello\r\n", "does not start with a reply code"},
		{"short line", "25\r\n", "has no reply code"},
		{"1xx code", "199 x\r\n", "does not start with a reply code"},
		{"6xx code", "600 x\r\n", "does not start with a reply code"},
		{"second digit over 5", "260 x\r\n", "does not start with a reply code"},
		{"bad separator", "250_x\r\n", "neither a space nor a hyphen"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := readReplyString(tt.in)
			if !errors.Is(err, ErrMalformedReply) {
				t.Fatalf("read = %v, want ErrMalformedReply", err)
			}
			if !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("read = %q, want it to say %q", err, tt.reason)
			}
		})
	}
}

func TestReadReplyEndsInsideLine(t *testing.T) {
	_, err := readReplyString("250-first\r\n250 sec")
	if err == nil || !strings.Contains(err.Error(), "inside reply line 2") {
		t.Errorf("read = %v, want an error about the unfinished line 2", err)
	}
}

func TestReplyError(t *testing.T) {
	tests := []struct {
		err                  *ReplyError
		text                 string
		temporary, permanent bool
	}{
		{&ReplyError{Stage: StageRCPT, Reply: Reply{Code: 550, Enhanced: "5.1.1",
			Lines: []string{"5.1.1 no such user"}}},
			"smtp: reply to RCPT: 550 5.1.1 no such user", false, true},
		{&ReplyError{Stage: StageGreeting, Reply: Reply{Code: 421, Lines: []string{"busy", "later"}}},
			"smtp: greeting: 421 busy later", true, false},
		{&ReplyError{Stage: StageDATA, Reply: Reply{Code: 250, Lines: []string{"OK"}}},
			"smtp: reply to DATA: 250 OK", false, false},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.text {
			t.Errorf("Error() = %q, want %q", got, tt.text)
		}
		if got := tt.err.Temporary(); got != tt.temporary {
			t.Errorf("%s: Temporary() = %v, want %v", tt.text, got, tt.temporary)
		}
		if got := tt.err.Permanent(); got != tt.permanent {
			t.Errorf("%s: Permanent() = %v, want %v", tt.text, got, tt.permanent)
		}
	}
}

func TestParseEHLO(t *testing.T) {
	got := parseEHLO([]string{"mx.example.net greets you", "SIZE 1000", "8bitmime",
		"StartTLS", "AUTH PLAIN LOGIN", "-bad", "bad_keyword x", "", "X-EXT  a b "})
	want := map[string]string{
		"SIZE": "1000", "8BITMIME": "", "STARTTLS": "", "AUTH": "PLAIN LOGIN", "X-EXT": "a b",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("parseEHLO mismatch (-want +got):\n%s", diff)
	}
}
