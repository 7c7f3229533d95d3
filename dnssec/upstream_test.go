package dnssec

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// scriptedServer is a loopback DNS server whose handler a test chooses.
type scriptedServer struct {
	addr    string
	queries atomic.Int32
	tcp     atomic.Int32
}

// startScripted serves handler on UDP and TCP at a random loopback address.
func startScripted(t *testing.T, handler func(w dns.ResponseWriter, q *dns.Msg)) *scriptedServer {
	t.Helper()
	s := &scriptedServer{}
	wrapped := dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		s.queries.Add(1)
		if w.LocalAddr().Network() == "tcp" {
			s.tcp.Add(1)
		}
		handler(w, q)
	})
	for try := 0; ; try++ {
		ip := fmt.Sprintf("127.%d.%d.%d", 100+rand.IntN(100), rand.IntN(250), 1+rand.IntN(250))
		pc, err := net.ListenPacket("udp", ip+":0")
		if err != nil {
			if try > 20 {
				t.Fatalf("listening on loopback: %v", err)
			}
			continue
		}
		port := pc.LocalAddr().(*net.UDPAddr).Port
		ln, err := net.Listen("tcp", fmt.Sprintf("%s:%d", ip, port))
		if err != nil {
			pc.Close()
			continue
		}
		udp := &dns.Server{PacketConn: pc, Handler: wrapped}
		tcp := &dns.Server{Listener: ln, Handler: wrapped}
		go udp.ActivateAndServe()
		go tcp.ActivateAndServe()
		t.Cleanup(func() { udp.Shutdown(); tcp.Shutdown() })
		s.addr = fmt.Sprintf("%s:%d", ip, port)
		return s
	}
}

func answerA(q *dns.Msg, ip string) *dns.Msg {
	m := new(dns.Msg)
	m.SetReply(q)
	rr, _ := dns.NewRR(q.Question[0].Name + " 60 IN A " + ip)
	m.Answer = append(m.Answer, rr)
	return m
}

// silentServer returns an address where nothing answers: a bound UDP
// socket that never replies.
func silentServer(t *testing.T) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	return pc.LocalAddr().String()
}

func TestUpstreamQuerySetsDOAndCD(t *testing.T) {
	var seen atomic.Pointer[dns.Msg]
	s := startScripted(t, func(w dns.ResponseWriter, q *dns.Msg) {
		seen.Store(q.Copy())
		w.WriteMsg(answerA(q, "192.0.2.1"))
	})
	u := &Upstream{Servers: []string{s.addr}}
	resp, err := u.Query(context.Background(), "www.example.", dns.TypeA)
	if err != nil {
		t.Fatalf("Query = %v", err)
	}
	if len(resp.Answer) != 1 {
		t.Fatalf("Query answer = %v, want one A record", resp.Answer)
	}
	q := seen.Load()
	opt := q.IsEdns0()
	if opt == nil {
		t.Fatal("query has no EDNS0 OPT record")
	}
	if !opt.Do() {
		t.Error("query DO bit = false, want true")
	}
	if opt.UDPSize() != 1232 {
		t.Errorf("query EDNS0 buffer = %d, want 1232", opt.UDPSize())
	}
	if !q.CheckingDisabled {
		t.Error("query CD bit = false, want true")
	}
	if !q.RecursionDesired {
		t.Error("query RD bit = false, want true")
	}
}

func TestUpstreamRetriesOverTCPWhenTruncated(t *testing.T) {
	s := startScripted(t, func(w dns.ResponseWriter, q *dns.Msg) {
		if w.LocalAddr().Network() == "udp" {
			m := new(dns.Msg)
			m.SetReply(q)
			m.Truncated = true
			w.WriteMsg(m)
			return
		}
		w.WriteMsg(answerA(q, "192.0.2.2"))
	})
	u := &Upstream{Servers: []string{s.addr}}
	resp, err := u.Query(context.Background(), "big.example.", dns.TypeA)
	if err != nil {
		t.Fatalf("Query = %v", err)
	}
	if resp.Truncated || len(resp.Answer) != 1 {
		t.Errorf("Query = truncated %v with %d answers, want the full TCP answer", resp.Truncated, len(resp.Answer))
	}
	if s.tcp.Load() != 1 {
		t.Errorf("TCP queries = %d, want 1", s.tcp.Load())
	}
}

func TestUpstreamDiscardsMismatchedResponses(t *testing.T) {
	tests := []struct {
		name  string
		forge func(q *dns.Msg) *dns.Msg
	}{
		{"garbage", nil},
		{"wrong ID", func(q *dns.Msg) *dns.Msg {
			m := answerA(q, "203.0.113.66")
			m.Id = q.Id + 1
			return m
		}},
		{"wrong name", func(q *dns.Msg) *dns.Msg {
			m := answerA(q, "203.0.113.66")
			m.Question[0].Name = "evil.example."
			return m
		}},
		{"wrong type", func(q *dns.Msg) *dns.Msg {
			m := answerA(q, "203.0.113.66")
			m.Question[0].Qtype = dns.TypeAAAA
			return m
		}},
		{"not a response", func(q *dns.Msg) *dns.Msg {
			m := answerA(q, "203.0.113.66")
			m.Response = false
			return m
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startScripted(t, func(w dns.ResponseWriter, q *dns.Msg) {
				// The forgery arrives first; the genuine answer follows.
				if tt.forge == nil {
					w.Write([]byte{0xde, 0xad, 0xbe, 0xef})
				} else {
					w.WriteMsg(tt.forge(q))
				}
				w.WriteMsg(answerA(q, "192.0.2.3"))
			})
			u := &Upstream{Servers: []string{s.addr}}
			resp, err := u.Query(context.Background(), "www.example.", dns.TypeA)
			if err != nil {
				t.Fatalf("Query = %v", err)
			}
			if got := resp.Answer[0].(*dns.A).A.String(); got != "192.0.2.3" {
				t.Errorf("Query answer = %s, want 192.0.2.3 (the forgery must be discarded)", got)
			}
		})
	}
}

