package smtp

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/mxclient/mxclient/dane"
	"github.com/mxclient/mxclient/dane/danetest"
	"github.com/mxclient/mxclient/smtp/smtptest"
)

const (
	testFrom = "sender@example.org"
	testTo   = "rcpt@example.net"
)

func TestSessionDelivers(t *testing.T) {
	tests := []struct {
		name    string
		script  smtptest.Script
		cfg     func(t *testing.T) SessionConfig
		wantTLS bool
	}{
		{
			name:    "DANE over STARTTLS",
			cfg:     func(t *testing.T) SessionConfig { return SessionConfig{TLS: daneTLS(t), RequireTLS: true} },
			wantTLS: true,
		},
		{
			name:    "opportunistic TLS",
			cfg:     func(*testing.T) SessionConfig { return SessionConfig{TLS: OpportunisticTLS(mxName)} },
			wantTLS: true,
		},
		{
			name: "no TLS configuration",
			cfg:  func(*testing.T) SessionConfig { return SessionConfig{} },
		},
		{
			name:   "opportunistic without STARTTLS offered",
			script: smtptest.Script{NoSTARTTLS: true},
			cfg:    func(*testing.T) SessionConfig { return SessionConfig{TLS: OpportunisticTLS(mxName)} },
		},
		{
			name:   "opportunistic with STARTTLS rejected",
			script: smtptest.Script{STARTTLS: &smtptest.Reply{Code: 454, Text: "4.7.0 TLS not available"}},
			cfg:    func(*testing.T) SessionConfig { return SessionConfig{TLS: OpportunisticTLS(mxName)} },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startReceiver(t, smtptest.Config{Script: tt.script})
			s := mustOpenSession(t, srv, tt.cfg(t))
			msg := newMessage(t, "Subject: test\n\nline one\nline two\n")
			if err := transact(s, testFrom, []string{testTo, "second@example.net"}, msg); err != nil {
				t.Fatalf("transaction: %v", err)
			}
			if err := s.Quit(); err != nil {
				t.Errorf("Quit() = %v", err)
			}
			if _, ok := s.TLS(); ok != tt.wantTLS {
				t.Errorf("TLS() reports %v, want %v", ok, tt.wantTLS)
			}
			if got := s.LastReply().Code; got != 221 {
				t.Errorf("LastReply().Code = %d, want 221", got)
			}
			srv.Close()

			want := []smtptest.Message{{
				Helo: testHelo, From: testFrom, To: []string{testTo, "second@example.net"},
				Data: []byte("Subject: test\r\n\r\nline one\r\nline two\r\n"),
				Size: 37, TLS: tt.wantTLS, SizeParam: 37,
			}}
			ignore := cmpopts.IgnoreFields(smtptest.Message{}, "SHA256")
			if diff := cmp.Diff(want, srv.Messages(), ignore); diff != "" {
				t.Errorf("messages received (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSessionRejections(t *testing.T) {
	reply := func(code int, text string) *smtptest.Reply {
		return &smtptest.Reply{Code: code, Text: text}
	}
	tests := []struct {
		name          string
		script        smtptest.Script
		stage         string
		code          int
		enhanced      string
		temporary     bool
		wantReceived  string // the client's octets, when the session ends before MAIL
		wantDelivered int
	}{
		{name: "greeting 554", script: smtptest.Script{Greeting: reply(554, "5.7.1 no service")},
			stage: StageGreeting, code: 554, enhanced: "5.7.1", wantReceived: "QUIT\r\n"},
		{name: "greeting 421", script: smtptest.Script{Greeting: reply(421, "4.3.2 shutting down")},
			stage: StageGreeting, code: 421, enhanced: "4.3.2", temporary: true, wantReceived: ""},
		{name: "EHLO 421 gets no HELO", script: smtptest.Script{EHLO: reply(421, "closing")},
			stage: StageEHLO, code: 421, temporary: true, wantReceived: "EHLO " + testHelo + "\r\n"},
		{name: "EHLO and HELO rejected",
			script: smtptest.Script{EHLO: reply(550, "no"), HELO: reply(550, "5.7.1 still no")},
			stage:  StageHELO, code: 550, enhanced: "5.7.1",
			wantReceived: "EHLO " + testHelo + "\r\nHELO " + testHelo + "\r\nQUIT\r\n"},
		{name: "MAIL 451", script: smtptest.Script{MAIL: reply(451, "4.3.0 try later")},
			stage: StageMAIL, code: 451, enhanced: "4.3.0", temporary: true},
		{name: "RCPT 550",
			script: smtptest.Script{RCPT: map[string]smtptest.Reply{testTo: {Code: 550, Text: "5.1.1 no such user"}}},
			stage:  StageRCPT, code: 550, enhanced: "5.1.1"},
		{name: "RCPT 452", script: smtptest.Script{RCPT: map[string]smtptest.Reply{
			testTo: {Code: 452, Text: "4.5.3 too many recipients"}}},
			stage: StageRCPT, code: 452, enhanced: "4.5.3", temporary: true},
		{name: "DATA 554", script: smtptest.Script{DATA: reply(554, "5.5.1 no valid recipients")},
			stage: StageDATA, code: 554, enhanced: "5.5.1"},
		{name: "DATA 250", script: smtptest.Script{DATA: reply(250, "what?")},
			stage: StageDATA, code: 250},
		{name: "end of data 451", script: smtptest.Script{EndOfData: reply(451, "4.7.1 greylisted")},
			stage: StageEndOfData, code: 451, enhanced: "4.7.1", temporary: true},
		{name: "end of data 554 on several lines",
			script: smtptest.Script{EndOfData: reply(554, "5.7.1 spam\n5.7.1 really")},
			stage:  StageEndOfData, code: 554, enhanced: "5.7.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startReceiver(t, smtptest.Config{Script: tt.script})
			s, err := openSession(t, srv, SessionConfig{})
			if err == nil {
				err = transact(s, testFrom, []string{testTo}, newMessage(t, "Subject: x\n\nbody\n"))
			}
			var re *ReplyError
			if !errors.As(err, &re) {
				t.Fatalf("session error = %v, want a *ReplyError", err)
			}
			if re.Stage != tt.stage || re.Code != tt.code || re.Enhanced != tt.enhanced {
				t.Errorf("ReplyError = stage %q, code %d, enhanced %q; want %q, %d, %q",
					re.Stage, re.Code, re.Enhanced, tt.stage, tt.code, tt.enhanced)
			}
			if re.Temporary() != tt.temporary {
				t.Errorf("Temporary() = %v, want %v", re.Temporary(), tt.temporary)
			}
			srv.Close()
			if tt.wantReceived != "" || tt.stage == StageGreeting {
				if got := string(srv.Received()); got != tt.wantReceived {
					t.Errorf("server received %q, want %q", got, tt.wantReceived)
				}
			}
			if got := len(srv.Messages()); got != 0 {
				t.Errorf("server accepted %d messages, want none", got)
			}
		})
	}
}

func TestEHLORejectedFallsBackToHELO(t *testing.T) {
	srv := startReceiver(t, smtptest.Config{Script: smtptest.Script{
		EHLO: &smtptest.Reply{Code: 502, Text: "5.5.1 EHLO not implemented"}}})
	s := mustOpenSession(t, srv, SessionConfig{TLS: OpportunisticTLS(mxName)})
	if _, ok := s.Extension("STARTTLS"); ok {
		t.Error("Extension(STARTTLS) reported after HELO")
	}
	if err := transact(s, testFrom, []string{testTo}, newMessage(t, "x\n")); err != nil {
		t.Fatalf("transaction after HELO: %v", err)
	}
	if _, ok := s.TLS(); ok {
		t.Error("TLS() reports TLS after HELO, which offers no STARTTLS")
	}
	if !bytes.Contains(srv.Received(), []byte("HELO "+testHelo+"\r\n")) {
		t.Errorf("the client sent no HELO; received:\n%s", srv.Received())
	}

	// Where TLS is required, the missing STARTTLS fails the session.
	_, err := openSession(t, srv, SessionConfig{TLS: daneTLS(t), RequireTLS: true})
	if !errors.Is(err, ErrTLSRequired) {
		t.Errorf("NewSession with RequireTLS after HELO = %v, want ErrTLSRequired", err)
	}
}

func TestSessionRequireTLS(t *testing.T) {
	_, other := testCerts()
	tests := []struct {
		name      string
		cfg       smtptest.Config
		want      string
		wantAs    any
		handshake bool // the server saw a TLS handshake
	}{
		{name: "STARTTLS not offered", cfg: smtptest.Config{Script: smtptest.Script{NoSTARTTLS: true}},
			want: "does not offer STARTTLS"},
		{name: "STARTTLS rejected",
			cfg: smtptest.Config{Script: smtptest.Script{
				STARTTLS: &smtptest.Reply{Code: 454, Text: "4.7.0 not now"}}},
			want: "rejected STARTTLS: 454", wantAs: new(*ReplyError)},
		{name: "certificate matching no TLSA record", cfg: smtptest.Config{TLS: serverTLS(other)},
			want: "no usable TLSA record matches", wantAs: new(*dane.MismatchError), handshake: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startReceiver(t, tt.cfg)
			_, err := openSession(t, srv, SessionConfig{TLS: daneTLS(t), RequireTLS: true})
			if !errors.Is(err, ErrTLSRequired) {
				t.Fatalf("NewSession = %v, want ErrTLSRequired", err)
			}
			if errors.Is(err, ErrTLSFailed) {
				t.Errorf("NewSession = %v, which offers a retry without TLS", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("NewSession = %q, want it to say %q", err, tt.want)
			}
			if tt.wantAs != nil && !errors.As(err, tt.wantAs) {
				t.Errorf("NewSession = %v, want it to wrap a %T", err, tt.wantAs)
			}
			srv.Close()
			if bytes.Contains(srv.Received(), []byte("MAIL")) {
				t.Errorf("the client sent MAIL without TLS; received:\n%s", srv.Received())
			}
			conn := srv.Connections()[0]
			if got := conn.HandshakeErr != nil; got != tt.handshake {
				t.Errorf("server handshake error = %v, want one: %v", conn.HandshakeErr, tt.handshake)
			}
		})
	}
}

func TestOpportunisticHandshakeFailure(t *testing.T) {
	cert, _ := testCerts()
	serverCfg := serverTLS(cert)
	serverCfg.MinVersion = tls.VersionTLS13
	srv := startReceiver(t, smtptest.Config{TLS: serverCfg})
	clientCfg := OpportunisticTLS(mxName)
	clientCfg.MaxVersion = tls.VersionTLS12

	_, err := openSession(t, srv, SessionConfig{TLS: clientCfg})
	if !errors.Is(err, ErrTLSFailed) {
		t.Fatalf("NewSession = %v, want ErrTLSFailed", err)
	}
	if errors.Is(err, ErrTLSRequired) {
		t.Errorf("NewSession = %v, want no ErrTLSRequired without RequireTLS", err)
	}

	// The caller's retry without STARTTLS delivers.
	s := mustOpenSession(t, srv, SessionConfig{})
	if err := transact(s, testFrom, []string{testTo}, newMessage(t, "x\n")); err != nil {
		t.Fatalf("transaction in plaintext: %v", err)
	}
}

func TestOpportunisticTLSReachesOldServers(t *testing.T) {
	tests := []struct {
		name    string
		version uint16
		suite   uint16
	}{
		{"TLS 1.0 with RSA key exchange", tls.VersionTLS10, tls.TLS_RSA_WITH_AES_128_CBC_SHA},
		{"TLS 1.2 with RSA key exchange", tls.VersionTLS12, tls.TLS_RSA_WITH_AES_128_GCM_SHA256},
	}
	cert := rsaCert()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := serverTLS(cert)
			cfg.MinVersion, cfg.MaxVersion = tt.version, tt.version
			cfg.CipherSuites = []uint16{tt.suite}
			srv := startReceiver(t, smtptest.Config{TLS: cfg})
			s := mustOpenSession(t, srv, SessionConfig{TLS: OpportunisticTLS(mxName)})
			state, ok := s.TLS()
			if !ok {
				t.Fatal("TLS() reports no TLS")
			}
			if state.Version != tt.version || state.CipherSuite != tt.suite {
				t.Errorf("negotiated %s with %s, want %s with %s",
					tls.VersionName(state.Version), tls.CipherSuiteName(state.CipherSuite),
					tls.VersionName(tt.version), tls.CipherSuiteName(tt.suite))
			}
		})
	}
}

