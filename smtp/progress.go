package smtp

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// progressQueue is how many writes a ProgressWriter holds for a slow
// reader before it drops output.
const progressQueue = 4096

// ProgressWriter passes progress output on to a writer without ever
// blocking or failing the caller: a reader that has gone away (a closed
// pipe) or stopped reading (a full pipe) loses output, never a delivery.
// A queue that hands mxclient a pipe and reads only its first 4 KiB, as
// Postfix's pipe(8) does, is such a reader.
type ProgressWriter struct {
	mu      sync.Mutex
	ch      chan []byte
	done    chan struct{}
	closed  bool
	dropped int
}

// NewProgressWriter starts passing writes on to w.
func NewProgressWriter(w io.Writer) *ProgressWriter {
	p := &ProgressWriter{ch: make(chan []byte, progressQueue), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		broken := w == nil
		for b := range p.ch {
			if broken {
				continue
			}
			if _, err := w.Write(b); err != nil {
				broken = true
			}
		}
	}()
	return p
}

// Write queues p and always succeeds; when the queue is full, p is lost.
func (p *ProgressWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return len(b), nil
	}
	select {
	case p.ch <- append([]byte(nil), b...):
	default:
		p.dropped++
	}
	return len(b), nil
}

// Close stops taking writes and waits up to wait for the queued ones to
// reach the writer.
func (p *ProgressWriter) Close(wait time.Duration) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	close(p.ch)
	p.mu.Unlock()
	select {
	case <-p.done:
	case <-time.After(wait):
	}
}

// lineWriter writes progress lines to w, which is nil for none.
type lineWriter struct {
	w io.Writer
}

func (l *lineWriter) Write(p []byte) (int, error) {
	if l.w != nil {
		l.w.Write(p)
	}
	return len(p), nil
}

func (l *lineWriter) printf(format string, args ...any) {
	fmt.Fprintf(l, format+"\n", args...)
}
