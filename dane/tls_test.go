package dane

import (
	"crypto/tls"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mxclient/mxclient/dane/danetest"
)

// tlsServer is a TLS server on a loopback port that completes one
// handshake per connection and records what the client sent.
type tlsServer struct {
	addr string

	mu sync.Mutex
	// serverNames are the SNI names of the handshakes so far.
	serverNames []string
	// errs are the server-side handshake errors so far.
	errs []error
}

// startTLSServer starts a tlsServer that presents cert and stops it when
// the test ends.
func startTLSServer(t *testing.T, cert tls.Certificate) *tlsServer {
	t.Helper()
	s := &tlsServer{}
	config := &tls.Config{
		Certificates: []tls.Certificate{cert},
		GetConfigForClient: func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
			s.mu.Lock()
			s.serverNames = append(s.serverNames, hello.ServerName)
			s.mu.Unlock()
			return nil, nil
		},
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", config)
	if err != nil {
		t.Fatalf("listening on loopback: %v", err)
	}
	s.addr = ln.Addr().String()
	var wg sync.WaitGroup
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { s.serve(conn.(*tls.Conn)) })
		}
	})
	return s
}

func (s *tlsServer) serve(conn *tls.Conn) {
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	err := conn.Handshake()
	s.mu.Lock()
	s.errs = append(s.errs, err)
	s.mu.Unlock()
}

// dial makes one TLS handshake to s with config, closes the connection,
// and returns the connection state after the handshake and its error.
func (s *tlsServer) dial(t *testing.T, config *tls.Config) (tls.ConnectionState, error) {
	t.Helper()
	raw, err := net.DialTimeout("tcp", s.addr, 10*time.Second)
	if err != nil {
		t.Fatalf("connecting to the test server: %v", err)
	}
	conn := tls.Client(raw, config)
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	err = conn.Handshake()
	return conn.ConnectionState(), err
}

func TestTLSConfigHandshake(t *testing.T) {
	t.Parallel()
	p := pki(t)
	server := startTLSServer(t, danetest.TLSCertificate(p.leaf, p.inter))

	tests := []struct {
		name    string
		records []*dns.TLSA
		// wantDepth is the depth of the match, or -1 for a failed handshake.
		wantDepth int
	}{
		{"DANE-EE match", []*dns.TLSA{record(t, 3, 1, 1, p.leaf)}, 0},
		{"DANE-TA match on intermediate", []*dns.TLSA{record(t, 2, 0, 1, p.inter)}, 1},
		{"DANE-TA match on absent root", []*dns.TLSA{record(t, 2, 1, 0, p.root)}, 2},
		{"DANE-EE mismatch", []*dns.TLSA{record(t, 3, 1, 1, p.otherName)}, -1},
		{"DANE-TA anchor of another PKI", []*dns.TLSA{record(t, 2, 1, 0, p.otherRoot)}, -1},
		{"only unusable records", []*dns.TLSA{record(t, 1, 1, 1, p.leaf)}, -1},
	}
	// The group returns only when its parallel subtests have ended, so
	// the SNI check below covers every handshake.
	t.Run("group", func(t *testing.T) {
		for _, tt := range tests {
			for _, version := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
				t.Run(tt.name+" "+tls.VersionName(version), func(t *testing.T) {
					t.Parallel()
					v := verifier(tt.records)
					config, result := v.TLSConfig()
					config.MinVersion, config.MaxVersion = version, version

					state, err := server.dial(t, config)
					matched := result.Match(state)
					if tt.wantDepth < 0 {
						checkRejected(t, err, matched)
						return
					}
					if err != nil {
						t.Fatalf("handshake = %v, want success", err)
					}
					if matched == nil || matched.Depth != tt.wantDepth {
						t.Errorf("Result.Match() = %+v, want a match at depth %d", matched, tt.wantDepth)
					}
				})
			}
		}
	})

	server.mu.Lock()
	defer server.mu.Unlock()
	if want := 2 * len(tests); len(server.serverNames) != want {
		t.Errorf("server saw %d handshakes, want %d", len(server.serverNames), want)
	}
	for _, name := range server.serverNames {
		if name != "mx.example.net" {
			t.Errorf("server saw SNI %q, want mx.example.net", name)
		}
	}
}

func checkRejected(t *testing.T, err error, matched *Match) {
	t.Helper()
	if err == nil {
		t.Fatal("handshake succeeded, want it rejected")
	}
	var me *MismatchError
	if !errors.As(err, &me) {
		t.Errorf("handshake error %v (%T) is not a *MismatchError", err, err)
	}
	if matched != nil {
		t.Errorf("Result.Match() = %+v for a rejected handshake, want nil", matched)
	}
}

// TestTLSConfigRejectedAlert checks that the server learns why the client
// gave up: crypto/tls sends the bad_certificate alert when
// VerifyConnection fails.
func TestTLSConfigRejectedAlert(t *testing.T) {
	t.Parallel()
	p := pki(t)
	server := startTLSServer(t, danetest.TLSCertificate(p.leafRSA, p.inter))
	config, _ := verifier([]*dns.TLSA{record(t, 3, 1, 1, p.leaf)}).TLSConfig()
	config.MaxVersion = tls.VersionTLS12

	if _, err := server.dial(t, config); err == nil {
		t.Fatal("handshake succeeded, want it rejected")
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		server.mu.Lock()
		errs := append([]error(nil), server.errs...)
		server.mu.Unlock()
		if len(errs) > 0 {
			if errs[0] == nil || !strings.Contains(errs[0].Error(), "remote error: tls: bad certificate") {
				t.Errorf("server handshake error = %v, want the bad certificate alert", errs[0])
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the server saw no handshake within 5 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestTLSConfigResumption checks that a resumed session is checked against
// the records of the new connection, not trusted because of the old one.
func TestTLSConfigResumption(t *testing.T) {
	t.Parallel()
	p := pki(t)
	server := startTLSServer(t, danetest.TLSCertificate(p.leaf, p.inter))
	for _, version := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		t.Run(tls.VersionName(version), func(t *testing.T) {
			t.Parallel()
			cache := tls.NewLRUClientSessionCache(1)
			connect := func(records []*dns.TLSA) (resumed bool, matched *Match, err error) {
				config, result := verifier(records).TLSConfig()
				config.MinVersion, config.MaxVersion = version, version
				config.ClientSessionCache = cache
				conn, err := tls.Dial("tcp", server.addr, config)
				if err != nil {
					return false, nil, err
				}
				defer conn.Close()
				// A TLS 1.3 session ticket arrives after the handshake.
				conn.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
				conn.Read(make([]byte, 1))
				state := conn.ConnectionState()
				return state.DidResume, result.Match(state), nil
			}

			good := []*dns.TLSA{record(t, 3, 1, 1, p.leaf)}
			if _, _, err := connect(good); err != nil {
				t.Fatalf("first handshake = %v", err)
			}
			resumed, matched, err := connect(good)
			if err != nil || !resumed || matched == nil {
				t.Fatalf("second handshake: resumed %t, matched %v, error %v; want a resumed match",
					resumed, matched, err)
			}
			_, matched, err = connect([]*dns.TLSA{record(t, 3, 1, 1, p.otherName)})
			checkRejected(t, err, matched)
		})
	}
}