func TestSTARTTLSResponseInjection(t *testing.T) {
	for _, require := range []bool{true, false} {
		name := "opportunistic"
		cfg := SessionConfig{TLS: OpportunisticTLS(mxName)}
		if require {
			name = "DANE"
			cfg = SessionConfig{TLS: daneTLS(t), RequireTLS: true}
		}
		t.Run(name, func(t *testing.T) {
			srv := startReceiver(t, smtptest.Config{Script: smtptest.Script{
				Inject: "250-mx.example.net\r\n250 AUTH PLAIN\r\n"}})
			_, err := openSession(t, srv, cfg)
			if !errors.Is(err, ErrResponseInjection) {
				t.Fatalf("NewSession = %v, want ErrResponseInjection", err)
			}
			if errors.Is(err, ErrTLSFailed) {
				t.Errorf("NewSession = %v, which offers a retry without TLS", err)
			}
			if !strings.Contains(err.Error(), "response injection") {
				t.Errorf("NewSession = %q, want it to name response injection", err)
			}
			srv.Close()
			conn := srv.Connections()[0]
			if got, want := string(conn.Received), "EHLO "+testHelo+"\r\nSTARTTLS\r\n"; got != want {
				t.Errorf("server received %q, want %q: nothing after STARTTLS", got, want)
			}
			if conn.TLS != nil {
				t.Error("the server completed a TLS handshake")
			}
		})
	}
}

