package smtp

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"flag"
	"io"
	"net"
	"os"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mxclient/mxclient/smtp/smtptest"
)

var benchSize = flag.String("mxclient.benchsize", "",
	"message size for BenchmarkDataThroughput, such as 256MiB or 1GiB "+
		"(default: $MXCLIENT_BENCH_SIZE, else 256MiB)")

// benchMessageSize returns the size that the flag, the environment or the
// default sets.
func benchMessageSize(b *testing.B) int64 {
	s := *benchSize
	if s == "" {
		s = os.Getenv("MXCLIENT_BENCH_SIZE")
	}
	if s == "" {
		s = "256MiB"
	}
	units := []struct {
		suffix string
		factor int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"", 1}}
	for _, u := range units {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			n, err := strconv.ParseInt(num, 10, 64)
			if err != nil || n <= 0 {
				b.Fatalf("invalid message size %q", s)
			}
			return n * u.factor
		}
	}
	panic("unreachable")
}

// BenchmarkDataThroughput sends one large message over loopback TLS in
// three ways, with the same octets on the wire: through Session.Data to
// an smtptest server, through Session.Data to a minimal SMTP sink, and as
// a plain crypto/tls copy to a sink. Client and receiver share the
// process, so throughput and heap include both. peak-heap-MiB is the
// largest growth of live heap objects during the transfer, sampled every
// 5ms. Run it once at full size with
//
//	go test ./smtp -run '^$' -bench DataThroughput -benchtime 1x -mxclient.benchsize 1GiB
func BenchmarkDataThroughput(b *testing.B) {
	size := benchMessageSize(b)
	path := writeBenchMessage(b, size)
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	msg, err := ReadMessage(f, "")
	if err != nil {
		b.Fatal(err)
	}
	if msg.Size() != size {
		b.Fatalf("the message has %d octets on the wire, want %d", msg.Size(), size)
	}

	b.Run("session-smtptest", func(b *testing.B) {
		srv := startReceiver(b, smtptest.Config{DiscardContent: true, RecordLimit: -1})
		benchSessions(b, srv.Addr().String(), msg)
		if got := len(srv.Messages()); got != b.N {
			b.Errorf("smtptest accepted %d messages, want %d", got, b.N)
		}
	})
	b.Run("session-sink", func(b *testing.B) {
		sink := startSink(b, true)
		benchSessions(b, sink.addr, msg)
		sink.check(b, size)
	})
	b.Run("tls-copy", func(b *testing.B) {
		sink := startSink(b, false)
		cfg := OpportunisticTLS(mxName)
		measure(b, size, func() {
			conn, err := net.Dial("tcp", sink.addr)
			if err != nil {
				b.Fatal(err)
			}
			tc := tls.Client(conn, cfg)
			content, _ := msg.Open()
			if _, err := io.Copy(tc, content); err != nil {
				b.Fatal(err)
			}
			tc.CloseWrite()
			io.ReadAll(tc) // the sink closes after it has read everything
			tc.Close()
		})
		sink.check(b, size)
	})
}

// benchSessions delivers msg b.N times to addr, one session each, with
// opportunistic TLS.
func benchSessions(b *testing.B, addr string, msg *Message) {
	measure(b, msg.Size(), func() {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			b.Fatal(err)
		}
		s, err := NewSession(context.Background(), conn, SessionConfig{Helo: testHelo,
			TLS: OpportunisticTLS(mxName), RequireTLS: true})
		if err != nil {
			b.Fatal(err)
		}
		if err := transact(s, testFrom, []string{testTo}, msg); err != nil {
			b.Fatal(err)
		}
		s.Quit()
	})
}

