package smtp

import (
	"fmt"
	"io"
	"sync"
)

// lineWriter writes progress lines and ignores write errors, so that a
// closed or full output never affects a delivery.
type lineWriter struct {
	mu     sync.Mutex
	w      io.Writer
	broken bool
}

func (l *lineWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.w != nil && !l.broken {
		if _, err := l.w.Write(p); err != nil {
			l.broken = true
		}
	}
	return len(p), nil
}

func (l *lineWriter) printf(format string, args ...any) {
	fmt.Fprintf(l, format+"\n", args...)
}
