package smtp_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"log"
	"os"
	"strings"
	"time"

	"github.com/mxclient/mxclient/dane/danetest"
	"github.com/mxclient/mxclient/smtp"
	"github.com/mxclient/mxclient/smtp/smtptest"
)

// A session delivers one message with opportunistic TLS to a test server
// on loopback. A delivery under DANE passes the configuration from
// dane.Verifier.TLSConfig instead, and sets RequireTLS.
func ExampleNewSession() {
	cert := danetest.NewSelfSigned(danetest.Options{DNSNames: []string{"mx.example.net"}})
	srv, err := smtptest.Start(smtptest.Config{Domain: "mx.example.net",
		TLS: &tls.Config{Certificates: []tls.Certificate{danetest.TLSCertificate(cert)}}})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	msg, err := smtp.ReadMessage(strings.NewReader("Subject: hello\n\nHi.\n"), "")
	if err != nil {
		log.Fatal(err)
	}
	defer msg.Close()

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dialCtx, cancelDial := context.WithTimeout(ctx, smtp.DefaultTimeouts.Connect)
	defer cancelDial()
	conn, err := smtp.Dial(dialCtx, srv.Addr(), nil)
	if err != nil {
		log.Fatal(err)
	}
	s, err := smtp.NewSession(ctx, conn, smtp.SessionConfig{
		Helo:       "client.example.org",
		TLS:        smtp.OpportunisticTLS("mx.example.net"),
		Transcript: os.Stdout,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	if err := s.Mail("me@example.org", smtp.MailOptions{Size: msg.Size(), EightBit: msg.Has8Bit()}); err != nil {
		log.Fatal(err)
	}
	if err := s.Rcpt("you@example.net"); err != nil {
		log.Fatal(err)
	}
	if err := s.Data(msg); err != nil {
		log.Fatal(err)
	}
	s.Quit()
	state, _ := s.TLS()
	fmt.Println("delivered over", tls.VersionName(state.Version))
	// Output:
	// <<< 220 mx.example.net ESMTP Service Ready
	// >>> EHLO client.example.org
	// <<< 250-Hello client.example.org
	// <<< 250-8BITMIME
	// <<< 250-ENHANCEDSTATUSCODES
	// <<< 250-SIZE
	// <<< 250 STARTTLS
	// >>> STARTTLS
	// <<< 220 2.0.0 Ready to start TLS
	// >>> EHLO client.example.org
	// <<< 250-Hello client.example.org
	// <<< 250-8BITMIME
	// <<< 250-ENHANCEDSTATUSCODES
	// <<< 250 SIZE
	// >>> MAIL FROM:<me@example.org> SIZE=23
	// <<< 250 2.0.0 Roger, accepting mail from <me@example.org>
	// >>> RCPT TO:<you@example.net>
	// <<< 250 2.0.0 I'll make sure <you@example.net> gets this
	// >>> DATA
	// <<< 354 Go ahead. End your data with <CR><LF>.<CR><LF>
	// >>> .
	// <<< 250 2.0.0 OK: queued
	// >>> QUIT
	// <<< 221 2.0.0 Bye
	// delivered over TLS 1.3
}