func TestSTARTTLSForgetsExtensions(t *testing.T) {
	srv := startReceiver(t, smtptest.Config{Script: smtptest.Script{
		EHLO:         &smtptest.Reply{Code: 250, Text: "mx.example.net\nSIZE 10\nSTARTTLS\nX-BEFORE"},
		EHLOAfterTLS: &smtptest.Reply{Code: 250, Text: "mx.example.net\n8BITMIME\nX-AFTER"},
	}})
	s := mustOpenSession(t, srv, SessionConfig{TLS: daneTLS(t), RequireTLS: true})
	for _, ext := range []string{"SIZE", "STARTTLS", "X-BEFORE"} {
		if _, ok := s.Extension(ext); ok {
			t.Errorf("Extension(%s) reported after STARTTLS, but only the server before TLS offered it", ext)
		}
	}
	if _, ok := s.Extension("X-AFTER"); !ok {
		t.Error("Extension(X-AFTER) not reported after STARTTLS")
	}
	// The 10-octet limit offered before TLS no longer applies.
	if err := transact(s, testFrom, []string{testTo}, newMessage(t, strings.Repeat("x", 100))); err != nil {
		t.Fatalf("transaction: %v", err)
	}
	if bytes.Contains(srv.Received(), []byte("SIZE=")) {
		t.Errorf("MAIL declared SIZE, which only the server before TLS offered:\n%s", srv.Received())
	}
}