func TestUpstreamMovesToNextServer(t *testing.T) {
	tests := []struct {
		name  string
		first func(t *testing.T) string
	}{
		{"timeout", silentServer},
		{"SERVFAIL", func(t *testing.T) string {
			return startScripted(t, func(w dns.ResponseWriter, q *dns.Msg) {
				m := new(dns.Msg)
				m.SetRcode(q, dns.RcodeServerFailure)
				w.WriteMsg(m)
			}).addr
		}},
		{"REFUSED", func(t *testing.T) string {
			return startScripted(t, func(w dns.ResponseWriter, q *dns.Msg) {
				m := new(dns.Msg)
				m.SetRcode(q, dns.RcodeRefused)
				w.WriteMsg(m)
			}).addr
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			good := startScripted(t, func(w dns.ResponseWriter, q *dns.Msg) {
				w.WriteMsg(answerA(q, "192.0.2.4"))
			})
			u := &Upstream{Servers: []string{tt.first(t), good.addr}, QueryTimeout: 200 * time.Millisecond}
			resp, err := u.Query(context.Background(), "www.example.", dns.TypeA)
			if err != nil {
				t.Fatalf("Query = %v", err)
			}
			if resp.Rcode != dns.RcodeSuccess || len(resp.Answer) != 1 {
				t.Errorf("Query = %s with %d answers, want NOERROR from the second server",
					dns.RcodeToString[resp.Rcode], len(resp.Answer))
			}
		})
	}
}

func TestUpstreamBoundsAttempts(t *testing.T) {
	dead := silentServer(t)
	u := &Upstream{Servers: []string{dead}, QueryTimeout: 100 * time.Millisecond, Attempts: 3}
	start := time.Now()
	_, err := u.Query(context.Background(), "www.example.", dns.TypeA)
	if err == nil {
		t.Fatal("Query to a silent server succeeded, want a timeout error")
	}
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("Query error = %v, want a timeout", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("Query took %s, want about 3 × 100ms", took)
	}
}

func TestUpstreamAllServersFail(t *testing.T) {
	s := startScripted(t, func(w dns.ResponseWriter, q *dns.Msg) {
		m := new(dns.Msg)
		m.SetRcode(q, dns.RcodeServerFailure)
		w.WriteMsg(m)
	})
	u := &Upstream{Servers: []string{s.addr}, Attempts: 2}
	resp, err := u.Query(context.Background(), "www.example.", dns.TypeA)
	if err != nil {
		t.Fatalf("Query = %v, want the SERVFAIL response", err)
	}
	if resp.Rcode != dns.RcodeServerFailure {
		t.Errorf("Query rcode = %s, want SERVFAIL", dns.RcodeToString[resp.Rcode])
	}
	if n := s.queries.Load(); n != 2 {
		t.Errorf("queries sent = %d, want 2 (Attempts)", n)
	}
}

func TestParseServer(t *testing.T) {
	tests := []struct {
		in, want, err string
	}{
		{in: "127.0.0.1", want: "127.0.0.1:53"},
		{in: "127.0.0.1:5353", want: "127.0.0.1:5353"},
		{in: "::1", want: "[::1]:53"},
		{in: "[::1]:5353", want: "[::1]:5353"},
		{in: "resolver.example", err: "not ADDR or ADDR:PORT"},
		{in: "127.0.0.1:0", err: "port 0"},
		{in: "127.0.0.1:99999", err: "not ADDR"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseServer(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Errorf("ParseServer(%q) error = %v, want one containing %q", tt.in, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("ParseServer(%q) = %q, %v, want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestResolvConfServers(t *testing.T) {
	dir := t.TempDir()
	path := dir + "/resolv.conf"
	writeFile(t, path, "search corp.example\nnameserver 127.0.0.53\nnameserver ::1\noptions edns0 trust-ad\n")
	got, err := ResolvConfServers(path)
	if err != nil {
		t.Fatalf("ResolvConfServers = %v", err)
	}
	want := []string{"127.0.0.53:53", "[::1]:53"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("ResolvConfServers = %v, want %v", got, want)
	}

	empty := dir + "/empty.conf"
	writeFile(t, empty, "search corp.example\n")
	if _, err := ResolvConfServers(empty); err == nil || !strings.Contains(err.Error(), "--resolver") {
		t.Errorf("ResolvConfServers(no nameserver) error = %v, want one suggesting --resolver", err)
	}
}