// measure runs deliver b.N times and reports throughput and the peak
// growth of the live heap.
func measure(b *testing.B, size int64, deliver func()) {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() int64 {
		metrics.Read(sample)
		return int64(sample[0].Value.Uint64())
	}
	base := read()
	var peak atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			if d := read() - base; d > peak.Load() {
				peak.Store(d)
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()

	b.SetBytes(size)
	b.ResetTimer()
	for range b.N {
		deliver()
	}
	b.StopTimer()
	close(stop)
	wg.Wait()
	b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MiB")
}

// writeBenchMessage writes a message of exactly size octets of CRLF lines
// that need no stuffing or folding, so that every client sends the same
// octets.
func writeBenchMessage(b *testing.B, size int64) string {
	path := b.TempDir() + "/message"
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	line := []byte(strings.Repeat("ABCDEFGHIJKLMNOPQRSTUVWXYZ", 3) + "\r\n")
	for left := size; left > 0; {
		n := min(left, int64(len(line)))
		chunk := line[:n]
		if n < int64(len(line)) {
			chunk = append(bytes.Repeat([]byte("x"), int(n)-1), '\n')
			if n >= 2 {
				chunk[n-2] = '\r'
			}
		}
		w.Write(chunk)
		left -= n
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	return path
}

// sink is a minimal receiver. With smtp set, it is an SMTP server that
// replies 250 to most commands, offers STARTTLS and discards message
// content up to the final dot. Otherwise it is a TLS server that discards
// everything.
type sink struct {
	addr     string
	received atomic.Int64 // content octets of the last connection
	errs     chan error
}

func startSink(b *testing.B, smtp bool) *sink {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	cert, _ := testCerts()
	cfg := serverTLS(cert)
	s := &sink{addr: ln.Addr().String(), errs: make(chan error, 100)}
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				var err error
				if smtp {
					err = s.serveSMTP(conn, cfg)
				} else {
					tc := tls.Server(conn, cfg)
					var n int64
					n, err = io.Copy(io.Discard, tc)
					s.received.Store(n)
				}
				if err != nil {
					s.errs <- err
				}
			}()
		}
	}()
	b.Cleanup(func() { ln.Close() })
	return s
}

func (s *sink) check(b *testing.B, size int64) {
	select {
	case err := <-s.errs:
		b.Errorf("sink: %v", err)
	default:
	}
	if got := s.received.Load(); got != size && got != size+3 {
		b.Errorf("the sink received %d octets, want %d", got, size)
	}
}

func (s *sink) serveSMTP(conn net.Conn, cfg *tls.Config) error {
	r := bufio.NewReaderSize(conn, 64<<10)
	w := io.Writer(conn)
	io.WriteString(w, "220 sink ESMTP\r\n")
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return nil
		}
		verb := strings.ToUpper(strings.Fields(line + " x")[0])
		switch verb {
		case "EHLO":
			io.WriteString(w, "250-sink\r\n250-8BITMIME\r\n250-SIZE\r\n250 STARTTLS\r\n")
		case "STARTTLS":
			io.WriteString(w, "220 go ahead\r\n")
			tc := tls.Server(conn, cfg)
			if err := tc.Handshake(); err != nil {
				return err
			}
			r, w = bufio.NewReaderSize(tc, 64<<10), tc
		case "DATA":
			io.WriteString(w, "354 go ahead\r\n")
			n, err := discardContent(r)
			if err != nil {
				return err
			}
			s.received.Store(n)
			io.WriteString(w, "250 accepted\r\n")
		case "QUIT":
			io.WriteString(w, "221 bye\r\n")
			return nil
		default:
			io.WriteString(w, "250 ok\r\n")
		}
	}
}

// discardContent reads up to and including "\r\n.\r\n" and returns the
// number of octets read.
func discardContent(r *bufio.Reader) (int64, error) {
	end := []byte("\r\n.\r\n")
	var n int64
	var tail []byte // up to 4 octets before the current chunk
	for {
		chunk, err := r.Peek(max(r.Buffered(), 1))
		if err != nil {
			return n, err
		}
		// The end may start in the previous chunk.
		seam := append(append([]byte(nil), tail...), chunk[:min(len(chunk), 4)]...)
		if i := bytes.Index(seam, end); i >= 0 {
			used := i + len(end) - len(tail)
			r.Discard(used)
			return n + int64(used), nil
		}
		if i := bytes.Index(chunk, end); i >= 0 {
			r.Discard(i + len(end))
			return n + int64(i+len(end)), nil
		}
		tail = append(tail, chunk[max(0, len(chunk)-4):]...)
		tail = tail[max(0, len(tail)-4):]
		r.Discard(len(chunk))
		n += int64(len(chunk))
	}
}