func TestExtensionKeywordsIgnoreCase(t *testing.T) {
	srv := startReceiver(t, smtptest.Config{Script: smtptest.Script{
		EHLO: &smtptest.Reply{Code: 250, Text: "mx.example.net\nsize 2048\n8bitMIME\nstartTLS"},
	}})
	s := mustOpenSession(t, srv, SessionConfig{TLS: OpportunisticTLS(mxName), RequireTLS: true})
	if _, ok := s.TLS(); !ok {
		t.Error("no STARTTLS after a lower-case STARTTLS keyword")
	}
	// After TLS, the server's own EHLO reply applies: SIZE without limit.
	if param, ok := s.Extension("Size"); !ok || param != "" {
		t.Errorf("Extension(Size) = %q, %v; want \"\", true", param, ok)
	}
}

func TestMailParameters(t *testing.T) {
	const utf8From = "désiré@example.org"
	tests := []struct {
		name     string
		cfg      smtptest.Config
		from     string
		opt      MailOptions
		wantLine string
		wantErr  error
	}{
		{name: "SIZE and BODY", opt: MailOptions{Size: 1234, EightBit: true},
			wantLine: "MAIL FROM:<" + testFrom + "> SIZE=1234 BODY=8BITMIME"},
		{name: "7-bit content", opt: MailOptions{Size: 10},
			wantLine: "MAIL FROM:<" + testFrom + "> SIZE=10"},
		{name: "null reverse-path", from: "-", wantLine: "MAIL FROM:<>"},
		{name: "8-bit content without 8BITMIME",
			cfg:      smtptest.Config{Script: smtptest.Script{EHLO: &smtptest.Reply{Code: 250, Text: "mx\nSIZE"}}},
			opt:      MailOptions{Size: 10, EightBit: true},
			wantLine: "MAIL FROM:<" + testFrom + "> SIZE=10"},
		{name: "no SIZE extension",
			cfg:      smtptest.Config{Script: smtptest.Script{EHLO: &smtptest.Reply{Code: 250, Text: "mx"}}},
			opt:      MailOptions{Size: 10},
			wantLine: "MAIL FROM:<" + testFrom + ">"},
		{name: "SMTPUTF8 address", cfg: smtptest.Config{SMTPUTF8: true}, from: utf8From,
			wantLine: "MAIL FROM:<" + utf8From + "> SMTPUTF8"},
		{name: "SMTPUTF8 declared", cfg: smtptest.Config{SMTPUTF8: true}, opt: MailOptions{UTF8: true},
			wantLine: "MAIL FROM:<" + testFrom + "> SMTPUTF8"},
		{name: "SMTPUTF8 not offered", from: utf8From, wantErr: ErrSMTPUTF8Required},
		{name: "over the SIZE limit", cfg: smtptest.Config{MaxSize: 1000}, opt: MailOptions{Size: 1001},
			wantErr: ErrMessageTooLarge},
		{name: "at the SIZE limit", cfg: smtptest.Config{MaxSize: 1000}, opt: MailOptions{Size: 1000},
			wantLine: "MAIL FROM:<" + testFrom + "> SIZE=1000"},
		{name: "command injection", from: "a@b> SIZE=1\r\nRCPT TO:<x@y", wantErr: ErrInvalidAddress},
		{name: "over 254 octets", from: strings.Repeat("a", 251) + "@b.c", wantErr: ErrInvalidAddress},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startReceiver(t, tt.cfg)
			s := mustOpenSession(t, srv, SessionConfig{})
			from := tt.from
			switch from {
			case "":
				from = testFrom
			case "-":
				from = ""
			}
			err := s.Mail(from, tt.opt)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Errorf("Mail = %v, want %v", err, tt.wantErr)
				}
				s.Quit()
				srv.Close()
				if bytes.Contains(srv.Received(), []byte("MAIL")) {
					t.Errorf("the client sent MAIL:\n%s", srv.Received())
				}
				return
			}
			if err != nil {
				t.Fatalf("Mail = %v", err)
			}
			s.Quit()
			srv.Close()
			if !bytes.Contains(srv.Received(), []byte("\r\n"+tt.wantLine+"\r\n")) {
				t.Errorf("the client did not send %q; received:\n%s", tt.wantLine, srv.Received())
			}
		})
	}
}

