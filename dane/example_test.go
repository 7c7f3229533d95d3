package dane_test

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log"
	"net"
	"strings"

	"github.com/miekg/dns"

	"github.com/mxclient/mxclient/dane"
	"github.com/mxclient/mxclient/dane/danetest"
)

// startServer starts a TLS server on a loopback port that presents a
// self-signed certificate and completes handshakes until stop is called.
func startServer() (addr string, cert *danetest.Cert, stop func()) {
	cert = danetest.NewSelfSigned(danetest.Options{DNSNames: []string{"mx.example.net"}})
	config := &tls.Config{Certificates: []tls.Certificate{danetest.TLSCertificate(cert)}}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", config)
	if err != nil {
		log.Fatal(err)
	}
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			conn.(*tls.Conn).Handshake()
			conn.Close()
		}
	}()
	return ln.Addr().String(), cert, func() { ln.Close() }
}

// A real client takes the TLSA records from a DNSSEC-validated lookup of
// _25._tcp.mx.example.net. This example makes the record from the
// server's certificate instead, and leaves out the SMTP session before
// STARTTLS.
func ExampleVerifier_TLSConfig() {
	addr, cert, stop := startServer()
	defer stop()
	rr, err := dane.NewTLSA(dane.OwnerName("mx.example.net", 25), dane.DANEEE,
		dane.SelectorSPKI, dane.MatchingSHA256, cert.Cert)
	if err != nil {
		log.Fatal(err)
	}

	set := dane.Classify([]*dns.TLSA{rr})
	if set.Status() != dane.UsableRecords {
		log.Fatalf("%s: TLS without authentication", set.Status())
	}
	v := &dane.Verifier{Set: set, BaseDomain: "mx.example.net.", Names: []string{"example.net."}}
	config, result := v.TLSConfig()

	conn, err := net.Dial("tcp", addr)
	if err != nil {
		log.Fatal(err)
	}
	tlsConn := tls.Client(conn, config)
	defer tlsConn.Close()
	err = tlsConn.Handshake()
	var mismatch *dane.MismatchError
	if errors.As(err, &mismatch) {
		for _, a := range mismatch.Attempts {
			fmt.Println("not authenticated:", a)
		}
		return
	}
	if err != nil {
		log.Fatal(err)
	}
	// Only now has the server proven that it holds the key of the
	// certificate that the record matched.
	m := result.Match(tlsConn.ConnectionState())
	fmt.Printf("authenticated by %s at depth %d\n", dane.Describe(m.Record.TLSA), m.Depth)
	fmt.Println("SNI:", config.ServerName)
	// Output:
	// authenticated by DANE-EE(3) SPKI(1) SHA2-256(1) at depth 0
	// SNI: mx.example.net
}

func ExampleClassify() {
	records, err := dane.ParseZone(strings.NewReader(`
_25._tcp.mx.example.net. IN TLSA 1 1 1 0c72ac70b745ac19998811b131d662c9ac69dbdbe7cb23e5b514b56664c5d3d6
_25._tcp.mx.example.net. IN TLSA 3 1 1 0c72ac70b745ac19998811b131d662c9
`), "example")
	if err != nil {
		log.Fatal(err)
	}
	set := dane.Classify(records)
	for _, r := range set.Records {
		fmt.Printf("%s: %s\n", dane.Describe(r.TLSA), r.Detail)
	}
	fmt.Println(set.Status())
	// Output:
	// PKIX-EE(1) SPKI(1) SHA2-256(1): usage PKIX-EE(1) is not used for SMTP (RFC 7672 §3.1.3)
	// DANE-EE(3) SPKI(1) SHA2-256(1): the SHA2-256 digest is 16 bytes long, want 32
	// TLSA records, none usable
}
