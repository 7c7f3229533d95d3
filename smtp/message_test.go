package smtp

import (
	"errors"
	"io"
	"os"
	"runtime"
	"strings"
	"syscall"
	"testing"
)

func readAll(t *testing.T, m *Message) string {
	t.Helper()
	r, err := m.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestReadMessageFacts(t *testing.T) {
	tests := []struct {
		name    string
		content string
		size    int64
		has8Bit bool
		folded  int
	}{
		{"empty", "", 0, false, 0},
		{"LF lines", "a\nb\n", 6, false, 0},
		{"unterminated line", "a\nb", 6, false, 0},
		{"dots are not counted", ".\n..\n", 7, false, 0},
		{"8-bit", "Grüße\n", 9, true, 0},
		{"8-bit after 8 octets", "12345678\xff", 11, true, 0},
		{"long line", strings.Repeat("x", 1000), 1005, false, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMessage(t, tt.content)
			if got := m.Size(); got != tt.size {
				t.Errorf("Size() = %d, want %d", got, tt.size)
			}
			if got := m.Has8Bit(); got != tt.has8Bit {
				t.Errorf("Has8Bit() = %v, want %v", got, tt.has8Bit)
			}
			if got := m.FoldedLines(); got != tt.folded {
				t.Errorf("FoldedLines() = %d, want %d", got, tt.folded)
			}
			if got := readAll(t, m); got != tt.content {
				t.Errorf("content = %q, want %q", got, tt.content)
			}
		})
	}
}

func TestReadMessageSpoolsPipe(t *testing.T) {
	dir := t.TempDir()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		io.WriteString(w, "Subject: piped\n\nbody\n")
		w.Close()
	}()
	m, err := ReadMessage(r, dir)
	r.Close()
	if err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("the spool file is still linked after ReadMessage: %v", entries)
	}

	// The input is gone, so both reads come from the spool file.
	for i := range 2 {
		if got := readAll(t, m); got != "Subject: piped\n\nbody\n" {
			t.Errorf("read %d = %q", i, got)
		}
	}
	if err := m.Close(); err != nil {
		t.Errorf("Close() = %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("the spool directory holds %d files after Close, want none", len(entries))
	}
	if _, err := m.Open(); err == nil {
		t.Error("Open() after Close succeeded")
	}
}

func TestReadMessageKeepsRegularFile(t *testing.T) {
	path := t.TempDir() + "/message"
	if err := os.WriteFile(path, []byte("skipped\nSubject: x\n\nbody\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	// Like standard input that something read from before.
	if _, err := f.Seek(int64(len("skipped\n")), io.SeekStart); err != nil {
		t.Fatal(err)
	}
	spool := t.TempDir()
	m, err := ReadMessage(f, spool)
	if err != nil {
		t.Fatal(err)
	}
	if m.spooled {
		t.Error("a regular file was spooled")
	}
	if entries, _ := os.ReadDir(spool); len(entries) != 0 {
		t.Errorf("the spool directory holds %d files, want none", len(entries))
	}

	for i := range 2 {
		if got := readAll(t, m); got != "Subject: x\n\nbody\n" {
			t.Errorf("read %d = %q", i, got)
		}
	}

	m.Close()
	if _, err := f.Stat(); err != nil {
		t.Errorf("Close closed the caller's file: %v", err)
	}
}

func TestReadMessageReadError(t *testing.T) {
	dir := t.TempDir()
	input := &errReader{data: []byte("Subject: x\n\npartial"), err: syscall.EIO}
	m, err := ReadMessage(input, dir)
	if m != nil {
		t.Error("ReadMessage returned a message after a read error")
	}
	if !errors.Is(err, syscall.EIO) {
		t.Errorf("ReadMessage = %v, want the read error", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("the spool directory holds %d files, want none", len(entries))
	}
}

func TestReadMessageSpoolError(t *testing.T) {
	_, err := ReadMessage(strings.NewReader("x"), t.TempDir()+"/missing")
	if err == nil || !strings.Contains(err.Error(), "spool file") {
		t.Errorf("ReadMessage into a missing directory = %v, want a spool file error", err)
	}
}

// TestReadMessageMemoryFlat reads 64 MiB that is not a file and checks
// that the heap does not grow with it.
func TestReadMessageMemoryFlat(t *testing.T) {
	const size = 64 << 20
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	r := io.LimitReader(&repeatReader{pattern: []byte("a line of text that repeats\n")}, size)
	m, err := ReadMessage(r, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	runtime.ReadMemStats(&after)
	if m.length != size {
		t.Errorf("read %d octets, want %d", m.length, size)
	}
	if grown := after.TotalAlloc - before.TotalAlloc; grown > 1<<20 {
		t.Errorf("reading %d MiB allocated %d KiB, want under 1 MiB", size>>20, grown>>10)
	}
}