func TestRcptRejectsUndeclaredUTF8(t *testing.T) {
	srv := startReceiver(t, smtptest.Config{})
	s := mustOpenSession(t, srv, SessionConfig{})
	if err := s.Mail(testFrom, MailOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := s.Rcpt("jürgen@example.net"); !errors.Is(err, ErrSMTPUTF8Required) {
		t.Errorf("Rcpt(non-ASCII) = %v, want ErrSMTPUTF8Required", err)
	}
	if err := s.Rcpt("a@b>\r\nDATA"); !errors.Is(err, ErrInvalidAddress) {
		t.Errorf("Rcpt(CRLF) = %v, want ErrInvalidAddress", err)
	}
}

func TestReset(t *testing.T) {
	srv := startReceiver(t, smtptest.Config{Script: smtptest.Script{RCPT: map[string]smtptest.Reply{
		"gone@example.net": {Code: 550, Text: "5.1.1 gone"}}}})
	s := mustOpenSession(t, srv, SessionConfig{})
	err := transact(s, testFrom, []string{"gone@example.net"}, newMessage(t, "x\n"))
	if !errors.As(err, new(*ReplyError)) {
		t.Fatalf("first transaction = %v, want a *ReplyError", err)
	}
	if err := s.Reset(); err != nil {
		t.Fatalf("Reset = %v", err)
	}
	if err := transact(s, testFrom, []string{testTo}, newMessage(t, "y\n")); err != nil {
		t.Fatalf("second transaction = %v", err)
	}
	if got := len(srv.Messages()); got != 1 {
		t.Errorf("server accepted %d messages, want 1", got)
	}
}

func TestReply421EndsSession(t *testing.T) {
	srv := startReceiver(t, smtptest.Config{Script: smtptest.Script{
		MAIL: &smtptest.Reply{Code: 421, Text: "4.3.2 going down"}}})
	s := mustOpenSession(t, srv, SessionConfig{})
	if err := s.Mail(testFrom, MailOptions{}); !errors.As(err, new(*ReplyError)) {
		t.Fatalf("Mail = %v, want a *ReplyError", err)
	}
	err := s.Rcpt(testTo)
	var re *ReplyError
	if !errors.As(err, &re) || re.Code != 421 {
		t.Errorf("Rcpt after 421 = %v, want the 421 reply again", err)
	}
	s.Quit()
	srv.Close()
	if bytes.Contains(srv.Received(), []byte("RCPT")) || bytes.Contains(srv.Received(), []byte("QUIT")) {
		t.Errorf("the client sent commands after 421:\n%s", srv.Received())
	}
}

func TestReplyLimitsInSession(t *testing.T) {
	tests := []struct {
		name     string
		greeting smtptest.Reply
		wantErr  bool
	}{
		{"greeting line of 512 octets", smtptest.Reply{Code: 220, Text: strings.Repeat("g", 506)}, false},
		{"greeting line of 513 octets", smtptest.Reply{Code: 220, Text: strings.Repeat("g", 507)}, true},
		{"greeting of 100 lines", smtptest.Reply{Code: 220, Text: strings.Repeat("hi\n", 99) + "hi"}, false},
		{"greeting of 101 lines", smtptest.Reply{Code: 220, Text: strings.Repeat("hi\n", 100) + "hi"}, true},
		{"garbage greeting", smtptest.Reply{Raw: "SSH-2.0-OpenSSH_9.2\r\n"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startReceiver(t, smtptest.Config{Script: smtptest.Script{Greeting: &tt.greeting}})
			_, err := openSession(t, srv, SessionConfig{})
			if got := errors.Is(err, ErrMalformedReply); got != tt.wantErr {
				t.Errorf("NewSession = %v; want ErrMalformedReply: %v", err, tt.wantErr)
			}
		})
	}
}

func TestStageTimeouts(t *testing.T) {
	tests := []struct {
		stall   smtptest.Stage
		size    int // of the message
		message string
	}{
		{smtptest.Greeting, 10, "reading the greeting: timed out"},
		{smtptest.EHLO, 10, "reply to EHLO: timed out"},
		{smtptest.STARTTLS, 10, "reply to STARTTLS: timed out"},
		{smtptest.Handshake, 10, "TLS handshake: timed out"},
		{smtptest.MAIL, 10, "reply to MAIL: timed out"},
		{smtptest.RCPT, 10, "reply to RCPT: timed out"},
		{smtptest.DATA, 10, "reply to DATA: timed out"},
		{smtptest.Content, 64 << 20, "sending the message: timed out"},
		{smtptest.EndOfData, 10, "reply to end of data: timed out"},
	}
	for _, tt := range tests {
		t.Run(tt.stall.String(), func(t *testing.T) {
			t.Parallel()
			srv := startReceiver(t, smtptest.Config{Script: smtptest.Script{Stall: tt.stall},
				RecordLimit: 1 << 20})
			msg := sizedMessage(t, tt.size)
			start := time.Now()
			s, err := openSession(t, srv, SessionConfig{TLS: daneTLS(t), RequireTLS: true,
				Timeouts: quickTimeouts})
			if err == nil {
				err = transact(s, testFrom, []string{testTo}, msg)
			}
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("session = %v, want a timeout", err)
			}
			if !strings.Contains(err.Error(), tt.message) {
				t.Errorf("session = %q, want it to say %q", err, tt.message)
			}
			if got := errors.Is(err, ErrMaybeDelivered); got != (tt.stall == smtptest.EndOfData) {
				t.Errorf("errors.Is(%v, ErrMaybeDelivered) = %v", err, got)
			}
			if elapsed := time.Since(start); elapsed > 5*time.Second {
				t.Errorf("the session took %v to time out after 500ms", elapsed)
			}
		})
	}
}

