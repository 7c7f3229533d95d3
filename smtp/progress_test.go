package smtp

import (
	"bytes"
	"io"
	"testing"
	"time"
)

// blockedWriter never returns from Write, like a full pipe nobody reads.
type blockedWriter struct{ block chan struct{} }

func (b blockedWriter) Write(p []byte) (int, error) {
	<-b.block
	return len(p), nil
}

func TestProgressWriterNeverBlocks(t *testing.T) {
	b := blockedWriter{block: make(chan struct{})}
	defer close(b.block)
	p := NewProgressWriter(b)
	done := make(chan struct{})
	go func() {
		for i := 0; i < 3*progressQueue; i++ {
			p.Write([]byte("a line of progress\n"))
		}
		p.Close(10 * time.Millisecond)
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("writes to a ProgressWriter over a blocked writer did not return")
	}
}

func TestProgressWriterPassesOutput(t *testing.T) {
	var buf bytes.Buffer
	p := NewProgressWriter(&buf)
	io.WriteString(p, "one\n")
	io.WriteString(p, "two\n")
	p.Close(time.Second)
	if buf.String() != "one\ntwo\n" {
		t.Errorf("output = %q, want %q", buf.String(), "one\ntwo\n")
	}
}