func TestContextDeadline(t *testing.T) {
	srv := startReceiver(t, smtptest.Config{Script: smtptest.Script{Stall: smtptest.MAIL}})
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	conn, err := Dial(ctx, srv.Addr(), nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSession(ctx, conn, SessionConfig{Helo: testHelo})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = s.Mail(testFrom, MailOptions{})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Mail after the context's deadline = %v, want context.DeadlineExceeded", err)
	}
}

func TestContextCancel(t *testing.T) {
	srv := startReceiver(t, smtptest.Config{Script: smtptest.Script{Stall: smtptest.Greeting}})
	ctx, cancel := context.WithCancel(context.Background())
	conn, err := Dial(ctx, srv.Addr(), nil)
	if err != nil {
		t.Fatal(err)
	}
	time.AfterFunc(100*time.Millisecond, cancel)
	_, err = NewSession(ctx, conn, SessionConfig{Helo: testHelo})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("NewSession cancelled = %v, want context.Canceled", err)
	}
}

func TestHangupAfterFinalDot(t *testing.T) {
	srv := startReceiver(t, smtptest.Config{Script: smtptest.Script{Hangup: smtptest.EndOfData}})
	s := mustOpenSession(t, srv, SessionConfig{TLS: daneTLS(t), RequireTLS: true})
	err := transact(s, testFrom, []string{testTo}, newMessage(t, "x\n"))
	if !errors.Is(err, ErrMaybeDelivered) {
		t.Fatalf("Data = %v, want ErrMaybeDelivered", err)
	}
	if !strings.Contains(err.Error(), "may have delivered it") {
		t.Errorf("Data = %q, want a warning that the message may have been delivered", err)
	}
	if got := len(srv.Messages()); got != 1 {
		t.Errorf("server accepted %d messages, want 1", got)
	}
}

func TestHangupDuringContent(t *testing.T) {
	srv := startReceiver(t, smtptest.Config{Script: smtptest.Script{Hangup: smtptest.Content}})
	s := mustOpenSession(t, srv, SessionConfig{})
	err := transact(s, testFrom, []string{testTo}, sizedMessage(t, 16<<20))
	if err == nil {
		t.Fatal("Data succeeded on a connection closed during the content")
	}
	if errors.Is(err, ErrMaybeDelivered) {
		t.Errorf("Data = %v, want no ErrMaybeDelivered before the final dot", err)
	}
}

func TestTranscript(t *testing.T) {
	srv := startReceiver(t, smtptest.Config{Script: smtptest.Script{
		Greeting: &smtptest.Reply{Code: 220, Text: "mx \x1b[31mred\x1b[0m ready"}}})
	var tr bytes.Buffer
	s := mustOpenSession(t, srv, SessionConfig{TLS: daneTLS(t), RequireTLS: true, Transcript: &tr})
	const secret = "the body never appears in the transcript"
	if err := transact(s, testFrom, []string{testTo}, newMessage(t, secret+"\n")); err != nil {
		t.Fatal(err)
	}
	s.Quit()

	got := tr.String()
	for _, want := range []string{
		"<<< 220 mx \\x1b[31mred\\x1b[0m ready\n",
		">>> EHLO " + testHelo + "\n",
		">>> STARTTLS\n",
		"<<< 220 2.0.0 Ready to start TLS\n",
		">>> MAIL FROM:<" + testFrom + "> SIZE=42\n",
		">>> DATA\n",
		">>> .\n",
		"<<< 250 2.0.0 OK: queued\n",
		">>> QUIT\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("transcript lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, secret) {
		t.Errorf("transcript contains the message body:\n%s", got)
	}
	if strings.Contains(got, "\x1b") {
		t.Errorf("transcript passes an escape character to the terminal:\n%q", got)
	}
}

// failingWriter fails every write, as a closed standard output does.
type failingWriter struct{ writes int }

func (w *failingWriter) Write([]byte) (int, error) {
	w.writes++
	return 0, io.ErrClosedPipe
}

func TestTranscriptWriteErrorsIgnored(t *testing.T) {
	srv := startReceiver(t, smtptest.Config{})
	w := &failingWriter{}
	s := mustOpenSession(t, srv, SessionConfig{TLS: OpportunisticTLS(mxName), Transcript: w})
	if err := transact(s, testFrom, []string{testTo}, newMessage(t, "x\n")); err != nil {
		t.Fatalf("transaction with a failing transcript: %v", err)
	}
	if err := s.Quit(); err != nil {
		t.Errorf("Quit = %v", err)
	}
	if w.writes == 0 {
		t.Error("the session never wrote to the transcript")
	}
}

func TestNewSessionChecksConfig(t *testing.T) {
	srv := startReceiver(t, smtptest.Config{})
	tests := []struct {
		name string
		cfg  SessionConfig
	}{
		{"empty EHLO name", SessionConfig{Helo: "", Timeouts: testTimeouts}},
		{"EHLO name with CRLF", SessionConfig{Helo: "a\r\nMAIL FROM:<>", Timeouts: testTimeouts}},
		{"RequireTLS without TLS", SessionConfig{Helo: testHelo, RequireTLS: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn, err := Dial(context.Background(), srv.Addr(), nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := NewSession(context.Background(), conn, tt.cfg); err == nil {
				t.Error("NewSession accepted the configuration")
			}
		})
	}
	srv.Close()
	if got := srv.Received(); len(got) != 0 {
		t.Errorf("the client sent %q", got)
	}
}

// rsaCert returns an RSA certificate for mxName, which RSA key exchange
// needs.
func rsaCert() *danetest.Cert {
	rsaOnce.Do(func() {
		rsaLeaf = danetest.NewSelfSigned(danetest.Options{Key: danetest.RSA, DNSNames: []string{mxName}})
	})
	return rsaLeaf
}

func TestQuitTimeout(t *testing.T) {
	srv := startReceiver(t, smtptest.Config{Script: smtptest.Script{Stall: smtptest.QUIT}})
	s := mustOpenSession(t, srv, SessionConfig{Timeouts: quickTimeouts})
	err := s.Quit()
	if !errors.Is(err, os.ErrDeadlineExceeded) || !strings.Contains(err.Error(), "reply to QUIT: timed out") {
		t.Errorf("Quit to a stalled server = %v, want a timeout", err)
	}
}
